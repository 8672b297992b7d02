"""Pipeline figures of the manager dashboard (``crm.dashboard``; docs/domain.md, "Manager
dashboard" and "Beacons"): the open deals card (as of now), the deals won in the period (sum,
count) with their per-manager columns, and the beacon metric "deals ageing
past their stage's red threshold" (``sales.ageing.ageing_q("red")``: past ``red_ageing_pct``,
150 %, of the stage's expected days). Both link to the deal list with the same filters."""

from datetime import datetime, time
from urllib.parse import urlencode

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import scope_for_user
from crm.dashboard import Card, Column, Figure, Group, KpiContext, Metric
from sales.ageing import RED, ageing_q
from sales.models import Deal, StageKind

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
    params = ctx.list_params(am="owner") | extra
    if ctx.filters.get("abc"):
        params["abc"] = ctx.filters["abc"]
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
    totals = _won(ctx).order_by().aggregate(n=Count("id"), total=Sum("amount"))
    return Figure(
        totals["total"] or 0,
        url=deals_url(ctx, **_won_params(ctx)),
        kind="money",
        count=totals["n"],
        hint=str(totals["n"]),
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


CARDS = [
    Card("open_deals", _("Open deals"), GROUP.key, open_deals, order=10, compare=False),
    Card("won_deals", _("Deals won"), GROUP.key, won_deals, order=20),
]
COLUMNS = [
    Column("deals_won", _("Deals won"), won_count_by_manager, order=70),
    Column("deals_won_sum", _("Deals won, sum"), won_sum_by_manager, order=80),
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
    from sales import funnel

    # any deal write bumps it after its commit: the cached boards' pipeline figures go stale
    dashboard.register_data_version(funnel.VERSION)
    dashboard.register_app(GROUP, cards=CARDS, columns=COLUMNS, metrics=METRICS)
