"""The current classes move from clients_client into segmentation_clientmetrics.

A run that reclassifies most clients rewrote 100 000 wide client rows and their 21 indexes
(9 s of a 17 s first run at 100 000 clients); the classes now live in the narrow per-client
table the run writes anyway. Existing classes are copied over (a row for every client that
has a lifecycle status), then clients/0004 drops the old columns.

Also drops the single-column indexes of ClassChange's two keys (the (client, -date) index and
the unique (run, client) constraint lead with them) and the database foreign-key constraints of
both tables' keys (see ClientMetrics: per-row checks and their row locks on clients_client).
"""

import django.db.models.deletion
from django.db import migrations, models

LIFECYCLE_CHOICES = [
    ("potential", "potential"),
    ("new", "new"),
    ("regular", "regular"),
    ("restored", "restored"),
    ("lost", "lost"),
]
COPY_POSTGRESQL = """
    INSERT INTO segmentation_clientmetrics
        (client_id, abc_class, xyz_class, lifecycle, in_window, turnover, margin,
         months_history, frequency)
    SELECT id, abc_class, xyz_class, lifecycle, false, 0, 0, 0, 0
    FROM clients_client WHERE lifecycle IS NOT NULL
    ON CONFLICT (client_id) DO UPDATE SET abc_class = excluded.abc_class,
        xyz_class = excluded.xyz_class, lifecycle = excluded.lifecycle
"""


def copy_classes(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    Metrics = apps.get_model("segmentation", "ClientMetrics")
    if schema_editor.connection.vendor == "postgresql":
        # check the new rows' foreign keys now, not at commit: the ALTER TABLEs that follow in
        # this transaction refuse a table with pending trigger events
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute(COPY_POSTGRESQL)
    else:
        existing = set(Metrics.objects.values_list("client_id", flat=True))
        rows = Client.objects.filter(lifecycle__isnull=False).values_list(
            "id", "abc_class", "xyz_class", "lifecycle"
        )
        new = []
        for client_id, abc, xyz, lifecycle in rows.iterator():
            if client_id in existing:
                Metrics.objects.filter(client_id=client_id).update(
                    abc_class=abc, xyz_class=xyz, lifecycle=lifecycle
                )
            else:
                new.append(
                    Metrics(client_id=client_id, abc_class=abc, xyz_class=xyz, lifecycle=lifecycle)
                )
        Metrics.objects.bulk_create(new, batch_size=1000)
    # figures without a status cannot come from a run; the next run writes them again
    Metrics.objects.filter(lifecycle__isnull=True).delete()


def copy_back(apps, schema_editor):
    Client = apps.get_model("clients", "Client")
    Metrics = apps.get_model("segmentation", "ClientMetrics")
    for row in Metrics.objects.values("client_id", "abc_class", "xyz_class", "lifecycle"):
        Client.objects.filter(pk=row.pop("client_id")).update(**row)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0003_list_sort_indexes"),
        ("segmentation", "0003_changes_report_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientmetrics",
            name="abc_class",
            field=models.CharField(
                blank=True,
                choices=[("A", "A"), ("B", "B"), ("C", "C")],
                max_length=1,
                null=True,
                verbose_name="ABC class",
            ),
        ),
        migrations.AddField(
            model_name="clientmetrics",
            name="xyz_class",
            field=models.CharField(
                blank=True,
                choices=[("X", "X"), ("Y", "Y"), ("Z", "Z")],
                max_length=1,
                null=True,
                verbose_name="XYZ class",
            ),
        ),
        migrations.AddField(
            model_name="clientmetrics",
            name="lifecycle",
            field=models.CharField(
                choices=LIFECYCLE_CHOICES,
                max_length=10,
                null=True,
                verbose_name="lifecycle status",
            ),
        ),
        migrations.RunPython(copy_classes, copy_back),
        migrations.AlterField(
            model_name="clientmetrics",
            name="lifecycle",
            field=models.CharField(
                choices=LIFECYCLE_CHOICES,
                max_length=10,
                verbose_name="lifecycle status",
            ),
        ),
        migrations.AlterField(
            model_name="clientmetrics",
            name="client",
            field=models.OneToOneField(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="segmentation",
                serialize=False,
                to="clients.client",
                verbose_name="client",
            ),
        ),
        migrations.AddIndex(
            model_name="clientmetrics",
            index=models.Index(fields=["abc_class", "xyz_class"], name="segmetrics_abc_xyz_idx"),
        ),
        migrations.AddIndex(
            model_name="clientmetrics",
            index=models.Index(fields=["lifecycle"], name="segmetrics_lifecycle_idx"),
        ),
        migrations.AddIndex(
            model_name="clientmetrics",
            index=models.Index(fields=["abc_rank"], name="segmetrics_rank_idx"),
        ),
        migrations.AlterField(
            model_name="classchange",
            name="client",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="class_changes",
                to="clients.client",
                verbose_name="client",
            ),
        ),
        migrations.AlterField(
            model_name="classchange",
            name="run",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="changes_set",
                to="segmentation.segmentationrun",
                verbose_name="run",
            ),
        ),
    ]
