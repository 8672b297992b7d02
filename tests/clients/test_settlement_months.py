"""The settlements summed per month, account manager and target segment
(``clients.SettlementMonth``), kept by database triggers, equal a from-scratch sum of the
settlements after every write path — the form, the API, the bulk import (new and re-imported
rows), an edit of a settlement's date, amount or client (one row, a bulk UPDATE), deletions
(one, several, a client's cascade), a client moved to another account manager or segment (the
service, a bulk UPDATE, a deleted user or segment), the fold and the rebuild command — and the
dashboard's revenue figures read from them equal the settlements' own sums for periods of whole
months, of parts of months and of both."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from clients import services, settlement_months
from clients.models import Client, Settlement, SettlementMonth, TargetSegment
from crm.periods import Period
from tests.conftest import client_for
from tests.factories import ClientFactory, TargetSegmentFactory, UserFactory

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


def _exact():
    stored = settlement_months.stored()
    assert stored == settlement_months.from_scratch()
    return stored


def test_the_form_the_api_and_the_service_add_their_settlement(manager, owner, owner_client):
    seg = TargetSegmentFactory()
    client = ClientFactory(account_manager=owner, target_segment=seg)
    response = client_for(manager).post(
        reverse("clients:settlement_create", args=[client.pk]),
        {"date": "2026-01-10", "amount": "100.50"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = {"client": client.pk, "date": "2026-01-31", "amount": "-0.50"}
    api = owner_client.post("/api/settlements/", row, content_type="application/json")
    assert api.status_code == 201
    services.settlement_record(
        actor=manager, client=client, product=None, date=date(2026, 2, 1), amount=Decimal("7")
    )
    assert _exact() == {
        (JAN, owner.pk, seg.pk): (2, Decimal("100.00")),
        (FEB, owner.pk, seg.pk): (1, Decimal("7.00")),
    }


def test_the_bulk_import_new_and_re_imported_rows(owner, import_settlements):
    upload = import_settlements
    ClientFactory(inn="7701234567", account_manager=owner)
    b = ClientFactory(inn="7702345678", account_manager=None)

    upload(
        "external_id;client_inn;date;amount\n"
        "e1;7701234567;10.01.2026;10\n"
        "e2;7701234567;05.02.2026;20\n"
        "e3;7702345678;01.02.2026;30\n"
    )
    assert _exact() == {
        (JAN, owner.pk, None): (1, Decimal(10)),
        (FEB, owner.pk, None): (1, Decimal(20)),
        (FEB, None, None): (1, Decimal(30)),
    }
    # re-imported: e2 to another month and amount, e3 to the other client
    upload(
        "external_id;client_inn;date;amount\ne2;7701234567;01.03.2026;25\ne3;7701234567;01.02.2026;30\n"
    )
    assert _exact() == {
        (JAN, owner.pk, None): (1, Decimal(10)),
        (FEB, owner.pk, None): (1, Decimal(30)),
        (MAR, owner.pk, None): (1, Decimal(25)),
    }
    assert b.settlements.count() == 0


def test_edits_deletions_and_clients_moved(manager, owner):
    other = UserFactory(role="account_manager")
    seg, seg2 = TargetSegmentFactory(), TargetSegmentFactory()
    a = ClientFactory(account_manager=owner, target_segment=seg)
    b = ClientFactory(account_manager=other, target_segment=None)
    s = {
        key: Settlement.objects.create(client=client, date=day, amount=amount)
        for key, client, day, amount in [
            ("a1", a, date(2026, 1, 10), 100),
            ("a2", a, date(2026, 1, 31), 50),
            ("a3", a, date(2026, 2, 1), -20),
            ("b1", b, date(2026, 1, 1), 5),
        ]
    }
    assert _exact()[(JAN, owner.pk, seg.pk)] == (2, Decimal(150))
    # a date edited into the next month (save); an amount edited; a bulk UPDATE of dates
    s["a2"].date = date(2026, 2, 28)
    s["a2"].save()
    assert _exact()[(FEB, owner.pk, seg.pk)] == (2, Decimal(30))
    Settlement.objects.filter(pk=s["a1"].pk).update(amount=Decimal("99.99"))
    assert _exact()[(JAN, owner.pk, seg.pk)] == (1, Decimal("99.99"))
    Settlement.objects.filter(client=b).update(date=date(2026, 3, 15))
    assert _exact()[(MAR, other.pk, None)] == (1, Decimal(5))
    # a settlement handed to another client
    Settlement.objects.filter(pk=s["a3"].pk).update(client=b)
    assert _exact()[(FEB, other.pk, None)] == (1, Decimal(-20))
    # a client moved to another account manager and segment: through the service, in bulk
    services.client_update(
        actor=manager, client=a, data={"account_manager": other, "target_segment": seg2}
    )
    assert _exact() == {
        (JAN, other.pk, seg2.pk): (1, Decimal("99.99")),
        (FEB, other.pk, seg2.pk): (1, Decimal(50)),
        (FEB, other.pk, None): (1, Decimal(-20)),
        (MAR, other.pk, None): (1, Decimal(5)),
    }
    Client.objects.filter(pk__in=[a.pk, b.pk]).update(account_manager=owner)
    assert {k[1] for k in _exact()} == {owner.pk}
    # the user and the segment deleted: their clients' keys become None (SET NULL)
    TargetSegment.objects.filter(pk=seg2.pk).delete()
    owner.delete()
    assert {(k[1], k[2]) for k in _exact()} == {(None, None)}
    # deletions: through the service, in bulk, a client's cascade
    services.record_delete(actor=manager, instance=Settlement.objects.get(pk=s["a1"].pk))
    Settlement.objects.filter(pk=s["a3"].pk).delete()
    assert _exact() == {
        (FEB, None, None): (1, Decimal(50)),
        (MAR, None, None): (1, Decimal(5)),
    }
    b.delete()
    a.delete()
    assert _exact() == {}


def test_a_rolled_back_write_leaves_nothing(owner):
    from django.db import transaction

    client = ClientFactory(account_manager=owner)
    with pytest.raises(RuntimeError), transaction.atomic():
        Settlement.objects.create(client=client, date=JAN, amount=1)
        raise RuntimeError
    assert _exact() == {}


def test_the_fold_and_the_rebuild_keep_the_sums(owner):
    a = ClientFactory(account_manager=owner)
    for day in (1, 2, 3):
        Settlement.objects.create(client=a, date=date(2026, 1, day), amount=day)
    Settlement.objects.create(client=a, date=FEB, amount=10)
    Settlement.objects.filter(date=FEB).delete()
    assert SettlementMonth.objects.count() == 5  # one row per statement
    expected = _exact()
    assert expected == {(JAN, owner.pk, None): (3, Decimal(6))}
    SettlementMonth.fold()
    assert SettlementMonth.objects.count() == 1  # the February rows summed to zero: gone
    assert _exact() == expected
    SettlementMonth.objects.all().delete()
    SettlementMonth.objects.create(
        month=MAR, account_manager_id=None, segment_id=None, n=9, total=9
    )
    call_command("rebuild_settlement_months", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _exact() == expected


def test_the_revenue_sums_equal_the_settlements_for_any_period(manager, owner):
    """Whole months from the summed rows, the days around them from the settlements."""
    other = UserFactory(role="account_manager")
    seg = TargetSegmentFactory()
    a = ClientFactory(account_manager=owner, target_segment=seg)
    b = ClientFactory(account_manager=other)
    for client, day, amount in [
        (a, date(2025, 12, 31), 1),
        (a, date(2026, 1, 1), 10),
        (a, date(2026, 1, 15), 20),
        (b, date(2026, 1, 31), 40),
        (b, date(2026, 2, 1), 80),
        (a, date(2026, 2, 14), 160),
        (a, date(2026, 3, 1), 320),
    ]:
        Settlement.objects.create(client=client, date=day, amount=amount)
    total = settlement_months.sums
    assert total(manager, Period(JAN, MAR)) == {None: [5, Decimal(310)]}  # two whole months
    assert total(manager, Period(date(2026, 1, 15), date(2026, 2, 2))) == {
        None: [3, Decimal(140)]
    }  # parts of two months, no whole one
    assert total(manager, Period(date(2025, 12, 31), date(2026, 2, 15))) == {
        None: [6, Decimal(311)]
    }  # a day before, January whole, half of February
    assert total(manager, Period(JAN, MAR), by="account_manager") == {
        owner.pk: [3, Decimal(190)],
        other.pk: [2, Decimal(120)],
    }
    assert total(manager, Period(date(2025, 12, 1), date(2026, 3, 2)), by="month") == {
        date(2025, 12, 1): [1, Decimal(1)],
        JAN: [3, Decimal(70)],
        FEB: [2, Decimal(240)],
        MAR: [1, Decimal(320)],
    }
    assert total(manager, Period(JAN, date(2026, 2, 15)), segment=seg.pk) == {
        None: [3, Decimal(190)]
    }
    assert total(manager, Period(JAN, MAR), account_manager=other.pk) == {None: [2, Decimal(120)]}
    # an account manager sums their own clients' only, whatever they ask for
    assert total(owner, Period(JAN, MAR)) == {None: [3, Decimal(190)]}
    assert total(owner, Period(JAN, MAR), account_manager=other.pk) == {}
    assert total(manager, Period(date(2027, 1, 1), date(2027, 2, 1))) == {}


@pytest.mark.django_db(transaction=True)
def test_a_transfer_during_an_uncommitted_settlement_moves_it_too(owner):
    """PostgreSQL: a settlement written while its client is moved to another account manager
    is summed under the new one. The settlement's trigger locks the client FOR SHARE, so the
    move waits for the settlement's commit and its own trigger then sees the settlement
    (without the lock the move would not wait, would not see it, and the settlement would
    stay summed under the old account manager)."""
    import threading
    import time

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers on two connections: PostgreSQL")
    other = UserFactory(role="account_manager")
    client = ClientFactory(account_manager=owner)
    inserted, errors = threading.Event(), []

    def settle():
        try:
            with transaction.atomic():
                Settlement.objects.create(client_id=client.pk, date=JAN, amount=Decimal(5))
                inserted.set()
                time.sleep(0.5)  # the move below starts meanwhile
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            inserted.set()
        finally:
            connections.close_all()

    writer = threading.Thread(target=settle)
    writer.start()
    assert inserted.wait(10)
    started = time.monotonic()
    Client.objects.filter(pk=client.pk).update(account_manager=other)
    waited = time.monotonic() - started
    writer.join(10)
    assert errors == []
    assert waited > 0.3  # the move waited for the settlement's commit
    assert _exact() == {(JAN, other.pk, None): (1, Decimal(5))}
