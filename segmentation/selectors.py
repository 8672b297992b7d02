"""Reads of the segmentation app shared by views, the API, tasks and other apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
from django.db import connection
from django.db.models import BooleanField, Count, F, Func, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.urls import reverse
from django.utils.http import urlencode

from clients.models import Client, Settlement
from crm.access import scope_for_user
from segmentation import analytics, loading
from segmentation.models import (
    ClassChange,
    ClassTally,
    ClientMetrics,
    Lifecycle,
    SegmentationRun,
    SegmentationSettings,
    SegmentClassTally,
)

ABC = ("A", "B", "C")
XYZ = ("X", "Y", "Z", "none")
PRESETS = {"seed": (Decimal("50"), Decimal("80")), "classic": (Decimal("80"), Decimal("95"))}


def settings_load() -> SegmentationSettings:
    """The settings record (created with the defaults by the data migration)."""
    instance, _ = SegmentationSettings.objects.get_or_create(pk=SegmentationSettings.SINGLETON_ID)
    return instance


def cadence_days_by_class() -> dict[str | None, int]:
    """Maximum days without contact per ABC class (None: clients without a class)."""
    s = settings_load()
    return {
        "A": s.cadence_a_days,
        "B": s.cadence_b_days,
        "C": s.cadence_c_days,
        None: s.cadence_none_days,
    }


def abc_class_of(client: Client) -> str | None:
    """The client's current ABC class (None before a run has classified it)."""
    classes = getattr(client, "metrics", None)  # no row: RelatedObjectDoesNotExist
    return classes.abc_class if classes else None


def last_successful_run() -> SegmentationRun | None:
    return (
        SegmentationRun.objects.filter(status=SegmentationRun.Status.SUCCESS)
        .order_by("-finished_at", "-id")
        .first()
    )


def active_run() -> SegmentationRun | None:
    return SegmentationRun.objects.filter(status=SegmentationRun.Status.RUNNING).first()


def runs() -> QuerySet[SegmentationRun]:
    return SegmentationRun.objects.select_related("requested_by").defer("summary")


TALLY_FOLD_ROWS = 2000  # the class tally's rows are folded when a read finds more


def clients_in_classes(**classes) -> int:
    """The exact number of clients whose current classes are ``classes`` (``abc_class``,
    ``xyz_class``, ``lifecycle``; a value, never "no class"). PostgreSQL: the sum of the
    class tally its triggers keep (``ClassTally``) instead of counting up to every class
    row; other databases: a COUNT of the class rows."""
    if connection.vendor != "postgresql":
        return ClientMetrics.objects.filter(**classes).count()
    tally = ClassTally.objects.aggregate(total=Sum("delta", filter=Q(**classes)), rows=Count("id"))
    if tally["rows"] > TALLY_FOLD_ROWS:
        ClassTally.fold()  # a write, once per that many statements
    return tally["total"] or 0


def segment_class_counts(*, segment_id: int | None = None) -> list[tuple[int, str | None, int]]:
    """(target segment, ABC class or None, clients) of every client with a segment
    (PostgreSQL: the sum of ``SegmentClassTally``'s rows, kept by triggers; only one segment's
    with ``segment_id``). Other databases: a grouped COUNT of the clients."""
    if connection.vendor != "postgresql":
        qs = Client.objects.filter(target_segment__isnull=False)
        if segment_id is not None:
            qs = qs.filter(target_segment_id=segment_id)
        rows = (
            qs.values_list("target_segment_id", "metrics__abc_class")
            .annotate(n=Count("id"))
            .order_by()
        )
        return [(seg, abc or None, n) for seg, abc, n in rows]
    tally = SegmentClassTally.objects.all()
    if segment_id is not None:
        tally = tally.filter(segment_id=segment_id)
    rows = list(tally.values_list("segment_id", "abc_class").annotate(n=Sum("delta")).order_by())
    if SegmentClassTally.objects.count() > TALLY_FOLD_ROWS:
        SegmentClassTally.fold()  # a write, once per that many statements
    return [(seg, abc, n) for seg, abc, n in rows if n]


