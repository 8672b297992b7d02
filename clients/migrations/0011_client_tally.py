"""The number of clients kept by PostgreSQL triggers (clients.models.ClientTally).

Statement-level triggers with transition tables: one row per INSERT, COPY or DELETE statement
on ``clients_client`` (a bulk import of 10 000 clients appends a handful of rows, not 10 000),
appended rather than updated in place so that concurrent writers (an import running for
minutes in one transaction, a client created on a page) never wait on a shared counter row.
A TRUNCATE of the client table (``seed_demo --reset``, a test database flush) empties the
tally with it. The first row is the number of clients when the migration runs: creating the
triggers locks out writers until the migration commits, so nothing is counted twice or lost.

Other databases (the embedded SQLite default) count the clients instead: no triggers there.
"""

from django.db import migrations, models

FUNCTIONS = {
    "clients_tally_insert": "INSERT INTO clients_clienttally (delta) "
    "SELECT COUNT(*) FROM tally_rows HAVING COUNT(*) > 0",
    "clients_tally_delete": "INSERT INTO clients_clienttally (delta) "
    "SELECT -COUNT(*) FROM tally_rows HAVING COUNT(*) > 0",
    "clients_tally_truncate": "DELETE FROM clients_clienttally",
}
TRIGGERS = [
    "CREATE TRIGGER clients_tally_insert AFTER INSERT ON clients_client "
    "REFERENCING NEW TABLE AS tally_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION clients_tally_insert()",
    "CREATE TRIGGER clients_tally_delete AFTER DELETE ON clients_client "
    "REFERENCING OLD TABLE AS tally_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION clients_tally_delete()",
    "CREATE TRIGGER clients_tally_truncate AFTER TRUNCATE ON clients_client "
    "FOR EACH STATEMENT EXECUTE FUNCTION clients_tally_truncate()",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, body in FUNCTIONS.items():
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body}; RETURN NULL; END $$"
        )
    for sql in TRIGGERS:
        schema_editor.execute(sql)
    schema_editor.execute(
        "INSERT INTO clients_clienttally (delta) SELECT COUNT(*) FROM clients_client"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in FUNCTIONS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON clients_client")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):
    dependencies = [("clients", "0010_contact_language")]

    operations = [
        migrations.CreateModel(
            name="ClientTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "delta",
                    models.BigIntegerField(verbose_name="clients added (negative: removed)"),
                ),
            ],
            options={"verbose_name": "client tally", "verbose_name_plural": "client tally"},
        ),
        migrations.RunPython(create, drop),
    ]
