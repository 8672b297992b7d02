"""The first purchase of each product line per client (``clients.models.ClientLineFirst``):
kept by database triggers (migration ``clients/0015``); this module recomputes it from
scratch for ``manage.py rebuild_client_line_first`` and for checks."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction
from django.db.models import Min

from clients.models import ClientLineFirst, Settlement


def from_scratch() -> dict[tuple[int, int], date]:
    """(client, line) → the date of its earliest settlement, read from the settlements."""
    rows = (
        Settlement.objects.filter(product__isnull=False)
        .values_list("client_id", "product__line_id")
        .annotate(first=Min("date"))
        .order_by()
    )
    return {(client, line): first for client, line, first in rows}


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
            "INSERT INTO clients_clientlinefirst (client_id, line_id, first_date) "
            "SELECT s.client_id, p.line_id, MIN(s.date) FROM clients_settlement s "
            "JOIN clients_product p ON p.id = s.product_id GROUP BY s.client_id, p.line_id"
        )
        rows = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE clients_clientlinefirst")  # the report's plans need it
        return rows
