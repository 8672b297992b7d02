"""PostgreSQL: a covering index of the class table by client (INCLUDE the classes and the ABC
rank), so the pages that read an account manager's clients' classes one primary-key probe at
a time — My day's cadence per class, the class filters and ABC sort of their list, their
matrix — read the index only, not the table's rows (at 1 000 000 clients: ~20–25 % fewer
buffers per page, and My day's plans no longer go parallel). Not the turnover: a run that
changes a client's figures but not its classes or rank may still update its row in place
(HOT). Measured write cost in docs/benchmarks.md ("Pages at 1 000 000 clients"). Other
databases: none (SQLite has no INCLUDE; its primary key serves).
"""

from django.db import migrations

NAME = "segmetrics_client_classes_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON segmentation_clientmetrics (client_id) "
            "INCLUDE (abc_class, xyz_class, lifecycle, abc_rank)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0007_class_tally")]

    operations = [migrations.RunPython(create, drop)]
