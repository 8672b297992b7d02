"""Segmentation cards of the manager dashboard (``crm.dashboard``; docs/domain.md, "Manager
dashboard"): the ABC×XYZ matrix and the clients per lifecycle status (as of the last run), the
lifecycle flows of the period (new, lost, restored: ``ClassChange`` history, the kinds of
``selectors.CHANGE_KINDS``) and the regular clients. Every figure links to the client list or
the class-changes list with the same filters."""

from urllib.parse import urlencode

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from crm.access import scope_for_user
from crm.dashboard import Card, Figure, Group, KpiContext, Point
from segmentation import selectors
from segmentation.models import Lifecycle
from segmentation.selectors import XYZ

GROUP = Group("segments", _("Client base"), order=30)


def _filtered(ctx: KpiContext) -> bool:
    return ctx.account_manager is not None or bool(ctx.filters.get("segment"))


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


def changes_url(ctx: KpiContext, kind: str) -> str:
    params = {"start": ctx.period.start, "end": ctx.last_day, "kind": kind}
    params |= ctx.list_params(segment="segment")
    return f"{reverse('segmentation:changes')}?{urlencode(params)}"


def matrix(ctx: KpiContext) -> Figure:
    """The matrix of the last run (a manager, no filter: its stored summary; an account
    manager: their own clients, ``selectors.matrix_for_user``), or a GROUP BY over the
    filtered clients' class rows."""
    if _filtered(ctx):
        rows = (
            _clients(ctx)
            .filter(metrics__abc_class__isnull=False)
            .order_by()
            .values("metrics__abc_class", "metrics__xyz_class")
            .annotate(clients=Count("id"), turnover=Sum("metrics__turnover"))
        )
        cells = {
            f"{r['metrics__abc_class']}{r['metrics__xyz_class'] or 'none'}": {
                "clients": r["clients"],
                "cents": int((r["turnover"] or 0) * 100),
            }
            for r in rows
        }
        grid = selectors.build_matrix(cells, sum(c["cents"] for c in cells.values()))
    else:
        grid = selectors.matrix_for_user(ctx.user)["rows"]
    rows = [
        [
            {
                "key": cell.key,
                "clients": cell.clients,
                "share": cell.share,
                "url": clients_url(ctx, abc=cell.abc, xyz=cell.xyz),
            }
            for cell in row
        ]
        for row in grid
    ]
    total = sum(cell["clients"] for row in rows for cell in row)
    return Figure(
        total,
        url=clients_url(ctx),
        count=None,  # the classified clients; the list shows all
        extra={"rows": rows, "columns": [*XYZ[:3], "—"]},
    )


def _lifecycle_counts(ctx: KpiContext) -> dict:
    """Clients per lifecycle status in the card's scope and filters (unfiltered: the
    segmentation's counts, from the class tallies for a manager on PostgreSQL)."""

    def run():
        if not _filtered(ctx):
            return selectors.lifecycle_counts(ctx.user)
        grouped = dict(
            _clients(ctx).order_by().values_list("metrics__lifecycle").annotate(n=Count("id"))
        )
        return {status: grouped.get(status, 0) for status in Lifecycle.values}

    return ctx.once("segmentation:lifecycle", run)


def lifecycle(ctx: KpiContext) -> Figure:
    counts = _lifecycle_counts(ctx)
    series = tuple(
        Point(label=str(label), value=counts.get(status, 0), url=clients_url(ctx, lifecycle=status))
        for status, label in Lifecycle.choices
    )
    total = sum(counts.get(status, 0) for status in Lifecycle.values)
    return Figure(total, url=clients_url(ctx), count=None, series=series)


def regular(ctx: KpiContext) -> Figure:
    n = _lifecycle_counts(ctx).get(Lifecycle.REGULAR, 0)
    return Figure(n, url=clients_url(ctx, lifecycle=Lifecycle.REGULAR))


def _flows(ctx: KpiContext) -> dict:
    def run():
        qs = selectors.history_for_user(ctx.user).filter(
            date__gte=ctx.period.start, date__lt=ctx.period.end
        )
        if ctx.account_manager is not None:
            qs = qs.filter(client__account_manager_id=ctx.account_manager)
        if ctx.filters.get("segment"):
            qs = qs.filter(client__target_segment_id=ctx.filters["segment"])
        kinds = selectors.CHANGE_KINDS
        return qs.order_by().aggregate(
            **{k: Count("id", filter=kinds[k]) for k in ("new", "lost", "restored")}
        )

    return ctx.once("segmentation:flows", run)


def _flow(kind: str):
    def compute(ctx: KpiContext) -> Figure:
        return Figure(_flows(ctx)[kind], url=changes_url(ctx, kind))

    return compute


CARDS = [
    Card(
        "matrix",
        _("ABC×XYZ"),
        GROUP.key,
        matrix,
        order=10,
        compare=False,
        template="segmentation/_dashboard_matrix.html",
        hint=_("as of the last run"),
    ),
    Card(
        "lifecycle",
        _("Clients by lifecycle status"),
        GROUP.key,
        lifecycle,
        order=20,
        compare=False,
        chart="bar",
        hint=_("as of the last run"),
    ),
    Card("regular", _("Regular clients"), GROUP.key, regular, order=30, compare=False),
    Card("new", _("New clients"), GROUP.key, _flow("new"), order=40),
    Card("lost", _("Lost clients"), GROUP.key, _flow("lost"), order=50, higher_is_better=False),
    Card("restored", _("Restored clients"), GROUP.key, _flow("restored"), order=60),
]


def register() -> None:
    from crm import dashboard

    dashboard.register_app(GROUP, cards=CARDS)
