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
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from crm.access import scope_for_user
from crm.cache import DataVersion
from crm.periods import Period, add_months, month_start
from sales.models import Deal, DealLine, Pipeline, RefusalCategory, Stage, StageKind, StageLog
from segmentation.models import ClientMetrics

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
    segment_id: int | None = None  # the client's target segment (the dashboard's filter)

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
        if self.segment_id:
            params["segment"] = str(self.segment_id)
        return params


def default_pipeline() -> Pipeline | None:
    """The pipeline of a funnel nobody chose one for: the first active one, else the first."""
    return Pipeline.objects.filter(is_active=True).first() or Pipeline.objects.first()


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
    if filters.segment_id:
        deals = deals.filter(client__target_segment_id=filters.segment_id)
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


@dataclass
class Group:
    """The cohort's deals sharing a furthest stage, a state, a refusal and an ABC class."""

    furthest: int  # 0: none; 1…n: the open stages in order; n + 1: won
    state: str
    lost_at_stage_id: int | None
    refusal_id: int | None
    abc: str | None
    deals: int
    amount: Decimal


@dataclass
class Stays:
    """The cohort's ended stays in each open stage (by position): seconds and count."""

    seconds: list[int]
    count: list[int]


# How the furthest stage is found without grouping the log by deal. A deal's furthest stage is
# at least its "base": won → past every open stage; lost → the stage it was lost at; open → its
# stage (the log has an entry into each). It is further only if the deal once *left* a further
# stage backwards: a move to an earlier stage, a reopening of a won deal, a loss not the final
# one. So one read of the cohort's log entries sums the stays by stage and picks out those few
# deals ("exceptions", with the rank of the stage they left); the deals themselves are read
# grouped. tests/sales/test_funnel.py checks the rule against the log-only definition.
def _rank_sql(column: str, ranks: list[tuple[int, int]]) -> str:
    whens = " ".join("WHEN %s THEN %s" for _ in ranks)
    return f"(CASE {column} {whens} ELSE 0 END)" if ranks else "0"


