"""Client-base cards of the manager dashboard (``crm.dashboard``; docs/domain.md, "Manager
dashboard"): revenue of the period (the settlements' sum) with its monthly trend, clients
overdue for contact by ABC class and clients with an overdue promise (as of now); the clients,
revenue, overdue-contacts and overdue-promises columns of the per-manager table; the target
segment filter; My day on an account manager's home."""

from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import extensions, selectors, settlement_months, versions
from clients.models import Client, TargetSegment
from crm.access import scope_for_user
from crm.dashboard import (
    Card,
    Column,
    Figure,
    Filter,
    Group,
    HomePanel,
    KpiContext,
    Metric,
    Point,
)
from crm.periods import Period, add_months, month_start

GROUP = Group("clients", _("Revenue and contacts"), order=40)


def _clients(ctx: KpiContext):
    qs = scope_for_user(Client.objects.all(), ctx.user)
    if ctx.account_manager is not None:
        qs = qs.filter(account_manager_id=ctx.account_manager)
    if ctx.filters.get("segment"):
        qs = qs.filter(target_segment_id=ctx.filters["segment"])
    return qs


def clients_url(ctx: KpiContext, **extra) -> str:
    params = ctx.list_params(am="am", segment="segment") | extra
    return f"{reverse('clients:list')}?{urlencode(params)}"


def settlements_url(ctx: KpiContext, period: Period | None = None, **extra) -> str:
    period = period or ctx.period
    params = {"date__gte": period.start, "date__lte": period.last_day}
    params |= ctx.list_params(segment="segment") | extra
    return f"{reverse('clients:settlements')}?{urlencode(params)}"


def trend_period(period: Period) -> Period:
    end = add_months(month_start(period.last_day), 1)
    return Period(add_months(end, -12), end)


def _revenue(ctx: KpiContext, period: Period, by: str | None = None) -> dict:
    """The settlements of ``period`` (count, sum) in the board's scope and filters: whole
    months summed by the database's triggers, the days around them read
    (``clients.settlement_months``)."""
    return settlement_months.sums(
        ctx.user,
        period,
        by=by,
        account_manager=ctx.account_manager,
        segment=ctx.filters.get("segment") or None,
    )


def _revenue_rows(ctx: KpiContext) -> dict:
    """The period's settlements per account manager: one read shared by a manager's revenue
    card (their sum) and the per-manager column."""
    return ctx.once(
        "clients:revenue_by_manager", lambda: _revenue(ctx, ctx.period, "account_manager")
    )


def revenue(ctx: KpiContext) -> Figure:
    if ctx.series and getattr(ctx.user, "sees_everything", False):
        # the manager's board: the per-manager column reads the same rows
        rows = _revenue_rows(ctx).values()
    else:
        rows = _revenue(ctx, ctx.period).values()
    n = sum(r[0] for r in rows)
    total = sum((r[1] for r in rows), Decimal(0))
    if not ctx.series:  # the previous period's figure: its value only
        return Figure(total, url=settlements_url(ctx), kind="money", count=n)
    trend = trend_period(ctx.period)
    months = {m: r[1] for m, r in _revenue(ctx, trend, "month").items()}
    series = []
    start = trend.start
    while start < trend.end:
        end = add_months(start, 1)
        series.append(
            Point(
                label=start,
                value=months.get(start) or 0,
                url=settlements_url(ctx, Period(start, end)),
            )
        )
        start = end
    return Figure(
        total,
        url=settlements_url(ctx),
        kind="money",
        count=n,
        series=tuple(series),
    )


def _overdue_groups(ctx: KpiContext) -> dict[tuple[int | None, str | None], int]:
    """Clients overdue for contact per (account manager, ABC class): one grouped read shared
    by the card (by class) and the per-manager column."""
    return ctx.once(
        "clients:contact_overdue",
        lambda: {
            (am, abc): n
            for am, abc, n in selectors.overdue_for_contact(_clients(ctx))
            .order_by()
            .values_list("account_manager_id", "metrics__abc_class")
            .annotate(n=Count("*"))
        },
    )


def _summed_by(groups: dict, index: int) -> dict:
    out: dict = {}
    for key, n in groups.items():
        out[key[index]] = out.get(key[index], 0) + n
    return out


def contact_overdue(ctx: KpiContext) -> Figure:
    by_class = _summed_by(_overdue_groups(ctx), 1)
    series = tuple(
        Point(
            label=abc or "—",
            value=by_class.get(abc, 0),
            url=clients_url(ctx, contact_overdue="true", abc=abc or "none"),
        )
        for abc in ("A", "B", "C", None)
    )
    return Figure(
        sum(by_class.values()), url=clients_url(ctx, contact_overdue="true"), series=series
    )


def _promise_groups(ctx: KpiContext) -> dict[int | None, int]:
    """Clients with an overdue promise per account manager: one grouped read shared by the
    card (their sum) and the per-manager column."""
    return ctx.once(
        "clients:promise_overdue",
        lambda: dict(
            _clients(ctx)
            .filter(pk__in=selectors.overdue_promise_clients(ctx.today))
            .order_by()
            .values_list("account_manager_id")
            .annotate(n=Count("*"))
        ),
    )


