"""Funnel and refusals (selectors): conversion from stage to stage, win rate, time in stage,
refusals by stage × category and by ABC class × category, forecast by month of expected close.
The rules are in ``docs/decisions/sales-funnel.md``:

- **Cohort**: the deals of one pipeline *created* in the period (``created_at`` on a day of
  the half-open period, the site's time zone), seen by the user (``crm.access``) and matching
  the filters (owner, product line, the client's current ABC class).
- **Reached a stage**: the deal's stage log has an entry *into* that stage, or into a later
  open stage of the pipeline, or into its "won" stage. A deal that skipped a stage passed it.
  So each deal counts by its furthest stage ever reached; a deal reopened after a win still
  passed every open stage. Conversion ``S_i → S_i+1`` = reached(S_i+1) / reached(S_i).
- **Won / lost / open** are the deal's *current* state: a reopened deal is open again.
  Win rate = won / (won + lost) of the cohort; won / cohort is shown beside it.
- **Time in a stage**: the mean of ``StageLog.seconds_in_previous`` of the cohort's log
  entries that left that (open) stage: one value per stay, the current stay not counted.
- **Refusals**: the cohort's deals lost *now*, by ``lost_at_stage`` × ``refusal`` and by the
  client's current ABC class × ``refusal``.
- **Forecast**: the *open* deals (not the cohort: every open deal matching the filters), the
  sum of ``amount × effective probability`` by month of ``expected_close``.

Every figure carries the deal list's query parameters (``DealFilterSet``) of the deals behind it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db import connection
from django.db.models import Avg, Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from crm.access import scope_for_user
from crm.periods import Period, add_months, month_start
from sales.models import Deal, DealLine, Pipeline, RefusalCategory, Stage, StageKind, StageLog

NONE = "none"  # the deal list's filter value for "no class" / "no expected close"
ABC_CLASSES = ("A", "B", "C", NONE)
FORECAST_MONTHS = 12
CENT = Decimal("0.01")


@dataclass(frozen=True)
class FunnelFilters:
    """What the page and the API were asked for."""

    period: Period
    pipeline: Pipeline
    owner_id: int | None = None
    product_line_id: int | None = None
    abc: str | None = None  # "A", "B", "C" or "none"

    def list_params(self) -> dict[str, str]:
        """The deal list's parameters of the whole cohort (dates inclusive there)."""
        params = self.scope_params()
        params["created_from"] = self.period.start.isoformat()
        params["created_to"] = self.period.last_day.isoformat()
        return params

    def scope_params(self) -> dict[str, str]:
        """The filters without the period (the forecast's deals are not a cohort)."""
        params = {"pipeline": str(self.pipeline.pk)}
        if self.owner_id:
            params["owner"] = str(self.owner_id)
        if self.product_line_id:
            params["product_line"] = str(self.product_line_id)
        if self.abc:
            params["abc"] = self.abc
        return params


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _filtered(user, filters: FunnelFilters) -> QuerySet[Deal]:
    deals = scope_for_user(Deal.objects.all(), user).filter(pipeline=filters.pipeline)
    if filters.owner_id:
        deals = deals.filter(owner_id=filters.owner_id)
    if filters.product_line_id:
        deals = deals.filter(
            Exists(
                DealLine.objects.filter(
                    deal_id=OuterRef("pk"), product__line_id=filters.product_line_id
                )
            )
        )
    if filters.abc == NONE:
        deals = deals.filter(
            Q(client__metrics__isnull=True) | Q(client__metrics__abc_class__isnull=True)
        )
    elif filters.abc:
        deals = deals.filter(client__metrics__abc_class=filters.abc)
    return deals.order_by()


def cohort(user, filters: FunnelFilters) -> QuerySet[Deal]:
    """The deals created in the period that the user may see and the filters keep."""
    return _filtered(user, filters).filter(
        created_at__gte=_day_start(filters.period.start),
        created_at__lt=_day_start(filters.period.end),
    )


