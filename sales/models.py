"""Sales pipeline (docs/domain.md, "Sales pipeline"): pipelines of stages, deals moving through
them, an append-only stage log, refusal categories.

A deal is always in one stage of its pipeline. The stage's kind says whether the deal is open,
won or lost; ``Deal.state`` keeps a copy of it for the indexes. Deals change only through
``sales.services`` (moves, win, lose, reopen are checked there and audited); every change of
stage appends a ``StageLog`` row, which is never edited afterwards. ``Deal.version`` grows by one
on every change, so a move made from a stale page is refused instead of silently overwriting a
colleague's move.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import LONG_TEXT_MAX_LENGTH, Bilingual, Catalogue, TimeStampedModel
from crm.validators import validate_date_range

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
MONEY = {"max_digits": 14, "decimal_places": 2}


class Pipeline(Catalogue, TimeStampedModel):
    """A sequence of stages, e.g. one per product line. Managers edit it."""

    product_line = models.ForeignKey(
        "clients.ProductLine",
        verbose_name=_("product line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Leave empty for a pipeline of every product line."),
    )

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "id"]


class StageKind(models.TextChoices):
    OPEN = "open", _("open")
    WON = "won", _("won")
    LOST = "lost", _("lost")


class Stage(Bilingual, models.Model):
    """One step of a pipeline. ``expected_days`` = 0: deals in it do not age."""

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    kind = models.CharField(
        _("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN
    )
    probability = models.PositiveSmallIntegerField(
        _("default probability, %"), default=0, validators=PERCENT
    )
    expected_days = models.PositiveSmallIntegerField(
        _("expected days in stage"), default=0, help_text=_("0: deals in this stage do not age.")
    )
    exit_criteria_ru = models.TextField(_("exit criteria (Russian)"), max_length=2000, blank=True)
    exit_criteria_en = models.TextField(_("exit criteria (English)"), max_length=2000, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100),
                name="stage_probability_0_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.text("name")

    @property
    def exit_criteria(self) -> str:
        return self.text("exit_criteria")

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN


class RefusalCategory(Catalogue):
    """Why a client said no (an editable list)."""

    class Meta:
        verbose_name = _("refusal category")
        verbose_name_plural = _("refusal categories")
        ordering = ["order", "id"]


class SaleType(models.TextChoices):
    FIRST = "first", _("first sale")
    REPEAT = "repeat", _("repeat sale")
    NEW_LINE = "new_line", _("new product line")


class Deal(TimeStampedModel):
    """A sale in progress (or closed) to one client. It is seen by whoever sees the client
    (an account manager: their own clients' deals); ``owner`` is who works it, by default the
    client's account manager."""

    owner_field = "client__account_manager"

    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.CASCADE, related_name="deals"
    )
    contact = models.ForeignKey(
        "clients.ContactPerson",
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN, editable=False
    )
    stage_entered_at = models.DateTimeField(
        _("in this stage since"), validators=[validate_date_range]
    )
    amount = models.DecimalField(_("amount"), default=Decimal("0"), **MONEY)
    sale_type = models.CharField(_("sale type"), max_length=10, choices=SaleType.choices)
    sale_type_derived = models.CharField(
        _("sale type derived from the client's purchases"),
        max_length=10,
        choices=SaleType.choices,
        editable=False,
    )
    probability = models.PositiveSmallIntegerField(
        _("probability, %"),
        null=True,
        blank=True,
        validators=PERCENT,
        help_text=_("Empty: the stage's default probability."),
    )
    expected_close = models.DateField(
        _("expected close"), null=True, blank=True, validators=[validate_date_range]
    )
    next_step_date = models.DateField(
        _("next step"), null=True, blank=True, validators=[validate_date_range]
    )
    next_step_goal = models.CharField(_("goal of the next step"), max_length=255, blank=True)
    # control dates: the points a sale is checked at
    proposal_valid_until = models.DateField(
        _("proposal valid until"), null=True, blank=True, validators=[validate_date_range]
    )
    invoice_due = models.DateField(
        _("invoice due"), null=True, blank=True, validators=[validate_date_range]
    )
    delivery_date = models.DateField(
        _("delivery / event date"), null=True, blank=True, validators=[validate_date_range]
    )
    survey_date = models.DateField(
        _("satisfaction survey date"), null=True, blank=True, validators=[validate_date_range]
    )
    protocol_sent_on = models.DateField(
        _("meeting protocol sent"), null=True, blank=True, validators=[validate_date_range]
    )
    # closing
    closed_at = models.DateTimeField(
        _("closed"), null=True, blank=True, validators=[validate_date_range]
    )
    lost_at_stage = models.ForeignKey(
        Stage,
        verbose_name=_("lost at stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refusal = models.ForeignKey(
        RefusalCategory,
        verbose_name=_("refusal category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    refusal_note = models.TextField(_("refusal note"), max_length=LONG_TEXT_MAX_LENGTH, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["pipeline", "stage", "state", "id"], name="deal_board"),
            models.Index(fields=["owner", "state", "id"], name="deal_owner_state"),
            models.Index(fields=["client", "state"], name="deal_client_state"),
            models.Index(fields=["state", "expected_close"], name="deal_state_close"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(probability__isnull=True) | Q(probability__gte=0, probability__lte=100),
                name="deal_probability_0_100",
            ),
            models.CheckConstraint(
                condition=~Q(state="lost") | Q(refusal__isnull=False, lost_at_stage__isnull=False),
                name="deal_lost_has_refusal",
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"

    @property
    def effective_probability(self) -> int:
        return self.stage.probability if self.probability is None else self.probability

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.effective_probability / 100).quantize(Decimal("0.01"))

    @property
    def is_open(self) -> bool:
        return self.state == StageKind.OPEN


class DealLine(models.Model):
    """A product in a deal: quantity × price = amount."""

    owner_field = "deal__client__account_manager"

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        "clients.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, default=Decimal("1")
    )
    price = models.DecimalField(_("price"), **MONEY)
    amount = models.DecimalField(_("amount"), editable=False, **MONEY)

    class Meta:
        verbose_name = _("deal line")
        verbose_name_plural = _("deal lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="deal_line_quantity_positive"),
            models.CheckConstraint(condition=Q(price__gte=0), name="deal_line_price_not_negative"),
        ]
        indexes = [models.Index(fields=["product", "deal"], name="deal_line_product")]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class StageLog(models.Model):
    """Append-only history of a deal's stages: created, moved, won, lost, reopened."""

    owner_field = "deal__client__account_manager"

    class Event(models.TextChoices):
        CREATED = "created", _("created")
        MOVED = "moved", _("moved")
        WON = "won", _("won")
        LOST = "lost", _("lost")
        REOPENED = "reopened", _("reopened")

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="stage_log"
    )
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=_("from stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=_("to stage"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("when"), validators=[validate_date_range])
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    seconds_in_previous = models.BigIntegerField(
        _("time in the previous stage, s"), null=True, blank=True
    )
    refusal = models.ForeignKey(
        RefusalCategory,
        verbose_name=_("refusal category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("stage log entry")
        verbose_name_plural = _("stage log")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["deal", "at"], name="stage_log_deal"),
            models.Index(fields=["to_stage", "at"], name="stage_log_to_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class SalesSettings(models.Model):
    """One record (pk=1): company-wide pipeline settings."""

    class_a_ageing_pct = models.PositiveSmallIntegerField(
        _("class-A deals age at this % of the expected days"),
        default=70,
        validators=[MinValueValidator(10), MaxValueValidator(100)],
    )
    red_ageing_pct = models.PositiveSmallIntegerField(
        _("a deal turns red at this % of the expected days"),
        default=150,
        validators=[MinValueValidator(100), MaxValueValidator(1000)],
    )

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="sales_settings_singleton")]

    def __str__(self) -> str:
        return str(_("sales settings"))

    @classmethod
    def load(cls) -> "SalesSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


# --- the daily digest (owner kanban) --------------------------------------------------------


class DealDigest(models.Model):
    """One owner's daily pipeline digest (``sales.digest``): written by the daily beat task
    with its outbox message, marked done once its email went (or there was nothing to say), so
    a retried or redelivered task never sends a day's digest twice."""

    owner_field = "owner"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    day = models.DateField(_("day"), validators=[validate_date_range])
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    done_at = models.DateTimeField(
        _("done"), null=True, blank=True, validators=[validate_date_range]
    )
    items = models.PositiveIntegerField(_("items sent"), default=0)

    class Meta:
        verbose_name = _("pipeline digest")
        verbose_name_plural = _("pipeline digests")
        ordering = ["-day", "owner"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "day"], name="deal_digest_owner_day"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.day}"
