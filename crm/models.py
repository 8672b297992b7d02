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
