"""The client base: clients, contact persons, products, target segments, settlements and the
account manager's contact log (docs/domain.md)."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import LONG_TEXT_MAX_LENGTH, TimeStampedModel
from crm.validators import validate_date_range

IMPORT_STALE_SECONDS = 15 * 60


def stale_seconds() -> int:
    """How long an import job may show no progress before it counts as interrupted."""
    return getattr(settings, "CLIENT_IMPORT_STALE_SECONDS", IMPORT_STALE_SECONDS)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductLine(TimeStampedModel):
    """A "direction": a group of products sold together."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), max_length=LONG_TEXT_MAX_LENGTH, blank=True)

    class Meta:
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    line = models.ForeignKey(
        ProductLine,
        verbose_name=_("product line"),
        on_delete=models.PROTECT,
        related_name="products",
    )
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=50, unique=True, null=True, blank=True)
    price = models.DecimalField(
        _("list price"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["line__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["line", "name"], name="product_unique_name_in_line"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0), name="product_price_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TargetSegment(TimeStampedModel):
    """The ideal client portrait: who the segment is and which products it should buy."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("portrait"), max_length=LONG_TEXT_MAX_LENGTH, blank=True)
    products = models.ManyToManyField(
        Product, verbose_name=_("target products"), blank=True, related_name="target_segments"
    )

    class Meta:
        verbose_name = _("target segment")
        verbose_name_plural = _("target segments")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Client(TimeStampedModel):
    owner_field = "account_manager"

    class Kind(models.TextChoices):
        COMPANY = "company", _("company")
        PERSON = "person", _("person")

    class CustomerType(models.TextChoices):
        B2B = "b2b", "B2B"
        B2C = "b2c", "B2C"

    class Source(models.TextChoices):
        REFERRAL = "referral", _("referral")
        WEBSITE = "website", _("website")
        EXHIBITION = "exhibition", _("exhibition")
        COLD_CALL = "cold_call", _("cold call")
        ADVERTISING = "advertising", _("advertising")
        OTHER = "other", _("other")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMPANY)
    name = models.CharField(_("name"), max_length=255)
    inn = models.CharField(
        _("tax id (INN)"),
        max_length=12,
        blank=True,
        help_text=_("10 digits for a company, 12 for a person."),
    )
    external_id = models.CharField(
        _("external id"),
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The id in the source system; re-imports match on it."),
    )
    # "from birth" characteristics: what the client is, known from the first contact
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    activity = models.CharField(_("line of activity"), max_length=200, blank=True)
    has_branches = models.BooleanField(_("has branches"), default=False)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    customer_type = models.CharField(
        _("main customer type"), max_length=3, choices=CustomerType.choices, blank=True
    )
    year_founded = models.PositiveSmallIntegerField(
        _("year founded"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1700), MaxValueValidator(2100)],
    )
    birthday = models.DateField(
        _("birthday"), null=True, blank=True, validators=[validate_date_range]
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent client"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subdivisions",
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clients",
    )
    target_segment = models.ForeignKey(
        TargetSegment,
        verbose_name=_("target segment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="clients",
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="clients")
    address_form = models.CharField(_("preferred form of address"), max_length=120, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    city = models.CharField(_("city"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), max_length=LONG_TEXT_MAX_LENGTH, blank=True)

    # The current ABC/XYZ/lifecycle classes are segmentation's: client.metrics
    # (segmentation.models.ClientMetrics, a narrow table the nightly run rewrites in bulk).

    # Denormalised from the contact log by services.interaction_log (My day, overdue lists).
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True, editable=False)
    next_step_date = models.DateField(_("next step"), null=True, blank=True, editable=False)
    next_step_goal = models.CharField(
        _("next step goal"), max_length=255, blank=True, editable=False
    )
    next_step_product = models.ForeignKey(
        Product,
        verbose_name=_("product to offer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="client_name_not_empty"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="client_not_own_parent"
            ),
        ]
        indexes = [
            # client list: default sort, and an account manager's own list sorted by name
            models.Index(fields=["name", "id"], name="client_name_idx"),
            models.Index(fields=["account_manager", "name", "id"], name="client_am_name_idx"),
            # search by identifiers
            models.Index(fields=["inn"], name="client_inn_idx"),
            models.Index(fields=["phone_digits"], name="client_phone_idx"),
            # list filter by target segment; sorted by name, id included: a segment's page
            # (with a search too) is an index-only scan that reads no row it does not show
            models.Index(fields=["target_segment", "name", "id"], name="client_segment_idx"),
            # The list's sorts by contact and next step (NULLS LAST orderings) and the
            # trigram index of the name search are vendor-specific: migration 0003 makes them.
            # My day: next steps due per account manager
            models.Index(fields=["account_manager", "next_step_date"], name="client_am_step_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ClientTally(models.Model):
    """The number of clients, kept exact by the database on PostgreSQL: triggers of
    ``clients_client`` (migration 0011) append one row per statement that inserts or deletes
    clients with the number of rows it added (or minus the number it removed), and a TRUNCATE
    empties this table; the sum of ``delta`` is then the number of clients any transaction
    sees, committed with the change that made it (``selectors.client_total``). A manager's
    list of all clients shows it instead of counting a million rows per page. Writers only
    append, so concurrent imports never wait for each other here; reads fold the rows into one
    now and then (``fold``)."""

    delta = models.BigIntegerField(_("clients added (negative: removed)"))

    class Meta:
        verbose_name = _("client tally")
        verbose_name_plural = _("client tally")

    def __str__(self) -> str:
        return f"{self.delta:+d}"

    @classmethod
    def fold(cls) -> None:
        """Fold the rows into one (PostgreSQL), in one statement: the rows it sees are deleted
        and their sum inserted; rows that writers commit meanwhile stay for the next fold, and
        a concurrent fold skips the rows this one deleted, so the sum never changes."""
        table = connection.ops.quote_name(cls._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH folded AS (DELETE FROM {table} RETURNING delta) "  # noqa: S608
                f"INSERT INTO {table} (delta) SELECT COALESCE(SUM(delta), 0) FROM folded"
            )


class ContactPerson(TimeStampedModel):
    owner_field = "client__account_manager"

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="contacts"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    position = models.CharField(_("position"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_digits = models.CharField(max_length=20, blank=True, editable=False)
    birthday = models.DateField(
        _("birthday"), null=True, blank=True, validators=[validate_date_range]
    )
    address_form = models.CharField(_("preferred form of address"), max_length=120, blank=True)
    greeting_consent = models.BooleanField(_("agrees to greetings"), default=False)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    survey_opt_out = models.BooleanField(_("opted out of surveys"), default=False)
    # the language of the surveys sent to the contact; blank: the account manager's, else the
    # site's (a database default too: the bulk loaders name their columns)
    language = models.CharField(
        _("language of surveys"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        db_default="",
    )
    external_id = models.CharField(
        _("external id"), max_length=64, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["-is_primary", "full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_client",
            ),
            models.CheckConstraint(condition=~Q(full_name=""), name="contact_name_not_empty"),
        ]
        indexes = [
            # client search by contact email / phone
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["phone_digits"], name="contact_phone_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name


class Settlement(TimeStampedModel):
    """A sale or payment record («взаиморасчёт»): the input of segmentation and lifecycle.
    Refunds are negative amounts; a zero amount (free or promotional goods) is a real purchase:
    it counts for lifecycle and RFM frequency and adds nothing to turnover."""

    owner_field = "client__account_manager"

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="settlements"
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlements",
    )
    date = models.DateField(_("date"), validators=[validate_date_range])
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    margin = models.DecimalField(
        _("margin"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    document_number = models.CharField(_("document number"), max_length=64, blank=True)
    external_id = models.CharField(
        _("external id"), max_length=64, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-date", "-id"]
        indexes = [
            # client card (turnover, products bought) and the segmentation aggregate
            models.Index(fields=["client", "date"], name="settlement_client_date_idx"),
            models.Index(fields=["date"], name="settlement_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.date} {self.amount}"


class ClientLineFirst(models.Model):
    """The first day a client bought each product line: the earliest settlement of any product
    of the line (any amount), and the sum of that day's settlements of the line (migration
    0019). Kept by database triggers on settlements and products, on every
    write path (docs/decisions/client-line-first.md); ``manage.py rebuild_client_line_first``
    recomputes it from scratch. Settlements without a product have no line and no row here."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="line_firsts", verbose_name=_("client")
    )
    line = models.ForeignKey(
        ProductLine,
        on_delete=models.CASCADE,
        related_name="client_firsts",
        verbose_name=_("product line"),
    )
    first_date = models.DateField(_("first purchase"), validators=[validate_date_range])
    # the client's settlements of the line dated on first_date, in kopecks (migration 0019)
    first_day_cents = models.BigIntegerField(_("first day's sum (kopecks)"), default=0)

    class Meta:
        verbose_name = _("first purchase of a product line")
        verbose_name_plural = _("first purchases of product lines")
        constraints = [
            models.UniqueConstraint(fields=["client", "line"], name="client_line_first_uniq"),
        ]
        indexes = [
            # the period report: the (client, line) pairs first bought in a period
            models.Index(
                fields=["first_date", "client", "line"], name="client_line_first_date_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}/{self.line_id}: {self.first_date}"


class SettlementMonth(models.Model):
    """The settlements summed per calendar month and the client's current account manager and
    target segment (None: none), kept exact by database triggers on every write path
    (migration 0016, docs/decisions/settlement-months.md): each statement that inserts,
    deletes or updates settlements appends the rows it added (or minus those it removed), and
    a client moved to another account manager or segment moves its settlements' sums. The
    revenue figures of whole months read these rows instead of the settlements
    (``clients.settlement_months``). Writers only append; reads fold the rows now and then
    (``fold``)."""

    month = models.DateField(_("month"), validators=[validate_date_range])
    account_manager_id = models.BigIntegerField(_("account manager"), null=True)
    segment_id = models.BigIntegerField(_("target segment"), null=True)
    n = models.BigIntegerField(_("settlements added (negative: removed)"))
    total = models.DecimalField(_("amount added"), max_digits=20, decimal_places=2)

    class Meta:
        verbose_name = _("settlements of a month")
        verbose_name_plural = _("settlements by month")
        indexes = [
            models.Index(
                fields=["month", "account_manager_id", "segment_id"],
                name="settlement_month_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.account_manager_id}/{self.segment_id}: {self.n:+d}"

    @classmethod
    def fold(cls) -> None:
        """Fold the rows into one per (month, account manager, segment). PostgreSQL: in one
        statement, the rows it sees deleted and their sums inserted (rows committed meanwhile
        stay for the next fold, a concurrent fold skips the rows this one deleted, so no sum
        changes); SQLite, whose writers take turns: in one transaction."""
        table = connection.ops.quote_name(cls._meta.db_table)
        columns = "month, account_manager_id, segment_id"
        grouped = (
            f"SELECT {columns}, SUM(n), SUM(total) FROM {{rows}} GROUP BY {columns} "  # noqa: S608
            "HAVING SUM(n) <> 0 OR SUM(total) <> 0"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"WITH folded AS (DELETE FROM {table} RETURNING *) "  # noqa: S608
                    f"INSERT INTO {table} ({columns}, n, total) " + grouped.format(rows="folded")
                )
            else:
                cursor.execute("CREATE TEMP TABLE folded AS " + grouped.format(rows=table))
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608
                cursor.execute(
                    f"INSERT INTO {table} ({columns}, n, total) SELECT * FROM folded"  # noqa: S608
                )
                cursor.execute("DROP TABLE folded")


class ClientYear(models.Model):
    """One client's settlements of one calendar year, month by month: ``nMM`` settlements
    dated in month MM and ``cMM`` their amount in kopecks (exact: amounts have two decimals).
    Kept exact by database triggers on every write path (migration 0018,
    docs/decisions/client-years.md): a statement that inserts, deletes or updates settlements
    adds (or takes away) its rows' counts and sums, and a row whose counts are all zero is
    deleted. The period report's per-client sums read the whole months of a period here, a
    row per client and year instead of a row per settlement (``clients.client_years``).
    ``client_id`` is no foreign key: a deleted client's row goes with its last settlement."""

    MONTHS = range(1, 13)

    client_id = models.BigIntegerField(_("client"))
    year = models.SmallIntegerField(_("year"))
    n01 = models.IntegerField(default=0)
    n02 = models.IntegerField(default=0)
    n03 = models.IntegerField(default=0)
    n04 = models.IntegerField(default=0)
    n05 = models.IntegerField(default=0)
    n06 = models.IntegerField(default=0)
    n07 = models.IntegerField(default=0)
    n08 = models.IntegerField(default=0)
    n09 = models.IntegerField(default=0)
    n10 = models.IntegerField(default=0)
    n11 = models.IntegerField(default=0)
    n12 = models.IntegerField(default=0)
    c01 = models.BigIntegerField(default=0)
    c02 = models.BigIntegerField(default=0)
    c03 = models.BigIntegerField(default=0)
    c04 = models.BigIntegerField(default=0)
    c05 = models.BigIntegerField(default=0)
    c06 = models.BigIntegerField(default=0)
    c07 = models.BigIntegerField(default=0)
    c08 = models.BigIntegerField(default=0)
    c09 = models.BigIntegerField(default=0)
    c10 = models.BigIntegerField(default=0)
    c11 = models.BigIntegerField(default=0)
    c12 = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("client's settlements of a year")
        verbose_name_plural = _("clients' settlements by year")
        constraints = [
            # the period report reads a year's rows; the triggers upsert by (year, client)
            models.UniqueConstraint(fields=["year", "client_id"], name="client_year_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}/{self.year}"


class Interaction(TimeStampedModel):
    """One contact with a client, and the next step planned after it."""

    owner_field = "client__account_manager"

    class Kind(models.TextChoices):
        CALL = "call", _("call")
        MEETING = "meeting", _("meeting")
        EMAIL = "email", _("email")
        VISIT = "visit", _("visit")
        MESSAGE = "message", _("message")

    class Direction(models.TextChoices):
        OUTGOING = "out", _("outgoing")
        INCOMING = "in", _("incoming")

    class Touchpoint(models.TextChoices):
        SALES = "sales", _("sales")
        DELIVERY = "delivery", _("delivery")
        SUPPORT = "support", _("support")
        BILLING = "billing", _("billing and documents")
        OFFICE = "office", _("office")
        WEBSITE = "website", _("website")
        OTHER = "other", _("other")

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="interactions"
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.CALL)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.OUTGOING
    )
    occurred_at = models.DateTimeField(_("when"), validators=[validate_date_range])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    contact = models.ForeignKey(
        ContactPerson,
        verbose_name=_("contact person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    touchpoint = models.CharField(
        _("touchpoint"), max_length=10, choices=Touchpoint.choices, blank=True
    )
    summary = models.TextField(_("summary"), max_length=LONG_TEXT_MAX_LENGTH)
    outcome = models.CharField(_("outcome"), max_length=255, blank=True)
    promise = models.CharField(_("promise made"), max_length=255, blank=True)
    promise_due = models.DateField(
        _("promise due"), null=True, blank=True, validators=[validate_date_range]
    )
    promise_done_at = models.DateTimeField(
        _("promise kept"), null=True, blank=True, validators=[validate_date_range]
    )
    next_step_date = models.DateField(
        _("next step date"), null=True, blank=True, validators=[validate_date_range]
    )
    next_step_goal = models.CharField(_("next step goal"), max_length=255, blank=True)
    next_step_product = models.ForeignKey(
        Product,
        verbose_name=_("product to offer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("contact log entry")
        verbose_name_plural = _("contact log")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(summary=""), name="interaction_summary_required"),
            models.CheckConstraint(
                condition=Q(promise_due__isnull=True) | ~Q(promise=""),
                name="interaction_promise_due_needs_promise",
            ),
            models.CheckConstraint(
                condition=Q(next_step_date__isnull=False) | Q(next_step_goal=""),
                name="interaction_next_step_goal_needs_date",
            ),
        ]
        indexes = [
            # client card timeline
            models.Index(fields=["client", "-occurred_at"], name="interaction_client_idx"),
            # My day: open promises due
            models.Index(
                fields=["promise_due"],
                condition=Q(promise_done_at__isnull=True) & ~Q(promise=""),
                name="interaction_open_promise_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d} {self.client}"


class ImportJob(TimeStampedModel):
    """One uploaded CSV/XLSX import of clients, contacts or settlements, and its outcome.

    Small files are processed in the request; large ones by a Celery task that advances
    ``processed_rows`` so the job page can show a progress bar. Bad rows go to ``error_report``.
    """

    owner_field = "user"

    class Kind(models.TextChoices):
        CLIENTS = "clients", _("clients")
        CONTACTS = "contacts", _("contact persons")
        SETTLEMENTS = "settlements", _("settlements")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("import nothing if any row is bad")
        VALID_ROWS = "valid_rows", _("import the valid rows, report the bad ones")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("in progress")
        DONE = "done", _("done")
        FAILED = "failed", _("nothing imported")
        CANCELLED = "cancelled", _("cancelled")

    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    kind = models.CharField(_("what"), max_length=12, choices=Kind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    # the upload, kept while the job may still run and removed when it ends
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255, blank=True)
    mode = models.CharField(
        _("mode"), max_length=14, choices=Mode.choices, default=Mode.ALL_OR_NOTHING
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    message = models.TextField(_("message"), blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    error_count = models.PositiveIntegerField(_("bad rows"), default=0)
    error_report = models.FileField(
        _("error report"), upload_to="imports/reports/%Y/%m/", max_length=255, blank=True
    )
    finished_at = models.DateTimeField(
        _("finished"), null=True, blank=True, validators=[validate_date_range]
    )
    # The last sign of life of the run (queued, started, a chunk checked): a job not finished
    # with no sign of life for longer than CLIENT_IMPORT_STALE_SECONDS lost its worker.
    heartbeat_at = models.DateTimeField(
        _("last progress"), null=True, blank=True, validators=[validate_date_range]
    )
    # Runs started so far; a run writes only while it is the latest (a retried or redelivered
    # run supersedes a stuck one, which then stops without writing).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=models.F("total_rows")),
                name="importjob_processed_within_total",
            ),
        ]
        indexes = [
            # the import page: "your recent imports"
            models.Index(fields=["user", "-created_at"], name="importjob_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def is_interrupted(self) -> bool:
        """Not finished and silent for too long: its worker died (or never got the task)."""
        if self.is_finished:
            return False
        seen = self.heartbeat_at or self.created_at
        return seen is not None and timezone.now() - seen > timedelta(seconds=stale_seconds())

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(self.processed_rows * 100 / self.total_rows) if self.total_rows else 0
