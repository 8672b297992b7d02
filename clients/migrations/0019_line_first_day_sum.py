"""The first purchase of each product line also keeps the sum of that first day
(clients.models.ClientLineFirst.first_day_cents: the client's settlements of the line dated on
``first_date``, in kopecks), so that the period report's sales in new product lines read one
row per (client, line) instead of probing the settlements (docs/decisions/client-line-first.md).
The triggers of migration 0015 are replaced by ones that keep the sum too:

- a settlement inserted: dated before the pair's first day, it starts a new first day with its
  amount; dated on it, its amount is added; later, nothing changes;
- a settlement deleted or updated (now in its amount too), a product moved to another line:
  the pairs are recomputed from the settlements, first day and its sum.

The sums of the existing rows are computed at the end.
"""

from importlib import import_module

from django.db import migrations, models

from crm import triggers

first = import_module("clients.migrations.0015_reports2_client_line_first")

TABLE = "clients_clientlinefirst"
COLUMNS = "client_id, line_id, first_date, first_day_cents"


cents = import_module("clients.migrations.0018_client_year").cents  # an amount in kopecks


PG_CENTS = cents("s.amount", "postgresql")
# the day's sum of the pair's line: the earliest day, then its settlements summed
DAY_SUM = (
    f"(SELECT SUM({PG_CENTS}) FROM clients_settlement s "  # noqa: S608
    "JOIN clients_product p ON p.id = s.product_id "
    "WHERE s.client_id = x.client_id AND s.date = m.first_date AND p.line_id = x.line_id)"
)


def _recompute(pairs: str) -> str:
    """Delete the pairs' rows, then insert each pair's earliest settlement's day (read in date
    order on the settlements' (client, date) index) with the sum of that day."""
    return (
        f"DELETE FROM {TABLE} f USING ({pairs}) x "  # noqa: S608
        "WHERE f.client_id = x.client_id AND f.line_id = x.line_id; "
        f"INSERT INTO {TABLE} ({COLUMNS}) "
        f"SELECT x.client_id, x.line_id, m.first_date, {DAY_SUM} FROM ({pairs}) x "
        "CROSS JOIN LATERAL (SELECT s.date AS first_date FROM clients_settlement s "
        "WHERE s.client_id = x.client_id AND (SELECT p.line_id FROM clients_product p "
        "WHERE p.id = s.product_id) = x.line_id ORDER BY s.date LIMIT 1) m"
    )


# a settlement edited in its client, product, date or amount: the pairs before and after
_CHANGED = (
    "(o.client_id, o.product_id, o.date, o.amount) IS DISTINCT FROM "
    "(n.client_id, n.product_id, n.date, n.amount)"
)
PAIRS_UPDATED = (
    "SELECT o.client_id, p.line_id FROM old_rows o JOIN new_rows n ON n.id = o.id "
    f"JOIN clients_product p ON p.id = o.product_id WHERE {_CHANGED} "
    "UNION SELECT n.client_id, p.line_id FROM old_rows o JOIN new_rows n ON n.id = o.id "
    f"JOIN clients_product p ON p.id = n.product_id WHERE {_CHANGED}"
)

PG_FUNCTIONS = {
    # the new rows' earliest day per pair with its sum; an earlier day replaces the stored one,
    # the same day adds to it
    "clients_line_first_insert": (
        f"INSERT INTO {TABLE} AS f ({COLUMNS}) "  # noqa: S608
        "SELECT DISTINCT ON (g.client_id, g.line_id) g.client_id, g.line_id, g.date, g.cents "
        f"FROM (SELECT n.client_id, p.line_id, n.date, SUM({cents('n.amount', 'postgresql')}) "
        "AS cents FROM new_rows n JOIN clients_product p ON p.id = n.product_id "
        "GROUP BY n.client_id, p.line_id, n.date) g "
        "ORDER BY g.client_id, g.line_id, g.date "
        "ON CONFLICT (client_id, line_id) DO UPDATE SET first_day_cents = CASE "
        "WHEN EXCLUDED.first_date < f.first_date THEN EXCLUDED.first_day_cents "
        "ELSE f.first_day_cents + EXCLUDED.first_day_cents END, "
        "first_date = EXCLUDED.first_date WHERE EXCLUDED.first_date <= f.first_date"
    ),
    "clients_line_first_delete": _recompute(first.PAIRS_DELETED),
    "clients_line_first_update": _recompute(PAIRS_UPDATED),
    "clients_line_first_product": _recompute(first.PAIRS_MOVED),
}


def _sqlite_recompute(client: str, line: str) -> str:
    sql_cents = cents("s.amount", "sqlite")
    return (
        f"DELETE FROM {TABLE} WHERE client_id = {client} AND line_id = {line}; "  # noqa: S608
        f"INSERT INTO {TABLE} ({COLUMNS}) "
        f"SELECT s.client_id, p.line_id, s.date, SUM({sql_cents}) FROM clients_settlement s "
        "JOIN clients_product p ON p.id = s.product_id "
        f"WHERE s.client_id = {client} AND p.line_id = {line} AND s.date = ("
        "SELECT MIN(s2.date) FROM clients_settlement s2 JOIN clients_product p2 "
        f"ON p2.id = s2.product_id WHERE s2.client_id = {client} AND p2.line_id = {line}) "
        "GROUP BY s.client_id, p.line_id, s.date;"
    )


