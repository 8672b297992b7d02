"""Pipeline figures of the manager dashboard (``crm.dashboard``; docs/domain.md, "Manager
dashboard" and "Beacons"): the open deals card (as of now), the deals won in the period (sum,
count) with their per-manager columns, and the beacon metric "deals ageing
past their stage's red threshold" (``sales.ageing.ageing_q("red")``: past ``red_ageing_pct``,
150 %, of the stage's expected days). Both link to the deal list with the same filters.

The funnel cards are the funnel page's own figures (``sales.funnel.cached_report``, shared
with ``/sales/funnel/`` through the cache) for the page's default pipeline (the first active
one), the dashboard's account manager as the deals' owner, its segment and class:

- **Funnel**: conversion created → won of the deals *created* in the period (won ÷ created,
  %); the count behind it is the cohort (the deal list with ``created_from``/``created_to``),
  the bar chart the deals that reached each open stage and "won", each bar its own list;
- **Win rate**: won ÷ (won + lost) of the same cohort, compared with the previous period like
  every period card; its list is the cohort's won deals;
- **Forecast**: a state *now* (no previous period): amount × probability of the open deals
  whose expected close falls in the funnel page's forecast months — this month and the next
  eleven (``funnel.FORECAST_MONTHS``; not the overdue, later or undated ones); its list is
  those open deals (``close_from``/``close_to``).

The per-manager columns are the period report's (``sales.reports``: potential clients, first,
repeat and new-product-line sales with their sums, lost and restored clients, conversion) for
the dashboard's period, computed once per dashboard (``ctx.once``) with the report's cache;
each cell opens the report's per-client detail of that figure and account manager. The report
knows no target segment or class: with either filter chosen its cells show "—".
"""

from datetime import datetime, time
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.access import scope_for_user
from crm.dashboard import Card, Column, Figure, Group, KpiContext, Metric, Point
from crm.models import User
from sales import funnel, reports
from sales.ageing import RED, ageing_q
from sales.models import Deal, Stage, StageKind

GROUP = Group("sales", _("Pipeline"), order=30)


def _deals(ctx: KpiContext):
    qs = scope_for_user(Deal.objects.all(), ctx.user)
    if ctx.account_manager is not None:  # the deal list's "owner": who works the deal
        qs = qs.filter(owner_id=ctx.account_manager)
    if ctx.filters.get("segment"):
        qs = qs.filter(client__target_segment_id=ctx.filters["segment"])
    if ctx.filters.get("abc"):
        qs = qs.filter(client__metrics__abc_class=ctx.filters["abc"])
    return qs


def deals_url(ctx: KpiContext, **extra) -> str:
    params = ctx.list_params(am="owner", segment="segment") | extra
    if ctx.filters.get("abc"):
        params["abc"] = ctx.filters["abc"]
    return f"{reverse('sales:deals')}?{urlencode(params)}"


def _list(params: dict) -> str:
    return f"{reverse('sales:deals')}?{urlencode(params)}"


def open_deals(ctx: KpiContext) -> Figure:
    n = _deals(ctx).filter(state=StageKind.OPEN).count()
    return Figure(n, url=deals_url(ctx, state=StageKind.OPEN))


def _won(ctx: KpiContext):
    tz = timezone.get_current_timezone()
    start, end = (
        datetime.combine(d, time.min, tzinfo=tz) for d in (ctx.period.start, ctx.period.end)
    )
    return _deals(ctx).filter(state=StageKind.WON, closed_at__gte=start, closed_at__lt=end)


def _won_params(ctx: KpiContext) -> dict:
    return {"state": StageKind.WON, "closed_from": ctx.period.start, "closed_to": ctx.last_day}


def won_deals(ctx: KpiContext) -> Figure:
    """Deals won in the period (closed won, by ``closed_at``): their sum; the count beside."""
    if ctx.series and getattr(ctx.user, "sees_everything", False):
        # the manager's board: the per-manager columns read the same rows
        rows = _won_by_owner(ctx).values()
        n, total = sum(r["n"] for r in rows), sum((r["s"] or 0 for r in rows), 0)
    else:
        totals = _won(ctx).order_by().aggregate(n=Count("id"), total=Sum("amount"))
        n, total = totals["n"], totals["total"] or 0
    return Figure(
        total,
        url=deals_url(ctx, **_won_params(ctx)),
        kind="money",
        count=n,
        hint=str(n),
    )


def _won_by_owner(ctx: KpiContext) -> dict:
    return ctx.once(
        "sales:won_by_owner",
        lambda: {
            r["owner_id"]: r
            for r in _won(ctx)
            .order_by()
            .values("owner_id")
            .annotate(n=Count("id"), s=Sum("amount"))
        },
    )


def won_count_by_manager(ctx: KpiContext) -> dict:
    rows = _won_by_owner(ctx)
    result = {
        am: Figure(r["n"], url=deals_url(ctx, owner=am, **_won_params(ctx)))
        for am, r in rows.items()
    }
    result[None] = Figure(
        sum(r["n"] for r in rows.values()), url=deals_url(ctx, **_won_params(ctx))
    )
    return result


