"""The API's filter backend: django-filter with every reference filter scoped to the user.

A filter such as ``?client=<id>`` or ``?contact=<id>`` accepts only rows the user may see
(``crm.access.scope_if_owned``): another account manager's client is refused with the same
400 "Select a valid choice" as an id that does not exist, so the answer reveals nothing.
"""

from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend

from crm.access import scope_if_owned


def scope_filterset(filterset, user):
    """Limit the choices of every model-choice filter of ``filterset`` to what ``user`` may
    see (owned models only). Returns the filterset; pages and exports call it too."""
    for flt in filterset.filters.values():
        if isinstance(flt, ModelChoiceFilter | ModelMultipleChoiceFilter):
            queryset = flt.queryset
            if callable(queryset):
                queryset = queryset(filterset.request)
            if queryset is not None:
                flt.queryset = scope_if_owned(queryset, user)
    return filterset


class ScopedFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        # the filters were deep-copied for this filterset: scoping them touches no other request
        return scope_filterset(filterset, request.user)
