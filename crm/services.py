"""Writes of the core package: the audit log, user preferences and the non-working-dates
calendar."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import holidays
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from crm.authentication import token_expired
from crm.models import AuditEntry, CalendarDay, User


def _plain(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value for the audit log."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return str(value)


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values of ``instance`` (foreign keys by their string form) to diff later."""
    return {name: _plain(getattr(instance, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def audit_record(
    *,
    actor: User | None,
    instance: models.Model,
    action: str,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> AuditEntry:
    """Record who did what to ``instance``. Call it inside the service's transaction."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        action=action,
        changes={k: [_plain(o), _plain(n)] for k, (o, n) in (changes or {}).items()},
        note=note[:255],
    )


def save_with_audit(
    *,
    actor: User | None,
    instance: models.Model,
    data: dict[str, Any],
    m2m: dict[str, Iterable] | None = None,
) -> models.Model:
    """Apply ``data`` to ``instance``, validate, save, set many-to-many fields, audit the diff.

    Raises django.core.exceptions.ValidationError (nothing saved) when the model refuses.
    Call it inside the caller's @transaction.atomic service.
    """
    creating = instance._state.adding
    fields = list(data) + list(m2m or {})
    # "before" is what is stored, not the instance: a ModelForm's validation has already
    # written the submitted values onto the instance a view hands in
    before = {} if creating else snapshot(type(instance)._default_manager.get(pk=instance.pk), data)
    if not creating and m2m:
        before.update({name: sorted(str(o) for o in getattr(instance, name).all()) for name in m2m})
    for name, value in data.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    for name, values in (m2m or {}).items():
        getattr(instance, name).set(values)
    after = snapshot(instance, data)
    after.update(
        {name: sorted(str(o) for o in getattr(instance, name).all()) for name in (m2m or {})}
    )
    changes = (
        {k: [None, after[k]] for k in fields if after[k] not in (None, "", [])}
        if creating
        else diff(before, after)
    )
    if creating or changes:
        audit_record(
            actor=actor,
            instance=instance,
            action=AuditEntry.Action.CREATE if creating else AuditEntry.Action.UPDATE,
            changes=changes,
        )
    return instance


def delete_with_audit(*, actor: User | None, instance: models.Model) -> None:
    """Delete ``instance`` and record what it was. Call it inside the caller's transaction."""
    audit_record(
        actor=actor,
        instance=instance,
        action=AuditEntry.Action.DELETE,
        changes={"deleted": [str(instance), None]},
    )
    instance.delete()


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    before = snapshot(user, ["language"])
    user.language = language
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=["language"])
    audit_record(
        actor=user,
        instance=user,
        action=AuditEntry.Action.UPDATE,
        changes=diff(before, snapshot(user, ["language"])),
    )
    return user


PROFILE_FIELDS = ["first_name", "last_name", "email", "language", "kpi_digest"]


@transaction.atomic
def user_profile_update(*, actor: User, user: User, data: dict[str, Any]) -> User:
    """Save the user's own profile fields (name, email, language) and audit what changed."""
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    before = snapshot(User.objects.get(pk=user.pk), data)
    for name, value in data.items():
        setattr(user, name, value)
    user.full_clean(validate_unique=False, exclude=["password"])
    user.save(update_fields=list(data))
    changes = diff(before, snapshot(user, data))
    if changes:
        audit_record(actor=actor, instance=user, action=AuditEntry.Action.UPDATE, changes=changes)
    return user


def user_tokens_revoke(*, user: User) -> int:
    """Delete the user's API tokens (a client holding one must sign in again)."""
    deleted, _rows = Token.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def user_password_changed(*, actor: User | None, user: User, note: str = "") -> None:
    """After a password change (set by the caller through Django's forms): the user's API
    tokens are revoked and the change is audited (never the password itself)."""
    user_tokens_revoke(user=user)
    audit_record(
        actor=actor,
        instance=user,
        action=AuditEntry.Action.UPDATE,
        changes={"password": ["***", "***"]},
        note=note or "password changed",
    )


@transaction.atomic
def user_api_token(*, user: User) -> Token:
    """The user's API token: the current one, or a new one when there is none or it expired
    (``API_TOKEN_TTL_HOURS``)."""
    token = Token.objects.select_for_update().filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


# --- the non-working-dates calendar -------------------------------------------------------------
@transaction.atomic
def calendar_day_save(*, actor: User | None, day: CalendarDay, data: dict[str, Any]) -> CalendarDay:
    """Add or edit one date of the calendar. A date already in it is refused with a clear
    message (ValidationError, nothing saved)."""
    return save_with_audit(actor=actor, instance=day, data=data)


@transaction.atomic
def calendar_day_delete(*, actor: User | None, day: CalendarDay) -> None:
    delete_with_audit(actor=actor, instance=day)


def country_calendar(country: str, years: Iterable[int], language: str | None = None):
    """(holidays, moved working days) of ``country`` for ``years`` from the ``holidays``
    library: {date: name} and {date: name}. Unknown country: ValidationError."""
    try:
        days = holidays.country_holidays(country.upper(), years=list(years), language=language)
    except NotImplementedError as exc:
        raise ValidationError(_("No holiday calendar for the country “%s”.") % country) from exc
    workdays = getattr(days, "weekend_workdays", set())
    with translation.override((language or "en")[:2]):
        moved = _("Working day (moved)")
    return dict(days.items()), dict.fromkeys(sorted(workdays), moved)


def default_seed_years() -> list[int]:
    """This year and the next one (in the project's time zone)."""
    this_year = timezone.localdate().year
    return [this_year, this_year + 1]


def _names_language(language: str | None) -> str:
    """The language of the holiday names: the site's (Russian or English) unless given."""
    return language or ("ru" if settings.LANGUAGE_CODE.startswith("ru") else "en_US")


@transaction.atomic
def calendar_seed(
    *, country: str, years: Iterable[int], language: str | None = None
) -> tuple[int, int]:
    """Add the public holidays and moved working days of ``country`` for ``years``.

    Idempotent, and it never overrides a manager: a date already in the calendar (seeded
    before, or added, edited or re-kinded by hand) is left as it is. Returns (added, kept).
    """
    holiday_days, working = country_calendar(country, years, _names_language(language))
    wanted = {d: (CalendarDay.Kind.HOLIDAY, n) for d, n in holiday_days.items()}
    wanted.update({d: (CalendarDay.Kind.WORKING_DAY, n) for d, n in working.items()})
    existing = set(CalendarDay.objects.filter(date__in=list(wanted)).values_list("date", flat=True))
    new = [
        CalendarDay(date=d, kind=kind, name=str(name)[:150])
        for d, (kind, name) in sorted(wanted.items())
        if d not in existing
    ]
    CalendarDay.objects.bulk_create(new, ignore_conflicts=True)
    return len(new), len(existing)
