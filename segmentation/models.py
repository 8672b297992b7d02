"""Segmentation: the settings record, the run log, each client's current classes with the
figures behind them (ClientMetrics) and the class history (docs/domain.md).

The current classes live here, in a narrow table of their own, not on clients.Client: a run
that reclassifies most clients (the first run, a month roll-over) rewrites these rows, which
is several times cheaper than rewriting wide client rows with all their indexes
(docs/benchmarks.md, "Segmentation"). Readers reach them through ``client.metrics``."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from crm.validators import validate_date_range

PCT = {"max_digits": 5, "decimal_places": 2}


class AbcClass(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class XyzClass(models.TextChoices):
    X = "X", "X"
    Y = "Y", "Y"
    Z = "Z", "Z"


class Lifecycle(models.TextChoices):
    POTENTIAL = "potential", _("potential")
    NEW = "new", _("new")
    REGULAR = "regular", _("regular")
    RESTORED = "restored", _("restored")
    LOST = "lost", _("lost")


class SegmentationSettings(models.Model):
    """The one settings record (pk=1) of the engine, editable by managers."""

    SINGLETON_ID = 1

    class Basis(models.TextChoices):
        TURNOVER = "turnover", _("turnover")
        MARGIN = "margin", _("margin")

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID, editable=False)
    abc_basis = models.CharField(
        _("ABC basis"), max_length=10, choices=Basis.choices, default=Basis.TURNOVER
    )
    abc_a_pct = models.DecimalField(
        # xgettext:no-python-format
        _("A up to, % of the total"),
        **PCT,
        default=Decimal("50"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    abc_b_pct = models.DecimalField(
        # xgettext:no-python-format
        _("B up to, % of the total"),
        **PCT,
        default=Decimal("80"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    window_months = models.PositiveSmallIntegerField(
        _("analysis window, complete months"),
        default=12,
        validators=[MinValueValidator(3), MaxValueValidator(36)],
    )
    xyz_x_pct = models.DecimalField(
        _("X: CV up to, %"),
        **PCT,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("999"))],
    )
    xyz_y_pct = models.DecimalField(
        _("Y: CV up to, %"),
        **PCT,
        default=Decimal("25"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("999"))],
    )
    lifecycle_months = models.PositiveSmallIntegerField(
        _("lifecycle window W, months"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(18)],
    )
    cadence_a_days = models.PositiveSmallIntegerField(
        _("contact cadence for A, days"), default=14, validators=[MinValueValidator(1)]
    )
    cadence_b_days = models.PositiveSmallIntegerField(
        _("contact cadence for B, days"), default=30, validators=[MinValueValidator(1)]
    )
    cadence_c_days = models.PositiveSmallIntegerField(
        _("contact cadence for C, days"), default=90, validators=[MinValueValidator(1)]
    )
    cadence_none_days = models.PositiveSmallIntegerField(
        _("contact cadence without a class, days"), default=30, validators=[MinValueValidator(1)]
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("segmentation settings")
        verbose_name_plural = _("segmentation settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="segsettings_singleton"),
            models.CheckConstraint(
                condition=Q(abc_a_pct__gt=0)
                & Q(abc_a_pct__lt=F("abc_b_pct"))
                & Q(abc_b_pct__lte=100),
                name="segsettings_abc_thresholds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(xyz_x_pct__gte=0) & Q(xyz_x_pct__lt=F("xyz_y_pct")),
                name="segsettings_xyz_thresholds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(window_months__gte=3) & Q(window_months__lte=36),
                name="segsettings_window_range",
            ),
            # P0 and P1 (2·W) must lie inside the aggregated window
            models.CheckConstraint(
                condition=Q(lifecycle_months__gte=1)
                & Q(window_months__gte=F("lifecycle_months") * 2),
                name="segsettings_lifecycle_fits_window",
            ),
            models.CheckConstraint(
                condition=Q(cadence_a_days__gte=1)
                & Q(cadence_b_days__gte=1)
                & Q(cadence_c_days__gte=1)
                & Q(cadence_none_days__gte=1),
                name="segsettings_cadence_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Segmentation settings"))


class SegmentationRun(models.Model):
    """One recompute. At most one run is RUNNING at a time (a partial unique constraint: the
    lock); a run that fails keeps its error and the previous classes stay in place."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCESS = "success", _("finished")
        FAILED = "failed", _("failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("schedule")
        MANUAL = "manual", _("manual")
        COMMAND = "command", _("command")
        API = "api", _("API")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(
        _("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    as_of = models.DateField(_("run date"), validators=[validate_date_range])
    window_start = models.DateField(
        _("window start"), null=True, blank=True, validators=[validate_date_range]
    )
    window_end = models.DateField(
        _("window end (exclusive)"), null=True, blank=True, validators=[validate_date_range]
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(
        _("started"), null=True, blank=True, validators=[validate_date_range]
    )
    finished_at = models.DateTimeField(
        _("finished"), null=True, blank=True, validators=[validate_date_range]
    )
    duration_seconds = models.FloatField(_("duration, s"), null=True, blank=True)
    clients_processed = models.PositiveIntegerField(_("clients processed"), default=0)
    changes = models.PositiveIntegerField(_("clients with changes"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress, %"), default=0)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    # The ABC×XYZ matrix, lifecycle counts and totals as of this run (the matrix page reads it).
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("segmentation run")
        verbose_name_plural = _("segmentation runs")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="segrun_only_one_running",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="segrun_progress_le_100"),
        ]
        indexes = [
            # the last successful run (matrix page, card panel)
            models.Index(fields=["status", "-finished_at"], name="segrun_status_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.as_of} {self.get_status_display()}"

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class ClientMetrics(models.Model):
    """A client's current classes and the figures behind them (explainability), as of the
    last successful run. One row per client that existed at that run; a client added since
    has no row and no class yet. Figures of a client without settlements are zero/empty."""

    owner_field = "client__account_manager"

    # No database foreign-key constraint (here and on ClassChange): a run that writes 100 000
    # rows paid about 1 s per table for the per-row checks, and each check's FOR KEY SHARE lock
    # on the client row left the client table's pages not all-visible, so the client list's
    # index-only scans went back to the heap until the next VACUUM (docs/benchmarks.md).
    # Integrity is kept by the application: the run writes only rows of clients that exist
    # (EXISTS) and deletes rows of clients it no longer sees; deleting a client through Django
    # deletes its row and history (on_delete=CASCADE is emulated by Django, not the database).
    client = models.OneToOneField(
        "clients.Client",
        verbose_name=_("client"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="metrics",
        db_constraint=False,
    )
    abc_class = models.CharField(
        _("ABC class"), max_length=1, choices=AbcClass.choices, null=True, blank=True
    )
    xyz_class = models.CharField(
        _("XYZ class"), max_length=1, choices=XyzClass.choices, null=True, blank=True
    )
    lifecycle = models.CharField(_("lifecycle status"), max_length=10, choices=Lifecycle.choices)
    in_window = models.BooleanField(_("settlements in the window"), default=False)
    turnover = models.DecimalField(_("turnover"), max_digits=18, decimal_places=2, default=0)
    margin = models.DecimalField(_("margin"), max_digits=18, decimal_places=2, default=0)
    abc_rank = models.PositiveIntegerField(_("ABC rank"), null=True, blank=True)
    share = models.FloatField(_("share of the total"), null=True, blank=True)
    share_before = models.FloatField(_("cumulative share before"), null=True, blank=True)
    months_history = models.PositiveSmallIntegerField(_("months of history"), default=0)
    mean_monthly = models.DecimalField(
        _("mean monthly turnover"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    cv = models.FloatField(_("coefficient of variation"), null=True, blank=True)
    first_date = models.DateField(
        _("first settlement"), null=True, blank=True, validators=[validate_date_range]
    )
    last_date = models.DateField(
        _("last settlement"), null=True, blank=True, validators=[validate_date_range]
    )
    frequency = models.PositiveIntegerField(_("settlements in the window"), default=0)
    r_score = models.PositiveSmallIntegerField("R", null=True, blank=True)
    f_score = models.PositiveSmallIntegerField("F", null=True, blank=True)
    m_score = models.PositiveSmallIntegerField("M", null=True, blank=True)

    class Meta:
        verbose_name = _("client metrics")
        verbose_name_plural = _("client metrics")
        constraints = [
            models.CheckConstraint(
                condition=(Q(r_score__isnull=True) | Q(r_score__gte=1, r_score__lte=5))
                & (Q(f_score__isnull=True) | Q(f_score__gte=1, f_score__lte=5))
                & (Q(m_score__isnull=True) | Q(m_score__gte=1, m_score__lte=5)),
                name="segmetrics_rfm_1_to_5",
            ),
        ]
        indexes = [
            # client list filters ?abc= / ?xyz=, the matrix cells, My day's cadence per class
            models.Index(fields=["abc_class", "xyz_class"], name="segmetrics_abc_xyz_idx"),
            # client list filter ?lifecycle=, lifecycle counts
            models.Index(fields=["lifecycle"], name="segmetrics_lifecycle_idx"),
            # client list sorted by ABC: by rank, the largest client first (A, then B, then C)
            models.Index(fields=["abc_rank"], name="segmetrics_rank_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}"

    @property
    def rfm(self) -> str:
        if self.r_score is None:
            return ""
        return f"{self.r_score}{self.f_score}{self.m_score}"


class ClassTally(models.Model):
    """How many clients hold each combination of current classes, kept exact by the database
    on PostgreSQL: triggers of ``segmentation_clientmetrics`` (migration 0007) append, per
    statement that inserts, updates or deletes class rows, one row per combination it changed
    with the number of rows it added or removed there; a TRUNCATE empties this table. A
    manager's client list filtered by classes alone sums these rows (at most 96 combinations)
    instead of counting up to a million class rows per page (``selectors.clients_in_classes``).
    Writers only append; reads fold the rows now and then (``fold``)."""

    abc_class = models.CharField(_("ABC class"), max_length=1, null=True, blank=True)
    xyz_class = models.CharField(_("XYZ class"), max_length=1, null=True, blank=True)
    lifecycle = models.CharField(_("lifecycle status"), max_length=10)
    delta = models.BigIntegerField(_("clients added (negative: removed)"))

    class Meta:
        verbose_name = _("class tally")
        verbose_name_plural = _("class tally")

    def __str__(self) -> str:
        return f"{self.abc_class or '-'}{self.xyz_class or '-'} {self.lifecycle} {self.delta:+d}"

    @classmethod
    def fold(cls) -> None:
        """Fold the rows into one per combination (PostgreSQL), in one statement: the rows it
        sees are deleted and their sums inserted; rows committed meanwhile stay for the next
        fold, and a concurrent fold skips the rows this one deleted."""
        table = connection.ops.quote_name(cls._meta.db_table)
        columns = "abc_class, xyz_class, lifecycle"
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH folded AS (DELETE FROM {table} RETURNING {columns}, delta) "  # noqa: S608
                f"INSERT INTO {table} ({columns}, delta) SELECT {columns}, SUM(delta) "
                f"FROM folded GROUP BY {columns} HAVING SUM(delta) <> 0"
            )


class SegmentClassTally(models.Model):
    """How many clients of each target segment hold each ABC class (None: no class or no
    class row), kept exact by PostgreSQL triggers on ``clients_client`` (the segment) and
    ``segmentation_clientmetrics`` (the class), migration 0009: each writing statement appends
    one row per (segment, class) it changed. The client × product board's page reads its group
    sizes here instead of counting the base (``sales.product_board``). Other databases count.
    Writers only append; reads fold the rows now and then (``fold``)."""

    segment_id = models.BigIntegerField(_("target segment"))
    abc_class = models.CharField(_("ABC class"), max_length=1, null=True, blank=True)
    delta = models.BigIntegerField(_("clients added (negative: removed)"))

    class Meta:
        verbose_name = _("segment class tally")
        verbose_name_plural = _("segment class tally")

    def __str__(self) -> str:
        return f"{self.segment_id} {self.abc_class or '-'} {self.delta:+d}"

    @classmethod
    def fold(cls) -> None:
        """Fold the rows into one per (segment, class), as ``ClassTally.fold``."""
        table = connection.ops.quote_name(cls._meta.db_table)
        columns = "segment_id, abc_class"
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH folded AS (DELETE FROM {table} RETURNING {columns}, delta) "  # noqa: S608
                f"INSERT INTO {table} ({columns}, delta) SELECT {columns}, SUM(delta) "
                f"FROM folded GROUP BY {columns} HAVING SUM(delta) <> 0"
            )


class ClassChange(models.Model):
    """One client's change of ABC, XYZ and/or lifecycle in one run (old → new)."""

    owner_field = "client__account_manager"

    class AbcMove(models.TextChoices):
        UP = "up", _("upgrade")
        DOWN = "down", _("downgrade")
        GAINED = "gained", _("got a class")
        DROPPED = "dropped", _("lost its class")
        SAME = "", _("no change")

    # No single-column indexes on the two keys: (client, -date) and the unique (run, client)
    # lead with them (a run inserts one row per changed client; each index is write cost).
    # No database constraints on the two keys either, for the reasons given at ClientMetrics
    # (the run row is written by the same transaction as its history; checking 100 000 rows
    # against it cost another second). Django's CASCADE still deletes the history of a deleted
    # client or run.
    client = models.ForeignKey(
        "clients.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="class_changes",
        db_index=False,
        db_constraint=False,
    )
    run = models.ForeignKey(
        SegmentationRun,
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="changes_set",
        db_index=False,
        db_constraint=False,
    )
    date = models.DateField(_("date"), validators=[validate_date_range])
    abc_old = models.CharField(
        _("ABC was"), max_length=1, choices=AbcClass.choices, null=True, blank=True
    )
    abc_new = models.CharField(
        _("ABC now"), max_length=1, choices=AbcClass.choices, null=True, blank=True
    )
    xyz_old = models.CharField(
        _("XYZ was"), max_length=1, choices=XyzClass.choices, null=True, blank=True
    )
    xyz_new = models.CharField(
        _("XYZ now"), max_length=1, choices=XyzClass.choices, null=True, blank=True
    )
    lifecycle_old = models.CharField(
        _("lifecycle was"), max_length=10, choices=Lifecycle.choices, null=True, blank=True
    )
    lifecycle_new = models.CharField(
        _("lifecycle now"), max_length=10, choices=Lifecycle.choices, null=True, blank=True
    )
    abc_move = models.CharField(
        _("ABC move"), max_length=8, choices=AbcMove.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("class change")
        verbose_name_plural = _("class history")
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "client"], name="segchange_once_per_run"),
        ]
        indexes = [
            # client card: the client's history, newest first
            models.Index(fields=["client", "-date"], name="segchange_client_date_idx"),
            # changes report: newest first, one page at a time
            models.Index(fields=["-date", "-id"], name="segchange_date_id_idx"),
            # changes report / lifecycle flows per period
            models.Index(fields=["date", "lifecycle_new"], name="segchange_date_lc_idx"),
            models.Index(fields=["date", "abc_move"], name="segchange_date_abc_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.date}"