# --- the matrix -------------------------------------------------------------------------------
@dataclass
class Cell:
    abc: str
    xyz: str
    clients: int
    cents: int
    share: float | None
    url: str

    @property
    def key(self) -> str:
        return f"{self.abc}{self.xyz if self.xyz != 'none' else '-'}"


def client_list_url(**filters) -> str:
    return f"{reverse('clients:list')}?{urlencode(filters)}"


def build_matrix(cells: dict[str, dict], total_cents: int) -> list[list[Cell]]:
    """Rows A, B, C × columns X, Y, Z, none from {"AX": {"clients", "cents"}, …}."""
    rows = []
    for abc in ABC:
        row = []
        for xyz in XYZ:
            data = cells.get(f"{abc}{xyz}", {"clients": 0, "cents": 0})
            row.append(
                Cell(
                    abc=abc,
                    xyz=xyz,
                    clients=int(data["clients"]),
                    cents=int(data["cents"]),
                    share=(data["cents"] / total_cents) if total_cents else None,
                    url=client_list_url(abc=abc, xyz=xyz),
                )
            )
        rows.append(row)
    return rows


def matrix_for_user(user) -> dict:
    """The ABC×XYZ matrix the user may see. Managers: the last successful run's summary (one
    row read, exact as of that run). Account managers: a live GROUP BY over their own clients."""
    if user.sees_everything:
        run = last_successful_run()
        summary = run.summary if run else {}
        cells = summary.get("matrix", {})
        total = summary.get("turnover_cents", 0)
        lifecycle = summary.get("lifecycle", {})
    else:
        cells, lifecycle = _own_classes(user)
        total = sum(c["cents"] for c in cells.values())
        run = last_successful_run()
    return {
        "rows": build_matrix(cells, total),
        "total_cents": total,
        "turnover": Decimal(int(total)) / 100,  # the amount, for the page's money filter
        "lifecycle": lifecycle,
        "run": run,
    }


def what_if(*, basis: str, abc_a_pct, abc_b_pct, xyz_x_pct, xyz_y_pct) -> dict:
    """The matrix the stored figures would give under other thresholds (nothing is saved).
    Reads each classified client's basis, CV, mean and months of history from the metrics of
    the last run and re-runs the same ABC/XYZ functions."""
    table = ClientMetrics._meta.db_table
    if connection.vendor == "postgresql":
        select = (
            "client_id, ROUND(turnover * 100)::bigint, ROUND(margin * 100)::bigint, cv, "
            "mean_monthly::float8, months_history"
        )
    else:
        select = (
            "client_id, CAST(ROUND(turnover * 100) AS INTEGER), "
            "CAST(ROUND(margin * 100) AS INTEGER), cv, CAST(mean_monthly AS REAL), months_history"
        )
    sql = f"SELECT {select} FROM {table} WHERE in_window"  # noqa: S608 - fixed names
    columns = ["client_id", "turnover", "margin", "cv", "mean", "months"]
    dtypes = {
        "client_id": "int64",
        "turnover": "int64",
        "margin": "int64",
        "cv": "float64",
        "mean": "float64",
        "months": "int64",
    }
    frame = loading.read_frame(connection, sql, [], columns, dtypes)
    if frame.empty:
        return {"rows": build_matrix({}, 0), "total_cents": 0, "classified": 0}
    ids = frame["client_id"].to_numpy()
    turnover = frame["turnover"].to_numpy()
    margin = frame["margin"].to_numpy()
    cv = frame["cv"].to_numpy()
    mean = frame["mean"].fillna(0).to_numpy()
    history = frame["months"].to_numpy()
    basis_cents = margin if basis == "margin" else turnover
    abc = analytics.classify_abc(ids, basis_cents, abc_a_pct, abc_b_pct)
    xyz = analytics.xyz_from_cv(history, mean, cv, xyz_x_pct, xyz_y_pct)
    xyz.index = ids
    frame = abc.join(xyz[["xyz"]])
    cents = pd.Series(turnover, index=ids).reindex(frame.index).to_numpy()
    cells = analytics.matrix_cells(frame["abc"].to_numpy(), frame["xyz"].to_numpy(), cents)
    total = int(turnover.sum())
    return {"rows": build_matrix(cells, total), "total_cents": total, "classified": len(ids)}


