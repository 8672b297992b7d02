"""Indexes of the manager dashboard and the account manager's home, both databases
(docs/benchmarks.md, "Manager dashboard"):

- ``deal_won_closed``: the "deals won" card and per-manager columns (sales/dashboard.py) read
  the deals won in a period by close time; without it every deal was read (200 000: 90–150 ms
  a read, and the card reads two periods). On PostgreSQL it carries what the figures sum and
  group by.
- ``deal_owner_open``: an account manager's open deals in stage order — My day's deals without
  a next step, overdue or ageing (sales/digest.py), 20 at a time; without it the planner read
  every deal (a parallel scan of 200 000 rows, ≈35 ms) on every home page.
"""

from django.db import migrations

INDEXES = {
    "deal_won_closed": (
        "ON sales_deal (closed_at) {include} WHERE state = 'won'",
        "INCLUDE (amount, owner_id, client_id)",
    ),
    "deal_owner_open": ("ON sales_deal (owner_id, stage_entered_at, id) WHERE state = 'open'", ""),
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
    dependencies = [("sales", "0006_kanban_board_indexes")]

    operations = [migrations.RunPython(create, drop)]
