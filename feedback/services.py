"""Every write of the complaints process: registration, edits, transitions, informing the
client, themes and notices. Each status change is checked and audited. The SLA clock (deadlines,
pauses, the escalation scan, the SLA settings) is ``feedback.sla``."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import may_see
from crm.models import AuditEntry, User
from crm.queue import enqueue
from crm.services import audit_record, diff, save_with_audit, snapshot
from crm.worktime import working_minutes
from feedback import analytics, emails, extensions, sla
from feedback.models import Complaint, Notice, Priority, Theme
from feedback.selectors import sla_settings, work_calendar
from segmentation.selectors import abc_class_of

S = Complaint.Status

EDITABLE_FIELDS = [  # in the order the complaint form shows them (feedback/forms.py)
    "contact",
    "theme",
    "priority",
    "channel",
    "touchpoint",
    "description",
    "served_by",
    "responsible",
    "company_at_fault",
    "goodwill_gift",
    "goodwill_cost",
    "why_1",
    "why_2",
    "why_3",
    "why_4",
    "why_5",
    "root_cause",
    "resolution",
    "corrective_action",
]
AUDITED_FIELDS = [*EDITABLE_FIELDS, "status", "client_informed_at", "client_informed_via"]
AUDITED_FIELDS += ["rejection_reason", "resolve_due_at", "ack_due_at"]


def _changed() -> None:
    """A complaint changed: cached analytics are stale once this transaction commits."""
    # robust: a cache that cannot be told (Redis down) never turns a saved write into an error
    transaction.on_commit(analytics.bump_version, robust=True)


def _check_people(*, client, contact, responsible) -> None:
    if contact is not None and contact.client_id != client.pk:
        raise ValidationError({"contact": _("The contact person belongs to another client.")})
    if responsible is not None and not responsible.is_active:
        raise ValidationError({"responsible": _("The responsible user is not active.")})
    # the responsible is told the client's name and the complaint by notice and email, and
    # must be able to open it: a manager, an admin or the client's own account manager
    if responsible is not None and not may_see(responsible, client):
        raise ValidationError(
            {
                "responsible": _(
                    "%(user)s cannot see this client: choose the client's account manager "
                    "or a manager."
                )
                % {"user": responsible}
            }
        )


@transaction.atomic
def complaint_register(
    *,
    actor: User,
    client,
    theme: Theme,
    description: str,
    priority: str = Priority.NORMAL,
    channel: str = Complaint.Channel.PHONE,
    contact=None,
    touchpoint: str = "",
    served_by: User | None = None,
    responsible: User | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Register a complaint; the SLA deadlines are fixed now (class-A clients get the tighter
    targets) and the responsible (default: the client's account manager) is told."""
    now = now or timezone.now()
    responsible = responsible or client.account_manager or actor
    _check_people(client=client, contact=contact, responsible=responsible)
    if not (description or "").strip():
        raise ValidationError({"description": _("Describe the complaint.")})
    settings_obj = sla_settings()
    class_a = abc_class_of(client) == "A"
    ack_due, resolve_due = sla.compute_deadlines(
        registered_at=now, priority=priority, class_a=class_a, settings_obj=settings_obj
    )
    complaint = Complaint(
        client=client,
        contact=contact,
        theme=theme,
        description=description.strip(),
        priority=priority,
        channel=channel,
        touchpoint=touchpoint,
        served_by=served_by,
        responsible=responsible,
        registered_by=actor,
        registered_at=now,
        sla_class_a=class_a,
        ack_due_at=ack_due,
        resolve_due_at=resolve_due,
    )
    complaint.full_clean()
    complaint.save()
    audit_record(actor=actor, instance=complaint, action=AuditEntry.Action.CREATE)
    _notify_assigned(complaint=complaint, actor=actor, now=now)
    _changed()
    return complaint


def _notify_assigned(*, complaint: Complaint, actor: User, now: datetime) -> None:
    """Email (and an in-app notice) to the responsible, unless they assigned it themselves."""
    if complaint.responsible_id is None or complaint.responsible_id == getattr(actor, "pk", None):
        return
    notice = Notice.objects.create(
        recipient=complaint.responsible,
        complaint=complaint,
        kind=Notice.Kind.ASSIGNED,
        created_at=now,
    )
    enqueue(emails.send_assignment_email, notice.pk)