def won_sum_by_manager(ctx: KpiContext) -> dict:
    rows = _won_by_owner(ctx)
    result = {
        am: Figure(
            r["s"] or 0,
            url=deals_url(ctx, owner=am, **_won_params(ctx)),
            kind="money",
            count=r["n"],
        )
        for am, r in rows.items()
    }
    result[None] = Figure(
        sum((r["s"] or 0 for r in rows.values()), 0),
        url=deals_url(ctx, **_won_params(ctx)),
        kind="money",
        count=sum(r["n"] for r in rows.values()),
    )
    return result


def deals_ageing_red(ctx: KpiContext) -> Figure:
    n = _deals(ctx).filter(ageing_q(RED, today=ctx.today)).count()
    return Figure(n, url=deals_url(ctx, ageing=RED))


# --- the funnel, win rate and forecast: the funnel page's figures --------------------------------
_stage_name = lazy(Stage.text, str)


def funnel_filters(ctx: KpiContext) -> funnel.FunnelFilters | None:
    """The funnel page's filters for the dashboard's: its default pipeline, the period, the
    account manager as owner, the segment and class (None: no pipeline exists)."""
    pipeline = ctx.once("sales:pipeline", funnel.default_pipeline)
    if pipeline is None:
        return None
    return funnel.FunnelFilters(
        period=ctx.period,
        pipeline=pipeline,
        owner_id=ctx.account_manager,
        abc=ctx.filters.get("abc") or None,
        segment_id=ctx.filters.get("segment") or None,
    )


def _compute_funnel_report(ctx: KpiContext) -> funnel.Report | None:
    filters = funnel_filters(ctx)
    if filters is None:
        return None
    return funnel.cached_report(ctx.user, filters, today=ctx.today)


def _funnel_report(ctx: KpiContext) -> funnel.Report | None:
    return ctx.once("sales:funnel", lambda: _compute_funnel_report(ctx))


def _funnel_data(ctx: KpiContext) -> funnel.Funnel | None:
    """The period's funnel: the funnel page's own (cached) report; for the period compared
    with and a beacon's reading, which show no stages, the cohort's states only
    (``funnel.totals``: no read of the stage log)."""
    if ctx.series:
        report = _funnel_report(ctx)
        return report.funnel if report is not None else None

    def compute():
        filters = funnel_filters(ctx)
        return funnel.totals(ctx.user, filters) if filters is not None else None

    return ctx.once("sales:funnel_totals", compute)


def funnel_card(ctx: KpiContext) -> Figure:
    """Won ÷ created of the period's cohort (%); the cohort behind it; the stages reached."""
    data = _funnel_data(ctx)
    if data is None:
        return Figure(None, kind="percent")
    # lazy labels: the cached board is shown in each viewer's language
    series = tuple(
        Point(_stage_name(row.stage, "name"), row.reached, _list(row.params)) for row in data.stages
    )
    won = Point(pgettext_lazy("funnel", "Won"), data.won, _list(data.state_params("won")))
    return Figure(
        data.won_of_cohort,
        url=_list(data.params),
        kind="percent",
        count=data.cohort,
        hint=f"{data.won}/{data.cohort}",
        series=(*series, won),
    )


def win_rate_card(ctx: KpiContext) -> Figure:
    """Won ÷ (won + lost) of the period's cohort (%); the cohort's won deals behind it."""
    data = _funnel_data(ctx)
    if data is None:
        return Figure(None, kind="percent")
    return Figure(
        data.win_rate,
        url=_list(data.state_params(StageKind.WON)),
        kind="percent",
        count=data.won,
        hint=f"{data.won}/{data.won + data.lost}",
    )


def forecast_card(ctx: KpiContext) -> Figure:
    """Σ amount × probability of the open deals expected to close in the forecast's months."""
    report = _funnel_report(ctx)
    if report is None:
        return Figure(None, kind="money")
    window = report.forecast.window()
    return Figure(
        window.weighted,
        url=_list(window.params or {}),
        kind="money",
        count=window.deals,
        hint=str(window.deals),
    )


# --- the period report's columns ------------------------------------------------------------------
def _compute_report(ctx: KpiContext) -> tuple[dict, reports.ReportRow] | None:
    if ctx.filters.get("segment") or ctx.filters.get("abc"):
        return None
    chosen = None
    if ctx.account_manager is not None:
        chosen = User.objects.filter(pk=ctx.account_manager).first()
    facts = reports.cached_facts(ctx.user, ctx.period, account_manager=chosen)
    rows, total = reports.report_rows(ctx.user, facts)
    return {row.manager_id: row for row in rows}, total


def _report(ctx: KpiContext) -> tuple[dict, reports.ReportRow] | None:
    """The period report's rows (account manager id → row) and totals for the dashboard's
    period, once per dashboard; None when a filter the report does not know is chosen."""
    return ctx.once("sales:report", lambda: _compute_report(ctx))


