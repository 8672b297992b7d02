"""What a deal owner must look at today (docs/domain.md, "Sales pipeline"; the ageing rule:
docs/decisions/deal-ageing.md): the daily email digest and the same items in My day.

Three lists over the owner's open deals:

- **overdue control dates**: a proposal valid until, an invoice due, a delivery / event date or
  a satisfaction survey date that has passed (before today) while the deal is still open;
- **ageing**: yellow or red by the ageing rule (a deal paused by a future next step is not);
- **no next step**: no next step date.

The digest: ``digests_queue`` (the daily beat task) writes one ``DealDigest`` row per owner
with open deals and the day, with its outbox message (``crm.queue.enqueue``) in the same
transaction; a second run the same day finds the row and queues nothing. ``digest_send`` (the
queued task) locks the row, sends the email in the owner's language when there is something to
say, and marks the row done in the same transaction: a retried or redelivered task sends
nothing twice, and an empty digest sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from crm.models import User
from crm.queue import enqueue
from crm.selectors import first_with_total
from feedback.emails import language_of
from sales import ageing
from sales.models import Deal, DealDigest, SalesSettings, StageKind

SEND_TASK = "sales.send_digest"
LIMIT = 50
CONTROL_DATES = (
    ("proposal_valid_until", _("proposal valid until")),
    ("invoice_due", _("invoice due")),
    ("delivery_date", _("delivery / event date")),
    ("survey_date", _("satisfaction survey date")),
)


@dataclass
class Overdue:
    deal: Deal
    dates: list[tuple]  # (label, date) of each control date passed


@dataclass
class DigestItems:
    today: date
    overdue: list[Overdue] = field(default_factory=list)
    overdue_total: int = 0
    ageing: list[Deal] = field(default_factory=list)  # annotated with ``ageing``
    ageing_total: int = 0
    no_next_step: list[Deal] = field(default_factory=list)
    no_next_step_total: int = 0

    @property
    def total(self) -> int:
        return self.overdue_total + self.ageing_total + self.no_next_step_total

    @property
    def empty(self) -> bool:
        return self.total == 0


def _overdue_q(today: date) -> Q:
    q = Q(pk__in=[])
    for name, _label in CONTROL_DATES:
        q |= Q(**{f"{name}__lt": today})
    return q


def _rows(queryset: QuerySet[Deal]) -> QuerySet[Deal]:
    return queryset.select_related("client", "stage").order_by("stage_entered_at", "id")


def _first(queryset: QuerySet[Deal], limit: int) -> tuple[list[Deal], int]:
    """The first ``limit`` deals of ``queryset`` and how many it holds, in one read (a window
    count on each row)."""
    return first_with_total(_rows(queryset), limit)


def digest_items(user: User, *, today: date | None = None, limit: int = LIMIT) -> DigestItems:
    """The owner's open deals that need attention (three reads: each list with its size,
    plus the ageing settings and stages)."""
    today = today or timezone.localdate()
    mine = Deal.objects.filter(owner=user, state=StageKind.OPEN)
    items = DigestItems(today=today)

    overdue, items.overdue_total = _first(mine.filter(_overdue_q(today)), limit)
    if items.overdue_total:
        for deal in overdue:
            passed = [
                (label, getattr(deal, name))  # lazy: shown in the reader's language
                for name, label in CONTROL_DATES
                if getattr(deal, name) is not None and getattr(deal, name) < today
            ]
            items.overdue.append(Overdue(deal=deal, dates=passed))

    aged = ageing.with_ageing(
        ageing.filter_ageing(mine, ageing.ANY, today=today, settings=SalesSettings.load()),
        today=today,
    )
    items.ageing, items.ageing_total = _first(aged, limit)
    items.no_next_step, items.no_next_step_total = _first(
        mine.filter(next_step_date__isnull=True), limit
    )
    return items


# --- the daily email ------------------------------------------------------------------------


def digests_queue(*, today: date | None = None) -> int:
    """Beat, daily: a digest row and its outbox message for every active owner of an open
    deal who has an email address, once a day. Returns how many were queued."""
    today = today or timezone.localdate()
    owners = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .filter(pk__in=Deal.objects.filter(state=StageKind.OPEN).values("owner"))
        .exclude(pk__in=DealDigest.objects.filter(day=today).values("owner"))
        .values_list("pk", flat=True)
    )
    queued = 0
    for owner_id in owners:
        try:
            with transaction.atomic():
                digest = DealDigest.objects.create(owner_id=owner_id, day=today)
                enqueue(SEND_TASK, digest.pk)
        except IntegrityError:  # another run of the same day got there first
            continue
        queued += 1
    return queued


def _links(items: DigestItems) -> dict:
    site = settings.SITE_URL
    board = reverse("sales:board")
    return {
        "board_url": site + board,
        "ageing_url": site + board + "?ageing=any",
        "my_day_url": site + reverse("clients:my_day"),
        "site": site,
    }


def render_digest(user: User, items: DigestItems) -> tuple[str, str]:
    """(subject, body) of the digest in the owner's language."""
    language = language_of(user)
    context = {"user": user, "items": items, **_links(items)}
    with translation.override(language):
        text = render_to_string(f"sales/email/digest_{language}.txt", context)
    subject, _sep, body = text.lstrip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def digest_send(digest_id: int, *, today: date | None = None) -> bool:
    """Send one digest (the queued task). True when an email went."""
    with transaction.atomic():
        digest = (
            DealDigest.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(pk=digest_id, done_at__isnull=True)
            .first()
        )
        if digest is None:
            return False
        user = digest.owner
        items = digest_items(user, today=today or digest.day)
        sent = False
        if not items.empty and user.is_active and user.email:
            subject, body = render_digest(user, items)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
            sent = True
        DealDigest.objects.filter(pk=digest.pk).update(
            done_at=timezone.now(), items=items.total if sent else 0
        )
    return sent
