"""The settlements summed per month, account manager and target segment
(clients.models.SettlementMonth), kept by database triggers on every write path — the
settlement form, the API, the bulk import, the admin, a cascade, raw SQL
(docs/decisions/settlement-months.md). Each writing statement appends rows of what it changed:

- settlements inserted: +1 and +amount per (month, the client's account manager and segment);
- settlements deleted: −1 and −amount;
- settlements updated in their client, date or amount: the old rows taken out, the new put in;
- a client's account manager or target segment changed (a transfer, the client form, the
  import, a user or segment deleted: SET NULL): its settlements' sums moved from the old keys
  to the new;
- the settlements truncated: the table emptied.

PostgreSQL: statement-level triggers with transition tables (one grouped insert per statement
of a 1 000-row import batch), which first lock the clients they read FOR SHARE, so that a
concurrent move of one of them waits, or is waited for, and never misses a settlement. SQLite:
row-level triggers doing the same per row (its writers take turns). The table is filled from
the existing settlements at the end.
"""

import crm.validators
from django.db import migrations, models

from crm import triggers

TABLE = "clients_settlementmonth"
COLUMNS = "month, account_manager_id, segment_id, n, total"
CHANGED = "(o.client_id, o.date, o.amount) IS DISTINCT FROM (x.client_id, x.date, x.amount)"
MOVED = (
    "(o.account_manager_id, o.target_segment_id) "
    "IS DISTINCT FROM (x.account_manager_id, x.target_segment_id)"
)


def _append(rows: str) -> str:
    """Append the sums of ``rows`` (date, client_id, n, total) under each client's keys."""
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) "  # noqa: S608
        "SELECT date_trunc('month', d.date::timestamp)::date, c.account_manager_id, "
        "c.target_segment_id, SUM(d.n), SUM(d.total) "
        f"FROM ({rows}) d JOIN clients_client c ON c.id = d.client_id "
        "GROUP BY 1, 2, 3 HAVING SUM(d.n) <> 0 OR SUM(d.total) <> 0"
    )


def _lock(clients: str) -> str:
    return f"PERFORM 1 FROM clients_client WHERE id IN ({clients}) ORDER BY id FOR SHARE"


INSERTED = "SELECT date, client_id, 1 AS n, amount AS total FROM new_rows"
DELETED = "SELECT date, client_id, -1 AS n, -amount AS total FROM old_rows"
UPDATED = (
    "SELECT o.date, o.client_id, -1 AS n, -o.amount AS total FROM old_rows o "
    f"JOIN new_rows x ON x.id = o.id WHERE {CHANGED} "
    "UNION ALL SELECT x.date, x.client_id, 1, x.amount FROM old_rows o "
    f"JOIN new_rows x ON x.id = o.id WHERE {CHANGED}"
)
CLIENT_MOVED = (
    f"INSERT INTO {TABLE} ({COLUMNS}) "  # noqa: S608
    "SELECT date_trunc('month', s.date::timestamp)::date, k.am, k.seg, SUM(k.sign), "
    "SUM(k.sign * s.amount) FROM ("
    "SELECT o.id, o.account_manager_id AS am, o.target_segment_id AS seg, -1 AS sign "
    f"FROM old_rows o JOIN new_rows x ON x.id = o.id WHERE {MOVED} "
    "UNION ALL SELECT x.id, x.account_manager_id, x.target_segment_id, 1 "
    f"FROM old_rows o JOIN new_rows x ON x.id = o.id WHERE {MOVED}"
    ") k JOIN clients_settlement s ON s.client_id = k.id "
    "GROUP BY 1, 2, 3 HAVING SUM(k.sign) <> 0 OR SUM(k.sign * s.amount) <> 0"
)

PG_FUNCTIONS = {
    "clients_settlement_month_insert": (
        _lock("SELECT client_id FROM new_rows") + "; " + _append(INSERTED)
    ),
    "clients_settlement_month_delete": (
        _lock("SELECT client_id FROM old_rows") + "; " + _append(DELETED)
    ),
    "clients_settlement_month_update": (
        _lock("SELECT client_id FROM old_rows UNION SELECT client_id FROM new_rows")
        + "; "
        + _append(UPDATED)
    ),
    "clients_settlement_month_truncate": f"DELETE FROM {TABLE}",
    "clients_settlement_month_client": CLIENT_MOVED,
}
PG_TRIGGERS = {
    "clients_settlement_month_insert": "AFTER INSERT ON clients_settlement "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "clients_settlement_month_delete": "AFTER DELETE ON clients_settlement "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "clients_settlement_month_update": "AFTER UPDATE ON clients_settlement "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "clients_settlement_month_truncate": "AFTER TRUNCATE ON clients_settlement FOR EACH STATEMENT",
    "clients_settlement_month_client": "AFTER UPDATE ON clients_client "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
}


