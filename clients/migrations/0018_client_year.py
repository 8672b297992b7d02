"""Each client's settlements by year and month (clients.models.ClientYear), kept by database
triggers on every write path — the settlement form, the API, the bulk import, the admin, a
cascade, raw SQL (docs/decisions/client-years.md):

- settlements inserted: their counts and kopecks added to their (year, client) rows, month by
  month (a row created when missing);
- settlements deleted: taken away; a row whose counts are all zero is deleted;
- settlements updated in their client, date or amount: the old values taken away, the new
  added;
- the settlements truncated: the table emptied.

PostgreSQL: statement-level triggers with transition tables (one grouped upsert per statement
of a 1 000-row import batch; the rows are upserted in (year, client) order, so two statements
lock shared rows in the same order). SQLite: row-level triggers doing the same per row. The
table is filled from the existing settlements at the end.
"""

from django.db import migrations, models

from crm import triggers

TABLE = "clients_clientyear"
MONTHS = range(1, 13)
N = [f"n{m:02d}" for m in MONTHS]
C = [f"c{m:02d}" for m in MONTHS]
COLUMNS = ", ".join(["client_id", "year", *N, *C])
ALL_ZERO = " AND ".join(f"{n} = 0" for n in N)
CHANGED = "(o.client_id, o.date, o.amount) IS DISTINCT FROM (x.client_id, x.date, x.amount)"


def grouped(rows: str, vendor: str) -> str:
    """SELECT client, year and the per-month counts and kopecks of ``rows`` (date,
    client_id, n, cents), one row per (year, client) in that order."""
    if vendor == "postgresql":
        year = "EXTRACT(YEAR FROM r.date)::int"
        month = "EXTRACT(MONTH FROM r.date)::int"
    else:
        year = "CAST(strftime('%Y', r.date) AS INTEGER)"
        month = "CAST(strftime('%m', r.date) AS INTEGER)"
    counts = ", ".join(f"COALESCE(SUM(CASE WHEN d.m = {m} THEN d.n END), 0)" for m in MONTHS)
    cents = ", ".join(f"COALESCE(SUM(CASE WHEN d.m = {m} THEN d.cents END), 0)" for m in MONTHS)
    return (
        f"SELECT d.client_id, d.y, {counts}, {cents} FROM ("  # noqa: S608
        f"SELECT r.client_id, {year} AS y, {month} AS m, r.n, r.cents FROM ({rows}) r"
        ") d GROUP BY d.y, d.client_id ORDER BY d.y, d.client_id"
    )


def cents(column: str, vendor: str) -> str:
    """An amount in kopecks, exact (amounts have two decimals)."""
    if vendor == "postgresql":
        return f"({column} * 100)::bigint"
    return f"CAST(ROUND({column} * 100) AS INTEGER)"


def _upsert(rows: str) -> str:
    added = ", ".join(f"{col} = t.{col} + EXCLUDED.{col}" for col in N + C)
    return (
        f"INSERT INTO {TABLE} AS t ({COLUMNS}) {grouped(rows, 'postgresql')} "  # noqa: S608
        f"ON CONFLICT (year, client_id) DO UPDATE SET {added}"
    )


def _drop_empty(rows: str) -> str:
    return (
        f"DELETE FROM {TABLE} t WHERE (t.year, t.client_id) IN ("  # noqa: S608
        f"SELECT EXTRACT(YEAR FROM r.date)::int, r.client_id FROM ({rows}) r) AND {ALL_ZERO}"
    )


PG_CENTS = cents("amount", "postgresql")
INSERTED = f"SELECT date, client_id, 1 AS n, {PG_CENTS} AS cents FROM new_rows"  # noqa: S608
DELETED = f"SELECT date, client_id, -1 AS n, -{PG_CENTS} AS cents FROM old_rows"  # noqa: S608
UPDATED = (
    "SELECT o.date, o.client_id, -1 AS n, -(o.amount * 100)::bigint AS cents FROM old_rows o "
    f"JOIN new_rows x ON x.id = o.id WHERE {CHANGED} "
    "UNION ALL SELECT x.date, x.client_id, 1, (x.amount * 100)::bigint FROM old_rows o "
    f"JOIN new_rows x ON x.id = o.id WHERE {CHANGED}"
)

