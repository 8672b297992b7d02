"""Clients per (target segment, ABC class) kept by PostgreSQL triggers
(segmentation.models.SegmentClassTally): the client × product board's group sizes.

Statement-level triggers with transition tables, as the class tally (0007) does:
- ``clients_client``: an insert or delete adds or removes its clients with a segment at
  (segment, their class); an update that changed the segment moves them between segments;
  a TRUNCATE empties the tally;
- ``segmentation_clientmetrics``: an inserted class row moves its client from "no class" to
  its class, a deleted one back, an update that changed the ABC class moves it between
  classes (a run's other figures change nothing here); a TRUNCATE leaves every client of a
  segment with no class.
Appended, not updated in place: writers never wait on each other here. The first rows are the
counts when the migration runs (it locks out writers of both tables until it commits).

Other databases (the embedded SQLite default) count the clients instead.
"""

from django.db import migrations, models


TALLY = "INSERT INTO segmentation_segmentclasstally (segment_id, abc_class, delta) "
METRICS = "segmentation_clientmetrics"
CHANGED_SEGMENT = "n.target_segment_id IS DISTINCT FROM o.target_segment_id"


def _moves(rows: str) -> str:
    """Sum the (client, abc, d) moves ``rows`` per (segment, class) of their clients."""
    return (
        TALLY + "SELECT c.target_segment_id, x.abc, SUM(x.d) FROM (" + rows + ") x "
        "JOIN clients_client c ON c.id = x.client_id WHERE c.target_segment_id IS NOT NULL "
        "GROUP BY c.target_segment_id, x.abc HAVING SUM(x.d) <> 0"
    )


FUNCTIONS = {
    "segment_tally_client_insert": TALLY
    + "SELECT n.target_segment_id, m.abc_class, COUNT(*) FROM new_rows n "
    f"LEFT JOIN {METRICS} m ON m.client_id = n.id WHERE n.target_segment_id IS NOT NULL "
    "GROUP BY n.target_segment_id, m.abc_class",
    "segment_tally_client_delete": TALLY
    + "SELECT o.target_segment_id, m.abc_class, -COUNT(*) FROM old_rows o "
    f"LEFT JOIN {METRICS} m ON m.client_id = o.id WHERE o.target_segment_id IS NOT NULL "
    "GROUP BY o.target_segment_id, m.abc_class",
    "segment_tally_client_update": TALLY + "SELECT seg, abc, SUM(d) FROM ("
    "SELECT n.target_segment_id AS seg, m.abc_class AS abc, 1 AS d FROM new_rows n "
    f"JOIN old_rows o ON o.id = n.id LEFT JOIN {METRICS} m ON m.client_id = n.id "
    f"WHERE {CHANGED_SEGMENT} AND n.target_segment_id IS NOT NULL "
    "UNION ALL SELECT o.target_segment_id, m.abc_class, -1 FROM new_rows n "
    f"JOIN old_rows o ON o.id = n.id LEFT JOIN {METRICS} m ON m.client_id = o.id "
    f"WHERE {CHANGED_SEGMENT} AND o.target_segment_id IS NOT NULL"
    ") changes GROUP BY seg, abc HAVING SUM(d) <> 0",
    "segment_tally_client_truncate": "DELETE FROM segmentation_segmentclasstally",
    "segment_tally_metrics_insert": _moves(
        "SELECT client_id, abc_class AS abc, 1 AS d FROM new_rows "
        "UNION ALL SELECT client_id, NULL, -1 FROM new_rows"
    ),
    "segment_tally_metrics_delete": _moves(
        "SELECT client_id, abc_class AS abc, -1 AS d FROM old_rows "
        "UNION ALL SELECT client_id, NULL, 1 FROM old_rows"
    ),
    # unchanged classes cancel out in the sum per (segment, class)
    "segment_tally_metrics_update": _moves(
        "SELECT client_id, abc_class AS abc, 1 AS d FROM new_rows "
        "UNION ALL SELECT client_id, abc_class, -1 FROM old_rows"
    ),
    "segment_tally_metrics_truncate": "DELETE FROM segmentation_segmentclasstally; "
    + TALLY
    + "SELECT target_segment_id, NULL, COUNT(*) FROM clients_client "
    "WHERE target_segment_id IS NOT NULL GROUP BY target_segment_id",
}
TRIGGERS = {
    "segment_tally_client_insert": "AFTER INSERT ON clients_client "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "segment_tally_client_delete": "AFTER DELETE ON clients_client "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "segment_tally_client_update": "AFTER UPDATE ON clients_client "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "segment_tally_client_truncate": "AFTER TRUNCATE ON clients_client FOR EACH STATEMENT",
    "segment_tally_metrics_insert": f"AFTER INSERT ON {METRICS} "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
    "segment_tally_metrics_delete": f"AFTER DELETE ON {METRICS} "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "segment_tally_metrics_update": f"AFTER UPDATE ON {METRICS} "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT",
    "segment_tally_metrics_truncate": f"AFTER TRUNCATE ON {METRICS} FOR EACH STATEMENT",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"LOCK TABLE clients_client, {METRICS} IN SHARE MODE")
    for name, body in FUNCTIONS.items():
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body}; RETURN NULL; END $$"
        )
        schema_editor.execute(f"CREATE TRIGGER {name} {TRIGGERS[name]} EXECUTE FUNCTION {name}()")
    schema_editor.execute(
        TALLY + "SELECT c.target_segment_id, m.abc_class, COUNT(*) FROM clients_client c "
        f"LEFT JOIN {METRICS} m ON m.client_id = c.id WHERE c.target_segment_id IS NOT NULL "
        "GROUP BY c.target_segment_id, m.abc_class"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, trigger in TRIGGERS.items():
        table = trigger.split(" ON ")[1].split()[0]
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0008_client_classes_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="SegmentClassTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("segment_id", models.BigIntegerField(verbose_name="target segment")),
                (
                    "abc_class",
                    models.CharField(blank=True, max_length=1, null=True, verbose_name="ABC class"),
                ),
                ("delta", models.BigIntegerField(verbose_name="clients added (negative: removed)")),
            ],
            options={
                "verbose_name": "segment class tally",
                "verbose_name_plural": "segment class tally",
            },
        ),
        migrations.RunPython(create, drop),
    ]