@transaction.atomic
def complaint_update(
    *, actor: User, complaint: Complaint, data: dict[str, Any], now: datetime | None = None
) -> Complaint:
    """Edit the fields of a complaint (never its status). A new priority re-plans the SLA
    from the registration time; a new responsible is told."""
    now = now or timezone.now()
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    before = snapshot(complaint, AUDITED_FIELDS)
    old_responsible, old_priority = complaint.responsible_id, complaint.priority
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %s") % ", ".join(unknown))
    for name, value in data.items():
        setattr(complaint, name, value)
    # a responsible who stays is not checked again (the client may have moved to another
    # account manager since); a new one must be able to see the client
    new_responsible = complaint.responsible if complaint.responsible_id != old_responsible else None
    _check_people(client=complaint.client, contact=complaint.contact, responsible=new_responsible)
    if complaint.priority != old_priority and complaint.is_open:
        sla.replan(complaint)
    complaint.full_clean()
    complaint.save()
    changes = diff(before, snapshot(complaint, AUDITED_FIELDS))
    if changes:
        audit_record(
            actor=actor, instance=complaint, action=AuditEntry.Action.UPDATE, changes=changes
        )
    if complaint.responsible_id != old_responsible:
        _notify_assigned(complaint=complaint, actor=actor, now=now)
    _changed()
    return complaint


@transaction.atomic
def complaint_delete(*, actor: User, complaint: Complaint) -> None:
    audit_record(actor=actor, instance=complaint, action=AuditEntry.Action.DELETE)
    complaint.delete()
    _changed()


# --- transitions ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Transition:
    action: str
    label: Any
    sources: tuple[str, ...]
    target: str
    fields: tuple[str, ...] = ()
    style: str = "primary"
    extra: dict = field(default_factory=dict)


ROOT_CAUSE_FIELDS = ("why_1", "why_2", "why_3", "why_4", "why_5", "root_cause")
RESOLVE_FIELDS = (
    *ROOT_CAUSE_FIELDS,
    "company_at_fault",
    "resolution",
    "goodwill_gift",
    "goodwill_cost",
)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("review", gettext_lazy("Take under review"), (S.REGISTERED,), S.UNDER_REVIEW),
        Transition(
            "wait",
            gettext_lazy("Wait for the client"),
            (S.UNDER_REVIEW,),
            S.WAITING,
            ("note",),
            "outline-secondary",
        ),
        Transition("resume", gettext_lazy("Resume the review"), (S.WAITING,), S.UNDER_REVIEW),
        Transition(
            "resolve",
            gettext_lazy("Resolve for the client"),
            (S.UNDER_REVIEW,),
            S.RESOLVED,
            RESOLVE_FIELDS,
            "success",
        ),
        Transition(
            "fix_process",
            gettext_lazy("Process fixed"),
            (S.RESOLVED,),
            S.PROCESS_FIXED,
            ("corrective_action",),
            "success",
        ),
        Transition("close", gettext_lazy("Close"), (S.PROCESS_FIXED,), S.CLOSED, (), "dark"),
        Transition(
            "reject",
            gettext_lazy("Reject"),
            (S.REGISTERED, S.UNDER_REVIEW, S.WAITING),
            S.REJECTED,
            ("rejection_reason",),
            "outline-danger",
        ),
    )
}


def allowed_transitions(complaint: Complaint) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if complaint.status in t.sources]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValidationError(message)


def _check_transition(complaint: Complaint, t: Transition) -> None:
    """The business rules of each step; the messages are what the user sees."""
    if t.action == "resolve":
        _require(
            bool(complaint.why_1.strip()),
            _("Record the root cause (at least the first “why?”) before resolving."),
        )
        _require(bool(complaint.root_cause), _("Choose the root cause category before resolving."))
        _require(
            bool(complaint.resolution.strip()),
            _("Record the fix for the client before resolving."),
        )
    elif t.action == "fix_process":
        _require(
            bool(complaint.corrective_action.strip()),
            _("Record the corrective action on the process first."),
        )
    elif t.action == "close":
        _require(
            bool(complaint.resolution.strip()),
            _("A complaint cannot be closed with no resolution recorded."),
        )
        _require(
            bool(complaint.corrective_action.strip()),
            _("A complaint cannot be closed with no corrective action recorded."),
        )
        _require(
            complaint.client_informed_at is not None,
            _("Inform the client of the resolution before closing the complaint."),
        )
    elif t.action == "reject":
        _require(
            bool(complaint.rejection_reason.strip()),
            _("Give the reason for rejecting the complaint."),
        )


