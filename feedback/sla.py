"""The SLA clock of complaints (docs/decisions/sla-clock.md): the deadlines a complaint gets
from the settings' targets, the pauses that stop the resolution clock while the client is
awaited, the escalation scan of breached deadlines, and the SLA settings. The complaint writes
that move the clock are in ``feedback.services``."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import AuditEntry, User
from crm.queue import enqueue_chunks
from crm.services import audit_record, diff, snapshot
from crm.worktime import WorkCalendar, add_working_minutes, extend_for_pauses
from feedback import emails
from feedback.models import Complaint, ComplaintPause, Notice, Priority, SlaBreach, SlaSettings
from feedback.selectors import sla_settings, work_calendar

S = Complaint.Status


# --- deadlines --------------------------------------------------------------------------------
def _targets(settings_obj: SlaSettings, priority: str, class_a: bool) -> tuple[int, int]:
    row = settings_obj.targets[priority]
    suffix = "_a" if class_a else ""
    return int(row["ack" + suffix]), int(row["resolve" + suffix])


def compute_deadlines(
    *, registered_at: datetime, priority: str, class_a: bool, settings_obj: SlaSettings
) -> tuple[datetime, datetime]:
    cal = work_calendar(settings_obj)
    ack, resolve = _targets(settings_obj, priority, class_a)
    return add_working_minutes(registered_at, ack, cal), add_working_minutes(
        registered_at, resolve, cal
    )


def replan(complaint: Complaint) -> None:
    """A new priority: both deadlines again from the registration time (not saved). The ended
    pauses stopped the new clock only where they began before its deadline; an open pause
    counts when it ends (``pause_end``)."""
    settings_obj = sla_settings()
    cal = work_calendar(settings_obj)
    ack_due, resolve_due = compute_deadlines(
        registered_at=complaint.registered_at,
        priority=complaint.priority,
        class_a=complaint.sla_class_a,
        settings_obj=settings_obj,
    )
    complaint.ack_due_at = ack_due
    complaint.resolve_due_at = extend_for_pauses(resolve_due, pauses(complaint), cal)


# --- pauses (waiting for the client) ----------------------------------------------------------
def pauses(complaint: Complaint) -> list[tuple[datetime, datetime | None]]:
    return [(p.started_at, p.ended_at) for p in complaint.pauses.all()]


def pause_start(complaint: Complaint, *, now: datetime, note: str = "") -> None:
    """The resolution clock stops: a pause row now, the complaint marked paused (not saved)."""
    complaint.paused_since = now
    ComplaintPause.objects.create(complaint=complaint, started_at=now, note=note[:255])


def pause_end(complaint: Complaint, *, now: datetime, cal: WorkCalendar) -> None:
    """The clock runs again: the open pause ends now and the resolution deadline moves by its
    working time (the complaint is not saved). A pause begun at or after the deadline in force
    does not move it: the clock had run out, a breach stays a breach."""
    pause = complaint.pauses.filter(ended_at__isnull=True).first()
    if pause is not None:
        pause.ended_at = now
        pause.save(update_fields=["ended_at"])
        complaint.resolve_due_at = extend_for_pauses(
            complaint.resolve_due_at, [(pause.started_at, now)], cal
        )
    complaint.paused_since = None


# --- SLA escalation ---------------------------------------------------------------------------
ESCALATION_EMAIL_CHUNK = 500


def sla_escalate_breaches(*, now: datetime | None = None) -> list[int]:
    """Find open complaints past a deadline and escalate each breach ONCE.

    Set-based: one INSERT … SELECT per deadline kind over the open complaints past it (partial
    indexes), with ON CONFLICT DO NOTHING on the (complaint, kind) unique constraint and
    RETURNING the rows this call actually inserted. Two workers running at once: the second
    waits on the first's uncommitted rows, then skips them — only the inserter notifies.
    Returns the ids of the breaches created now.
    """
    now = now or timezone.now()
    qn = connection.ops.quote_name
    c, b, u = (qn(m._meta.db_table) for m in (Complaint, SlaBreach, User))
    db_now = connection.ops.adapt_datetimefield_value(now)
    created: list[tuple[int, int, int | None]] = []
    plans = (
        (SlaBreach.Kind.ACK, "ack_due_at", [S.REGISTERED], ""),
        (SlaBreach.Kind.RESOLUTION, "resolve_due_at", [S.REGISTERED, S.UNDER_REVIEW], ""),
        # waiting for the client since a pause begun at or after the deadline: the pause did
        # not stop the expired clock (Complaint.resolve_overdue), so the breach is escalated
        (
            SlaBreach.Kind.RESOLUTION,
            "resolve_due_at",
            [S.WAITING],
            "AND c.paused_since >= c.resolve_due_at",
        ),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for kind, due, statuses, extra in plans:
            marks = ", ".join(["%s"] * len(statuses))
            cursor.execute(
                f"""
                INSERT INTO {b} (complaint_id, kind, due_at, detected_at, responsible_id,
                                 escalated_to_id, emailed_at)
                SELECT c.id, %s, c.{due}, %s, c.responsible_id, u.head_id, NULL
                FROM {c} c LEFT JOIN {u} u ON u.id = c.responsible_id
                WHERE c.status IN ({marks}) AND c.{due} < %s {extra}
                  AND NOT EXISTS (
                    SELECT 1 FROM {b} x WHERE x.complaint_id = c.id AND x.kind = %s)
                ON CONFLICT (complaint_id, kind) DO NOTHING
                RETURNING id, complaint_id, escalated_to_id
                """,  # noqa: S608 - identifiers are our own table names, values are parameters
                [str(kind), db_now, *[str(s) for s in statuses], db_now, str(kind)],
            )
            created.extend(cursor.fetchall())
        Notice.objects.bulk_create(
            [
                Notice(
                    recipient_id=head_id,
                    complaint_id=complaint_id,
                    breach_id=breach_id,
                    kind=Notice.Kind.ESCALATION,
                    created_at=now,
                )
                for breach_id, complaint_id, head_id in created
                if head_id is not None
            ],
            batch_size=2000,
        )
        ids = [row[0] for row in created if row[2] is not None]
        enqueue_chunks(emails.send_escalation_emails, ids, ESCALATION_EMAIL_CHUNK)
    return [row[0] for row in created]


# --- settings ---------------------------------------------------------------------------------
def validate_sla_targets(targets: dict) -> None:
    errors = []
    for priority, _label in Priority.choices:
        row = targets.get(priority) or {}
        try:
            ack, res = int(row["ack"]), int(row["resolve"])
            ack_a, res_a = int(row["ack_a"]), int(row["resolve_a"])
        except (KeyError, TypeError, ValueError):
            errors.append(_("Every priority needs four whole numbers of minutes."))
            continue
        label = Priority(priority).label
        if min(ack, res, ack_a, res_a) <= 0:
            errors.append(_("%(p)s: every target must be above zero.") % {"p": label})
        if ack > res or ack_a > res_a:
            errors.append(
                _("%(p)s: acknowledgement cannot take longer than resolution.") % {"p": label}
            )
        if ack_a > ack or res_a > res:
            errors.append(
                _("%(p)s: class-A targets must be as tight as or tighter than normal ones.")
                % {"p": label}
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def sla_settings_update(*, actor: User, data: dict[str, Any]) -> SlaSettings:
    obj = SlaSettings.objects.select_for_update().get_or_create(pk=1)[0]
    fields = ["targets", "working_days", "work_start", "work_end", "time_zone"]
    before = snapshot(obj, fields)
    for name in fields:
        if name in data:
            setattr(obj, name, data[name])
    validate_sla_targets(obj.targets)
    days = {int(d) for d in obj.working_days or []}
    if not days or not days <= set(range(1, 8)):
        raise ValidationError({"working_days": _("Choose at least one working day.")})
    obj.working_days = sorted(days)
    if obj.work_end <= obj.work_start:
        raise ValidationError({"work_end": _("The working day must end after it starts.")})
    try:
        ZoneInfo(obj.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError({"time_zone": _("Unknown time zone.")}) from exc
    obj.save()
    changes = diff(before, snapshot(obj, fields))
    if changes:
        audit_record(actor=actor, instance=obj, action=AuditEntry.Action.UPDATE, changes=changes)
    return obj
