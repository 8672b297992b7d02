"""PostgreSQL: the account manager's index of the client list also carries each client's last
contact and creation time (INCLUDE), so My day's "overdue for contact" reads an account
manager's clients by an index-only scan of their own entries (at 1 000 000 clients: ~1 500
buffers instead of a bitmap heap scan of ~4 500 client pages, and no parallel plan). The list's
own use of the index (an account manager's clients sorted by name) is unchanged. Other
databases keep the plain index (SQLite has no INCLUDE).
"""

from django.db import migrations

NAME = "client_am_name_idx"
KEY = "(account_manager_id, name, id)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")
        schema_editor.execute(
            f"CREATE INDEX {NAME} ON clients_client {KEY} INCLUDE (last_contact_at, created_at)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")
        schema_editor.execute(f"CREATE INDEX {NAME} ON clients_client {KEY}")


class Migration(migrations.Migration):
    dependencies = [("clients", "0012_segment_index_with_id")]

    operations = [migrations.RunPython(create, drop)]