PG_FUNCTIONS = {
    "clients_client_year_insert": _upsert(INSERTED),
    "clients_client_year_delete": _upsert(DELETED) + "; " + _drop_empty(DELETED),
    "clients_client_year_update": _upsert(UPDATED) + "; " + _drop_empty(UPDATED),
    "clients_client_year_truncate": f"DELETE FROM {TABLE}",
}
PG_TRIGGERS = {
    "clients_client_year_insert": "AFTER INSERT ON clients_settlement "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "clients_client_year_delete": "AFTER DELETE ON clients_settlement "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "clients_client_year_update": "AFTER UPDATE ON clients_settlement "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "clients_client_year_truncate": "AFTER TRUNCATE ON clients_settlement FOR EACH STATEMENT",
}


def _sqlite_add(row: str, sign: str) -> str:
    month = f"CAST(strftime('%m', {row}.date) AS INTEGER)"
    amount = cents(f"{row}.amount", "sqlite")
    counts = ", ".join(f"CASE {month} WHEN {m} THEN {sign}1 ELSE 0 END" for m in MONTHS)
    sums = ", ".join(f"CASE {month} WHEN {m} THEN {sign}{amount} ELSE 0 END" for m in MONTHS)
    added = ", ".join(f"{col} = {col} + excluded.{col}" for col in N + C)
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ({row}.client_id, "  # noqa: S608
        f"CAST(strftime('%Y', {row}.date) AS INTEGER), {counts}, {sums}) "
        f"ON CONFLICT (year, client_id) DO UPDATE SET {added};"
    )


def _sqlite_drop_empty(row: str) -> str:
    return (
        f"DELETE FROM {TABLE} WHERE year = CAST(strftime('%Y', {row}.date) AS INTEGER) "  # noqa: S608
        f"AND client_id = {row}.client_id AND {ALL_ZERO};"
    )


SQLITE_TRIGGERS = {
    "clients_client_year_insert": (
        "AFTER INSERT ON clients_settlement BEGIN " + _sqlite_add("NEW", "") + " END"
    ),
    "clients_client_year_delete": (
        "AFTER DELETE ON clients_settlement BEGIN "
        + _sqlite_add("OLD", "-")
        + _sqlite_drop_empty("OLD")
        + " END"
    ),
    "clients_client_year_update": (
        "AFTER UPDATE ON clients_settlement WHEN OLD.client_id IS NOT NEW.client_id "
        "OR OLD.date IS NOT NEW.date OR OLD.amount IS NOT NEW.amount BEGIN "
        + _sqlite_add("OLD", "-")
        + _sqlite_add("NEW", "")
        + _sqlite_drop_empty("OLD")
        + " END"
    ),
    "clients_client_year_truncate": None,  # SQLite has no TRUNCATE (DELETE runs the trigger)
}


def fill_sql(vendor: str) -> str:
    """The table's rows computed from the settlements (the migration's fill, the rebuild)."""
    rows = f"SELECT date, client_id, 1 AS n, {cents('amount', vendor)} AS cents FROM clients_settlement"  # noqa: S608
    return f"INSERT INTO {TABLE} ({COLUMNS}) {grouped(rows, vendor)}"  # noqa: S608


def create(apps, schema_editor):
    triggers.create(
        schema_editor,
        what="clients.ClientYear",
        lock="clients_settlement",
        pg_functions=PG_FUNCTIONS,
        pg_triggers=PG_TRIGGERS,
        sqlite_triggers=SQLITE_TRIGGERS,
    )
    schema_editor.execute(fill_sql(schema_editor.connection.vendor))
    triggers.analyze(schema_editor, TABLE)


def drop(apps, schema_editor):
    triggers.drop(schema_editor, pg_triggers=PG_TRIGGERS, sqlite_triggers=SQLITE_TRIGGERS)


def _month_fields() -> list:
    return [(n, models.IntegerField(default=0)) for n in N] + [
        (c, models.BigIntegerField(default=0)) for c in C
    ]


class Migration(migrations.Migration):
    dependencies = [("clients", "0017_client_keys_index")]

    operations = [
        migrations.CreateModel(
            name="ClientYear",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("client_id", models.BigIntegerField(verbose_name="client")),
                ("year", models.SmallIntegerField(verbose_name="year")),
                *_month_fields(),
            ],
            options={
                "verbose_name": "client's settlements of a year",
                "verbose_name_plural": "clients' settlements by year",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("year", "client_id"), name="client_year_uniq"
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop),
    ]
