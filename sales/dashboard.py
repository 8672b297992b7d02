"""Pipeline figures of the manager dashboard (``crm.dashboard``; docs/domain.md, "Manager
dashboard" and "Beacons"): the open deals card (as of now) and the beacon metric "deals ageing
past their stage's red threshold" (``sales.ageing.ageing_q("red")``: past ``red_ageing_pct``,
150 %, of the stage's expected days). Both link to the deal list with the same filters."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.access import scope_for_user
from crm.dashboard import Card, Figure, Group, KpiContext, Metric
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


def deals_ageing_red(ctx: KpiContext) -> Figure:
    n = _deals(ctx).filter(ageing_q(RED, today=ctx.today)).count()
    return Figure(n, url=deals_url(ctx, ageing=RED))


CARDS = [
    Card("open_deals", _("Open deals"), GROUP.key, open_deals, order=10, compare=False),
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

    dashboard.register_group(GROUP)
    for card in CARDS:
        dashboard.register_card(card)
    for metric in METRICS:
        dashboard.register_metric(metric)