# --- client card ------------------------------------------------------------------------------
def client_explanation(client: Client) -> dict:
    """Metrics, monthly series of the last run's window, last changes: 4 queries."""
    metrics = getattr(client, "metrics", None)  # the classes row (no row: none yet)
    run = last_successful_run()
    series = []
    if run and run.window_start and run.window_end:
        monthly = (
            Settlement.objects.filter(
                client=client, date__gte=run.window_start, date__lt=run.window_end
            )
            .annotate(month=TruncMonth("date"))
            .values("month")
            .annotate(total=Sum("amount"))
            .values_list("month", "total")
        )
        series = analytics.series_for_client(list(monthly), (run.window_start, run.window_end))
        if metrics and metrics.months_history:
            first_counted = len(series) - metrics.months_history
            series = [(m, v, i >= first_counted) for i, (m, v) in enumerate(series)]
        else:
            series = [(m, v, False) for m, v in series]
    history = list(ClassChange.objects.filter(client=client)[:12])
    recency = None
    if metrics and metrics.last_date and run:
        recency = (run.as_of - metrics.last_date).days
    periods = None
    if run:
        params = analytics.Params.from_json(run.parameters)
        periods = {"window": params.window, "p0": params.p0, "p1": params.p1}
    return {
        "periods": periods,
        "metrics": metrics,
        "run": run,
        "series": series,
        "history": history,
        "recency_days": recency,
        "max_value": max((abs(v) for _m, v, _c in series), default=0),
    }


# --- history reports --------------------------------------------------------------------------
def history_for_user(user) -> QuerySet[ClassChange]:
    return scope_for_user(ClassChange.objects.select_related("client"), user)


def metrics_for_user(user) -> QuerySet[ClientMetrics]:
    return scope_for_user(ClientMetrics.objects.select_related("client"), user)


def _became(status: str) -> Q:
    """A change into ``status`` (not a change of another class while the status stayed)."""
    return Q(lifecycle_new=status) & ~Q(lifecycle_old=status)  # Django keeps NULL old values


# The kinds of class change the report counts and the changes list filters on (one definition
# for both, so a card's number is the length of the list it links to).
CHANGE_KINDS = {
    "up": Q(abc_move="up"),
    "down": Q(abc_move="down"),
    "gained": Q(abc_move="gained"),
    "dropped": Q(abc_move="dropped"),
    "new": _became(Lifecycle.NEW),
    "lost": _became(Lifecycle.LOST),
    "restored": _became(Lifecycle.RESTORED),
}


def changes_report(user, start: date, end: date) -> dict:
    """Upgrades, downgrades, new, lost, restored between start and end (inclusive)."""
    qs = history_for_user(user).filter(date__gte=start, date__lte=end)
    k = CHANGE_KINDS
    return qs.aggregate(
        upgrades=Count("id", filter=k["up"]),
        downgrades=Count("id", filter=k["down"]),
        gained=Count("id", filter=k["gained"]),
        dropped=Count("id", filter=k["dropped"]),
        new=Count("id", filter=k["new"]),
        lost=Count("id", filter=k["lost"]),
        restored=Count("id", filter=k["restored"]),
        total=Count("id"),
    )


