"""Extended statistics on the deals' stage and state, PostgreSQL only: the open deals are a tenth
of the deals but nearly half of them sit in the first stage, so the planner, multiplying the two
columns' separate frequencies, expected ~950 open deals in it where there are ~9 000. With the
combined frequencies (MCV) it reads an account manager's column page in the stage's order
through the board's index and stops after 20 matches, instead of hashing every open deal of the
stage against the account manager's clients (docs/benchmarks.md, "Sales pipeline: board and
moves")."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE STATISTICS IF NOT EXISTS deal_stage_state (mcv) ON stage_id, state FROM sales_deal"
    )
    schema_editor.execute("ANALYZE sales_deal")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP STATISTICS IF EXISTS deal_stage_state")


class Migration(migrations.Migration):
    dependencies = [("sales", "0007_dashboard_indexes")]

    operations = [migrations.RunPython(create, drop)]
