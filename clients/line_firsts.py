"""The first purchase of each product line per client and the sum of that first day
(``clients.models.ClientLineFirst``): kept by database triggers (migrations ``clients/0015``,
``0019``); this module recomputes them from scratch for ``manage.py rebuild_client_line_first``
and for checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib import import_module

from django.db import connection, transaction
from django.db.models import Min

from clients.models import ClientLineFirst, Settlement

_migration = import_module("clients.migrations.0019_line_first_day_sum")


def from_scratch() -> dict[tuple[int, int], date]:
    """(client, line) → the date of its earliest settlement, read from the settlements."""
    rows = (
        Settlement.objects.filter(product__isnull=False)
        .values_list("client_id", "product__line_id")
        .annotate(first=Min("date"))
        .order_by()
    )
    return {(client, line): first for client, line, first in rows}


def day_sums_from_scratch() -> dict[tuple[int, int], Decimal]:
    """(client, line) → the sum of its settlements of the line on its first day."""
    firsts = from_scratch()
    sums: dict[tuple[int, int], Decimal] = {}
    rows = Settlement.objects.filter(product__isnull=False).values_list(
        "client_id", "product__line_id", "date", "amount"
    )
    for client, line, day, amount in rows:
        if firsts[(client, line)] == day:
            sums[(client, line)] = sums.get((client, line), Decimal(0)) + amount
    return sums


def stored_day_sums() -> dict[tuple[int, int], Decimal]:
    return {
        (client, line): Decimal(cents).scaleb(-2)
        for client, line, cents in ClientLineFirst.objects.values_list(
            "client_id", "line_id", "first_day_cents"
        )
    }


def stored() -> dict[tuple[int, int], date]:
    return {
        (client, line): first
        for client, line, first in ClientLineFirst.objects.values_list(
            "client_id", "line_id", "first_date"
        )
    }


def rebuild() -> int:
    """Empty the table and fill it from the settlements in one transaction (on PostgreSQL,
    settlement and product writers wait for it); the number of rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE clients_settlement, clients_product IN SHARE MODE")
        cursor.execute("DELETE FROM clients_clientlinefirst")
        cursor.execute(
            "INSERT INTO clients_clientlinefirst (client_id, line_id, first_date, first_day_cents) "
            "SELECT s.client_id, p.line_id, MIN(s.date), 0 FROM clients_settlement s "
            "JOIN clients_product p ON p.id = s.product_id GROUP BY s.client_id, p.line_id"
        )
        rows = cursor.rowcount
        cursor.execute(_migration.day_sums_sql(connection.vendor))
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE clients_clientlinefirst")  # the report's plans need it
        return rows
