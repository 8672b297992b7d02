"""The first purchase of each product line by each client (clients.models.ClientLineFirst),
kept by database triggers on every write path — the settlement form, the API, the bulk import,
the admin, a cascade, raw SQL (docs/decisions/client-line-first.md):

- a settlement inserted: the (client, line) pair takes the earlier of its date and the row's;
- a settlement deleted, or updated in its client, product or date: the pairs it belonged to
  (before and after) are recomputed from the settlements;
- a product moved to another line: the pairs of its buyers in the old and the new line are
  recomputed;
- the settlements truncated: the table is emptied.

PostgreSQL: statement-level triggers with transition tables (one statement per bulk insert of
a thousand settlements, not one call per row). SQLite: row-level triggers doing the same per
row. The table is filled from the existing settlements at the end.
"""

import crm.validators
import django.db.models.deletion
from django.db import migrations, models

from crm import triggers


PAIRS_DELETED = (
    "SELECT DISTINCT o.client_id, p.line_id FROM old_rows o "
    "JOIN clients_product p ON p.id = o.product_id"
)
PAIRS_UPDATED = (
    "SELECT o.client_id, p.line_id FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "JOIN clients_product p ON p.id = o.product_id "
    "WHERE (o.client_id, o.product_id, o.date) IS DISTINCT FROM (n.client_id, n.product_id, n.date) "
    "UNION SELECT n.client_id, p.line_id FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "JOIN clients_product p ON p.id = n.product_id "
    "WHERE (o.client_id, o.product_id, o.date) IS DISTINCT FROM (n.client_id, n.product_id, n.date)"
)
PAIRS_MOVED = (
    "SELECT DISTINCT s.client_id, x.line_id FROM clients_settlement s "
    "JOIN (SELECT o.id, o.line_id FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE o.line_id <> n.line_id "
    "UNION ALL SELECT n.id, n.line_id FROM old_rows o JOIN new_rows n ON n.id = o.id "
    "WHERE o.line_id <> n.line_id) x ON x.id = s.product_id"
)


def _recompute(pairs: str) -> str:
    """Delete the pairs' rows, then insert each pair's earliest settlement: the client's
    settlements read in date order on their (client, date) index up to the first of the line,
    whatever the size of the table."""
    return (
        f"DELETE FROM clients_clientlinefirst f USING ({pairs}) x "
        "WHERE f.client_id = x.client_id AND f.line_id = x.line_id; "
        "INSERT INTO clients_clientlinefirst (client_id, line_id, first_date) "
        f"SELECT x.client_id, x.line_id, m.first_date FROM ({pairs}) x "
        "CROSS JOIN LATERAL (SELECT s.date AS first_date FROM clients_settlement s "
        "WHERE s.client_id = x.client_id AND (SELECT p.line_id FROM clients_product p "
        "WHERE p.id = s.product_id) = x.line_id ORDER BY s.date LIMIT 1) m"
    )


PG_FUNCTIONS = {
    "clients_line_first_insert": (
        "INSERT INTO clients_clientlinefirst (client_id, line_id, first_date) "
        "SELECT n.client_id, p.line_id, MIN(n.date) FROM new_rows n "
        "JOIN clients_product p ON p.id = n.product_id GROUP BY n.client_id, p.line_id "
        "ON CONFLICT (client_id, line_id) DO UPDATE SET first_date = EXCLUDED.first_date "
        "WHERE EXCLUDED.first_date < clients_clientlinefirst.first_date"
    ),
    "clients_line_first_delete": _recompute(PAIRS_DELETED),
    "clients_line_first_update": _recompute(PAIRS_UPDATED),
    "clients_line_first_truncate": "DELETE FROM clients_clientlinefirst",
    "clients_line_first_product": _recompute(PAIRS_MOVED),
}
PG_TRIGGERS = {
    "clients_line_first_insert": "AFTER INSERT ON clients_settlement "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "clients_line_first_delete": "AFTER DELETE ON clients_settlement "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "clients_line_first_update": "AFTER UPDATE ON clients_settlement "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "clients_line_first_truncate": "AFTER TRUNCATE ON clients_settlement FOR EACH STATEMENT",
    "clients_line_first_product": "AFTER UPDATE ON clients_product "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
}