def _groups(
    deals: QuerySet[Deal], open_stages: list[Stage], won: Stage | None, *, log: bool = True
) -> tuple[list[Group], Stays]:
    """The cohort grouped by furthest stage, state, refusal and class, and its stays (two
    queries: the deals grouped, with their id range; the log entries grouped). ``log``
    False: the first query only, without the classes and refusals — the states are right, the
    furthest stages only the base ones, no stays."""
    n = len(open_stages)
    stays = Stays([0] * n, [0] * n)
    ranks = [(s.pk, i) for i, s in enumerate(open_stages, start=1)]
    if won is not None:
        ranks.append((won.pk, n + 1))
    rank_of = dict(ranks)
    rank_values = [v for pair in ranks for v in pair]

    # 1. the deals, grouped by their base: stage, state, lost-at stage, refusal, class (the
    # class read by the deal's client id: no hop through the client table), with each group's
    # id range (the cohort's bounds the log is read by: no read of the cohort of its own)
    sql, params = deals.values(
        "id", "state", "stage_id", "lost_at_stage_id", "refusal_id", "amount", "client_id"
    ).query.sql_with_params()
    metrics = ClientMetrics._meta.db_table
    if log:
        base_query = (
            "SELECT c.state, c.stage_id, c.lost_at_stage_id, c.refusal_id, m.abc_class,"  # noqa: S608
            f" COUNT(*), SUM(c.amount), MIN(c.id), MAX(c.id) FROM ({sql}) c"
            f" LEFT JOIN {metrics} m ON m.client_id = c.client_id GROUP BY 1, 2, 3, 4, 5"
        )
    else:  # the states only: no class (no join with the classes), no refusal
        base_query = (
            "SELECT c.state, c.stage_id, c.lost_at_stage_id, NULL, NULL,"  # noqa: S608
            f" COUNT(*), SUM(c.amount), MIN(c.id), MAX(c.id) FROM ({sql}) c GROUP BY 1, 2, 3"
        )
    groups: dict[tuple, Group] = {}

    def base_rank(state, stage_id, lost_at_id) -> int:
        if state == StageKind.WON:
            return n + 1
        return rank_of.get(lost_at_id if state == StageKind.LOST else stage_id, 0)

    def group(furthest, state, lost_at_id, refusal_id, abc) -> Group:
        key = (furthest, state, lost_at_id, refusal_id, abc)
        if key not in groups:
            groups[key] = Group(furthest, state, lost_at_id, refusal_id, abc, 0, Decimal("0"))
        return groups[key]

    lo = hi = None
    with connection.cursor() as cursor:
        cursor.execute(base_query, params)
        for (
            state,
            stage_id,
            lost_at_id,
            refusal_id,
            abc,
            count,
            total,
            low,
            high,
        ) in cursor.fetchall():
            g = group(base_rank(state, stage_id, lost_at_id), state, lost_at_id, refusal_id, abc)
            g.deals += count
            g.amount += Decimal(total or 0)
            lo = low if lo is None else min(lo, low)
            hi = high if hi is None else max(hi, high)
    if lo is None:
        return [], stays
    if not log:
        return [g for g in groups.values() if g.deals], stays

    # 2. the log entries: stays by stage, and the deals that left a further stage backwards
    sql, params = deals.values("id", "state", "lost_at_stage_id").query.sql_with_params()
    log = StageLog._meta.db_table
    rank_from, rank_to = _rank_sql("l.from_stage_id", ranks), _rank_sql("l.to_stage_id", ranks)
    exception = (
        f"{rank_from} > {rank_to} AND NOT (l.event = 'lost' AND c.state = 'lost'"
        " AND l.from_stage_id = c.lost_at_stage_id)"
    )
    query = (
        "SELECT l.from_stage_id, CASE WHEN "  # noqa: S608 - Django's SQL and fixed names
        f"{exception} THEN l.deal_id END AS deal, SUM(l.seconds_in_previous),"
        f" COUNT(l.seconds_in_previous) FROM {log} l JOIN ({sql}) c ON c.id = l.deal_id"
        " WHERE l.deal_id >= %s AND l.deal_id <= %s AND l.from_stage_id IS NOT NULL"
        " GROUP BY l.from_stage_id, 2"
    )
    values = [*rank_values, *rank_values, *params, lo, hi]
    position = {s.pk: i for i, s in enumerate(open_stages)}
    further: dict[int, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")  # ≈130 ms of compiling for a short query
        cursor.execute(query, values)
        for from_stage_id, deal_id, seconds, count in cursor.fetchall():
            if from_stage_id in position:
                stays.seconds[position[from_stage_id]] += int(seconds or 0)
                stays.count[position[from_stage_id]] += int(count or 0)
            if deal_id is not None:
                rank = rank_of.get(from_stage_id, 0)
                further[deal_id] = max(further.get(deal_id, 0), rank)

    # 3. move the exceptions from their base group to their furthest stage's
    ids = list(further)
    for chunk in range(0, len(ids), 500):  # SQLite's limit of parameters
        for r in (
            Deal.objects.filter(pk__in=ids[chunk : chunk + 500])
            .annotate(abc=F("client__metrics__abc_class"))
            .values("id", "state", "stage_id", "lost_at_stage_id", "refusal_id", "abc", "amount")
        ):
            old = base_rank(r["state"], r["stage_id"], r["lost_at_stage_id"])
            if further[r["id"]] <= old:
                continue
            keys = (r["state"], r["lost_at_stage_id"], r["refusal_id"], r["abc"])
            amount = Decimal(r["amount"] or 0)
            source, target = group(old, *keys), group(further[r["id"]], *keys)
            source.deals -= 1
            source.amount -= amount
            target.deals += 1
            target.amount += amount
    return [g for g in groups.values() if g.deals], stays


def _funnel(
    filters: FunnelFilters, open_stages: list[Stage], groups: list[Group], ended: Stays
) -> Funnel:
    result = Funnel(params=filters.list_params())
    reached_at_least: dict[int, int] = defaultdict(int)
    seconds, stays = ended.seconds, ended.count
    for g in groups:
        result.cohort += g.deals
        if g.state == StageKind.WON:
            result.won += g.deals
        elif g.state == StageKind.LOST:
            result.lost += g.deals
        else:
            result.open += g.deals
        for rank in range(1, g.furthest + 1):
            reached_at_least[rank] += g.deals
    result.win_rate = ratio(result.won, result.won + result.lost)
    result.won_of_cohort = ratio(result.won, result.cohort)
    previous = None
    for i, stage in enumerate(open_stages):
        reached = reached_at_least[i + 1]
        result.stages.append(
            StageRow(
                stage=stage,
                reached=reached,
                conversion=ratio(reached, previous) if previous is not None else None,
                of_cohort=ratio(reached, result.cohort),
                stays=stays[i],
                avg_days=days(seconds[i] / stays[i]) if stays[i] else None,
                params={**result.params, "reached_stage": str(stage.pk)},
            )
        )
        previous = reached
    if previous is not None:
        result.won_conversion = ratio(result.won, previous)
    return result


def analyze(user, filters: FunnelFilters) -> tuple[Funnel, Refusals]:
    """The funnel and the refusals of the cohort: 3 queries (stages, refusal categories, one
    grouped read of the cohort with its log)."""
    open_stages, won_stage, _lost = funnel_stages(filters.pipeline)
    groups, stays = _groups(cohort(user, filters), open_stages, won_stage)
    return _funnel(filters, open_stages, groups, stays), _refusals(filters, open_stages, groups)


def totals(user, filters: FunnelFilters) -> Funnel:
    """The cohort's size, won, lost and open deals, win rate and won share, without the
    stages (one query of the deals, no log read): the figures of a period the dashboard
    compares with, and of a beacon's reading."""
    open_stages, won_stage, _lost = funnel_stages(filters.pipeline)
    groups, stays = _groups(cohort(user, filters), open_stages, won_stage, log=False)
    result = _funnel(filters, open_stages, groups, stays)
    result.stages = []
    result.won_conversion = None
    return result


def funnel(user, filters: FunnelFilters) -> Funnel:
    """Conversion, win rate and time in stage of the cohort."""
    return analyze(user, filters)[0]


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
    """The cohort's lost deals by stage × category and by ABC class × category."""
    return analyze(user, filters)[1]


def _refusals(filters: FunnelFilters, stages: list[Stage], groups: list[Group]) -> Refusals:
    base = {**filters.list_params(), "state": StageKind.LOST.value}
    categories = list(RefusalCategory.objects.order_by("order", "id"))
    by_stage_sum: dict[tuple[str, int], list] = {}
    by_abc_sum: dict[tuple[str, int], list] = {}
    for g in groups:
        if g.state != StageKind.LOST:
            continue
        for table, key in ((by_stage_sum, str(g.lost_at_stage_id)), (by_abc_sum, g.abc or NONE)):
            entry = table.setdefault((key, g.refusal_id), [key, g.refusal_id, 0, Decimal("0")])
            entry[2] += g.deals
            entry[3] += g.amount
    by_stage = [tuple(v) for v in by_stage_sum.values()]
    known = {str(s.pk) for s in stages}
    extra = {key for key, *_rest in by_stage} - known  # lost at a stage no longer open
    stage_rows = [(str(s.pk), s.name) for s in stages]
    if extra:
        names = {str(s.pk): s.name for s in Stage.objects.filter(pk__in=[int(k) for k in extra])}
        stage_rows += [(k, names.get(k, k)) for k in sorted(extra)]
    abc_rows = [(k, k if k != NONE else "—") for k in ABC_CLASSES]
    return Refusals(
        by_stage=_table(stage_rows, categories, by_stage, base, "lost_at_stage"),
        by_abc=_table(abc_rows, categories, [tuple(v) for v in by_abc_sum.values()], base, "abc"),
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

    def window(self) -> ForecastRow:
        """The months of the window together (this month and the next ``months`` − 1; not
        "overdue", "later" or "no date"), with the deal list's parameters of their deals."""
        months = [r for r in self.rows if r.month is not None]
        row = ForecastRow(key="window", month=None)
        for r in months:
            row.deals += r.deals
            row.amount += r.amount
            row.weighted += r.weighted
        if months:
            last = add_months(months[-1].month, 1) - timedelta(days=1)
            row.params = {
                **(self.total.params or {}),
                "close_from": months[0].month.isoformat(),
                "close_to": last.isoformat(),
            }
        return row


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


# --- cache ---------------------------------------------------------------------------------------
# The grouped read takes hundreds of ms on a year of a large base (docs/benchmarks.md, "Sales
# funnel"), so the page and the API keep the figures in the cache per scope, filters and day.
# Any write of a deal, its log, lines, stages or refusal categories bumps VERSION after its
# commit (crm.cache.DataVersion: every cached figure is stale at once); CACHE_SECONDS bounds the
# staleness of what no deal write announces (the clients' ABC classes after a segmentation run).
VERSION = DataVersion("sales:funnel:version")
CACHE_SECONDS = 300


@dataclass
class Report:
    funnel: Funnel
    refusals: Refusals
    forecast: Forecast


def report(user, filters: FunnelFilters, *, today: date) -> Report:
    data, refused = analyze(user, filters)
    return Report(data, refused, forecast(user, filters, today=today))


def cached_report(user, filters: FunnelFilters, *, today: date) -> Report:
    scope = "all" if getattr(user, "sees_everything", False) else f"u{user.pk}"
    key = ":".join(
        str(part)
        for part in (
            "sales:funnel",
            VERSION.current(),
            scope,
            filters.pipeline.pk,
            filters.period.start.isoformat(),
            filters.period.end.isoformat(),
            filters.owner_id or "",
            filters.product_line_id or "",
            filters.abc or "",
            filters.segment_id or "",
            today.isoformat(),
        )
    )
    result = cache.get(key)
    if result is None:
        result = report(user, filters, today=today)
        cache.set(key, result, CACHE_SECONDS)
    return result


def _changed(sender, **kwargs) -> None:
    transaction.on_commit(VERSION.bump)


def connect_signals() -> None:
    """From the app's ``ready()``: the writes that change the figures bump VERSION."""
    for model in (Deal, StageLog, DealLine, Stage, RefusalCategory, Pipeline):
        for signal in (post_save, post_delete):
            signal.connect(_changed, sender=model, dispatch_uid=f"funnel:{model.__name__}")
