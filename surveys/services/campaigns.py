"""Campaigns and their invitations: launching a relationship campaign to its audience, and the
transactional triggers (first purchase in a product line, complaint closed, deal won)."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, ContactPerson, ProductLine, Settlement, TargetSegment
from crm.models import AuditEntry, User
from crm.periods import add_months
from crm.queue import enqueue_chunks
from crm.services import audit_record, save_with_audit, snapshot
from feedback.models import Complaint
from segmentation.models import AbcClass, Lifecycle, XyzClass
from surveys.models import Campaign, Invitation
from surveys.selectors import NO_CLASS, audience, eligible_contacts, language_for

SEND_CHUNK = 200  # invitations per sending task: one SMTP connection each
TRIGGER_CHUNK = 2000  # settlement ids per first-purchase task
SEND_TASK = "surveys.send_invitations"

T = Campaign.Trigger


def _new_invitation(campaign: Campaign, contact: ContactPerson, now: datetime, **extra):
    return Invitation(
        campaign=campaign,
        client_id=contact.client_id,
        contact=contact,
        email=contact.email.strip(),
        language=language_for(contact),
        created_at=now,
        expires_at=now + timedelta(days=campaign.expiry_days),
        **extra,
    )


def _queue_sending(ids: list[int]) -> None:
    enqueue_chunks(SEND_TASK, ids, SEND_CHUNK)


@transaction.atomic
def campaign_launch(*, actor: User | None, campaign: Campaign, now: datetime | None = None) -> int:
    """Invite the campaign's audience now (``surveys.selectors.audience``: its filters and the
    throttle), one invitation per contact, and queue the emails. A recurring campaign gets its
    next run date. Returns the number of invitations."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.trigger != T.MANUAL:
        raise ValidationError(
            {"trigger": _("A campaign with a trigger sends by itself after each event.")}
        )
    if campaign.status == Campaign.Status.FINISHED:
        raise ValidationError({"status": _("This campaign is finished.")})
    if not campaign.questionnaire.is_active:
        raise ValidationError({"questionnaire": _("The questionnaire is not active.")})
    before = snapshot(campaign, ["status", "launched_at", "next_run_on"])
    contacts = list(audience(campaign, now=now))
    invitations = Invitation.objects.bulk_create(
        [_new_invitation(campaign, contact, now) for contact in contacts], batch_size=1000
    )
    campaign.status = Campaign.Status.ACTIVE
    campaign.launched_at = now
    if campaign.recur_months:
        campaign.next_run_on = add_months(timezone.localdate(now), campaign.recur_months)
    campaign.save(update_fields=["status", "launched_at", "next_run_on", "updated_at"])
    changes = {k: [v, snapshot(campaign, [k])[k]] for k, v in before.items()}
    changes["invitations"] = [None, len(invitations)]
    audit_record(
        actor=actor,
        instance=campaign,
        action=AuditEntry.Action.UPDATE,
        changes=changes,
        note="launched",
    )
    _queue_sending([i.pk for i in invitations])
    return len(invitations)


def campaigns_launch_due(*, today=None) -> int:
    """Launch the recurring campaigns whose next run has come (beat, daily). Returns the number
    of invitations."""
    return sum(
        campaign_launch(actor=None, campaign=campaign)
        for campaign in Campaign.objects.filter(pk__in=campaigns_due(today=today))
    )


def campaigns_due(*, today=None) -> list[int]:
    """Recurring campaigns whose next run is today or earlier (the daily beat launches them)."""
    today = today or timezone.localdate()
    return list(
        Campaign.objects.filter(
            status=Campaign.Status.ACTIVE,
            trigger=T.MANUAL,
            recur_months__isnull=False,
            next_run_on__lte=today,
        ).values_list("id", flat=True)
    )


def _contact_for(client: Client, contact: ContactPerson | None) -> ContactPerson | None:
    """The contact to ask: the one given, else the client's primary contact with an email,
    else its first contact with an email."""
    if contact is not None:
        return contact
    return client.contacts.exclude(email="").order_by("-is_primary", "id").first()


@transaction.atomic
def trigger_fire(
    *,
    trigger: str,
    client: Client,
    contact: ContactPerson | None = None,
    source_complaint=None,
    product_line_id: int | None = None,
    now: datetime | None = None,
) -> list[Invitation]:
    """An event happened to ``client``: every active campaign of that trigger invites the
    contact (the one given or the client's primary one) unless the throttle forbids it (no
    email, opted out, refused address, surveyed within the quiet period). A campaign whose
    ``product_line`` filter does not list the event's line is skipped."""
    now = now or timezone.now()
    contact = _contact_for(client, contact)
    if contact is None:
        return []
    created = []
    campaigns = Campaign.objects.filter(
        trigger=trigger, status=Campaign.Status.ACTIVE, questionnaire__is_active=True
    ).order_by("id")
    for campaign in campaigns:
        lines = (campaign.filters or {}).get("product_line") or []
        if lines and product_line_id not in {int(x) for x in lines}:
            continue
        # re-checked per campaign: the first campaign's invitation starts the quiet period
        if not eligible_contacts(now=now).filter(pk=contact.pk).exists():
            break
        invitation = _new_invitation(
            campaign,
            contact,
            now,
            source_complaint=source_complaint,
            product_line_id=product_line_id,
        )
        invitation.save()
        created.append(invitation)
    _queue_sending([i.pk for i in created])
    return created


