"""Indexes for the branches of the client search besides the name (clients/search.py), so
each read of its union is an index read on PostgreSQL: the start of the
tax id (a pattern b-tree: the default collation's b-tree serves no LIKE), the email of a
client or a contact regardless of case (``email__iexact`` is ``UPPER(email) = UPPER(%s)``),
and the end of a phone number (a trigram index serves ``LIKE '%digits'``). SQLite has none of
these index kinds; its search reads the tables as before."""

from django.db import migrations

POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS client_inn_pattern_idx ON clients_client "
    "(inn varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS client_email_upper_idx ON clients_client (UPPER(email::text))",
    "CREATE INDEX IF NOT EXISTS contact_email_upper_idx ON clients_contactperson "
    "(UPPER(email::text))",
    "CREATE INDEX IF NOT EXISTS client_phone_trgm_idx ON clients_client "
    "USING gin (phone_digits gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS contact_phone_trgm_idx ON clients_contactperson "
    "USING gin (phone_digits gin_trgm_ops)",
]
NAMES = [
    "client_inn_pattern_idx",
    "client_email_upper_idx",
    "contact_email_upper_idx",
    "client_phone_trgm_idx",
    "contact_phone_trgm_idx",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in POSTGRESQL:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in NAMES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0008_date_range_new_fields")]

    operations = [migrations.RunPython(create, drop)]
