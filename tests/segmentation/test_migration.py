"""segmentation/0004 + clients/0004 move the current classes out of clients_client: the
classes of an existing base survive the move, and moving back restores them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("clients", "0003_list_sort_indexes"), ("segmentation", "0003_changes_report_index")]
AFTER = [
    ("clients", "0004_classes_moved_to_segmentation"),
    ("segmentation", "0004_current_classes"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_classes_move_to_the_class_table_and_back():
    try:
        apps = migrate(BEFORE)
        Client = apps.get_model("clients", "Client")
        Metrics = apps.get_model("segmentation", "ClientMetrics")
        classified = Client.objects.create(
            name="Classified", abc_class="A", xyz_class="X", lifecycle="regular"
        )
        with_figures = Client.objects.create(name="With figures", abc_class="C", lifecycle="lost")
        Metrics.objects.create(client_id=with_figures.pk, turnover=12, months_history=3)
        potential = Client.objects.create(name="Potential", lifecycle="potential")
        Client.objects.create(name="Never run")

        apps = migrate(AFTER)
        Metrics = apps.get_model("segmentation", "ClientMetrics")
        rows = {
            m.client_id: (m.abc_class, m.xyz_class, m.lifecycle, m.turnover)
            for m in Metrics.objects.all()
        }
        assert rows == {
            classified.pk: ("A", "X", "regular", 0),
            with_figures.pk: ("C", None, "lost", 12),  # its figures kept
            potential.pk: (None, None, "potential", 0),
        }  # no row for the client no run has seen

        apps = migrate(BEFORE)
        Client = apps.get_model("clients", "Client")
        back = {c.name: (c.abc_class, c.xyz_class, c.lifecycle) for c in Client.objects.all()}
        assert back == {
            "Classified": ("A", "X", "regular"),
            "With figures": ("C", None, "lost"),
            "Potential": (None, None, "potential"),
            "Never run": (None, None, None),
        }
    finally:
        # leave the schema as the other tests expect it, pass or fail: every app at its latest
        # migration (going back unapplied the later ones that depend on these two apps)
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
