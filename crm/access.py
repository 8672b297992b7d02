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
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from crm.models import User

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


def is_owned(model: type[Model]) -> bool:
    """Does ``model`` hold rows an account manager owns (it declares ``owner_field``)?"""
    return bool(getattr(model, "owner_field", None))


def scope_if_owned(queryset: QuerySet[M], user) -> QuerySet[M]:
    """``queryset`` scoped to ``user`` when its rows are owned; shared tables (themes,
    products, users) unchanged. For choices of references: filter values, form and API
    fields, so another owner's id is refused exactly like an id that does not exist."""
    return scope_for_user(queryset, user) if is_owned(queryset.model) else queryset


def may_see(user, instance: Model) -> bool:
    """May ``user`` see ``instance`` (an owned row)? Inactive users see nothing."""
    if user is None or not getattr(user, "is_active", False):
        return False
    model = type(instance)
    return scope_for_user(model._default_manager.filter(pk=instance.pk), user).exists()


def owner_of(instance: Model):
    """The user who owns ``instance`` (following its model's ``owner_field``), or None."""
    value = instance
    for name in owner_field_of(type(instance)).split("__"):
        value = getattr(value, name, None)
        if value is None:
            return None
    return value


def users_who_may_see(instance: Model) -> QuerySet:
    """Active users who may see ``instance``: admins, managers and its owner. The people a
    record may be handed to (made responsible for it, told about it by email)."""
    roles = [User.Role.ADMIN, User.Role.MANAGER]  # the roles of User.sees_everything
    owner = owner_of(instance)
    condition = Q(is_superuser=True) | Q(role__in=roles)
    if owner is not None:
        condition |= Q(pk=owner.pk)
    return User.objects.filter(condition, is_active=True)


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