def _sqlite_recompute(client: str, line: str) -> str:
    return (
        f"DELETE FROM clients_clientlinefirst WHERE client_id = {client} AND line_id = {line}; "
        "INSERT INTO clients_clientlinefirst (client_id, line_id, first_date) "
        "SELECT s.client_id, p.line_id, MIN(s.date) FROM clients_settlement s "
        "JOIN clients_product p ON p.id = s.product_id "
        f"WHERE s.client_id = {client} AND p.line_id = {line} GROUP BY s.client_id, p.line_id;"
    )


OLD_LINE = "(SELECT line_id FROM clients_product WHERE id = OLD.product_id)"
NEW_LINE = "(SELECT line_id FROM clients_product WHERE id = NEW.product_id)"
BUYERS = "(SELECT client_id FROM clients_settlement WHERE product_id = NEW.id)"
SQLITE_TRIGGERS = {
    "clients_line_first_insert": (
        "AFTER INSERT ON clients_settlement WHEN NEW.product_id IS NOT NULL BEGIN "
        "INSERT INTO clients_clientlinefirst (client_id, line_id, first_date) "
        "SELECT NEW.client_id, p.line_id, NEW.date FROM clients_product p "
        "WHERE p.id = NEW.product_id "
        "ON CONFLICT (client_id, line_id) DO UPDATE SET first_date = excluded.first_date "
        "WHERE excluded.first_date < clients_clientlinefirst.first_date; END"
    ),
    "clients_line_first_delete": (
        "AFTER DELETE ON clients_settlement WHEN OLD.product_id IS NOT NULL BEGIN "
        + _sqlite_recompute("OLD.client_id", OLD_LINE)
        + " END"
    ),
    "clients_line_first_update": (
        "AFTER UPDATE ON clients_settlement WHEN OLD.client_id IS NOT NEW.client_id "
        "OR OLD.product_id IS NOT NEW.product_id OR OLD.date IS NOT NEW.date BEGIN "
        + _sqlite_recompute("OLD.client_id", OLD_LINE)
        + _sqlite_recompute("NEW.client_id", NEW_LINE)
        + " END"
    ),
    "clients_line_first_product": (
        "AFTER UPDATE OF line_id ON clients_product WHEN OLD.line_id IS NOT NEW.line_id BEGIN "
        "DELETE FROM clients_clientlinefirst WHERE line_id IN (OLD.line_id, NEW.line_id) "
        f"AND client_id IN {BUYERS}; "
        "INSERT INTO clients_clientlinefirst (client_id, line_id, first_date) "
        "SELECT s.client_id, p.line_id, MIN(s.date) FROM clients_settlement s "
        "JOIN clients_product p ON p.id = s.product_id "
        f"WHERE p.line_id IN (OLD.line_id, NEW.line_id) AND s.client_id IN {BUYERS} "
        "GROUP BY s.client_id, p.line_id; END"
    ),
}

FILL = (
    "INSERT INTO clients_clientlinefirst (client_id, line_id, first_date) "
    "SELECT s.client_id, p.line_id, MIN(s.date) FROM clients_settlement s "
    "JOIN clients_product p ON p.id = s.product_id GROUP BY s.client_id, p.line_id"
)


def create(apps, schema_editor):
    triggers.create(
        schema_editor,
        what="clients.ClientLineFirst",
        lock="clients_settlement, clients_product",
        pg_functions=PG_FUNCTIONS,
        pg_triggers=PG_TRIGGERS,
        sqlite_triggers=SQLITE_TRIGGERS,
    )
    schema_editor.execute(FILL)
    triggers.analyze(schema_editor, "clients_clientlinefirst")  # the report's plans need it


def drop(apps, schema_editor):
    triggers.drop(schema_editor, pg_triggers=PG_TRIGGERS, sqlite_triggers=SQLITE_TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0014_contact_language_label"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClientLineFirst",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_date", models.DateField(validators=[crm.validators.validate_date_range], verbose_name="first purchase")),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="line_firsts",
                        to="clients.client",
                        verbose_name="client",
                    ),
                ),
                (
                    "line",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="client_firsts",
                        to="clients.productline",
                        verbose_name="product line",
                    ),
                ),
            ],
            options={
                "verbose_name": "first purchase of a product line",
                "verbose_name_plural": "first purchases of product lines",
                "indexes": [
                    models.Index(
                        fields=["first_date", "client", "line"], name="client_line_first_date_idx"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("client", "line"), name="client_line_first_uniq"
                    )
                ],
            },
        ),
        migrations.RunPython(create, drop),
    ]
