"""Writes of the client base. Every write validates, applies the role rules and is audited."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients import extensions, versions
from clients.models import (
    Client,
    ContactPerson,
    Interaction,
    Product,
    ProductLine,
    Settlement,
    TargetSegment,
)
from crm.models import AuditEntry, User
from crm.services import audit_record, delete_with_audit, save_with_audit


def phone_digits(phone: str) -> str:
    """Digits of a phone number for search; a Russian 8XXXXXXXXXX becomes 7XXXXXXXXXX."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    return digits[:20]


def _require_manager(actor: User) -> None:
    if not actor.sees_everything:
        raise PermissionDenied(_("Only managers can change this."))


def _client_data_for(actor: User, data: dict[str, Any], client: Client | None) -> dict[str, Any]:
    """Account managers own what they create and cannot hand clients to someone else."""
    data = dict(data)
    if not actor.sees_everything:
        if client is None:
            data["account_manager"] = actor
        elif "account_manager" in data and data["account_manager"] != client.account_manager:
            raise ValidationError({"account_manager": _("Only a manager can reassign a client.")})
    if "phone" in data:
        data["phone_digits"] = phone_digits(data["phone"])
    if "inn" in data and data["inn"]:
        inn = re.sub(r"\s", "", data["inn"])
        if not re.fullmatch(r"\d{10}|\d{12}", inn):
            raise ValidationError({"inn": _("A tax id has 10 digits (company) or 12 (person).")})
        data["inn"] = inn
    return data


@transaction.atomic
def client_create(*, actor: User, data: dict[str, Any], tags=None) -> Client:
    versions.bump_after_commit()
    data = _client_data_for(actor, data, None)
    return save_with_audit(
        actor=actor, instance=Client(), data=data, m2m={"tags": tags} if tags is not None else None
    )


@transaction.atomic
def client_update(*, actor: User, client: Client, data: dict[str, Any], tags=None) -> Client:
    versions.bump_after_commit()
    data = _client_data_for(actor, data, client)
    if data.get("parent") is not None and data["parent"].pk == client.pk:
        raise ValidationError({"parent": _("A client cannot be its own parent.")})
    keys = (client.account_manager_id, client.target_segment_id)
    client = save_with_audit(
        actor=actor, instance=client, data=data, m2m={"tags": tags} if tags is not None else None
    )
    if (client.account_manager_id, client.target_segment_id) != keys:
        extensions.clients_changed([client.pk])
    return client


@transaction.atomic
def contact_save(
    *, actor: User, client: Client, data: dict[str, Any], contact: ContactPerson | None = None
) -> ContactPerson:
    """Create or update a contact person; making one primary un-marks the previous primary."""
    contact = contact or ContactPerson(client=client)
    if contact.client_id != client.pk:
        raise ValidationError(_("The contact belongs to another client."))
    data = dict(data)
    if "phone" in data:
        data["phone_digits"] = phone_digits(data["phone"])
    if data.get("is_primary"):
        others = client.contacts.filter(is_primary=True).exclude(pk=contact.pk)
        for other in others:
            save_with_audit(actor=actor, instance=other, data={"is_primary": False})
    return save_with_audit(actor=actor, instance=contact, data=data)


@transaction.atomic
def settlement_record(
    *,
    actor: User,
    client: Client,
    product: Product | None,
    date: date,
    amount: Decimal,
    margin: Decimal | None = None,
    document_number: str = "",
    external_id: str | None = None,
) -> Settlement:
    settlement = save_with_audit(
        actor=actor,
        instance=Settlement(client=client),
        data={
            "product": product,
            "date": date,
            "amount": amount,
            "margin": margin,
            "document_number": document_number,
            "external_id": external_id or None,  # unique when given; none is NULL, not ""
        },
    )
    extensions.settlements_created([settlement.pk])
    return settlement


