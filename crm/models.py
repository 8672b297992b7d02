from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm.validators import validate_date_range

# The length limit of free-text fields (notes, descriptions, summaries): a TextField with
# ``max_length`` makes the forms (and so the admin) and the API refuse longer text, and the
# import reads the same ``max_length``. Ten thousand characters is some four printed pages.
LONG_TEXT_MAX_LENGTH = 10_000


def active_language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


class Bilingual:
    """``text("title")`` = the Russian or English variant (``title_ru`` / ``title_en``) for the
    active language, falling back to the other one when it is empty."""

    def text(self, name: str) -> str:
        ru, en = getattr(self, f"{name}_ru"), getattr(self, f"{name}_en")
        return (ru or en) if active_language() == "ru" else (en or ru)


class Catalogue(Bilingual, models.Model):
    """An entry of a list managers edit, named in both languages: complaint themes, refusal
    categories, pipelines. ``name`` is the active language's."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.text("name")


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class User(AbstractUser):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        MANAGER = "manager", _("Manager")
        ACCOUNT_MANAGER = "account_manager", _("Account manager")

    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.ACCOUNT_MANAGER
    )
    head = models.ForeignKey(
        "self",
        verbose_name=_("head"),
        help_text=_("The manager this user reports to; receives escalations."),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    class Digest(models.TextChoices):
        OFF = "off", _("never")
        DAILY = "daily", _("daily (yesterday's figures)")
        WEEKLY = "weekly", _("weekly, on Mondays (the last 7 days)")
        MONTHLY = "monthly", _("monthly, on the 1st (the last month)")

    kpi_digest = models.CharField(
        _("KPI digest by email"), max_length=10, choices=Digest.choices, default=Digest.WEEKLY
    )
    # the day the last digest went out: one digest a day at most, whatever the beat runs
    kpi_digest_sent_on = models.DateField(
        _("KPI digest last sent"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "manager", "account_manager"]),
                name="user_role_valid",
            ),
        ]

    @property
    def sees_everything(self) -> bool:
        """Admins and managers see all records; account managers only their own."""
        return self.is_superuser or self.role in (self.Role.ADMIN, self.Role.MANAGER)

    @property
    def is_manager(self) -> bool:
        return self.sees_everything

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        TRANSITION = "transition", _("status changed")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, verbose_name=_("object type")
    )
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=255)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # {"field": [old, new], ...}, values rendered as strings
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [
            # history of one object (client card, complaint timeline)
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"


class CalendarDay(models.Model):
    """An exception to the weekly working pattern, shared by every working-time clock
    (``crm.worktime``): a holiday is not worked even on a working weekday; a moved working day
    (a weekend day worked in exchange for a bridge day off) is worked even on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("holiday (day off)")
        WORKING_DAY = "working_day", _("moved working day")

    date = models.DateField(
        _("date"),
        unique=True,
        error_messages={"unique": _("This date is already in the calendar.")},
        validators=[validate_date_range],
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.HOLIDAY)
    name = models.CharField(_("name"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("non-working-dates calendar")
        ordering = ["date"]
        # the unique index on date serves the calendar page (one year: a date range) and the
        # clocks (all rows)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["holiday", "working_day"]),
                name="calendar_day_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".strip()


class OutboxMessage(models.Model):
    """A Celery task to publish, written in the same transaction as the write that needs it
    (``crm.queue.enqueue``). Published right after commit; when the broker cannot be reached
    the row stays pending and the ``crm.outbox_drain`` beat task publishes it later. A row is
    marked sent only after a successful publish (docs/decisions/outbox.md)."""

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    kwargs = models.JSONField(_("keyword arguments"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Not before this time: a lease while one process publishes it, then the next retry time.
    available_at = models.DateTimeField(_("next attempt"), validators=[validate_date_range])
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(
        _("sent"), null=True, blank=True, validators=[validate_date_range]
    )

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["id"]
        indexes = [
            # the drain: pending rows whose next attempt is due
            models.Index(
                fields=["available_at"],
                name="outbox_pending_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            # pruning sent rows
            models.Index(fields=["sent_at"], name="outbox_sent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"


# --- beacons: KPI rules evaluated by beat (crm/beacons.py; docs/domain.md, "Beacons") ---------
class BeaconRule(TimeStampedModel):
    """A KPI rule: "<metric> of <scope> <operator> <threshold>" (or its change in % against the
    previous period), evaluated by beat; a change of state notifies the recipients."""

    # what a manager edits (the form and the API)
    EDITABLE = [
        "name",
        "metric",
        "scope",
        "scope_account_manager",
        "scope_class",
        "scope_segment",
        "compare",
        "operator",
        "threshold",
        "window_days",
        "repeat_hours",
        "active",
        "recipients",
    ]

    class Scope(models.TextChoices):
        COMPANY = "company", _("whole company")
        ACCOUNT_MANAGER = "account_manager", _("an account manager")
        CLASS = "class", _("an ABC class")
        SEGMENT = "segment", _("a target segment")

    class Operator(models.TextChoices):
        LT = "<", "<"
        LE = "<=", "≤"
        GT = ">", ">"
        GE = ">=", "≥"
        EQ = "=", "="

    class Compare(models.TextChoices):
        VALUE = "value", _("the value")
        CHANGE = "change", _("the change in % against the previous period")

    name = models.CharField(_("name"), max_length=200)
    metric = models.CharField(_("metric"), max_length=60)
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices, default="company")
    scope_account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    scope_class = models.CharField(
        _("ABC class"), max_length=1, blank=True, choices=[("A", "A"), ("B", "B"), ("C", "C")]
    )
    # a target segment's id (crm imports no app: the choices come from the dashboard's filter)
    scope_segment = models.PositiveIntegerField(_("target segment"), null=True, blank=True)
    compare = models.CharField(
        _("compare"), max_length=10, choices=Compare.choices, default=Compare.VALUE
    )
    operator = models.CharField(_("operator"), max_length=2, choices=Operator.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=14, decimal_places=2)
    window_days = models.PositiveIntegerField(
        _("period, days"),
        default=30,
        help_text=_("A metric of a period is computed for the last this many days."),
    )
    repeat_hours = models.PositiveIntegerField(
        _("repeat interval, hours"),
        default=24,
        help_text=_("At most one notification per rule in this interval."),
    )
    active = models.BooleanField(_("active"), default=True)
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipients"),
        blank=True,
        related_name="beacon_rules",
        help_text=_("None chosen: every manager."),
    )

    class Meta:
        verbose_name = _("beacon rule")
        verbose_name_plural = _("beacon rules")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(operator__in=["<", "<=", ">", ">=", "="]),
                name="beacon_operator_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(repeat_hours__gte=1), name="beacon_repeat_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(window_days__gte=1), name="beacon_window_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BeaconState(models.Model):
    """The current state of a rule: one row per rule, locked (``select_for_update``) by the
    evaluation, so two runs cannot both move it."""

    class State(models.TextChoices):
        NORMAL = "normal", _("normal")
        FIRING = "firing", _("firing")
        RECOVERED = "recovered", _("recovered")

    rule = models.OneToOneField(
        BeaconRule, primary_key=True, on_delete=models.CASCADE, related_name="state"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="normal")
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, null=True)
    url = models.CharField(_("list"), max_length=1000, blank=True)
    since = models.DateTimeField(_("since"), null=True, validators=[validate_date_range])
    checked_at = models.DateTimeField(_("checked"), null=True, validators=[validate_date_range])
    notified_at = models.DateTimeField(
        _("last notified"), null=True, validators=[validate_date_range]
    )

    class Meta:
        verbose_name = _("beacon state")
        verbose_name_plural = _("beacon states")

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.state}"


class BeaconEvent(models.Model):
    """A change of a rule's state (append-only history)."""

    rule = models.ForeignKey(BeaconRule, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("when"), validators=[validate_date_range])
    from_state = models.CharField(_("from"), max_length=10, choices=BeaconState.State.choices)
    to_state = models.CharField(_("to"), max_length=10, choices=BeaconState.State.choices)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2, null=True)
    threshold = models.DecimalField(_("threshold"), max_digits=14, decimal_places=2)
    url = models.CharField(_("list"), max_length=1000, blank=True)
    notified = models.BooleanField(_("notified"), default=False)

    class Meta:
        verbose_name = _("beacon event")
        verbose_name_plural = _("beacon events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["rule", "-at"], name="beacon_event_rule_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.from_state} → {self.to_state}"


class BeaconNotice(models.Model):
    """An in-app notice of a beacon's change of state (crm cannot use feedback's notices,
    which hang off a complaint)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="beacon_notices"
    )
    event = models.ForeignKey(BeaconEvent, on_delete=models.CASCADE, related_name="notices")
    created_at = models.DateTimeField(_("created"), validators=[validate_date_range])
    read_at = models.DateTimeField(
        _("read"), null=True, blank=True, validators=[validate_date_range]
    )

    class Meta:
        verbose_name = _("beacon notice")
        verbose_name_plural = _("beacon notices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "event"], name="beacon_notice_once")
        ]
        indexes = [
            # the navigation's unread count on every page (crm.selectors.unread_beacon_notices)
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="beacon_notice_unread_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.event_id}"
