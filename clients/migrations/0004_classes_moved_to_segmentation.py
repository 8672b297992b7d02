"""Drop the class columns of clients_client: segmentation/0004 copied them into
segmentation_clientmetrics, where a run now writes them."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0003_list_sort_indexes"),
        ("segmentation", "0004_current_classes"),
    ]

    operations = [
        # made by 0003 with raw SQL (a NULLS LAST order on PostgreSQL)
        migrations.RunSQL(
            "DROP INDEX IF EXISTS client_abc_name_idx",
            "CREATE INDEX IF NOT EXISTS client_abc_name_idx ON clients_client (abc_class, name, id)",
        ),
        migrations.RemoveIndex(model_name="client", name="client_abc_xyz_idx"),
        migrations.RemoveIndex(model_name="client", name="client_lifecycle_idx"),
        migrations.RemoveIndex(model_name="client", name="client_am_cadence_idx"),
        migrations.RemoveField(model_name="client", name="abc_class"),
        migrations.RemoveField(model_name="client", name="xyz_class"),
        migrations.RemoveField(model_name="client", name="lifecycle"),
    ]
