"""Complaints (docs/domain.md): registration, root cause, SLA with escalation, corrective action.

Process: registered → under review (root cause) ⇄ waiting for the client → resolved for the client
→ process fixed → closed; or rejected with a reason. Status changes only through
``feedback.services.complaint_transition``.

Acknowledgement = the complaint leaves "registered" (it is taken under review, or rejected).
Resolution = it reaches "resolved for the client" (or is rejected). Both deadlines are counted in
working time (``crm.worktime``); the resolution clock is paused while waiting for the client.
"""

from datetime import time

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import LONG_TEXT_MAX_LENGTH, Catalogue, TimeStampedModel
from crm.validators import validate_date_range


class Priority(models.TextChoices):
    URGENT = "urgent", _("urgent")
    HIGH = "high", _("high")
    NORMAL = "normal", _("normal")
    LOW = "low", _("low")


# Default SLA targets in WORKING minutes: (acknowledge, resolve) for a normal client and for a
# class-A client. Managers edit them on the settings page.
DEFAULT_SLA_TARGETS = {
    "urgent": {"ack": 60, "resolve": 240, "ack_a": 30, "resolve_a": 120},
    "high": {"ack": 120, "resolve": 960, "ack_a": 60, "resolve_a": 480},
    "normal": {"ack": 480, "resolve": 1920, "ack_a": 240, "resolve_a": 960},
    "low": {"ack": 1440, "resolve": 4320, "ack_a": 720, "resolve_a": 2160},
}
DEFAULT_WORKING_DAYS = [1, 2, 3, 4, 5]  # ISO weekdays, Monday = 1


def default_sla_targets() -> dict:
    return {k: dict(v) for k, v in DEFAULT_SLA_TARGETS.items()}


def default_working_days() -> list[int]:
    return list(DEFAULT_WORKING_DAYS)


class Theme(Catalogue):
    """What the complaint is about (docs/domain.md); the list is editable by managers."""

    class Meta:
        verbose_name = _("complaint theme")
        verbose_name_plural = _("complaint themes")
        ordering = ["order", "id"]


class SlaSettings(models.Model):
    """One record (pk=1): SLA targets per priority × normal/class-A and the working calendar."""

    targets = models.JSONField(_("SLA targets (working minutes)"), default=default_sla_targets)
    working_days = models.JSONField(_("working days"), default=default_working_days)
    work_start = models.TimeField(_("working day starts"), default=time(9, 0))
    work_end = models.TimeField(_("working day ends"), default=time(18, 0))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("complaint SLA settings")
        verbose_name_plural = _("complaint SLA settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="sla_settings_singleton"),
            models.CheckConstraint(
                condition=Q(work_end__gt=models.F("work_start")), name="sla_settings_day_order"
            ),
        ]

    def __str__(self) -> str:
        return str(_("complaint SLA settings"))


