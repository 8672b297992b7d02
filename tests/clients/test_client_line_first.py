"""The first purchase of each product line per client (``clients.ClientLineFirst``), kept by
database triggers, equals a from-scratch computation from the settlements after every write
path: the settlement form, the API, the bulk import (new rows and re-imported ones), an edit
of a settlement's date, product or client, a deletion (one, several, a client's cascade), a
product moved to another line, and the rebuild command."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from clients import line_firsts, services
from clients.models import ClientLineFirst, Product, Settlement
from tests.conftest import client_for
from tests.factories import ClientFactory, ProductFactory, ProductLineFactory

pytestmark = pytest.mark.django_db


def _exact():
    stored = line_firsts.stored()
    assert stored == line_firsts.from_scratch()
    assert line_firsts.stored_day_sums() == line_firsts.day_sums_from_scratch()
    return stored


@pytest.fixture
def catalogue():
    tools, paint = ProductLineFactory(name="Tools"), ProductLineFactory(name="Paint")
    return {
        "drill": ProductFactory(line=tools, name="Drill", code="D-1"),
        "saw": ProductFactory(line=tools, name="Saw", code="S-1"),
        "white": ProductFactory(line=paint, name="White", code="W-1"),
        "tools": tools,
        "paint": paint,
    }


def test_the_form_and_the_api_keep_the_earliest_day(manager, owner, owner_client, catalogue):
    client = ClientFactory(account_manager=owner, inn="7701234567")
    tools, paint = catalogue["tools"], catalogue["paint"]
    response = client_for(manager).post(
        reverse("clients:settlement_create", args=[client.pk]),
        {"product": catalogue["drill"].pk, "date": "2026-03-10", "amount": "100"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _exact() == {(client.pk, tools.pk): date(2026, 3, 10)}

    row = {"client": client.pk, "product": catalogue["saw"].pk, "date": "2026-02-01", "amount": "5"}
    assert (
        owner_client.post("/api/settlements/", row, content_type="application/json").status_code
        == 201
    )
    services.settlement_record(
        actor=manager,
        client=client,
        product=catalogue["white"],
        date=date(2026, 5, 1),
        amount=Decimal("0"),
    )
    services.settlement_record(  # no product: no line
        actor=manager, client=client, product=None, date=date(2025, 1, 1), amount=Decimal(1)
    )
    services.settlement_record(  # later: the first day stays
        actor=manager,
        client=client,
        product=catalogue["drill"],
        date=date(2026, 6, 1),
        amount=Decimal(-3),
    )
    assert _exact() == {
        (client.pk, tools.pk): date(2026, 2, 1),
        (client.pk, paint.pk): date(2026, 5, 1),
    }


def test_the_bulk_import_new_and_re_imported_rows(catalogue, import_settlements):
    upload = import_settlements
    a = ClientFactory(inn="7701234567")
    b = ClientFactory(inn="7702345678")
    tools, paint = catalogue["tools"], catalogue["paint"]

    upload(
        "external_id;client_inn;product_code;date;amount\n"
        "e1;7701234567;D-1;10.04.2026;10\n"
        "e2;7701234567;S-1;05.04.2026;10\n"
        "e3;7701234567;W-1;01.07.2026;10\n"
        "e4;7702345678;W-1;02.07.2026;10\n"
    )
    assert Settlement.objects.count() == 4
    assert _exact() == {
        (a.pk, tools.pk): date(2026, 4, 5),
        (a.pk, paint.pk): date(2026, 7, 1),
        (b.pk, paint.pk): date(2026, 7, 2),
    }
    # re-imported: e2 moves later (the drill's day is then first), e3 to another product
    upload(
        "external_id;client_inn;product_code;date;amount\n"
        "e2;7701234567;S-1;20.04.2026;10\n"
        "e3;7701234567;D-1;01.01.2026;10\n"
    )
    assert Settlement.objects.count() == 4
    assert _exact() == {
        (a.pk, tools.pk): date(2026, 1, 1),
        (b.pk, paint.pk): date(2026, 7, 2),
    }


def test_edits_deletions_and_a_product_moved_to_another_line(manager, owner, catalogue):
    tools, paint = catalogue["tools"], catalogue["paint"]
    a, b = ClientFactory(account_manager=owner), ClientFactory(account_manager=owner)
    s = {}
    for key, client, product, day in [
        ("a1", a, "drill", date(2026, 1, 10)),
        ("a2", a, "drill", date(2026, 2, 10)),
        ("a3", a, "saw", date(2026, 3, 10)),
        ("a4", a, "white", date(2026, 4, 10)),
        ("b1", b, "saw", date(2026, 1, 5)),
        ("b2", b, "white", date(2026, 2, 5)),
    ]:
        s[key] = Settlement.objects.create(
            client=client, product=catalogue[product], date=day, amount=1
        )
    assert _exact()[(a.pk, tools.pk)] == date(2026, 1, 10)

    # a date edited (save), later than the next one: the first day moves to it
    s["a1"].date = date(2026, 5, 1)
    s["a1"].save()
    assert _exact()[(a.pk, tools.pk)] == date(2026, 2, 10)
    # a product edited to another line; a bulk edit of dates (one UPDATE statement)
    s["a4"].product = catalogue["drill"]
    s["a4"].save()
    assert (a.pk, paint.pk) not in _exact()
    Settlement.objects.filter(client=b).update(date=date(2025, 12, 31))
    assert _exact()[(b.pk, paint.pk)] == date(2025, 12, 31)
    # a settlement handed to another client
    Settlement.objects.filter(pk=s["a3"].pk).update(client=b)
    _exact()
    # an edit of the amount only changes nothing
    Settlement.objects.filter(client=a).update(amount=7)
    _exact()

    # deletions: through the service, in bulk, and a client's cascade
    services.record_delete(actor=manager, instance=Settlement.objects.get(pk=s["a4"].pk))
    assert _exact()[(a.pk, tools.pk)] == date(2026, 2, 10)
    Settlement.objects.filter(pk__in=[s["a2"].pk, s["b2"].pk]).delete()
    assert (b.pk, paint.pk) not in _exact()
    # a product moved to another line
    Product.objects.filter(pk=catalogue["saw"].pk).update(line=paint)
    assert _exact()[(b.pk, paint.pk)] == date(2025, 12, 31)
    saw = Product.objects.get(pk=catalogue["saw"].pk)
    saw.line = tools
    services.product_save(actor=manager, product=saw, data={"line": tools, "name": "Saw"})
    assert _exact()[(b.pk, tools.pk)] == date(2025, 12, 31)
    b.delete()
    assert not [k for k in _exact() if k[0] == b.pk]
    assert _exact() == {(a.pk, tools.pk): date(2026, 5, 1)}


def test_the_rebuild_command_restores_the_table(owner, catalogue):
    a = ClientFactory(account_manager=owner)
    Settlement.objects.create(client=a, product=catalogue["drill"], date=date(2026, 1, 1), amount=1)
    Settlement.objects.create(client=a, product=catalogue["white"], date=date(2026, 2, 1), amount=1)
    expected = _exact()
    ClientLineFirst.objects.all().delete()
    ClientLineFirst.objects.create(client=a, line=catalogue["paint"], first_date=date(2020, 1, 1))
    call_command("rebuild_client_line_first", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _exact() == expected


def test_the_first_days_sum_follows_every_change_of_that_day(manager, owner, catalogue):
    """Worked by hand: the sum of the client's settlements of the line on its first day."""
    tools = catalogue["tools"]
    a = ClientFactory(account_manager=owner)

    def first_day():
        _exact()
        row = ClientLineFirst.objects.get(client=a, line=tools)
        return row.first_date, Decimal(row.first_day_cents).scaleb(-2)

    def add(product, day, amount):
        return Settlement.objects.create(
            client=a, product=catalogue[product], date=day, amount=Decimal(amount)
        )

    s1 = add("drill", date(2026, 3, 10), "100.25")
    assert first_day() == (date(2026, 3, 10), Decimal("100.25"))
    add("saw", date(2026, 3, 10), "-0.25")  # the same day, another product of the line: added
    add("drill", date(2026, 4, 1), "999")  # later: no change
    add("white", date(2026, 3, 1), "5")  # another line: no change
    assert first_day() == (date(2026, 3, 10), Decimal("100.00"))
    Settlement.objects.bulk_create(  # one statement, two rows of an earlier day
        [
            Settlement(client=a, product=catalogue["drill"], date=date(2026, 2, 1), amount=7),
            Settlement(client=a, product=catalogue["saw"], date=date(2026, 2, 1), amount=3),
        ]
    )
    assert first_day() == (date(2026, 2, 1), Decimal(10))
    Settlement.objects.filter(client=a, date=date(2026, 2, 1), amount=7).update(amount=Decimal(1))
    assert first_day() == (date(2026, 2, 1), Decimal(4))
    Settlement.objects.filter(client=a, date=date(2026, 2, 1)).delete()
    assert first_day() == (date(2026, 3, 10), Decimal("100.00"))
    services.record_delete(actor=manager, instance=s1)
    assert first_day() == (date(2026, 3, 10), Decimal("-0.25"))
