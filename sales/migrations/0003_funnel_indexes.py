"""Covering indexes for the sales funnel (sales/funnel.py), PostgreSQL only: its one grouped
read joins the deals created in a period to their stage log, and the forecast sums the open
deals by month of expected close; with these both are index-only reads (docs/benchmarks.md,
"Sales funnel"). SQLite has no INCLUDE; its reads use the tables as before."""

from django.db import migrations

POSTGRESQL = [
    "CREATE INDEX IF NOT EXISTS stage_log_funnel ON sales_stagelog (deal_id) "
    "INCLUDE (to_stage_id, from_stage_id, seconds_in_previous)",
    "CREATE INDEX IF NOT EXISTS deal_funnel_cohort ON sales_deal (pipeline_id, created_at) "
    "INCLUDE (id, state, lost_at_stage_id, refusal_id, amount, client_id, owner_id)",
    "CREATE INDEX IF NOT EXISTS deal_funnel_forecast ON sales_deal (pipeline_id, expected_close) "
    "INCLUDE (amount, probability, stage_id, client_id, owner_id) WHERE state = 'open'",
]
NAMES = ["stage_log_funnel", "deal_funnel_cohort", "deal_funnel_forecast"]


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
    dependencies = [("sales", "0002_seed_pipeline_refusals")]

    operations = [migrations.RunPython(create, drop)]
