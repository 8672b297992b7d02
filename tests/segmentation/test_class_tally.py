"""Clients per combination of current classes (``selectors.clients_in_classes``): on
PostgreSQL the sum of the tally its triggers keep, elsewhere a COUNT. A manager's list
filtered by classes alone shows it as its total and reads its deep pages backwards from it,
so it must equal a COUNT of the class rows after every run, update and delete."""

from datetime import date
from itertools import product

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Client
from segmentation.models import ClassTally, ClientMetrics
from segmentation.selectors import clients_in_classes
from tests.factories import ClientFactory
from tests.segmentation.conftest import monthly, recompute, sale

ABC = ["A", "B", "C"]
XYZ = ["X", "Y", "Z"]
LIFECYCLE = ["potential", "new", "regular", "restored", "lost"]


def assert_every_combination_exact() -> None:
    """Every filter the list offers by classes (alone and combined) against a COUNT."""
    for abc, xyz, lifecycle in product([None, *ABC], [None, *XYZ], [None, *LIFECYCLE]):
        classes = {
            k: v
            for k, v in {"abc_class": abc, "xyz_class": xyz, "lifecycle": lifecycle}.items()
            if v is not None
        }
        if classes:
            expected = ClientMetrics.objects.filter(**classes).count()
            assert clients_in_classes(**classes) == expected, classes


def test_runs_updates_and_deletes_keep_the_counts_exact(base, owner):
    recompute()  # the first run inserts every class row
    assert clients_in_classes(lifecycle="regular") == 2
    assert_every_combination_exact()

    # a year later every client but "Regular" has lost its customers: the run updates rows
    monthly(base["regular"], 2026, range(1, 13), 500)
    recompute(as_of=date(2027, 1, 15))
    assert clients_in_classes(abc_class="A", lifecycle="regular") == 1
    assert_every_combination_exact()

    recompute(as_of=date(2027, 1, 15))  # the same run again: nothing changes
    assert_every_combination_exact()

    base["lost"].delete()  # Django deletes the client's class row with it
    Client.objects.filter(pk=base["new"].pk).delete()
    ClientMetrics.objects.filter(client=base["regular"]).update(lifecycle="lost", xyz_class="Y")
    assert_every_combination_exact()

    newcomer = ClientFactory(account_manager=owner)  # no class row until the next run
    sale(newcomer, date(2027, 1, 5), 100)
    recompute(as_of=date(2027, 1, 15))
    assert_every_combination_exact()


def test_an_update_of_figures_only_adds_no_tally_rows(base):
    recompute()
    before = ClassTally.objects.count()
    ClientMetrics.objects.update(turnover=1)
    assert ClassTally.objects.count() == before
    assert_every_combination_exact()


def test_the_tally_is_folded_and_stays_exact(base, monkeypatch):
    from segmentation import selectors

    recompute()
    ClientMetrics.objects.filter(client=base["other"]).update(lifecycle="lost")
    ClientMetrics.objects.filter(client=base["other"]).update(lifecycle="regular")
    monkeypatch.setattr(selectors, "TALLY_FOLD_ROWS", 1)
    clients_in_classes(abc_class="A")  # folds
    if connection.vendor == "postgresql":
        combinations = ClientMetrics.objects.values("abc_class", "xyz_class", "lifecycle")
        assert ClassTally.objects.count() == combinations.distinct().count()
    assert_every_combination_exact()


def test_a_truncate_empties_the_tally(base):
    recompute()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE segmentation_clientmetrics")
        assert not ClassTally.objects.exists()
    else:
        ClientMetrics.objects.all().delete()
    assert clients_in_classes(lifecycle="regular") == 0
    recompute()
    assert_every_combination_exact()


def test_the_managers_class_filtered_list_shows_the_tally(base, manager_client):
    recompute()
    url = reverse("clients:list")
    for params, expected in (
        ({"lifecycle": "regular"}, {"Regular", "Other"}),
        ({"abc": "C", "lifecycle": "lost"}, {"Lost"}),
        ({"abc": "A", "xyz": "X", "lifecycle": "regular", "sort": "-name"}, {"Regular"}),
    ):
        with CaptureQueriesContext(connection) as ctx:
            page = manager_client.get(url, params).context["page"]
        assert page.paginator.count == len(expected), params
        assert {c.name for c in page.object_list} == expected
        if connection.vendor == "postgresql":
            counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]
            assert not [s for s in counts if "segmentation_clientmetrics" in s], counts
