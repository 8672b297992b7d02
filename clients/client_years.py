"""Per-client sums of a period from the settlements summed by client, year and month
(``clients.models.ClientYear``, kept by database triggers: migration ``clients/0018``,
docs/decisions/client-years.md): the whole months of a period come from one row per client and
year, the days before and after them from the settlements themselves — the same figures as the
settlements' own aggregate. ``from_scratch`` / ``stored`` / ``rebuild`` are the reference the
tests compare with and ``manage.py rebuild_client_years``."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from importlib import import_module

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from clients.models import Client, ClientYear, Settlement
from crm.periods import Period, add_months, month_split, month_start

_migration = import_module("clients.migrations.0018_client_year")


def _by_year(prefix: str, months: dict[int, list[int]]) -> str:
    """SQL: the sum of the ``prefix`` columns of each year's months (years are integers)."""
    if len(months) == 1:
        ((_year, chosen),) = months.items()
        return "+".join(f"{prefix}{m:02d}" for m in chosen)
    cases = " ".join(
        f"WHEN {int(year)} THEN " + "+".join(f"{prefix}{m:02d}" for m in chosen)
        for year, chosen in months.items()
    )
    return f"CASE year {cases} END"


def _all_of_month(part: Period) -> bool:
    """Does ``part`` (days of one month) hold every settlement of its month? Then the month's
    sums are its sums: a month to date, when nothing is dated after today."""
    month = month_start(part.start)
    rest = Settlement.objects.filter(date__gte=month, date__lt=add_months(month, 1)).exclude(
        date__gte=part.start, date__lt=part.end
    )
    return not rest.exists()


def month_parts(period: Period) -> tuple[list[date], list[Period]]:
    """The months whose sums are the period's (the first day of each): its whole months and a
    part of a month that holds all of that month's settlements (a month to date, nothing
    dated after today: one index probe each); and the other days, to read from the
    settlements: ``[1 Jan, 2 Dec)`` → January to December and no days, or January to November
    and ``[[1 Dec, 2 Dec)]`` when a settlement is dated after 1 December."""
    whole, parts = month_split(period)
    months = []
    if whole is not None:
        month = whole.start
        while month < whole.end:
            months.append(month)
            month = add_months(month, 1)
    raw = []
    for part in _by_month(parts):
        if _all_of_month(part):
            months.append(month_start(part.start))
        else:
            raw.append(part)
    return sorted(months), raw


def _by_month(parts: list[Period]) -> list[Period]:
    """The parts cut at the months' first days (a period of no whole month may span two)."""
    found = []
    for part in parts:
        start = part.start
        while start < part.end:
            end = min(part.end, add_months(month_start(start), 1))
            found.append(Period(start, end))
            start = end
    return found


def per_client(period: Period, owner: int | None = None) -> list[tuple[int, int | None, int]]:
    """(client, its account manager, kopecks) of every client with a settlement dated in
    ``period`` (any amount, zero included), of ``owner``'s clients only when given: the whole
    months — and a part of a month holding all of that month's settlements, such as a month
    to date — from ``ClientYear``, the other days from the settlements, summed per client."""
    quote = connection.ops.quote_name
    years, settlements, clients = (
        quote(model._meta.db_table) for model in (ClientYear, Settlement, Client)
    )
    scope, scope_params = "", []
    if owner is not None:
        scope = f" AND client_id IN (SELECT id FROM {clients} WHERE account_manager_id = %s)"  # noqa: S608
        scope_params = [owner]
    found, raw = month_parts(period)
    months: dict[int, list[int]] = defaultdict(list)
    for month in found:
        months[month.year].append(month.month)
    selects, params = [], []
    if months:
        listed = ", ".join(str(int(y)) for y in months)
        selects.append(
            f"SELECT client_id, {_by_year('n', months)} AS n, {_by_year('c', months)} AS cents"  # noqa: S608
            f" FROM {years} WHERE year IN ({listed}){scope}"
        )
        params += scope_params
    amount = _migration.cents("amount", connection.vendor)
    for part in raw:
        selects.append(
            f"SELECT client_id, COUNT(*) AS n, SUM({amount}) AS cents FROM {settlements}"  # noqa: S608
            f" WHERE date >= %s AND date < %s{scope} GROUP BY client_id"
        )
        params += [part.start, part.end, *scope_params]
    if len(selects) == 1 and len(months) <= 1:
        summed = selects[0]  # one row per client already
    else:
        summed = (
            f"SELECT client_id, SUM(n) AS n, SUM(cents) AS cents FROM ("  # noqa: S608
            f"{' UNION ALL '.join(selects)}) u GROUP BY client_id"
        )
    # the clients without a settlement in the period (a year's row, other months) are left
    # out here, not in SQL: a filter on a sum would hide from the planner how many rows join
    sql = (
        f"SELECT c.id, c.account_manager_id, x.n, x.cents FROM ({summed}) x"  # noqa: S608
        f" JOIN {clients} c ON c.id = x.client_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(c, m, int(v)) for c, m, n, v in cursor.fetchall() if n]


# --- the reference ------------------------------------------------------------------------------
def from_scratch() -> dict[tuple[int, int, int], tuple[int, Decimal]]:
    """(client, year, month) → (settlements, amount), from the settlements."""
    rows = (
        Settlement.objects.annotate(y=ExtractYear("date"), m=ExtractMonth("date"))
        .values_list("client_id", "y", "m")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by()
    )
    return {(c, y, m): (n, total) for c, y, m, n, total in rows}


def stored() -> dict[tuple[int, int, int], tuple[int, Decimal]]:
    """The same, as the triggers summed it (months with no settlement left out)."""
    found = {}
    for row in ClientYear.objects.all():
        for month in ClientYear.MONTHS:
            n = getattr(row, f"n{month:02d}")
            cents = getattr(row, f"c{month:02d}")
            if n or cents:
                found[(row.client_id, row.year, month)] = (n, Decimal(cents).scaleb(-2))
    return found


def rebuild() -> int:
    """Empty the table and fill it from the settlements in one transaction (on PostgreSQL,
    settlement writers wait for it); the number of rows."""
    table = connection.ops.quote_name(ClientYear._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE clients_settlement IN SHARE MODE")
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        cursor.execute(_migration.fill_sql(connection.vendor))
        rows = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")
        return rows