def lifecycle_flows(user, start: date, end: date) -> list[dict]:
    """(from → to, clients) for lifecycle changes in the period."""
    qs = (
        history_for_user(user)
        .filter(date__gte=start, date__lte=end)
        .exclude(lifecycle_new__isnull=True)
        .values("lifecycle_old", "lifecycle_new")
        .annotate(clients=Count("id"))
        .order_by("-clients")
    )
    labels = dict(Lifecycle.choices)
    return [
        {
            "old": row["lifecycle_old"],
            "new": row["lifecycle_new"],
            "old_label": labels.get(row["lifecycle_old"], "—"),
            "new_label": labels.get(row["lifecycle_new"], "—"),
            "clients": row["clients"],
        }
        for row in qs
        if row["lifecycle_old"] != row["lifecycle_new"]
    ]


class EqualsAnyOf(Func):
    """PostgreSQL ``column = ANY(ARRAY(subquery))``: the subquery runs once (an InitPlan)
    and the column's index is probed for each value it returns; ``IN (subquery)`` may
    instead be planned as a hash join that reads the column's table whole."""

    arity = 2
    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        column, column_params = compiler.compile(self.source_expressions[0])
        subquery, subquery_params = compiler.compile(self.source_expressions[1])
        return f"{column} = ANY(ARRAY{subquery})", (*column_params, *subquery_params)


def own_class_rows(user) -> QuerySet[ClientMetrics]:
    """The class rows of an account manager's clients, read by primary key from their client
    ids (the account manager index): the cost follows their clients, not the size of the
    base (a join was planned as a hash join reading all class rows)."""
    ids = scope_for_user(Client.objects.all(), user).values("id")
    if connection.vendor == "postgresql":
        return ClientMetrics.objects.filter(EqualsAnyOf(F("client_id"), Subquery(ids)))
    return ClientMetrics.objects.filter(client_id__in=Subquery(ids))


def _own_classes(user) -> tuple[dict[str, dict], dict[str, int]]:
    """An account manager's matrix cells and clients per lifecycle status ("none": clients
    without a class row yet) in two queries: one GROUP BY over their class rows, one count
    of their clients."""
    grouped = (
        own_class_rows(user)
        .values("abc_class", "xyz_class", "lifecycle")
        .annotate(clients=Count("client_id"), turnover=Sum("turnover"))
        .order_by()
    )
    cells: dict[str, dict] = {}
    lifecycle: dict[str, int] = {}
    for g in grouped:
        lifecycle[g["lifecycle"]] = lifecycle.get(g["lifecycle"], 0) + g["clients"]
        if g["abc_class"] is None:
            continue
        cell = cells.setdefault(
            f"{g['abc_class']}{g['xyz_class'] or 'none'}", {"clients": 0, "cents": 0}
        )
        cell["clients"] += g["clients"]
        cell["cents"] += int((g["turnover"] or 0) * 100)
    without_row = scope_for_user(Client.objects.all(), user).count() - sum(lifecycle.values())
    if without_row:
        lifecycle["none"] = without_row
    return cells, lifecycle


def _lifecycle_groups(user) -> dict[str | None, int]:
    """Clients per lifecycle status (None: no status yet), of the clients the user may see."""
    if not user.sees_everything:
        _cells, counts = _own_classes(user)
        return {(None if key == "none" else key): n for key, n in counts.items()}
    if connection.vendor == "postgresql":
        # every client: the sums of the class tally and of the client tally (both kept by
        # triggers), a few rows instead of grouping every client with its class row
        from clients.selectors import client_total

        tally = ClassTally.objects.values_list("lifecycle").annotate(n=Sum("delta")).order_by()
        counts: dict[str | None, int] = {status: n for status, n in tally if n}
        without = client_total() - sum(counts.values())
        if without:
            counts[None] = without
        return counts
    rows = (
        scope_for_user(Client.objects.all(), user)
        .values("metrics__lifecycle")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["metrics__lifecycle"]: row["n"] for row in rows}


def lifecycle_counts(user) -> dict[str, int]:
    counts = _lifecycle_groups(user)
    return {status: counts.get(status, 0) for status, _label in Lifecycle.choices} | {
        "none": counts.get(None, 0)
    }
