"""Reads of the complaints part of the feedback app, scoped by the user's role."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from crm.access import scope_for_user
from crm.models import AuditEntry
from crm.selectors import work_calendar_of
from crm.worktime import WorkCalendar, working_minutes
from feedback.models import Complaint, Notice, SlaBreach, SlaSettings


def sla_settings() -> SlaSettings:
    obj, _ = SlaSettings.objects.get_or_create(pk=1)
    return obj


def work_calendar(settings_obj: SlaSettings | None = None) -> WorkCalendar:
    """The complaint SLA clock's calendar: working days and hours from the SLA settings, the
    holidays and moved working days from the shared non-working-dates calendar. Build it once
    per service call or page (two queries at most), not per complaint."""
    s = settings_obj or sla_settings()
    return work_calendar_of(s.working_days, s.work_start, s.work_end, s.time_zone)


def complaints_for(user) -> QuerySet[Complaint]:
    return scope_for_user(Complaint.objects.all(), user)


def overdue_q(now: datetime) -> Q:
    return Q(status=Complaint.Status.REGISTERED, ack_due_at__lt=now) | Complaint.resolve_overdue_q(
        now
    )


def complaint_list(user, *, mine: bool = False) -> QuerySet[Complaint]:
    """The complaint list: scoped (``mine``: the user's own as responsible or account manager),
    with what a row shows joined in, newest first. Its filters: ``filters.ComplaintFilter``."""
    qs = complaints_for(user).select_related("client", "theme", "responsible")
    if mine:
        qs = qs.filter(Q(responsible=user) | Q(client__account_manager=user))
    return qs.order_by("-registered_at", "-id")


BOARD_LIMIT = 25


def complaint_board(queryset: QuerySet[Complaint]) -> list[dict]:
    """Columns by status of the (scoped, filtered) ``queryset``: count and the newest cards of
    each (one query per column)."""
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("id")))
    columns = []
    for status, label in Complaint.Status.choices:
        cards = list(queryset.filter(status=status)[:BOARD_LIMIT]) if counts.get(status) else []
        columns.append(
            {"status": status, "label": label, "count": counts.get(status, 0), "cards": cards}
        )
    return columns


@dataclass
class Deadline:
    kind: str
    due_at: datetime
    done_at: datetime | None
    minutes_left: float | None  # working minutes; negative = overdue; None = done or paused
    met: bool | None  # None while it is still running


def complaint_deadlines(complaint: Complaint, *, now: datetime | None = None) -> list[Deadline]:
    now = now or timezone.now()
    cal = work_calendar()
    ack_done = complaint.acknowledged_at
    res_done = complaint.resolved_at or complaint.rejected_at
    result = []
    for kind, due, done, running in (
        ("ack", complaint.ack_due_at, ack_done, complaint.status == Complaint.Status.REGISTERED),
        (
            "resolution",
            complaint.resolve_due_at,
            res_done,
            complaint.status in Complaint.RUNNING_STATUSES or complaint.resolve_overdue(now),
        ),
    ):
        left = working_minutes(now, due, cal) if running else None
        met = None if done is None else done <= due
        result.append(Deadline(kind, due, done, left, met))
    return result


def complaint_timeline(complaint: Complaint, breaches: list[SlaBreach]) -> list[dict]:
    """The complaint's history: audit entries and its SLA breaches, oldest first."""
    ct = ContentType.objects.get_for_model(Complaint)
    labels = dict(Complaint.Status.choices)
    items = []
    for e in (
        AuditEntry.objects.filter(content_type=ct, object_id=str(complaint.pk))
        .select_related("actor")
        .order_by("at", "id")
    ):
        change = (e.changes or {}).get("status")
        status = [labels.get(v, v) for v in change] if change else None
        items.append({"at": e.at, "kind": "audit", "entry": e, "status": status})
    items += [{"at": b.detected_at, "kind": "breach", "breach": b} for b in breaches]
    return sorted(items, key=lambda i: i["at"])


def notices_for(user) -> QuerySet[Notice]:
    return Notice.objects.filter(recipient=user).select_related(
        "complaint__client", "breach", "complaint__theme"
    )
