"""Writes of the core package: the audit log and user preferences."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from crm.models import AuditEntry, User


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
