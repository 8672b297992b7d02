"""Each client's settlements by year and month (``clients.ClientYear``), kept by database
triggers, equal a from-scratch count and sum of the settlements after every write path — the
form, the API, the bulk import (new and re-imported rows), an edit of a settlement's date,
amount or client (one row, a bulk UPDATE), deletions (one, several, a client's cascade), a
rolled-back write and the rebuild command — and the per-client sums of a period read from them
(``client_years.per_client``, the period report's) equal the settlements' own sums for periods
of whole months, of parts of months, across years, and a month to date with and without a
settlement dated after it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from clients import client_years, services
from clients.models import Client, ClientYear, Settlement
from crm.periods import Period
from tests.conftest import client_for
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _exact():
    stored = client_years.stored()
    assert stored == client_years.from_scratch()
    return stored


def test_the_form_the_api_and_the_service_add_their_settlement(manager, owner, owner_client):
    client = ClientFactory(account_manager=owner)
    response = client_for(manager).post(
        reverse("clients:settlement_create", args=[client.pk]),
        {"date": "2026-01-10", "amount": "100.50"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = {"client": client.pk, "date": "2026-01-31", "amount": "-0.50"}
    api = owner_client.post("/api/settlements/", row, content_type="application/json")
    assert api.status_code == 201
    services.settlement_record(
        actor=manager, client=client, product=None, date=date(2025, 12, 1), amount=Decimal("7")
    )
    assert _exact() == {
        (client.pk, 2026, 1): (2, Decimal("100.00")),
        (client.pk, 2025, 12): (1, Decimal("7.00")),
    }
    row = ClientYear.objects.get(client_id=client.pk, year=2026)
    assert (row.n01, row.c01, row.n02, row.c02) == (2, 10000, 0, 0)


def test_the_bulk_import_new_and_re_imported_rows(owner, import_settlements):
    upload = import_settlements
    a = ClientFactory(inn="7701234567", account_manager=owner)
    b = ClientFactory(inn="7702345678", account_manager=None)
    upload(
        "external_id;client_inn;date;amount\n"
        "e1;7701234567;10.01.2026;10\n"
        "e2;7701234567;05.02.2026;20\n"
        "e3;7702345678;01.02.2026;30\n"
    )
    assert _exact() == {
        (a.pk, 2026, 1): (1, Decimal(10)),
        (a.pk, 2026, 2): (1, Decimal(20)),
        (b.pk, 2026, 2): (1, Decimal(30)),
    }
    # re-imported: e2 to another year and amount, e3 to the other client
    upload(
        "external_id;client_inn;date;amount\ne2;7701234567;01.03.2027;25\ne3;7701234567;01.02.2026;30\n"
    )
    assert _exact() == {
        (a.pk, 2026, 1): (1, Decimal(10)),
        (a.pk, 2026, 2): (1, Decimal(30)),
        (a.pk, 2027, 3): (1, Decimal(25)),
    }
    assert not ClientYear.objects.filter(client_id=b.pk).exists()  # its counts came to zero


def test_edits_deletions_a_cascade_and_a_rolled_back_write(manager, owner):
    a, b = ClientFactory(account_manager=owner), ClientFactory(account_manager=None)
    s = {
        key: Settlement.objects.create(client=client, date=day, amount=amount)
        for key, client, day, amount in [
            ("a1", a, date(2026, 1, 10), 100),
            ("a2", a, date(2026, 1, 31), 50),
            ("a3", a, date(2026, 12, 31), -20),
            ("b1", b, date(2025, 1, 1), 0),  # a purchase of zero counts
        ]
    }
    assert _exact()[(a.pk, 2026, 1)] == (2, Decimal(150))
    assert _exact()[(b.pk, 2025, 1)] == (1, Decimal(0))
    s["a2"].date = date(2027, 1, 1)  # into the next year (save)
    s["a2"].save()
    Settlement.objects.filter(pk=s["a1"].pk).update(amount=Decimal("99.99"))
    Settlement.objects.filter(pk=s["a3"].pk).update(client=b)
    assert _exact() == {
        (a.pk, 2026, 1): (1, Decimal("99.99")),
        (a.pk, 2027, 1): (1, Decimal(50)),
        (b.pk, 2026, 12): (1, Decimal(-20)),
        (b.pk, 2025, 1): (1, Decimal(0)),
    }
    Settlement.objects.filter(client=b).update(amount=Decimal(0))  # unchanged rows are no change
    with pytest.raises(RuntimeError), transaction.atomic():
        Settlement.objects.create(client=a, date=date(2026, 5, 5), amount=1)
        raise RuntimeError
    services.record_delete(actor=manager, instance=Settlement.objects.get(pk=s["a1"].pk))
    assert not ClientYear.objects.filter(client_id=a.pk, year=2026).exists()
    Settlement.objects.filter(pk__in=[s["b1"].pk, s["a3"].pk]).delete()
    assert _exact() == {(a.pk, 2027, 1): (1, Decimal(50))}
    assert set(ClientYear.objects.values_list("client_id", "year")) == {(a.pk, 2027)}
    Client.objects.filter(pk=a.pk).delete()  # the cascade deletes its settlements, and the row
    assert _exact() == {}
    assert not ClientYear.objects.exists()


def test_the_rebuild_command_restores_the_rows(owner):
    a = ClientFactory(account_manager=owner)
    for day in (1, 2, 3):
        Settlement.objects.create(client=a, date=date(2026, 1, day), amount=day)
    expected = _exact()
    ClientYear.objects.all().delete()
    ClientYear.objects.create(client_id=a.pk, year=2020, n05=9, c05=9)
    call_command("rebuild_client_years", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _exact() == expected == {(a.pk, 2026, 1): (3, Decimal(6))}


def test_month_parts_takes_a_month_to_date_when_nothing_is_dated_after_it(owner):
    client = ClientFactory(account_manager=owner)
    Settlement.objects.create(client=client, date=date(2026, 12, 1), amount=5)
    parts = client_years.month_parts
    ytd = Period(date(2026, 1, 1), date(2026, 12, 2))
    every_month = [date(2026, m, 1) for m in range(1, 13)]
    assert parts(ytd) == (every_month, [])
    # a day of the month outside the period holds a settlement: those days are read raw
    Settlement.objects.create(client=client, date=date(2026, 12, 20), amount=1)
    assert parts(ytd) == (every_month[:11], [Period(date(2026, 12, 1), date(2026, 12, 2))])
    middle = Period(date(2026, 12, 5), date(2026, 12, 10))
    assert parts(middle) == ([], [middle])
    Settlement.objects.create(client=client, date=date(2026, 11, 30), amount=1)
    late = Period(date(2026, 11, 30), date(2026, 12, 21))  # all of both months' settlements
    assert parts(late) == ([date(2026, 11, 1), date(2026, 12, 1)], [])
    Settlement.objects.create(client=client, date=date(2026, 12, 24), amount=1)
    assert parts(late) == ([date(2026, 11, 1)], [Period(date(2026, 12, 1), date(2026, 12, 21))])


def _raw(period, owner=None):
    """Client → (account manager, kopecks) summed from the settlements themselves."""
    found: dict[int, tuple] = {}
    rows = Settlement.objects.filter(date__gte=period.start, date__lt=period.end)
    if owner is not None:
        rows = rows.filter(client__account_manager_id=owner)
    for s in rows.select_related("client"):
        manager, total = found.get(s.client_id, (s.client.account_manager_id, 0))
        found[s.client_id] = (manager, total + int(s.amount * 100))
    return found


def test_the_per_client_sums_equal_the_settlements_for_any_period(owner):
    other = UserFactory(role="account_manager")
    a = ClientFactory(account_manager=owner)
    b = ClientFactory(account_manager=other)
    c = ClientFactory(account_manager=None)
    for client, day, amount in [
        (a, date(2025, 12, 31), 1),
        (a, date(2026, 1, 1), 10),
        (a, date(2026, 1, 15), "20.25"),
        (b, date(2026, 1, 31), 40),
        (b, date(2026, 2, 1), 80),
        (a, date(2026, 2, 14), -160),
        (c, date(2026, 2, 14), 0),  # zero: a purchase all the same
        (b, date(2026, 3, 1), 5),
        (b, date(2026, 3, 2), -5),  # sums to zero: a buyer all the same
        (a, date(2026, 12, 1), 7),
    ]:
        Settlement.objects.create(client=client, date=day, amount=Decimal(amount))
    periods = [
        Period(date(2026, 1, 1), date(2026, 3, 1)),  # two whole months
        Period(date(2026, 1, 15), date(2026, 2, 2)),  # parts of two months
        Period(date(2025, 12, 31), date(2026, 2, 15)),  # a day, a whole month, half a month
        Period(date(2025, 12, 1), date(2026, 12, 2)),  # across years, to date
        Period(date(2026, 1, 1), date(2026, 12, 2)),  # a year to date
        Period(date(2026, 3, 1), date(2026, 3, 2)),  # one day
        Period(date(2027, 1, 1), date(2027, 2, 1)),  # nothing
    ]
    for period in periods:
        for scope in (None, owner.pk, other.pk):
            got = {cid: (m, v) for cid, m, v in client_years.per_client(period, scope)}
            assert got == _raw(period, scope), (period, scope)
    # worked by hand: the year to date
    ytd = {cid: v for cid, _m, v in client_years.per_client(periods[4])}
    assert ytd == {a.pk: 1000 + 2025 - 16000 + 700, b.pk: 4000 + 8000 + 0, c.pk: 0}
    # a settlement dated later in December: the month to date is read from the settlements
    Settlement.objects.create(client=c, date=date(2026, 12, 24), amount=3)
    got = {cid: (m, v) for cid, m, v in client_years.per_client(periods[4])}
    assert got == _raw(periods[4])
    assert got[c.pk] == (None, 0)