def _sqlite_append(row: str, sign: str) -> str:
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) "  # noqa: S608
        f"SELECT date({row}.date, 'start of month'), c.account_manager_id, c.target_segment_id, "
        f"{sign}1, {sign}{row}.amount FROM clients_client c WHERE c.id = {row}.client_id;"
    )


def _sqlite_move(row: str, sign: str) -> str:
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) "  # noqa: S608
        f"SELECT date(s.date, 'start of month'), {row}.account_manager_id, "
        f"{row}.target_segment_id, {sign}COUNT(*), {sign}SUM(s.amount) "
        f"FROM clients_settlement s WHERE s.client_id = {row}.id GROUP BY 1;"
    )


SQLITE_TRIGGERS = {
    "clients_settlement_month_insert": (
        "AFTER INSERT ON clients_settlement BEGIN " + _sqlite_append("NEW", "") + " END"
    ),
    "clients_settlement_month_delete": (
        "AFTER DELETE ON clients_settlement BEGIN " + _sqlite_append("OLD", "-") + " END"
    ),
    "clients_settlement_month_update": (
        "AFTER UPDATE ON clients_settlement WHEN OLD.client_id IS NOT NEW.client_id "
        "OR OLD.date IS NOT NEW.date OR OLD.amount IS NOT NEW.amount BEGIN "
        + _sqlite_append("OLD", "-")
        + _sqlite_append("NEW", "")
        + " END"
    ),
    "clients_settlement_month_client": (
        "AFTER UPDATE ON clients_client WHEN OLD.account_manager_id IS NOT NEW.account_manager_id "
        "OR OLD.target_segment_id IS NOT NEW.target_segment_id BEGIN "
        + _sqlite_move("OLD", "-")
        + _sqlite_move("NEW", "")
        + " END"
    ),
}


def fill_sql(vendor: str) -> str:
    """The table's rows computed from the settlements (the migration's fill, the rebuild)."""
    month = (
        "date_trunc('month', s.date::timestamp)::date"
        if vendor == "postgresql"
        else "date(s.date, 'start of month')"
    )
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) "  # noqa: S608
        f"SELECT {month}, c.account_manager_id, c.target_segment_id, COUNT(*), SUM(s.amount) "
        "FROM clients_settlement s JOIN clients_client c ON c.id = s.client_id GROUP BY 1, 2, 3"
    )


def create(apps, schema_editor):
    triggers.create(
        schema_editor,
        what="clients.SettlementMonth",
        lock="clients_settlement, clients_client",
        pg_functions=PG_FUNCTIONS,
        pg_triggers=PG_TRIGGERS,
        sqlite_triggers=SQLITE_TRIGGERS,
    )
    schema_editor.execute(fill_sql(schema_editor.connection.vendor))
    triggers.analyze(schema_editor, TABLE)


def drop(apps, schema_editor):
    triggers.drop(schema_editor, pg_triggers=PG_TRIGGERS, sqlite_triggers=SQLITE_TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [("clients", "0015_reports2_client_line_first")]

    operations = [
        migrations.CreateModel(
            name="SettlementMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "month",
                    models.DateField(
                        validators=[crm.validators.validate_date_range], verbose_name="month"
                    ),
                ),
                (
                    "account_manager_id",
                    models.BigIntegerField(null=True, verbose_name="account manager"),
                ),
                ("segment_id", models.BigIntegerField(null=True, verbose_name="target segment")),
                ("n", models.BigIntegerField(verbose_name="settlements added (negative: removed)")),
                (
                    "total",
                    models.DecimalField(
                        decimal_places=2, max_digits=20, verbose_name="amount added"
                    ),
                ),
            ],
            options={
                "verbose_name": "settlements of a month",
                "verbose_name_plural": "settlements by month",
                "indexes": [
                    models.Index(
                        fields=["month", "account_manager_id", "segment_id"],
                        name="settlement_month_idx",
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop),
    ]