def promise_overdue(ctx: KpiContext) -> Figure:
    n = sum(_promise_groups(ctx).values())
    return Figure(n, url=clients_url(ctx, promise_overdue="true"))


def contact_overdue_class(ctx: KpiContext) -> Figure:
    """Beacon metric: clients overdue for contact, of the rule's ABC class (``ctx.filters
    ["abc"]``) or of every class."""
    clients = _clients(ctx)
    extra = {"contact_overdue": "true"}
    if ctx.filters.get("abc"):
        clients = clients.filter(metrics__abc_class=ctx.filters["abc"])
        extra["abc"] = ctx.filters["abc"]
    n = selectors.overdue_for_contact(clients).count()
    return Figure(n, url=clients_url(ctx, **extra))


# --- the per-manager table ---------------------------------------------------------------------
def _by_manager(queryset, key: str, value) -> dict:
    return {
        row[key]: row["v"]
        for row in queryset.order_by().values(key).annotate(v=value)
        if row[key] is not None
    }


def clients_by_manager(ctx: KpiContext) -> dict:
    # COUNT(*): an index-only scan of the account manager's index, no read of the clients
    counts = _by_manager(_clients(ctx), "account_manager_id", Count("*"))
    result = {am: Figure(n, url=clients_url(ctx, am=am)) for am, n in counts.items()}
    result[None] = Figure(sum(counts.values()), url=clients_url(ctx))
    return result


def revenue_by_manager(ctx: KpiContext) -> dict:
    rows = _revenue_rows(ctx)
    result = {
        am: Figure(n, url=settlements_url(ctx, account_manager=am), kind="money", count=count)
        for am, (count, n) in rows.items()
        if am is not None
    }
    result[None] = Figure(
        sum((r[1] for r in rows.values()), Decimal(0)),
        url=settlements_url(ctx),
        kind="money",
        count=sum(r[0] for r in rows.values()),
    )
    return result


def contact_overdue_by_manager(ctx: KpiContext) -> dict:
    counts = {am: n for am, n in _summed_by(_overdue_groups(ctx), 0).items() if am is not None}
    result = {
        am: Figure(n, url=clients_url(ctx, am=am, contact_overdue="true"))
        for am, n in counts.items()
    }
    result[None] = Figure(sum(counts.values()), url=clients_url(ctx, contact_overdue="true"))
    return result


def promise_overdue_by_manager(ctx: KpiContext) -> dict:
    counts = {am: n for am, n in _promise_groups(ctx).items() if am is not None}
    result = {
        am: Figure(n, url=clients_url(ctx, am=am, promise_overdue="true"))
        for am, n in counts.items()
    }
    result[None] = Figure(sum(counts.values()), url=clients_url(ctx, promise_overdue="true"))
    return result


# --- the filter and the account manager's home -------------------------------------------------
def segment_choices() -> list[tuple[int, str]]:
    return list(TargetSegment.objects.order_by("name").values_list("id", "name"))


HOME_ROWS = 10  # rows of each My day list on the home; the whole lists are on My day's page


def my_day_panel(request, today: date) -> HomePanel | None:
    """An account manager's home starts with their day: each list's first rows and its total,
    with a link to the whole of My day."""
    if getattr(request.user, "sees_everything", False):
        return None
    day = selectors.my_day(request.user, today=today or timezone.localdate(), limit=HOME_ROWS)
    return HomePanel("clients/_my_day.html", {"day": day}, order=10)


def settlements_created(ids: list[int]) -> None:
    """New settlements (the form, the API, the import) change the revenue figures."""
    versions.VERSION.bump()


CARDS = [
    Card("revenue", _("Revenue"), GROUP.key, revenue, order=10, chart="bar"),
    Card(
        "contact_overdue",
        _("Clients overdue for contact"),
        GROUP.key,
        contact_overdue,
        order=20,
        compare=False,
        chart="bar",
        higher_is_better=False,
        hint=_("now, by ABC class"),
    ),
    Card(
        "promise_overdue",
        _("Clients with an overdue promise"),
        GROUP.key,
        promise_overdue,
        order=30,
        compare=False,
        higher_is_better=False,
        hint=_("now"),
    ),
]
COLUMNS = [
    Column("clients", _("Clients"), clients_by_manager, order=10),
    Column("revenue", _("Revenue"), revenue_by_manager, order=20),
    Column("contact_overdue", _("Overdue contacts"), contact_overdue_by_manager, order=40),
    Column("promise_overdue", _("Overdue promises"), promise_overdue_by_manager, order=60),
]
METRICS = [
    Metric(
        "contact_overdue_class",
        _("Clients of a class overdue for contact (now)"),
        contact_overdue_class,
        period=False,
        scopes=("company", "account_manager", "class", "segment"),
    ),
]
FILTER = Filter("segment", _("Target segment"), segment_choices)


def register() -> None:
    from crm import dashboard

    dashboard.register_data_version(versions.VERSION)
    extensions.register_on_settlements_created(settlements_created)
    dashboard.register_filter(FILTER)
    dashboard.register_home_panel(my_day_panel)
    dashboard.register_app(GROUP, cards=CARDS, columns=COLUMNS, metrics=METRICS)
