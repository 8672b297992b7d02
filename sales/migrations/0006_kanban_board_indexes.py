"""Indexes of the pipeline board (sales/board.py), both databases: an open column's cards are
read longest in the stage first and its figures summed from the open deals' partial index
(with the amount and probability carried in it on PostgreSQL); a closed column's cards and
figures are the deals closed in the last 30 days, read by close time. Without them the board
scanned every deal of the pipeline (200 000) per column (docs/benchmarks.md, "Sales
pipeline")."""

from django.db import migrations

INDEXES = {
    "deal_board_open": (
        "ON sales_deal (stage_id, stage_entered_at, id) {include} WHERE state = 'open'",
        "INCLUDE (pipeline_id, amount, probability, client_id, owner_id, next_step_date)",
    ),
    "deal_board_closed": (
        "ON sales_deal (stage_id, closed_at) {include} WHERE state <> 'open'",
        "INCLUDE (pipeline_id, amount, probability, client_id, owner_id)",
    ),
}


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, (sql, include) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} " + sql.format(include=include if postgres else "")
        )


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("sales", "0005_kanban_digest")]

    operations = [migrations.RunPython(create, drop)]