class Complaint(TimeStampedModel):
    owner_field = "client__account_manager"

    class Status(models.TextChoices):
        REGISTERED = "registered", _("registered")
        UNDER_REVIEW = "under_review", _("under review")
        WAITING = "waiting", _("waiting for the client")
        RESOLVED = "resolved", _("resolved for the client")
        PROCESS_FIXED = "process_fixed", _("process fixed")
        CLOSED = "closed", _("closed")
        REJECTED = "rejected", _("rejected")

    class Channel(models.TextChoices):
        PHONE = "phone", _("phone")
        EMAIL = "email", _("email")
        MEETING = "meeting", _("meeting")
        WEBSITE = "website", _("website")
        MESSENGER = "messenger", _("messenger")
        LETTER = "letter", _("letter")
        SURVEY = "survey", _("survey")

    class RootCause(models.TextChoices):
        PEOPLE = "people", _("people (skills, attention)")
        PROCESS = "process", _("process or procedure")
        DOCUMENTS = "documents", _("documents and paperwork")
        SYSTEMS = "systems", _("IT systems")
        SUPPLIER = "supplier", _("supplier or partner")
        COMMUNICATION = "communication", _("communication")
        CLIENT = "client", _("client side")
        OTHER = "other", _("other")

    OPEN_STATUSES = (Status.REGISTERED, Status.UNDER_REVIEW, Status.WAITING)
    # Statuses whose resolution clock runs (waiting for the client pauses it).
    RUNNING_STATUSES = (Status.REGISTERED, Status.UNDER_REVIEW)

    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="complaints",
    )
    contact = models.ForeignKey(
        "clients.ContactPerson",
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=Channel.choices, default=Channel.PHONE
    )
    theme = models.ForeignKey(
        Theme, verbose_name=_("theme"), on_delete=models.PROTECT, related_name="complaints"
    )
    touchpoint = models.CharField(_("touchpoint"), max_length=10, blank=True)
    description = models.TextField(_("description"), max_length=LONG_TEXT_MAX_LENGTH)
    served_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("served by"),
        help_text=_("The employee who served the client when the problem happened."),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="complaints_responsible",
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    company_at_fault = models.BooleanField(_("company at fault"), null=True, blank=True)
    goodwill_gift = models.CharField(_("goodwill gift"), max_length=255, blank=True)
    goodwill_cost = models.DecimalField(
        _("gift cost"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    # root cause: five whys
    why_1 = models.CharField(_("why? (1)"), max_length=500, blank=True)
    why_2 = models.CharField(_("why? (2)"), max_length=500, blank=True)
    why_3 = models.CharField(_("why? (3)"), max_length=500, blank=True)
    why_4 = models.CharField(_("why? (4)"), max_length=500, blank=True)
    why_5 = models.CharField(_("why? (5)"), max_length=500, blank=True)
    root_cause = models.CharField(
        _("root cause category"), max_length=20, choices=RootCause.choices, blank=True
    )
    resolution = models.TextField(
        _("fix for the client"), max_length=LONG_TEXT_MAX_LENGTH, blank=True
    )
    corrective_action = models.TextField(
        _("corrective action on the process"), max_length=LONG_TEXT_MAX_LENGTH, blank=True
    )
    client_informed_at = models.DateTimeField(
        _("client informed at"), null=True, blank=True, validators=[validate_date_range]
    )
    client_informed_via = models.CharField(
        _("client informed via"), max_length=20, choices=Channel.choices, blank=True
    )
    rejection_reason = models.TextField(
        _("rejection reason"), max_length=LONG_TEXT_MAX_LENGTH, blank=True
    )

    # lifecycle timestamps
    registered_at = models.DateTimeField(_("registered at"), validators=[validate_date_range])
    acknowledged_at = models.DateTimeField(
        _("acknowledged at"), null=True, blank=True, validators=[validate_date_range]
    )
    resolved_at = models.DateTimeField(
        _("resolved at"), null=True, blank=True, validators=[validate_date_range]
    )
    process_fixed_at = models.DateTimeField(
        _("process fixed at"), null=True, blank=True, validators=[validate_date_range]
    )
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, validators=[validate_date_range]
    )
    rejected_at = models.DateTimeField(
        _("rejected at"), null=True, blank=True, validators=[validate_date_range]
    )
    paused_since = models.DateTimeField(
        _("waiting for the client since"), null=True, blank=True, validators=[validate_date_range]
    )

    # SLA, computed by the services from SlaSettings at registration (and on resume)
    sla_class_a = models.BooleanField(_("class-A SLA"), default=False)
    ack_due_at = models.DateTimeField(_("acknowledge by"), validators=[validate_date_range])
    resolve_due_at = models.DateTimeField(_("resolve by"), validators=[validate_date_range])
    ack_minutes = models.PositiveIntegerField(
        _("working minutes to acknowledge"), null=True, blank=True
    )
    resolve_minutes = models.PositiveIntegerField(
        _("working minutes to resolve"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(goodwill_cost__gte=0), name="complaint_gift_cost_non_negative"
            ),
            models.CheckConstraint(condition=~Q(description=""), name="complaint_description"),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "process_fixed", "closed"])
                | ~Q(resolution=""),
                name="complaint_resolved_has_resolution",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="complaint_rejected_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(resolve_due_at__gte=models.F("ack_due_at")),
                name="complaint_due_order",
            ),
        ]
        indexes = [
            # complaint list: default order, and filtered by status / theme / responsible
            models.Index(fields=["-registered_at", "-id"], name="complaint_reg_idx"),
            models.Index(fields=["status", "-registered_at"], name="complaint_status_idx"),
            models.Index(fields=["theme", "-registered_at"], name="complaint_theme_idx"),
            models.Index(fields=["responsible", "status"], name="complaint_resp_idx"),
            models.Index(fields=["priority", "-registered_at"], name="complaint_prio_idx"),
            # client card timeline and panel
            models.Index(fields=["client", "-registered_at"], name="complaint_client_idx"),
            # escalation scan: open complaints past a deadline
            models.Index(
                fields=["ack_due_at"],
                condition=Q(status="registered"),
                name="complaint_ack_open_idx",
            ),
            models.Index(
                fields=["resolve_due_at"],
                condition=Q(status__in=["registered", "under_review"]),
                name="complaint_res_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.client_id and self.client}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def ack_overdue(self, now) -> bool:
        return self.status == self.Status.REGISTERED and self.ack_due_at < now

    def resolve_overdue(self, now) -> bool:
        """Past the resolution deadline with the clock running — or waiting for the client since
        a pause begun at or after the deadline, which did not stop an expired clock."""
        if self.resolve_due_at >= now:
            return False
        return self.status in self.RUNNING_STATUSES or (
            self.status == self.Status.WAITING
            and self.paused_since is not None
            and self.paused_since >= self.resolve_due_at
        )

    @classmethod
    def resolve_overdue_q(cls, now) -> Q:
        """``resolve_overdue`` as a filter (lists, analytics)."""
        return Q(resolve_due_at__lt=now) & (
            Q(status__in=cls.RUNNING_STATUSES)
            | Q(status=cls.Status.WAITING, paused_since__gte=models.F("resolve_due_at"))
        )

    def is_overdue(self, now) -> bool:
        return self.ack_overdue(now) or self.resolve_overdue(now)


class ComplaintPause(models.Model):
    """An interval of waiting for the client: the resolution clock does not run in it."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="pauses", verbose_name=_("complaint")
    )
    started_at = models.DateTimeField(_("from"), validators=[validate_date_range])
    ended_at = models.DateTimeField(
        _("to"), null=True, blank=True, validators=[validate_date_range]
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint"],
                condition=Q(ended_at__isnull=True),
                name="complaint_one_open_pause",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="complaint_pause_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at} – {self.ended_at or '…'}"


class SlaBreach(models.Model):
    """One row per (complaint, deadline kind): the escalation is sent once, whoever finds it."""

    class Kind(models.TextChoices):
        ACK = "ack", _("acknowledgement")
        RESOLUTION = "resolution", _("resolution")

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="breaches", verbose_name=_("complaint")
    )
    kind = models.CharField(_("deadline"), max_length=12, choices=Kind.choices)
    due_at = models.DateTimeField(_("was due"), validators=[validate_date_range])
    detected_at = models.DateTimeField(_("detected"), validators=[validate_date_range])
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    emailed_at = models.DateTimeField(
        _("email sent"), null=True, blank=True, validators=[validate_date_range]
    )

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        ordering = ["detected_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "kind"], name="sla_breach_once"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.kind}"


class Notice(models.Model):
    """An in-app notice for a user (escalations, assignments); shown on the notices page."""

    class Kind(models.TextChoices):
        ESCALATION = "escalation", _("SLA breach escalated to you")
        ASSIGNED = "assigned", _("complaint assigned to you")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="complaint_notices",
        verbose_name=_("recipient"),
    )
    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="notices", verbose_name=_("complaint")
    )
    breach = models.ForeignKey(
        SlaBreach, null=True, blank=True, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(_("created"), db_index=True, validators=[validate_date_range])
    read_at = models.DateTimeField(
        _("read"), null=True, blank=True, validators=[validate_date_range]
    )
    # set once the notice's email went (assignments; escalations are tracked on the breach)
    emailed_at = models.DateTimeField(
        _("email sent"), null=True, blank=True, validators=[validate_date_range]
    )

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        indexes = [
            # notices page and the unread counter of one user
            models.Index(fields=["recipient", "read_at", "-created_at"], name="notice_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.complaint_id}"
