"""Deal services (docs/domain.md, "Sales pipeline"): the only writers of deals and their stage log.

Every function runs in one transaction, checks its rules, writes an audit entry and raises
``django.core.exceptions.ValidationError`` (nothing saved) when a rule is not met. A move, win,
lose or reopen takes the deal under a row lock and compares the version the user saw
(``expected_version``) with the stored one: a stale page is refused with a clear message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, ContactPerson, Product, Settlement
from crm.access import may_see
from crm.models import AuditEntry, User
from crm.services import audit_record, diff, snapshot
from sales.models import (
    Deal,
    DealLine,
    Pipeline,
    RefusalCategory,
    SaleType,
    Stage,
    StageKind,
    StageLog,
)
from surveys.services import trigger_deal_won

MONEY_STEP = Decimal("0.01")
# the code of the ValidationError a stale move / edit raises (the API answers it with 409)
STALE = "stale"
# what Deal.amount holds (14 digits, 2 after the point)
MAX_AMOUNT = Decimal("1e12")

# fields a person edits on the deal form (stage, state and closing go through the moves)
EDITABLE_FIELDS = [
    "title",
    "contact",
    "owner",
    "sale_type",
    "probability",
    "expected_close",
    "next_step_date",
    "next_step_goal",
    "proposal_valid_until",
    "invoice_due",
    "delivery_date",
    "survey_date",
    "protocol_sent_on",
]
AUDITED_FIELDS = EDITABLE_FIELDS + [
    "stage",
    "state",
    "amount",
    "closed_at",
    "lost_at_stage",
    "refusal",
    "refusal_note",
]

# A change of stage validates what it writes (and the constraint on a lost deal's refusal); the
# other fields were valid when stored and are not touched, and the new stage was checked
# against the deal's pipeline by the caller (``_check_stage`` or the pipeline's won / lost
# stage): re-validating them cost a query per foreign key and per check constraint on every
# move (docs/benchmarks.md, "Sales pipeline: board and moves").
STAGE_CHANGE_FIELDS = {
    "stage_entered_at",
    "state",
    "closed_at",
    "lost_at_stage",
    "refusal",
    "refusal_note",
}
UNTOUCHED_BY_STAGE_CHANGE = [
    f.name for f in Deal._meta.concrete_fields if f.name not in STAGE_CHANGE_FIELDS
]


@dataclass(frozen=True)
class LineInput:
    product: Product
    quantity: Decimal
    price: Decimal | None = None  # None: the product's list price


def derive_sale_type(client: Client, products: Iterable[Product]) -> str:
    """First sale: the client never bought anything (a settlement of any amount, zero
    included, is a purchase). New product line: some product of the deal is of a line the
    client never bought. Otherwise a repeat sale."""
    bought = Settlement.objects.filter(client=client)
    if not bought.exists():
        return SaleType.FIRST
    lines = {p.line_id for p in products}
    if lines:
        known = set(
            bought.filter(product__line_id__in=lines).values_list("product__line_id", flat=True)
        )
        if lines - known:
            return SaleType.NEW_LINE
    return SaleType.REPEAT


def _check_people(*, client: Client, contact: ContactPerson | None, owner: User) -> None:
    if contact is not None and contact.client_id != client.pk:
        raise ValidationError({"contact": _("The contact person belongs to another client.")})
    if not owner.is_active:
        raise ValidationError({"owner": _("The owner is not an active user.")})
    if not may_see(owner, client):
        raise ValidationError(
            {
                "owner": _(
                    "%(user)s cannot see this client: choose the client's account manager "
                    "or a manager."
                )
                % {"user": owner}
            }
        )


def _check_stage(pipeline: Pipeline, stage: Stage) -> None:
    if stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": _("The stage belongs to another pipeline.")})


def _set_lines(deal: Deal, lines: Iterable[LineInput]) -> None:
    """Replace the deal's lines and recompute its amount (quantity × price, to the kopeck,
    half up)."""
    deal.lines.all().delete()
    total = Decimal("0")
    rows = []
    for line in lines:
        quantity = Decimal(line.quantity)
        price = line.product.price if line.price is None else Decimal(line.price)
        if price is None:
            raise ValidationError(
                {"lines": _("Give a price for %(product)s.") % {"product": line.product}}
            )
        if quantity <= 0:
            raise ValidationError({"lines": _("The quantity must be greater than zero.")})
        if price < 0:
            raise ValidationError({"lines": _("The price cannot be negative.")})
        amount = (quantity * price).quantize(MONEY_STEP, rounding=ROUND_HALF_UP)
        total += amount
        rows.append(
            DealLine(deal=deal, product=line.product, quantity=quantity, price=price, amount=amount)
        )
    for row in rows:
        row.full_clean(exclude=["deal"])
    if total >= MAX_AMOUNT:
        raise ValidationError({"lines": _("The deal's amount is too large.")})
    DealLine.objects.bulk_create(rows)
    deal.amount = total


def _log(
    deal: Deal,
    *,
    event: str,
    from_stage: Stage | None,
    to_stage: Stage,
    actor: User | None,
    now: datetime,
    since: datetime | None,
    refusal: RefusalCategory | None = None,
    note: str = "",
) -> StageLog:
    return StageLog.objects.create(
        deal=deal,
        event=event,
        from_stage=from_stage,
        to_stage=to_stage,
        at=now,
        actor=actor if actor is not None and actor.is_authenticated else None,
        seconds_in_previous=None if since is None else max(0, int((now - since).total_seconds())),
        refusal=refusal,
        note=note[:500],
    )


def _first_stage(pipeline: Pipeline) -> Stage:
    stage = (
        pipeline.stages.filter(kind=StageKind.OPEN, is_active=True).order_by("order", "id").first()
    )
    if stage is None:
        raise ValidationError({"pipeline": _("The pipeline has no open stage.")})
    return stage


@transaction.atomic
def deal_create(
    *,
    actor: User,
    client: Client,
    pipeline: Pipeline,
    lines: Iterable[LineInput] = (),
    stage: Stage | None = None,
    owner: User | None = None,
    contact: ContactPerson | None = None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Deal:
    """Open a deal in ``stage`` (default: the pipeline's first open stage). The sale type is
    derived from the client's purchases and the deal's products; ``data["sale_type"]``
    overrides it."""
    now = now or timezone.now()
    lines = list(lines)
    owner = owner or client.account_manager or actor
    _check_people(client=client, contact=contact, owner=owner)
    if not pipeline.is_active:
        raise ValidationError({"pipeline": _("The pipeline is not active.")})
    stage = stage or _first_stage(pipeline)
    _check_stage(pipeline, stage)
    if stage.is_closed:
        raise ValidationError({"stage": _("A new deal starts in an open stage.")})
    derived = derive_sale_type(client, [line.product for line in lines])
    data = dict(data or {})
    deal = Deal(
        client=client,
        contact=contact,
        owner=owner,
        pipeline=pipeline,
        stage=stage,
        state=StageKind.OPEN,
        stage_entered_at=now,
        sale_type_derived=derived,
        sale_type=data.pop("sale_type", None) or derived,
    )
    for name, value in data.items():
        if name not in EDITABLE_FIELDS:
            raise ValidationError(_("Unknown field: %(name)s") % {"name": name})
        setattr(deal, name, value)
    deal.full_clean(exclude=["amount"])
    deal.save()
    _set_lines(deal, lines)
    deal.save(update_fields=["amount"])
    _log(
        deal,
        event=StageLog.Event.CREATED,
        from_stage=None,
        to_stage=stage,
        actor=actor,
        now=now,
        since=None,
    )
    audit_record(
        actor=actor,
        instance=deal,
        action=AuditEntry.Action.CREATE,
        changes={
            k: [None, v] for k, v in snapshot(deal, AUDITED_FIELDS).items() if v not in (None, "")
        },
    )
    return deal


def _locked(deal: Deal, expected_version: int | None) -> Deal:
    fresh = (
        Deal.objects.select_for_update(of=("self",))
        .select_related("stage", "pipeline", "client", "owner")
        .get(pk=deal.pk)
    )
    if expected_version is not None and fresh.version != expected_version:
        raise ValidationError(
            _(
                "Someone changed this deal while you were looking at it (now in “%(stage)s”). "
                "Reload the page and try again."
            )
            % {"stage": fresh.stage},
            code=STALE,
        )
    return fresh


@transaction.atomic
def deal_update(
    *,
    actor: User,
    deal: Deal,
    data: dict[str, Any],
    lines: Iterable[LineInput] | None = None,
    expected_version: int | None = None,
) -> Deal:
    """Edit the deal's fields (not its stage) and, when given, replace its lines. A probability
    set here is kept whatever stage the deal moves to afterwards."""
    deal = _locked(deal, expected_version)
    before = snapshot(deal, AUDITED_FIELDS)
    for name, value in data.items():
        if name not in EDITABLE_FIELDS:
            raise ValidationError(_("Unknown field: %(name)s") % {"name": name})
        setattr(deal, name, value)
    _check_people(client=deal.client, contact=deal.contact, owner=deal.owner)
    if lines is not None:
        _set_lines(deal, list(lines))
    deal.version += 1
    deal.full_clean()
    deal.save()
    changes = diff(before, snapshot(deal, AUDITED_FIELDS))
    if changes or lines is not None:
        audit_record(actor=actor, instance=deal, action=AuditEntry.Action.UPDATE, changes=changes)
    return deal


def _close_fields(deal: Deal, stage: Stage, now: datetime) -> None:
    deal.state = stage.kind
    deal.closed_at = now if stage.is_closed else None


@transaction.atomic
def deal_move(
    *,
    actor: User,
    deal: Deal,
    stage: Stage,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Deal:
    """Move an open deal to another open stage of its pipeline (forward or back). Winning and
    losing have their own services (a loss needs a refusal category)."""
    now = now or timezone.now()
    deal = _locked(deal, expected_version)
    if not deal.is_open:
        raise ValidationError(_("The deal is closed: reopen it before moving it."))
    _check_stage(deal.pipeline, stage)
    if stage.kind == StageKind.WON:
        return _win(actor=actor, deal=deal, stage=stage, now=now)
    if stage.kind == StageKind.LOST:
        raise ValidationError(_("To lose a deal, give the refusal category and a note."))
    if stage.pk == deal.stage_id:
        return deal
    return _change_stage(actor=actor, deal=deal, stage=stage, event=StageLog.Event.MOVED, now=now)


def _change_stage(
    *, actor: User, deal: Deal, stage: Stage, event: str, now: datetime, note: str = ""
) -> Deal:
    before = snapshot(deal, AUDITED_FIELDS)
    previous, since = deal.stage, deal.stage_entered_at
    deal.stage = stage
    deal.stage_entered_at = now
    _close_fields(deal, stage, now)
    deal.version += 1
    deal.full_clean(exclude=UNTOUCHED_BY_STAGE_CHANGE)
    deal.save()
    _log(
        deal,
        event=event,
        from_stage=previous,
        to_stage=stage,
        actor=actor,
        now=now,
        since=since,
        refusal=deal.refusal if event == StageLog.Event.LOST else None,
        note=note,
    )
    audit_record(
        actor=actor,
        instance=deal,
        action=AuditEntry.Action.TRANSITION,
        changes=diff(before, snapshot(deal, AUDITED_FIELDS)),
        note=note,
    )
    return deal


def _won_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.WON).order_by("order", "id").first()
    if stage is None:
        raise ValidationError(_("The pipeline has no “won” stage."))
    return stage


def _lost_stage(pipeline: Pipeline) -> Stage:
    stage = pipeline.stages.filter(kind=StageKind.LOST).order_by("order", "id").first()
    if stage is None:
        raise ValidationError(_("The pipeline has no “lost” stage."))
    return stage


def _win(*, actor: User, deal: Deal, stage: Stage, now: datetime) -> Deal:
    deal = _change_stage(actor=actor, deal=deal, stage=stage, event=StageLog.Event.WON, now=now)
    client_id, contact_id = deal.client_id, deal.contact_id
    transaction.on_commit(lambda: _deal_won(client_id, contact_id), robust=True)
    return deal


def _deal_won(client_id: int, contact_id: int | None) -> None:
    """The surveys app's "deal won" trigger: a satisfaction survey to the deal's contact."""
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return
    contact = ContactPerson.objects.filter(pk=contact_id).first() if contact_id else None
    trigger_deal_won(client=client, contact=contact)


@transaction.atomic
def deal_win(
    *, actor: User, deal: Deal, expected_version: int | None = None, now: datetime | None = None
) -> Deal:
    """Close the deal as won (its pipeline's "won" stage); a satisfaction survey is triggered."""
    now = now or timezone.now()
    deal = _locked(deal, expected_version)
    if not deal.is_open:
        raise ValidationError(_("The deal is already closed."))
    return _win(actor=actor, deal=deal, stage=_won_stage(deal.pipeline), now=now)


@transaction.atomic
def deal_lose(
    *,
    actor: User,
    deal: Deal,
    refusal: RefusalCategory | None,
    note: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Deal:
    """Close the deal as lost. A refusal category and a note are required; the stage the deal
    was in is kept as ``lost_at_stage``."""
    now = now or timezone.now()
    deal = _locked(deal, expected_version)
    if not deal.is_open:
        raise ValidationError(_("The deal is already closed."))
    errors = {}
    if refusal is None:
        errors["refusal"] = _("Choose the refusal category.")
    elif not refusal.is_active:
        errors["refusal"] = _("This refusal category is no longer in use.")
    if not (note or "").strip():
        errors["refusal_note"] = _("Say in a note why the client refused.")
    if errors:
        raise ValidationError(errors)
    deal.lost_at_stage = deal.stage
    deal.refusal = refusal
    deal.refusal_note = note.strip()
    return _change_stage(
        actor=actor,
        deal=deal,
        stage=_lost_stage(deal.pipeline),
        event=StageLog.Event.LOST,
        now=now,
        note=note,
    )


@transaction.atomic
def deal_reopen(
    *,
    actor: User,
    deal: Deal,
    stage: Stage | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Deal:
    """Reopen a won or lost deal into an open stage (default: the stage it was lost at, or the
    pipeline's last open stage for a won deal). The deal's refusal is cleared; the stage log
    keeps it."""
    now = now or timezone.now()
    deal = _locked(deal, expected_version)
    if deal.is_open:
        raise ValidationError(_("The deal is open already."))
    if stage is None:
        stage = deal.lost_at_stage or (
            deal.pipeline.stages.filter(kind=StageKind.OPEN).order_by("-order", "-id").first()
        )
    if stage is None:
        raise ValidationError({"stage": _("The pipeline has no open stage.")})
    _check_stage(deal.pipeline, stage)
    if stage.is_closed:
        raise ValidationError({"stage": _("Reopen the deal into an open stage.")})
    deal.lost_at_stage = None
    deal.refusal = None
    deal.refusal_note = ""
    return _change_stage(
        actor=actor, deal=deal, stage=stage, event=StageLog.Event.REOPENED, now=now
    )