@transaction.atomic
def complaint_transition(
    *,
    actor: User,
    complaint: Complaint,
    action: str,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Move a complaint one step; refuses (ValidationError, nothing saved) when the step is not
    allowed from the current status or its rule is not met."""
    now = now or timezone.now()
    data = dict(data or {})
    t = TRANSITIONS.get(action)
    if t is None:
        raise ValidationError(_("Unknown step."))
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=complaint.pk)
    )
    if complaint.status not in t.sources:
        raise ValidationError(
            _("The step “%(step)s” is not allowed for a complaint that is “%(status)s”.")
            % {"step": t.label, "status": complaint.get_status_display()}
        )
    before = snapshot(complaint, AUDITED_FIELDS)
    note = str(data.pop("note", "") or "")
    for name in t.fields:
        if name in data and name != "note":
            value = data[name]
            if name == "goodwill_cost" and value in (None, ""):
                value = Decimal("0")
            setattr(complaint, name, "" if value is None and name != "company_at_fault" else value)
    _check_transition(complaint, t)
    cal = work_calendar()
    if complaint.status == S.REGISTERED:  # leaving "registered" = acknowledgement
        complaint.acknowledged_at = now
        complaint.ack_minutes = round(working_minutes(complaint.registered_at, now, cal))
    if t.target == S.WAITING:
        sla.pause_start(complaint, now=now, note=note)
    if t.action == "resume" or (t.target == S.REJECTED and complaint.status == S.WAITING):
        sla.pause_end(complaint, now=now, cal=cal)
    if t.target in (S.RESOLVED, S.REJECTED):
        complaint.resolve_minutes = round(
            working_minutes(complaint.registered_at, now, cal, sla.pauses(complaint))
        )
    stamp = {
        S.RESOLVED: "resolved_at",
        S.PROCESS_FIXED: "process_fixed_at",
        S.CLOSED: "closed_at",
        S.REJECTED: "rejected_at",
    }.get(t.target)
    if stamp:
        setattr(complaint, stamp, now)
    complaint.status = t.target
    complaint.full_clean()
    complaint.save()
    audit_record(
        actor=actor,
        instance=complaint,
        action=AuditEntry.Action.TRANSITION,
        changes=diff(before, snapshot(complaint, AUDITED_FIELDS)),
        note=note,
    )
    if t.target == S.CLOSED:
        extensions.complaint_closed(complaint.pk)  # after commit: surveys asks the client
    _changed()
    return complaint


@transaction.atomic
def complaint_inform_client(
    *,
    actor: User,
    complaint: Complaint,
    via: str,
    send_email: bool = False,
    language: str = "ru",
    at: datetime | None = None,
) -> Complaint:
    """Record that the client was told of the resolution; optionally email the contact."""
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("contact")
        .get(pk=complaint.pk)
    )
    if complaint.status not in (S.RESOLVED, S.PROCESS_FIXED, S.CLOSED):
        raise ValidationError(_("The client can be informed once the complaint is resolved."))
    if via not in Complaint.Channel.values:
        raise ValidationError({"client_informed_via": _("Choose how the client was informed.")})
    to = complaint.contact.email if complaint.contact else ""
    if send_email and not to:
        raise ValidationError(_("The contact person has no email address."))
    before = snapshot(complaint, AUDITED_FIELDS)
    complaint.client_informed_at = at or timezone.now()
    complaint.client_informed_via = Complaint.Channel.EMAIL if send_email else via
    complaint.save(update_fields=["client_informed_at", "client_informed_via", "updated_at"])
    audit_record(
        actor=actor,
        instance=complaint,
        action=AuditEntry.Action.UPDATE,
        changes=diff(before, snapshot(complaint, AUDITED_FIELDS)),
        note=_("client informed"),
    )
    if send_email:
        enqueue(emails.send_client_resolution_email, complaint.pk, language, to)
    _changed()
    return complaint


# --- themes, notices --------------------------------------------------------------------------
THEME_FIELDS = ["code", "name_en", "name_ru", "order", "is_active"]


@transaction.atomic
def theme_save(*, actor: User, theme: Theme) -> Theme:
    """Create or change a complaint theme (the form's unsaved instance); audited with what
    changed, old → new (a save that changes nothing writes no entry)."""
    data = {name: getattr(theme, name) for name in THEME_FIELDS}
    return save_with_audit(actor=actor, instance=theme, data=data)


def notices_mark_read(*, user: User, now: datetime | None = None) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
