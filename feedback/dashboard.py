"""Complaint cards of the manager dashboard (``crm.dashboard``; docs/domain.md, "Manager
dashboard"): open and overdue complaints (as of now), and of the period the complaints
registered, SLA compliance, their cost (goodwill gifts) and the iceberg estimate — the figures
of ``feedback.analytics`` (one grouped aggregate for all four); the open-complaints column of
the per-manager table. Every figure links to the complaint list with the same filters."""

from datetime import datetime, time
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.dashboard import Card, Column, Figure, Group, KpiContext
from feedback import analytics
from feedback.models import Complaint
from feedback.selectors import complaints_for, overdue_q

GROUP = Group("complaints", _("Complaints"), order=20)


def _complaints(ctx: KpiContext):
    qs = complaints_for(ctx.user)
    if ctx.account_manager is not None:
        qs = qs.filter(client__account_manager_id=ctx.account_manager)
    if ctx.filters.get("segment"):
        qs = qs.filter(client__target_segment_id=ctx.filters["segment"])
    return qs


def complaints_url(ctx: KpiContext, *, period: bool = False, **extra) -> str:
    params = ctx.list_params(segment="segment")
    if period:
        params |= {"registered_from": ctx.period.start, "registered_to": ctx.last_day}
    params |= extra
    return f"{reverse('feedback:complaints')}?{urlencode(params)}"


def _summary(ctx: KpiContext) -> analytics.Summary:
    def run():
        tz = timezone.get_current_timezone()
        start, end = (
            datetime.combine(d, time.min, tzinfo=tz) for d in (ctx.period.start, ctx.period.end)
        )
        qs = _complaints(ctx).filter(registered_at__gte=start, registered_at__lt=end)
        return analytics.complaint_summary(qs, grouped=False)  # the totals only

    return ctx.once("feedback:summary", run)


def open_complaints(ctx: KpiContext) -> Figure:
    # the card's count is the per-manager column's totals row too: counted once
    n = ctx.once(
        "feedback:open",
        lambda: _complaints(ctx).filter(status__in=Complaint.OPEN_STATUSES).count(),
    )
    return Figure(n, url=complaints_url(ctx, open="true"))


def overdue_complaints(ctx: KpiContext) -> Figure:
    n = _complaints(ctx).filter(overdue_q(timezone.now())).count()
    return Figure(n, url=complaints_url(ctx, overdue="true"))


def registered(ctx: KpiContext) -> Figure:
    return Figure(_summary(ctx).total, url=complaints_url(ctx, period=True))


def sla_compliance(ctx: KpiContext) -> Figure:
    s = _summary(ctx)
    return Figure(
        s.sla_compliance, url=complaints_url(ctx, period=True), kind="percent", count=s.total
    )


def cost(ctx: KpiContext) -> Figure:
    s = _summary(ctx)
    url = complaints_url(ctx, period=True, with_cost="true")
    return Figure(s.cost, url=url, kind="money", count=None)


def iceberg(ctx: KpiContext) -> Figure:
    s = _summary(ctx)
    return Figure(s.iceberg, url=complaints_url(ctx, period=True), count=s.total)


def open_by_manager(ctx: KpiContext) -> dict:
    rows = (
        _complaints(ctx)
        .filter(status__in=Complaint.OPEN_STATUSES)  # the open ones only, not every complaint
        .order_by()
        .values("client__account_manager_id")
        .annotate(n=Count("*"))
    )
    result = {
        r["client__account_manager_id"]: Figure(
            r["n"],
            url=complaints_url(ctx, open="true", account_manager=r["client__account_manager_id"]),
        )
        for r in rows
        if r["client__account_manager_id"] is not None
    }
    result[None] = open_complaints(ctx)
    return result


CARDS = [
    Card(
        "complaints_open",
        _("Open complaints"),
        GROUP.key,
        open_complaints,
        order=10,
        compare=False,
        higher_is_better=False,
        hint=_("now"),
    ),
    Card(
        "complaints_overdue",
        _("Overdue complaints"),
        GROUP.key,
        overdue_complaints,
        order=20,
        compare=False,
        higher_is_better=False,
        hint=_("now"),
    ),
    Card(
        "complaints",
        _("Complaints registered"),
        GROUP.key,
        registered,
        order=30,
        higher_is_better=False,
    ),
    Card("sla_compliance", _("SLA compliance"), GROUP.key, sla_compliance, order=40),
    Card(
        "complaints_cost",
        _("Complaints cost"),
        GROUP.key,
        cost,
        order=50,
        higher_is_better=False,
    ),
    Card(
        "iceberg",
        _("Unhappy clients (iceberg estimate)"),
        GROUP.key,
        iceberg,
        order=60,
        higher_is_better=False,
        hint=_("≈ complaints ÷ 0.10"),
    ),
]
COLUMNS = [Column("complaints_open", _("Open complaints"), open_by_manager, order=50)]


def register() -> None:
    from crm import dashboard

    dashboard.register_data_version(analytics.VERSION)
    dashboard.register_app(GROUP, cards=CARDS, columns=COLUMNS)