SQLITE_TRIGGERS = {
    "clients_line_first_insert": (
        "AFTER INSERT ON clients_settlement WHEN NEW.product_id IS NOT NULL BEGIN "
        f"INSERT INTO {TABLE} ({COLUMNS}) "
        f"SELECT NEW.client_id, p.line_id, NEW.date, {cents('NEW.amount', 'sqlite')} "
        "FROM clients_product p WHERE p.id = NEW.product_id "
        "ON CONFLICT (client_id, line_id) DO UPDATE SET first_day_cents = CASE "
        "WHEN excluded.first_date < first_date THEN excluded.first_day_cents "
        "ELSE first_day_cents + excluded.first_day_cents END, "
        "first_date = excluded.first_date WHERE excluded.first_date <= first_date; END"
    ),
    "clients_line_first_delete": (
        "AFTER DELETE ON clients_settlement WHEN OLD.product_id IS NOT NULL BEGIN "
        + _sqlite_recompute("OLD.client_id", first.OLD_LINE)
        + " END"
    ),
    "clients_line_first_update": (
        "AFTER UPDATE ON clients_settlement WHEN OLD.client_id IS NOT NEW.client_id "
        "OR OLD.product_id IS NOT NEW.product_id OR OLD.date IS NOT NEW.date "
        "OR OLD.amount IS NOT NEW.amount BEGIN "
        + _sqlite_recompute("OLD.client_id", first.OLD_LINE)
        + _sqlite_recompute("NEW.client_id", first.NEW_LINE)
        + " END"
    ),
    "clients_line_first_product": (
        "AFTER UPDATE OF line_id ON clients_product WHEN OLD.line_id IS NOT NEW.line_id BEGIN "
        f"DELETE FROM {TABLE} WHERE line_id IN (OLD.line_id, NEW.line_id) "
        f"AND client_id IN {first.BUYERS}; "
        f"INSERT INTO {TABLE} ({COLUMNS}) "
        f"SELECT s.client_id, p.line_id, s.date, SUM({cents('s.amount', 'sqlite')}) "
        "FROM clients_settlement s JOIN clients_product p ON p.id = s.product_id "
        f"WHERE p.line_id IN (OLD.line_id, NEW.line_id) AND s.client_id IN {first.BUYERS} "
        "AND s.date = (SELECT MIN(s2.date) FROM clients_settlement s2 JOIN clients_product p2 "
        "ON p2.id = s2.product_id WHERE s2.client_id = s.client_id AND p2.line_id = p.line_id) "
        "GROUP BY s.client_id, p.line_id, s.date; END"
    ),
}


def day_sums_sql(vendor: str) -> str:
    """Set every row's first-day sum from the settlements (the migration, the rebuild)."""
    return (
        f"UPDATE {TABLE} SET first_day_cents = COALESCE((SELECT SUM({cents('s.amount', vendor)}) "  # noqa: S608
        "FROM clients_settlement s JOIN clients_product p ON p.id = s.product_id "
        f"WHERE s.client_id = {TABLE}.client_id AND s.date = {TABLE}.first_date "
        f"AND p.line_id = {TABLE}.line_id), 0)"
    )


def before(apps, schema_editor):
    """SQLite rebuilds the table to add the column, and refuses while triggers on the
    settlements and products name it: they are dropped first, and made anew after."""
    if schema_editor.connection.vendor == "sqlite":
        triggers.drop_sqlite(schema_editor, SQLITE_TRIGGERS)


def before_undone(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        triggers.create_sqlite(
            schema_editor, {name: first.SQLITE_TRIGGERS[name] for name in SQLITE_TRIGGERS}
        )


def create(apps, schema_editor):
    """PostgreSQL: migration 0015's triggers call the functions replaced here; SQLite: the
    triggers dropped before the column was added made anew."""
    triggers.create(
        schema_editor,
        what="clients.ClientLineFirst",
        lock="clients_settlement, clients_product",
        pg_functions=PG_FUNCTIONS,
        pg_triggers={},
        sqlite_triggers=SQLITE_TRIGGERS,
    )
    schema_editor.execute(day_sums_sql(schema_editor.connection.vendor))
    triggers.analyze(schema_editor, TABLE)


def drop(apps, schema_editor):
    """Undone: PostgreSQL's functions of migration 0015 back; SQLite's triggers dropped (the
    first step, undone last, makes 0015's anew once the column is gone)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        triggers.replace_functions(
            schema_editor, {name: first.PG_FUNCTIONS[name] for name in PG_FUNCTIONS}
        )
    elif vendor == "sqlite":
        triggers.drop_sqlite(schema_editor, SQLITE_TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [("clients", "0018_client_year")]

    operations = [
        migrations.RunPython(before, before_undone),
        migrations.AddField(
            model_name="clientlinefirst",
            name="first_day_cents",
            field=models.BigIntegerField(
                default=0, verbose_name="first day's sum (kopecks)"
            ),
        ),
        migrations.RunPython(create, drop),
    ]
