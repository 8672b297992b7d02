"""The number of clients a manager's unfiltered list shows (``selectors.client_total``): on
PostgreSQL the sum of the tally its triggers keep, elsewhere a COUNT. It must equal a COUNT
after every kind of write — the list's deep pages are read backwards from that total, so one
client too many or too few would shift every row of them."""

import math

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import selectors, services
from clients.filters import SORTS
from clients.models import Client, ClientTally
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _exact() -> int:
    return Client.objects.count()


def test_the_total_follows_single_and_bulk_inserts_and_deletes(owner, outsider, manager):
    ClientFactory.create_batch(4, account_manager=owner)
    assert selectors.client_total() == _exact() == 4

    Client.objects.bulk_create(
        [Client(name=f"Bulk {i}", account_manager=outsider) for i in range(7)]
    )  # one INSERT of 7 rows
    assert selectors.client_total() == _exact() == 11

    services.client_create(actor=manager, data={"name": "Through the service", "kind": "company"})
    assert selectors.client_total() == _exact() == 12

    Client.objects.filter(name__startswith="Bulk ").exclude(name="Bulk 0").delete()
    assert selectors.client_total() == _exact() == 6

    Client.objects.get(name="Bulk 0").delete()
    assert selectors.client_total() == _exact() == 5


def test_a_transfer_does_not_change_the_total(owner, outsider, manager):
    clients = ClientFactory.create_batch(3, account_manager=owner)
    services.client_update(
        actor=manager, client=clients[0], data={"account_manager": outsider}
    )  # the manager hands one client over
    Client.objects.filter(pk=clients[1].pk).update(account_manager=outsider)  # a bulk transfer
    assert selectors.client_total() == _exact() == 3


def test_a_rolled_back_insert_is_not_counted(owner):
    ClientFactory(account_manager=owner)
    with pytest.raises(RuntimeError), transaction.atomic():
        ClientFactory.create_batch(3, account_manager=owner)
        assert selectors.client_total() == 4  # the writing transaction sees its own clients
        raise RuntimeError("abandon the import")
    assert selectors.client_total() == _exact() == 1


def test_the_tally_is_folded_and_stays_exact(owner, monkeypatch):
    monkeypatch.setattr(selectors, "TALLY_FOLD_ROWS", 3)
    for _ in range(6):
        ClientFactory(account_manager=owner)  # one INSERT statement each
    Client.objects.filter(pk=Client.objects.order_by("id").first().pk).delete()
    assert selectors.client_total() == _exact() == 5
    if connection.vendor == "postgresql":
        assert ClientTally.objects.count() == 1  # folded into one row by that read
        assert ClientTally.objects.get().delta == 5
    assert selectors.client_total() == 5


def test_a_truncate_empties_the_tally(owner):
    ClientFactory.create_batch(2, account_manager=owner)
    if connection.vendor == "postgresql":  # seed_demo --reset truncates the client tables
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as demo.reset does
            cursor.execute("TRUNCATE clients_client CASCADE")
    else:
        Client.objects.all().delete()
    assert selectors.client_total() == _exact() == 0
    ClientFactory(account_manager=owner)
    assert selectors.client_total() == 1


def test_the_managers_list_shows_the_total_without_counting_the_clients(
    manager_client, owner, outsider
):
    ClientFactory.create_batch(5, account_manager=owner)
    ClientFactory.create_batch(2, account_manager=outsider)
    for url in (reverse("clients:list"), reverse("clients:list") + "?sort=-last_contact"):
        with CaptureQueriesContext(connection) as ctx:
            response = manager_client.get(url)
        assert response.context["page"].paginator.count == 7
        assert 'id="client-count">7<' in response.content.decode()
        counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]
        if connection.vendor == "postgresql":
            assert not [sql for sql in counts if '"clients_client"' in sql], counts


def test_deep_pages_after_writes_show_exactly_the_ordered_rows(manager_client, owner, outsider):
    """Inserts, deletes and a transfer between page reads: every page of the manager's list
    (the second half read backwards from the tally's total) equals the plain ordered query."""
    ClientFactory.create_batch(9, account_manager=owner)
    url = reverse("clients:list")

    def check():
        expected = list(Client.objects.order_by(*SORTS["name"]).values_list("id", flat=True))
        per_page = 50
        last = max(1, math.ceil(len(expected) / per_page))
        for number in (1, last):
            page = manager_client.get(url, {"page": number}).context["page"]
            start = (number - 1) * per_page
            assert [c.pk for c in page.object_list] == expected[start : start + per_page]
            assert page.paginator.count == len(expected)

    Client.objects.bulk_create(
        [Client(name=f"Z bulk {i:03}", account_manager=outsider) for i in range(60)]
    )
    check()  # 69 clients: page 2 is the second half, read backwards
    Client.objects.filter(name__in=["Z bulk 000", "Z bulk 059"]).delete()
    check()
    Client.objects.filter(name="Z bulk 001").update(account_manager=owner)
    check()
