"""The one place that decides which rows a user may see.

Every model an account manager may own declares ``owner_field``: the lookup path from the
model to the owning user (``"account_manager"`` on Client, ``"client__account_manager"`` on
records that hang off a client). Admins and managers see everything; account managers see only
rows they own; anyone else asking for a row they may not see gets a 404, never a 403, so the
existence of other people's records is not revealed.
"""

from typing import TypeVar

from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

M = TypeVar("M", bound=Model)


def owner_field_of(model: type[Model]) -> str:
    field = getattr(model, "owner_field", None)
    if not field:
        raise TypeError(f"{model.__name__} declares no owner_field; it cannot be scoped")
    return field


def scope_for_user(queryset: QuerySet[M], user) -> QuerySet[M]:
    """Rows of ``queryset`` that ``user`` may see."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    if user.sees_everything:
        return queryset
    return queryset.filter(**{owner_field_of(queryset.model): user})


def get_for_user(queryset: QuerySet[M], user, **lookup) -> M:
    """One row the user may see, or Http404 (for outsiders too)."""
    try:
        return scope_for_user(queryset, user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("Not found.")) from exc


class ScopedQuerysetMixin:
    """For class-based views: ``get_queryset`` goes through the access helper."""

    def get_queryset(self):
        return scope_for_user(super().get_queryset(), self.request.user)


class ManagerRequiredMixin:
    """Pages for managers and admins only; account managers get 404 like outsiders."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.sees_everything:
            raise Http404(_("Not found."))
        return super().dispatch(request, *args, **kwargs)