def report_ahead(ctx: KpiContext, start) -> None:
    """A manager's board starts the period report first, on a second connection: a cold
    report of a year costs as much as all the cards together (docs/decisions/dashboard.md;
    starting the funnel too, on a third, was slower on two cores)."""
    start("sales:report", lambda: _compute_report(ctx))


def report_url(ctx: KpiContext, metric: str, row: int | None) -> str:
    """The report's per-client detail of ``metric`` for one account manager (None: all)."""
    params = {
        "metric": metric,
        "row": "" if row is None else str(row),
        "period": reports.CUSTOM,
        "start": ctx.period.start.isoformat(),
        "end": ctx.last_day.isoformat(),
    }
    if ctx.account_manager is not None:
        params["am"] = ctx.account_manager
    return f"{reverse('sales:report_clients')}?{urlencode(params)}"


COUNT, SUM, CONVERSION = "count", "sum", "conversion"


def _report_figure(ctx: KpiContext, row: reports.ReportRow, am, metric: str, show: str) -> Figure:
    """One cell: the clients of ``metric`` (``show`` "count"), their sum ("sum") or the
    conversion in % ("conversion", ``metric`` the converted clients); the detail lists them."""
    url, count = report_url(ctx, metric, am), row.counts[metric]
    if show == SUM:
        return Figure(row.sums[metric], url=url, kind="money", count=count)
    if show == CONVERSION:
        rate = row.conversion
        value = None if rate is None else (rate * 100).quantize(Decimal("0.1"))
        return Figure(value, url=url, kind="percent", count=count)
    return Figure(count, url=url)


def _report_column(metric: str, show: str = COUNT):
    """A column of the period report: each account manager's row and the totals (the clients
    without an account manager count in the totals only)."""

    def compute(ctx: KpiContext) -> dict:
        found = _report(ctx)
        if found is None:
            return {}
        rows, total = found
        return {
            am: _report_figure(ctx, row, am, metric, show)
            for am, row in [*rows.items(), (None, total)]
            if am != reports.NO_MANAGER
        }

    compute.__name__ = f"report_{metric}_{show}_by_manager"
    return compute


CARDS = [
    Card("open_deals", _("Open deals"), GROUP.key, open_deals, order=10, compare=False),
    Card("won_deals", _("Deals won"), GROUP.key, won_deals, order=20),
    Card("funnel", _("Funnel: won of created"), GROUP.key, funnel_card, order=30, chart="bar"),
    Card("win_rate", _("Win rate (of closed)"), GROUP.key, win_rate_card, order=40),
    Card(
        "forecast",
        _("Forecast for 12 months (weighted)"),
        GROUP.key,
        forecast_card,
        order=50,
        compare=False,
    ),
]
COLUMNS = [
    Column("deals_won", _("Deals won"), won_count_by_manager, order=70),
    Column("deals_won_sum", _("Deals won, sum"), won_sum_by_manager, order=80),
]
# the period report's columns: key, figure, what the cell shows, label (after the deals won)
REPORT_COLUMNS = [
    ("report_potential", reports.POTENTIAL, COUNT, reports.LABELS[reports.POTENTIAL]),
    ("report_first", reports.FIRST, COUNT, reports.LABELS[reports.FIRST]),
    ("report_first_sum", reports.FIRST, SUM, _("First sales, sum")),
    ("report_repeat", reports.REPEAT, COUNT, reports.LABELS[reports.REPEAT]),
    ("report_repeat_sum", reports.REPEAT, SUM, _("Repeat sales, sum")),
    ("report_new_line", reports.NEW_LINE, COUNT, reports.LABELS[reports.NEW_LINE]),
    ("report_new_line_sum", reports.NEW_LINE, SUM, _("Sales in new product lines, sum")),
    ("report_lost", reports.LOST, COUNT, reports.LABELS[reports.LOST]),
    ("report_restored", reports.RESTORED, COUNT, reports.LABELS[reports.RESTORED]),
    ("report_conversion", reports.CONVERTED, CONVERSION, _("Conversion")),
]
COLUMNS += [
    Column(key, label, _report_column(metric, show), order=90 + i, zero=show != CONVERSION)
    for i, (key, metric, show, label) in enumerate(REPORT_COLUMNS)
]
METRICS = [
    Metric(
        "deals_ageing_red",
        _("Deals past 1.5× their stage's expected days (now)"),
        deals_ageing_red,
        period=False,
        scopes=("company", "account_manager", "class"),
    )
]


def register() -> None:
    from crm import dashboard

    # any deal write bumps it after its commit: the cached boards' pipeline figures go stale
    dashboard.register_data_version(funnel.VERSION)
    dashboard.register_ahead(report_ahead)
    dashboard.register_app(GROUP, cards=CARDS, columns=COLUMNS, metrics=METRICS)
