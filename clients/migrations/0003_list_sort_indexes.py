"""Indexes for the client list's sorts and its name search (see clients/filters.py).

PostgreSQL: NULLS-ordered b-tree indexes match the ORDER BYs exactly (a backward scan serves
the opposite direction), and a pg_trgm GIN index on UPPER(name) serves `name__icontains`
(Django compiles it to UPPER(name) LIKE UPPER(%s)). SQLite accepts no NULLS clause in an index
and has no trigram index; its plain indexes give the same NULL placement for these orders.
"""

from django.db import migrations

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS client_name_trgm_idx ON clients_client "
    "USING gin (UPPER(name::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS client_last_contact_idx ON clients_client "
    "(last_contact_at DESC NULLS LAST, id DESC)",
    "CREATE INDEX IF NOT EXISTS client_next_step_idx ON clients_client "
    "(next_step_date ASC NULLS LAST, id)",
    "CREATE INDEX IF NOT EXISTS client_abc_name_idx ON clients_client "
    "(abc_class ASC NULLS LAST, name, id)",
]
OTHER = [
    "CREATE INDEX IF NOT EXISTS client_last_contact_idx ON clients_client "
    "(last_contact_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS client_next_step_idx ON clients_client (next_step_date, id)",
    "CREATE INDEX IF NOT EXISTS client_abc_name_idx ON clients_client (abc_class, name, id)",
]
NAMES = [
    "client_name_trgm_idx",
    "client_last_contact_idx",
    "client_next_step_idx",
    "client_abc_name_idx",
]


def create(apps, schema_editor):
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else OTHER
    for sql in statements:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    for name in NAMES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0002_importjob")]

    operations = [migrations.RunPython(create, drop)]