@transaction.atomic
def interaction_log(*, actor: User, client: Client, data: dict[str, Any]) -> Interaction:
    """Log a contact and, when it plans one, make its next step the client's next step."""
    versions.bump_after_commit()
    data = dict(data)
    data.setdefault("occurred_at", timezone.now())
    contact = data.get("contact")
    if contact is not None and contact.client_id != client.pk:
        raise ValidationError({"contact": _("This person is not a contact of this client.")})
    if data.get("promise_due") and not data.get("promise"):
        raise ValidationError({"promise": _("Say what was promised for this due date.")})
    if data.get("next_step_goal") and not data.get("next_step_date"):
        raise ValidationError({"next_step_date": _("Give the next step a date.")})
    interaction = save_with_audit(
        actor=actor, instance=Interaction(client=client, author=actor), data=data
    )
    client_fields: dict[str, Any] = {}
    occurred: datetime = interaction.occurred_at
    if occurred <= timezone.now() and (
        client.last_contact_at is None or occurred > client.last_contact_at
    ):
        client_fields["last_contact_at"] = occurred
    if interaction.next_step_date:
        client_fields.update(
            next_step_date=interaction.next_step_date,
            next_step_goal=interaction.next_step_goal,
            next_step_product=interaction.next_step_product,
        )
    if client_fields:
        for name, value in client_fields.items():
            setattr(client, name, value)
        client.save(update_fields=[*client_fields, "updated_at"])
    return interaction


@transaction.atomic
def interaction_promise_kept(*, actor: User, interaction: Interaction) -> Interaction:
    versions.bump_after_commit()
    if not interaction.promise:
        raise ValidationError(_("This contact has no promise."))
    if interaction.promise_done_at is None:
        interaction.promise_done_at = timezone.now()
        interaction.save(update_fields=["promise_done_at", "updated_at"])
        audit_record(
            actor=actor,
            instance=interaction,
            action=AuditEntry.Action.UPDATE,
            changes={"promise_done_at": [None, interaction.promise_done_at]},
        )
    return interaction


@transaction.atomic
def client_next_step_done(*, actor: User, client: Client) -> Client:
    if client.next_step_date is None:
        return client
    before = [client.next_step_date, client.next_step_goal]
    client.next_step_date, client.next_step_goal, client.next_step_product = None, "", None
    client.save(
        update_fields=["next_step_date", "next_step_goal", "next_step_product", "updated_at"]
    )
    audit_record(
        actor=actor,
        instance=client,
        action=AuditEntry.Action.UPDATE,
        changes={"next_step": [f"{before[0]} {before[1]}".strip(), None]},
        note="next step done",
    )
    return client


@transaction.atomic
def record_delete(
    *, actor: User, instance: Client | ContactPerson | Settlement | Interaction
) -> None:
    """Delete a client-base record. Clients and settlements (the sales history segmentation is
    computed from) only by managers; contacts and contact-log entries by whoever owns the client.
    """
    versions.bump_after_commit()
    if isinstance(instance, Client | Settlement):
        _require_manager(actor)
    delete_with_audit(actor=actor, instance=instance)


@transaction.atomic
def product_line_save(
    *, actor: User, data: dict[str, Any], line: ProductLine | None = None
) -> ProductLine:
    _require_manager(actor)
    return save_with_audit(actor=actor, instance=line or ProductLine(), data=data)


@transaction.atomic
def product_save(*, actor: User, data: dict[str, Any], product: Product | None = None) -> Product:
    _require_manager(actor)
    data = dict(data)
    if data.get("code") == "":
        data["code"] = None
    return save_with_audit(actor=actor, instance=product or Product(), data=data)


@transaction.atomic
def segment_save(
    *,
    actor: User,
    data: dict[str, Any],
    products=None,
    segment: TargetSegment | None = None,
) -> TargetSegment:
    """Create or change a target segment; ``products`` None leaves its products as they are
    (a new segment then has none)."""
    _require_manager(actor)
    m2m = {} if products is None else {"products": products}
    return save_with_audit(actor=actor, instance=segment or TargetSegment(), data=data, m2m=m2m)
