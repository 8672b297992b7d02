"""The one place that decides which rows a user may see.

Every model an account manager may own declares ``owner_field``: the lookup path from the
model to the owning user (``"account_manager"`` on Client, ``"client__account_manager"`` on
records that hang off a client). Admins and managers see everything; account managers see only
rows they own; anyone else asking for a row they may not see gets a 404, never a 403, so the
existence of other people's records is not revealed.
"""

from functools import wraps
from typing import TypeVar

from django.contrib.auth.decorators import login_required
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


def require_manager(user) -> None:
    """Managers and admins only: anyone else gets the 404 an outsider gets."""
    if not getattr(user, "sees_everything", False):
        raise Http404(_("Not found."))


def manager_required(view):
    """View decorator: signed in, and a manager or admin (account managers get 404)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        require_manager(request.user)
        return view(request, *args, **kwargs)

    return wrapped
