"""The revenue figures of the manager dashboard from the settlements summed by month
(``clients.models.SettlementMonth``, kept by database triggers: migration ``clients/0016``,
docs/decisions/settlement-months.md): the whole months of a period — and a month to date with
nothing dated after it (``clients.client_years.month_parts``) — come from a few thousand summed
rows, the other days from the settlements themselves — the same figures as the settlements'
own aggregate. ``from_scratch`` / ``stored`` / ``rebuild`` are the
reference the tests compare with and ``manage.py rebuild_settlement_months``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Sum
from django.db.models.functions import TruncMonth

from clients import client_years
from clients.models import Settlement, SettlementMonth
from crm.access import scope_for_user
from crm.periods import Period

FOLD_ROWS = 50_000  # more rows than this (about 20 years × 20 managers × 10 segments): fold
Sums = dict  # key -> [settlements, amount]


def _month(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _add(found: Sums, key, n, total) -> None:
    row = found.setdefault(key, [0, Decimal(0)])
    row[0] += n or 0
    row[1] += total or 0


def sums(
    user,
    period: Period,
    *,
    by: str | None = None,
    account_manager: int | None = None,
    segment: int | None = None,
) -> Sums:
    """``{key: [settlements, amount]}`` of the settlements ``user`` may see dated in
    ``period`` — of one account manager's clients and of one target segment's when given —,
    ``by`` None (one key, None), "account_manager" (the client's; None: none) or "month"
    (the first day of each month). A key with no settlement is left out."""
    if by not in (None, "account_manager", "month"):
        raise ValueError(by)
    if not getattr(user, "sees_everything", False):
        if not getattr(user, "is_authenticated", False):
            return {}
        if account_manager not in (None, user.pk):
            return {}
        account_manager = user.pk  # an account manager's settlements are their clients'
    months, parts = client_years.month_parts(period)
    found: Sums = {}
    if months:
        fold_if_needed()
        rows = SettlementMonth.objects.filter(month__in=months)
        if account_manager is not None:
            rows = rows.filter(account_manager_id=account_manager)
        if segment is not None:
            rows = rows.filter(segment_id=segment)
        if by is None:
            row = rows.aggregate(s_n=Sum("n"), s_total=Sum("total"))
            if row["s_n"]:
                _add(found, None, row["s_n"], row["s_total"])
        else:
            field = "account_manager_id" if by == "account_manager" else "month"
            grouped = rows.values(field).annotate(s_n=Sum("n"), s_total=Sum("total"))
            for row in grouped.order_by():
                if row["s_n"]:
                    _add(found, row[field], row["s_n"], row["s_total"])
    settlements = scope_for_user(Settlement.objects.all(), user)
    if account_manager is not None:
        settlements = settlements.filter(client__account_manager_id=account_manager)
    if segment is not None:
        settlements = settlements.filter(client__target_segment_id=segment)
    for part in parts:
        _add_raw(found, settlements.filter(part.q("date")), by)
    return found


def _add_raw(found: Sums, settlements: QuerySet, by: str | None) -> None:
    grouped = settlements.order_by()
    if by == "account_manager":
        grouped = grouped.values(key=F("client__account_manager_id"))
    elif by == "month":
        grouped = grouped.annotate(key=TruncMonth("date")).values("key")
    if by is None:
        totals = grouped.aggregate(n=Count("id"), total=Sum("amount"))
        if totals["n"]:
            _add(found, None, totals["n"], totals["total"])
        return
    for row in grouped.annotate(n=Count("id"), total=Sum("amount")):
        key = _month(row["key"]) if by == "month" else row["key"]
        _add(found, key, row["n"], row["total"])


def fold_if_needed() -> None:
    """Fold the rows when they have grown past ``FOLD_ROWS`` (a write, once per that many
    settlement-writing statements)."""
    if SettlementMonth.objects.count() > FOLD_ROWS:
        SettlementMonth.fold()


# --- the reference ------------------------------------------------------------------------------
def from_scratch() -> dict[tuple, tuple[int, Decimal]]:
    """(month, account manager, segment) → (settlements, amount), from the settlements."""
    rows = (
        Settlement.objects.annotate(m=TruncMonth("date"))
        .values_list("m", "client__account_manager_id", "client__target_segment_id")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    return {(_month(m), am, seg): (n, total) for m, am, seg, n, total in rows}


def stored() -> dict[tuple, tuple[int, Decimal]]:
    """The same, as the triggers summed it (keys whose sums came back to zero left out)."""
    rows = (
        SettlementMonth.objects.values_list("month", "account_manager_id", "segment_id")
        .annotate(s_n=Sum("n"), s_total=Sum("total"))
        .order_by()
    )
    return {(m, am, seg): (n, total) for m, am, seg, n, total in rows if n or total}


def rebuild() -> int:
    """Empty the table and fill it from the settlements in one transaction (on PostgreSQL,
    settlement and client writers wait for it); the number of rows."""
    from importlib import import_module

    fill_sql = import_module("clients.migrations.0016_settlement_month").fill_sql
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE clients_settlement, clients_client IN SHARE MODE")
        cursor.execute("DELETE FROM clients_settlementmonth")
        cursor.execute(fill_sql(connection.vendor))
        rows = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE clients_settlementmonth")
        return rows