def trigger_deal_won(*, client: Client, contact: ContactPerson | None = None) -> list[Invitation]:
    """The pipeline calls this when a deal is won (its "deal won" extension point)."""
    return trigger_fire(trigger=T.DEAL_WON, client=client, contact=contact)


def on_complaint_closed(complaint_id: int) -> None:
    """feedback's "complaint closed" listener: a short satisfaction survey goes to the
    complaint's contact (or the client's primary contact), linked to the complaint."""
    complaint = (
        Complaint.objects.select_related("client", "contact").filter(pk=complaint_id).first()
    )
    if complaint is None:
        return
    trigger_fire(
        trigger=T.COMPLAINT_CLOSED,
        client=complaint.client,
        contact=complaint.contact if complaint.contact and complaint.contact.email else None,
        source_complaint=complaint,
    )


def on_settlements_created(settlement_ids: list[int]) -> None:
    """clients' "settlements created" listener: queue the first-purchase check when some
    campaign waits for first purchases (the check itself runs on the worker)."""
    active = Campaign.objects.filter(trigger=T.FIRST_PURCHASE, status=Campaign.Status.ACTIVE)
    if not active.exists():
        return
    with transaction.atomic():
        enqueue_chunks("surveys.first_purchases", settlement_ids, TRIGGER_CHUNK)


def first_purchases_fire(*, settlement_ids: list[int], now: datetime | None = None) -> int:
    """For each (client, product line) of these new settlements that the client never bought
    from before — no other settlement of the client in that line, a refund not counting as a
    purchase — fire the first-purchase trigger. Returns the invitations created."""
    pairs = set(
        Settlement.objects.filter(pk__in=settlement_ids, product__isnull=False, amount__gte=0)
        .values_list("client_id", "product__line_id")
        .distinct()
    )
    if not pairs:
        return 0
    # one query for the whole chunk: the pairs bought before (another settlement of the client
    # in that line), then the first purchases are the rest
    seen = set(
        Settlement.objects.filter(
            client_id__in={c for c, _l in pairs}, product__line_id__in={li for _c, li in pairs}
        )
        .filter(~Q(pk__in=settlement_ids))
        .values_list("client_id", "product__line_id")
        .distinct()
    )
    created = 0
    clients = Client.objects.in_bulk({c for c, _l in pairs - seen})
    for client_id, line_id in sorted(pairs - seen):
        client = clients.get(client_id)
        if client is not None:
            created += len(
                trigger_fire(
                    trigger=T.FIRST_PURCHASE, client=client, product_line_id=line_id, now=now
                )
            )
    return created


# --- editing -----------------------------------------------------------------------------------
CAMPAIGN_FIELDS = [
    "name",
    "questionnaire",
    "kind",
    "trigger",
    "status",
    "filters",
    "anonymous",
    "expiry_days",
    "reminders_max",
    "reminder_gap_days",
    "recur_months",
    "next_run_on",
]


def clean_filters(filters: dict | None) -> dict:
    """The audience filters in their stored form (lists of known values or ids), or a
    ValidationError on ``filters`` naming what is wrong."""
    filters = dict(filters or {})
    known = {
        "abc": {*AbcClass.values, NO_CLASS},
        "xyz": {*XyzClass.values, NO_CLASS},
        "lifecycle": set(Lifecycle.values),
    }
    tables = {
        "segment": TargetSegment.objects,
        "account_manager": User.objects,
        "product_line": ProductLine.objects,
    }
    clean: dict = {}
    for key, value in filters.items():
        if value in (None, "", []):
            continue
        if key == "not_surveyed_months":
            try:
                months = int(value)
            except (TypeError, ValueError):
                months = 0
            if not 1 <= months <= 120:
                raise ValidationError({"filters": _("Months without a survey: 1 to 120.")})
            clean[key] = months
            continue
        if key not in known and key not in tables:
            raise ValidationError(
                {"filters": _("Unknown audience filter: %(key)s.") % {"key": key}}
            )
        values = value if isinstance(value, list | tuple) else [value]
        if key in known:
            if not set(values) <= known[key]:
                raise ValidationError(
                    {"filters": _("Unknown value in the filter %(key)s.") % {"key": key}}
                )
            clean[key] = sorted(set(values))
            continue
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                {"filters": _("Unknown value in the filter %(key)s.") % {"key": key}}
            ) from exc
        if tables[key].filter(pk__in=ids).count() != len(ids):
            raise ValidationError(
                {"filters": _("Unknown value in the filter %(key)s.") % {"key": key}}
            )
        clean[key] = ids
    return clean


@transaction.atomic
def campaign_save(*, actor: User, data: dict, campaign: Campaign | None = None) -> Campaign:
    """Create or edit a campaign (audited). A relationship campaign is sent by hand (its
    trigger is "manual"); a transactional one needs an event trigger."""
    unknown = set(data) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    data = dict(data)
    if "filters" in data:
        data["filters"] = clean_filters(data["filters"])
    kind = data.get("kind", campaign.kind if campaign else Campaign.Kind.RELATIONSHIP)
    trigger = data.get("trigger", campaign.trigger if campaign else T.MANUAL)
    if kind == Campaign.Kind.RELATIONSHIP and trigger != T.MANUAL:
        raise ValidationError({"trigger": _("A relationship campaign is sent by hand.")})
    if kind == Campaign.Kind.TRANSACTIONAL and trigger == T.MANUAL:
        raise ValidationError({"trigger": _("Choose the event that sends this campaign.")})
    if campaign is None:
        campaign = Campaign(created_by=actor)
    return save_with_audit(actor=actor, instance=campaign, data=data)