def funnel_stages(pipeline: Pipeline) -> tuple[list[Stage], Stage | None, Stage | None]:
    """The pipeline's open stages in order, its "won" stage and its "lost" stage."""
    stages = list(pipeline.stages.order_by("order", "id"))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next((s for s in stages if s.kind == StageKind.WON), None)
    lost = next((s for s in stages if s.kind == StageKind.LOST), None)
    return open_stages, won, lost


def reached_stage_q(stage: Stage) -> Q:
    """Deals that reached ``stage`` by the rule above: their log has an entry into it, into a
    later open stage of its pipeline or into a "won" stage. For the deal list's
    ``reached_stage`` filter, so its count equals the funnel's figure."""
    later = Stage.objects.filter(pipeline_id=stage.pipeline_id).filter(
        Q(kind=StageKind.WON)
        | Q(kind=StageKind.OPEN, order__gt=stage.order)
        | Q(kind=StageKind.OPEN, order=stage.order, id__gte=stage.pk)
    )
    return Q(
        Exists(StageLog.objects.filter(deal_id=OuterRef("pk"), to_stage_id__in=later.values("id")))
    )


# --- the figures ---------------------------------------------------------------------------------
def ratio(part: int, whole: int) -> Decimal | None:
    """``part / whole`` in per cent with one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def days(seconds: float | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / 86400).quantize(Decimal("0.1"))


@dataclass
class StageRow:
    stage: Stage
    reached: int = 0
    conversion: Decimal | None = None  # from the previous row, %
    of_cohort: Decimal | None = None  # %
    stays: int = 0  # stays that left the stage (time in stage)
    avg_days: Decimal | None = None
    params: dict = field(default_factory=dict)


@dataclass
class Funnel:
    cohort: int = 0
    open: int = 0
    won: int = 0
    lost: int = 0
    win_rate: Decimal | None = None  # won / (won + lost), %
    won_of_cohort: Decimal | None = None  # won / cohort, %
    stages: list[StageRow] = field(default_factory=list)
    won_conversion: Decimal | None = None  # last open stage → won, %
    params: dict = field(default_factory=dict)  # the cohort's list parameters

    def state_params(self, state: str) -> dict:
        return {**self.params, "state": state}


def _furthest_counts(deals: QuerySet[Deal], ranks: dict[int, int]) -> dict[tuple[int, str], int]:
    """{(furthest rank reached, current state): deals}: one grouped read of the log."""
    sql, params = deals.values("id", "state").query.sql_with_params()
    cases = " ".join("WHEN %s THEN %s" for _ in ranks)
    case_params = [v for pair in ranks.items() for v in pair]
    log = StageLog._meta.db_table
    # the SQL is Django's own compiled cohort and fixed names; values travel as parameters
    furthest = f"COALESCE(MAX(CASE l.to_stage_id {cases} ELSE 0 END), 0)"
    per_deal = (
        f"SELECT c.id, c.state, {furthest} AS furthest FROM ({sql}) c"  # noqa: S608
        f" LEFT JOIN {log} l ON l.deal_id = c.id GROUP BY c.id, c.state"
    )
    query = f"SELECT x.furthest, x.state, COUNT(*) FROM ({per_deal}) x GROUP BY x.furthest, x.state"  # noqa: S608
    if not ranks:
        query = f"SELECT 0, c.state, COUNT(*) FROM ({sql}) c GROUP BY c.state"  # noqa: S608
        case_params = []
    with connection.cursor() as cursor:
        cursor.execute(query, [*case_params, *params])
        return {(int(f or 0), s): n for f, s, n in cursor.fetchall()}


def funnel(user, filters: FunnelFilters) -> Funnel:
    """Conversion, win rate and time in stage of the cohort (4 queries: stages, log, times)."""
    open_stages, won_stage, _lost = funnel_stages(filters.pipeline)
    deals = cohort(user, filters)
    ranks = {s.pk: i for i, s in enumerate(open_stages, start=1)}
    if won_stage is not None:
        ranks[won_stage.pk] = len(open_stages) + 1
    counts = _furthest_counts(deals, ranks)
    result = Funnel(params=filters.list_params())
    reached_at_least: dict[int, int] = defaultdict(int)
    for (furthest, state), n in counts.items():
        result.cohort += n
        if state == StageKind.WON:
            result.won += n
        elif state == StageKind.LOST:
            result.lost += n
        else:
            result.open += n
        for rank in range(1, furthest + 1):
            reached_at_least[rank] += n
    result.win_rate = ratio(result.won, result.won + result.lost)
    result.won_of_cohort = ratio(result.won, result.cohort)

    times = {
        row["from_stage_id"]: row
        for row in StageLog.objects.filter(
            deal__in=deals.values("id"),
            from_stage_id__in=[s.pk for s in open_stages],
            seconds_in_previous__isnull=False,
        )
        .order_by()
        .values("from_stage_id")
        .annotate(avg=Avg("seconds_in_previous"), stays=Count("id"))
    }
    previous = None
    for stage in open_stages:
        reached = reached_at_least[ranks[stage.pk]]
        row = StageRow(
            stage=stage,
            reached=reached,
            conversion=ratio(reached, previous) if previous is not None else None,
            of_cohort=ratio(reached, result.cohort),
            params={**result.params, "reached_stage": str(stage.pk)},
        )
        if stage.pk in times:
            row.stays = times[stage.pk]["stays"]
            row.avg_days = days(times[stage.pk]["avg"])
        result.stages.append(row)
        previous = reached
    if previous is not None:
        result.won_conversion = ratio(result.won, previous)
    return result


# --- refusals ------------------------------------------------------------------------------------
@dataclass
class Cell:
    deals: int
    amount: Decimal
    params: dict


@dataclass
class RefusalTable:
    """Rows (stages or ABC classes) × columns (refusal categories) of lost deals."""

    rows: list[tuple[str, str]]  # (key, label)
    categories: list[RefusalCategory]
    cells: dict[tuple[str, int], Cell]
    row_totals: dict[str, Cell]
    column_totals: dict[int, Cell]
    total: Cell

    def grid(self) -> list[tuple[str, str, list[Cell | None], Cell | None]]:
        """For templates: (key, label, a cell per category, the row's total)."""
        return [
            (
                key,
                label,
                [self.cells.get((key, c.pk)) for c in self.categories],
                self.row_totals.get(key),
            )
            for key, label in self.rows
        ]

    def column_cells(self) -> list[Cell | None]:
        return [self.column_totals.get(c.pk) for c in self.categories]


@dataclass
class Refusals:
    by_stage: RefusalTable
    by_abc: RefusalTable


def _table(rows, categories, grouped, base: dict, row_param: str) -> RefusalTable:
    cells: dict[tuple[str, int], Cell] = {}
    row_totals: dict[str, Cell] = {}
    column_totals: dict[int, Cell] = {}
    total = Cell(0, Decimal("0"), base)
    used_categories = set()
    for key, refusal_id, n, amount in grouped:
        amount = amount or Decimal("0")
        used_categories.add(refusal_id)
        cells[(key, refusal_id)] = Cell(
            n, amount, {**base, row_param: key, "refusal": str(refusal_id)}
        )
        for bucket, bkey, params in (
            (row_totals, key, {**base, row_param: key}),
            (column_totals, refusal_id, {**base, "refusal": str(refusal_id)}),
        ):
            cell = bucket.setdefault(bkey, Cell(0, Decimal("0"), params))
            cell.deals += n
            cell.amount += amount
        total.deals += n
        total.amount += amount
    categories = [c for c in categories if c.is_active or c.pk in used_categories]
    return RefusalTable(rows, categories, cells, row_totals, column_totals, total)


def refusals(user, filters: FunnelFilters) -> Refusals:
    """The cohort's lost deals by stage × category and by ABC class × category (4 queries)."""
    lost = cohort(user, filters).filter(state=StageKind.LOST)
    base = {**filters.list_params(), "state": StageKind.LOST.value}
    stages = list(funnel_stages(filters.pipeline)[0])
    categories = list(RefusalCategory.objects.order_by("order", "id"))
    by_stage = [
        (str(r["lost_at_stage_id"]), r["refusal_id"], r["n"], r["total"])
        for r in lost.values("lost_at_stage_id", "refusal_id").annotate(
            n=Count("id"), total=Sum("amount")
        )
    ]
    known = {str(s.pk) for s in stages}
    extra = {key for key, *_rest in by_stage} - known  # lost at a stage no longer open
    stage_rows = [(str(s.pk), s.name) for s in stages]
    if extra:
        names = {str(s.pk): s.name for s in Stage.objects.filter(pk__in=[int(k) for k in extra])}
        stage_rows += [(k, names.get(k, k)) for k in sorted(extra)]
    by_abc = [
        (r["abc"] or NONE, r["refusal_id"], r["n"], r["total"])
        for r in lost.annotate(abc=F("client__metrics__abc_class"))
        .values("abc", "refusal_id")
        .annotate(n=Count("id"), total=Sum("amount"))
    ]
    merged: dict[tuple[str, int], list] = {}
    for key, refusal_id, n, amount in by_abc:  # no metrics row and a null class: both "none"
        entry = merged.setdefault((key, refusal_id), [key, refusal_id, 0, Decimal("0")])
        entry[2] += n
        entry[3] += amount or Decimal("0")
    abc_rows = [(k, k if k != NONE else "—") for k in ABC_CLASSES]
    return Refusals(
        by_stage=_table(stage_rows, categories, by_stage, base, "lost_at_stage"),
        by_abc=_table(abc_rows, categories, [tuple(v) for v in merged.values()], base, "abc"),
    )


# --- forecast ------------------------------------------------------------------------------------
OVERDUE = "overdue"
LATER = "later"


@dataclass
class ForecastRow:
    key: str  # "YYYY-MM", "overdue", "later" or "none"
    month: date | None
    deals: int = 0
    amount: Decimal = Decimal("0")
    weighted: Decimal = Decimal("0")
    params: dict | None = None  # None: the deal list has no filter for this bucket


@dataclass
class Forecast:
    rows: list[ForecastRow]
    total: ForecastRow
    months: int


def forecast(user, filters: FunnelFilters, *, today: date, months: int = FORECAST_MONTHS):
    """Open deals' amount × effective probability by month of expected close: the months
    from ``today``'s month on, with "overdue" (an earlier month), "later" and "no date"
    buckets (one query)."""
    first = month_start(today)
    window_end = add_months(first, months)
    base = {**filters.scope_params(), "state": StageKind.OPEN.value}
    rows = [
        ForecastRow(key=f"{m:%Y-%m}", month=m, params={**base, "close_month": f"{m:%Y-%m}"})
        for m in (add_months(first, i) for i in range(months))
    ]
    overdue = ForecastRow(key=OVERDUE, month=None)
    later = ForecastRow(key=LATER, month=None)
    no_date = ForecastRow(key=NONE, month=None, params={**base, "close_month": NONE})
    by_key = {r.key: r for r in rows}
    weight = Coalesce("probability", "stage__probability")
    grouped = (
        _filtered(user, filters)
        .filter(state=StageKind.OPEN)
        .annotate(month=TruncMonth("expected_close"))
        .values("month")
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            weighted=Sum(F("amount") * weight, output_field=DecimalField()),
        )
    )
    for r in grouped:
        month = r["month"]
        if isinstance(month, datetime):
            month = month.date()
        if month is None:
            row = no_date
        elif month < first:
            row = overdue
        elif month >= window_end:
            row = later
        else:
            row = by_key[f"{month:%Y-%m}"]
        row.deals += r["n"]
        row.amount += Decimal(r["total"] or 0)
        row.weighted += Decimal(r["weighted"] or 0) / 100
    out = [overdue, *rows, later, no_date]
    total = ForecastRow(key="total", month=None, params=base)
    for row in out:
        row.weighted = row.weighted.quantize(CENT)
        total.deals += row.deals
        total.amount += row.amount
        total.weighted += row.weighted
    return Forecast(rows=out, total=total, months=months)
