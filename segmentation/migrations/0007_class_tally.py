"""Clients per combination of current classes, kept by PostgreSQL triggers
(segmentation.models.ClassTally).

Statement-level triggers with transition tables on ``segmentation_clientmetrics``: a run's
upsert (one INSERT … ON CONFLICT DO UPDATE) appends at most one row per combination for its
inserted rows and one per combination its updates changed, its anti-join DELETE likewise, a
client deleted through Django one row. Appended, not updated in place: writers never wait on
each other here. TRUNCATE empties the tally. The first rows are the counts when the migration
runs (creating the triggers locks out writers until it commits).

Other databases (the embedded SQLite default) count the class rows instead.
"""

from django.db import migrations, models


COLUMNS = "abc_class, xyz_class, lifecycle"
INSERT = f"INSERT INTO segmentation_classtally ({COLUMNS}, delta) "
FUNCTIONS = {
    "segmentation_tally_insert": INSERT
    + f"SELECT {COLUMNS}, COUNT(*) FROM tally_new GROUP BY {COLUMNS}",
    "segmentation_tally_delete": INSERT
    + f"SELECT {COLUMNS}, -COUNT(*) FROM tally_old GROUP BY {COLUMNS}",
    # an update that changed figures only adds nothing
    "segmentation_tally_update": INSERT
    + f"SELECT {COLUMNS}, SUM(d) FROM (SELECT {COLUMNS}, 1 AS d FROM tally_new "
    f"UNION ALL SELECT {COLUMNS}, -1 FROM tally_old) AS changes "
    f"GROUP BY {COLUMNS} HAVING SUM(d) <> 0",
    "segmentation_tally_truncate": "DELETE FROM segmentation_classtally",
}
TRIGGERS = [
    "CREATE TRIGGER segmentation_tally_insert AFTER INSERT ON segmentation_clientmetrics "
    "REFERENCING NEW TABLE AS tally_new FOR EACH STATEMENT "
    "EXECUTE FUNCTION segmentation_tally_insert()",
    "CREATE TRIGGER segmentation_tally_delete AFTER DELETE ON segmentation_clientmetrics "
    "REFERENCING OLD TABLE AS tally_old FOR EACH STATEMENT "
    "EXECUTE FUNCTION segmentation_tally_delete()",
    "CREATE TRIGGER segmentation_tally_update AFTER UPDATE ON segmentation_clientmetrics "
    "REFERENCING OLD TABLE AS tally_old NEW TABLE AS tally_new FOR EACH STATEMENT "
    "EXECUTE FUNCTION segmentation_tally_update()",
    "CREATE TRIGGER segmentation_tally_truncate AFTER TRUNCATE ON segmentation_clientmetrics "
    "FOR EACH STATEMENT EXECUTE FUNCTION segmentation_tally_truncate()",
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
        INSERT + f"SELECT {COLUMNS}, COUNT(*) FROM segmentation_clientmetrics GROUP BY {COLUMNS}"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in FUNCTIONS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON segmentation_clientmetrics")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0006_metrics_related_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClassTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "abc_class",
                    models.CharField(blank=True, max_length=1, null=True, verbose_name="ABC class"),
                ),
                (
                    "xyz_class",
                    models.CharField(blank=True, max_length=1, null=True, verbose_name="XYZ class"),
                ),
                ("lifecycle", models.CharField(max_length=10, verbose_name="lifecycle status")),
                ("delta", models.BigIntegerField(verbose_name="clients added (negative: removed)")),
            ],
            options={
                "verbose_name": "class tally",
                "verbose_name_plural": "class tally",
            },
        ),
        migrations.RunPython(create, drop),
    ]
