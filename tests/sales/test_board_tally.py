"""The client × product board's group sizes: on PostgreSQL the (segment, ABC class) tally its
triggers keep (``segmentation.SegmentClassTally``), elsewhere a grouped count. They equal a
COUNT of the clients after every kind of write to clients and class rows, and a manager's
pages read from the tally hold the same clients as pages counted from the base."""

import pytest
from django.db import connection
from django.db.models import Count

from clients.models import Client
from sales import product_board
from segmentation import selectors
from segmentation.models import ClientMetrics, SegmentClassTally
from tests.conftest import client_for
from tests.factories import ClientFactory, TargetSegmentFactory

pytestmark = pytest.mark.django_db


def _exact():
    rows = (
        Client.objects.filter(target_segment__isnull=False)
        .values_list("target_segment_id", "metrics__abc_class")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(seg, abc or None): n for seg, abc, n in rows}


def _tally():
    counts = {(seg, abc): n for seg, abc, n in selectors.segment_class_counts()}
    assert counts == _exact()
    return counts


def test_the_tally_follows_client_and_class_writes(manager, owner, monkeypatch):
    north, south = TargetSegmentFactory(name="North"), TargetSegmentFactory(name="South")
    a = ClientFactory(target_segment=north, abc_class="A", account_manager=owner)
    b = ClientFactory(target_segment=north)
    ClientFactory(target_segment=None, abc_class="B")  # no segment: not on the board
    assert _tally() == {(north.pk, "A"): 1, (north.pk, None): 1}

    Client.objects.bulk_create([Client(name=f"Bulk {i}", target_segment=south) for i in range(5)])
    b.target_segment = south  # a segment changed through save()
    b.save()
    Client.objects.filter(name="Bulk 0").update(target_segment=None)  # a bulk edit
    assert _tally() == {(north.pk, "A"): 1, (south.pk, None): 5}

    ClientMetrics.objects.create(client=b, abc_class="C", lifecycle="regular")  # a first run
    ClientMetrics.objects.filter(client=a).update(abc_class="B")  # a run moved a class
    ClientMetrics.objects.filter(client=a).update(turnover=10)  # figures only: no move
    assert _tally() == {(north.pk, "B"): 1, (south.pk, "C"): 1, (south.pk, None): 4}

    ClientMetrics.objects.filter(client=b).delete()
    a.delete()  # its class row goes with it
    Client.objects.filter(name="Bulk 1").delete()
    assert _tally() == {(south.pk, None): 4}

    monkeypatch.setattr(selectors, "TALLY_FOLD_ROWS", 2)
    _tally()  # folds
    if connection.vendor == "postgresql":
        assert SegmentClassTally.objects.count() == 1
    assert _tally() == {(south.pk, None): 4}


def test_a_managers_pages_from_the_tally_equal_the_counted_ones(manager):
    north, south = TargetSegmentFactory(name="North"), TargetSegmentFactory(name="South")
    for i in range(7):
        ClientFactory(
            name=f"N{i}", target_segment=north, abc_class="ABCA"[i % 4] if i % 3 else None
        )
        ClientFactory(name=f"S{i}", target_segment=south, abc_class="B" if i % 2 else "C")
    base = product_board.board_base(manager)
    for tally, qs in [
        ({"segment_id": None, "abc": None}, base),
        ({"segment_id": south.pk, "abc": None}, base.filter(target_segment=south)),
        ({"segment_id": None, "abc": "B"}, product_board.filter_abc(base, "B")),
        (
            {"segment_id": north.pk, "abc": "none"},
            product_board.filter_abc(base, "none").filter(target_segment=north),
        ),
    ]:
        for number in (1, 2, 3):
            counted, _groups = product_board.board_page(qs, number=number, per_page=4)
            tallied, _groups = product_board.board_page(qs, number=number, per_page=4, tally=tally)
            assert [c.pk for c in tallied.object_list] == [c.pk for c in counted.object_list]
            assert tallied.paginator.count == counted.paginator.count


def test_the_page_uses_the_tally_for_a_manager_only(manager, owner):
    segment = TargetSegmentFactory(name="North")
    ClientFactory(name="Mine", target_segment=segment, account_manager=owner, abc_class="A")
    ClientFactory(name="Other", target_segment=segment, abc_class="A")
    page = client_for(manager).get("/sales/products/?abc=A").content.decode()
    assert "Mine" in page and "Other" in page
    page = client_for(owner).get("/sales/products/?abc=A").content.decode()
    assert "Mine" in page and "Other" not in page
    page = client_for(manager).get(f"/sales/products/?am={owner.pk}").content.decode()
    assert "Mine" in page and "Other" not in page
