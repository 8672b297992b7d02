"""The API's filter backend: django-filter with every reference filter scoped to the user and
the sane date range on every date filter.

- A filter such as ``?client=<id>`` or ``?contact=<id>`` accepts only rows the user may see
  (``crm.access.scope_if_owned``): another account manager's client is refused with the same
  400 "Select a valid choice" as an id that does not exist, so the answer reveals nothing.
- Viewsets list their filters with ``filterset_fields``; django-filter builds them from the
  model fields. Here a date or datetime model field becomes a filter whose form field refuses a
  date outside ``crm.validators``' range (400 with the message instead of an overflow deeper
  down), for every app's viewsets at once.
"""

from copy import deepcopy

import django_filters
from django.db import models
from django_filters import ModelChoiceFilter, ModelMultipleChoiceFilter
from django_filters import rest_framework as filters

from crm import validators
from crm.access import scope_if_owned


class DateFilter(django_filters.DateFilter):
    field_class = validators.DateField


class DateTimeFilter(django_filters.DateTimeFilter):
    field_class = validators.DateTimeField


class FilterSet(filters.FilterSet):
    FILTER_DEFAULTS = deepcopy(filters.FilterSet.FILTER_DEFAULTS)
    FILTER_DEFAULTS.update(
        {
            models.DateField: {"filter_class": DateFilter},
            models.DateTimeField: {"filter_class": DateTimeFilter},
        }
    )


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


class ScopedFilterBackend(filters.DjangoFilterBackend):
    filterset_base = FilterSet

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        # the filters were deep-copied for this filterset: scoping them touches no other request
        return scope_filterset(filterset, request.user)
