"""Survey cards of the manager dashboard (``crm.dashboard``; docs/domain.md, "Manager
dashboard"): NPS with its target and monthly trend, CSAT %, the integral index, the response
rate, detractors without a complaint case, and the NPS column of the per-manager table. The
figures are those of ``surveys.analytics``: NPS, CSAT and the index (totals, trend, per
manager) summed from the monthly rollups for the period's whole months and from the raw answers
for the days around them (``analytics.summed``); the response rate and the detractors without
a case are one aggregate each. Every figure links to the answers list with the same period and
filters."""

from datetime import timedelta
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.dashboard import Card, Column, Figure, Group, KpiContext, Metric, Point
from crm.periods import Period, add_months, month_start
from surveys import analytics, metrics

GROUP = Group("surveys", _("Client satisfaction"), order=10)


def _answers(ctx: KpiContext):
    answers = analytics.answers_for(ctx.user)
    if ctx.account_manager is not None:
        answers = answers.filter(client__account_manager_id=ctx.account_manager)
    if ctx.filters.get("segment"):
        answers = answers.filter(client__target_segment_id=ctx.filters["segment"])
    return answers


def answers_url(ctx: KpiContext, period: Period | None = None, **extra) -> str:
    period = period or ctx.period
    params = {"date_from": period.start, "date_to": period.last_day}
    params |= ctx.list_params(segment="segment")
    params |= extra
    return f"{reverse('survey_analytics:answers')}?{urlencode(params)}"


def _summed(ctx: KpiContext, period: Period, by: str | None = None) -> dict:
    """The answers' figures of ``period`` in the card's scope and filters: the whole months
    from the monthly rollups, the days around them from the raw answers
    (``analytics.summed``)."""
    return analytics.summed(
        ctx.user,
        period,
        by=by,
        account_manager=ctx.account_manager,
        segment=ctx.filters.get("segment") or None,
    )


def _totals(ctx: KpiContext) -> analytics.Cell:
    return ctx.once(
        "surveys:totals",
        lambda: _summed(ctx, ctx.period).get(None) or analytics.Cell(key=None),
    )


def trend_period(period: Period) -> Period:
    """The 12 months ending with the period's last month."""
    end = add_months(month_start(period.last_day), 1)
    return Period(add_months(end, -12), end)


def nps(ctx: KpiContext) -> Figure:
    cell = _totals(ctx)
    if not ctx.series:  # the previous period's figure: its value only
        return Figure(cell.nps, url=answers_url(ctx), kind="decimal", digits=1, count=_shown(cell))
    trend = trend_period(ctx.period)
    months = _summed(ctx, trend, by="month")
    series = []
    start = trend.start
    while start < trend.end:
        end = add_months(start, 1)
        month = months.get(start)
        series.append(
            Point(
                label=start,
                value=month.nps if month else None,
                url=answers_url(ctx, Period(start, end)),
            )
        )
        start = end
    return Figure(
        cell.nps,
        url=answers_url(ctx),
        kind="decimal",
        digits=1,
        count=None if cell.hidden else cell.answers,
        series=tuple(series),
    )


def csat(ctx: KpiContext) -> Figure:
    cell = _totals(ctx)
    return Figure(cell.csat, url=answers_url(ctx), kind="percent", count=_shown(cell))


def index(ctx: KpiContext) -> Figure:
    cell = _totals(ctx)
    return Figure(cell.index, url=answers_url(ctx), kind="decimal", digits=2, count=_shown(cell))


def _shown(cell: analytics.Cell) -> int | None:
    return None if cell.hidden else cell.answers


def response_rate(ctx: KpiContext) -> Figure:
    rate = ctx.once("surveys:response_rate", lambda: _response_rate(ctx))
    # the answers list shows the answers submitted in the period, not the invitations sent in it
    return Figure(
        rate.rate, url=answers_url(ctx), kind="percent", hint=f"{rate.answered}/{rate.delivered}"
    )


def response_rate_ahead(ctx: KpiContext, start) -> None:
    """A manager's board counts the period's invitations on the second connection, after the
    period report (a year: about a million invitations read)."""
    start("surveys:response_rate", lambda: _response_rate(ctx))


def _response_rate(ctx: KpiContext) -> analytics.Rate:
    invitations = analytics.invitations_for(ctx.user)
    if ctx.account_manager is not None:
        invitations = invitations.filter(client__account_manager_id=ctx.account_manager)
    if ctx.filters.get("segment"):
        invitations = invitations.filter(client__target_segment_id=ctx.filters["segment"])
    start, end = analytics.bounds(ctx.period)
    rate, _per = analytics.response_rates(invitations.filter(sent_at__gte=start, sent_at__lt=end))
    return rate


def detractors_without_case(ctx: KpiContext) -> Figure:
    n = (
        analytics.in_period(_answers(ctx), ctx.period)
        .filter(nps__lte=metrics.DETRACTOR_MAX, complaint__isnull=True)
        .count()
    )
    return Figure(n, url=answers_url(ctx, band="detractor", has_complaint="false"))


DETRACTOR_GRACE_DAYS = 2  # "no case after 48 hours"
DETRACTOR_LOOKBACK_DAYS = 30


def detractors_overdue(ctx: KpiContext) -> Figure:
    """Beacon metric (now): detractors answered in the last 30 days, at least 48 hours ago —
    in whole days: submitted before the start of the day before yesterday —, without a
    complaint case; the list is the answers list with the same days."""
    period = Period(
        ctx.today - timedelta(days=DETRACTOR_LOOKBACK_DAYS),
        ctx.today - timedelta(days=DETRACTOR_GRACE_DAYS),
    )
    n = (
        analytics.in_period(_answers(ctx), period)
        .filter(nps__lte=metrics.DETRACTOR_MAX, complaint__isnull=True)
        .count()
    )
    return Figure(n, url=answers_url(ctx, period, band="detractor", has_complaint="false"))


def nps_by_manager(ctx: KpiContext) -> dict:
    cells = _summed(ctx, ctx.period, by="account_manager").values()
    result = {
        c.key: Figure(
            c.nps,
            url=answers_url(ctx, account_manager=c.key),
            kind="decimal",
            digits=1,
            count=_shown(c),
        )
        for c in cells
        if c.key != analytics.NONE
    }
    total = _totals(ctx)
    result[None] = Figure(
        total.nps, url=answers_url(ctx), kind="decimal", digits=1, count=_shown(total)
    )
    return result


CARDS = [
    Card(
        "nps",
        _("NPS"),
        GROUP.key,
        nps,
        order=10,
        target=analytics.TARGET_NPS,
        chart="line",
    ),
    Card("csat", _("CSAT"), GROUP.key, csat, order=20),
    Card("index", _("Integral index"), GROUP.key, index, order=30),
    Card("response_rate", _("Response rate"), GROUP.key, response_rate, order=40),
    Card(
        "detractors_without_case",
        _("Detractors without a case"),
        GROUP.key,
        detractors_without_case,
        order=50,
        higher_is_better=False,
    ),
]
METRICS = [
    Metric(
        "detractors_overdue",
        _("Detractors without a case after 48 hours (now)"),
        detractors_overdue,
        period=False,
    )
]
COLUMNS = [Column("nps", _("NPS of their clients"), nps_by_manager, order=30, zero=False)]


def register() -> None:
    from crm import dashboard

    dashboard.register_data_version(analytics.VERSION)
    dashboard.register_ahead(response_rate_ahead)
    dashboard.register_app(GROUP, cards=CARDS, columns=COLUMNS, metrics=METRICS)
