"""Every client page renders for each role; outsiders get 404; forms refuse bad input."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Client, ContactPerson, Interaction, Settlement, Tag
from crm.models import AuditEntry
from tests.factories import (
    ClientFactory,
    ContactFactory,
    InteractionFactory,
    ProductLineFactory,
    SettlementFactory,
    TargetSegmentFactory,
)


def card_urls(client, contact) -> list[str]:
    """The pages of one client's card: the card, its edit forms and the contact log."""
    return [
        reverse("clients:detail", args=[client.pk]),
        reverse("clients:edit", args=[client.pk]),
        reverse("clients:contact_create", args=[client.pk]),
        reverse("clients:contact_edit", args=[client.pk, contact.pk]),
        reverse("clients:settlement_create", args=[client.pk]),
        reverse("clients:log", args=[client.pk]),
    ]


@pytest.mark.parametrize("persona", ["manager_client", "owner_client"])
def test_pages_render_for_each_role(request, persona, own_client, contact, portfolio):
    http = request.getfixturevalue(persona)
    urls = [
        reverse("clients:list"),
        reverse("clients:create"),
        reverse("clients:my_day"),
        *card_urls(own_client, contact),
        reverse("clients:catalogue"),
    ]
    for url in urls:
        response = http.get(url)
        assert response.status_code == 200, url


def test_catalogue_editing_is_for_managers(manager_client, owner_client, portfolio):
    segment, products = portfolio
    urls = [
        reverse("clients:line_create"),
        reverse("clients:product_create"),
        reverse("clients:segment_create"),
        reverse("clients:segment_edit", args=[segment.pk]),
        reverse("clients:product_edit", args=[products["saw"].pk]),
    ]
    for url in urls:
        assert manager_client.get(url).status_code == 200, url
    for url in urls:
        assert owner_client.get(url).status_code == 404, url


def test_outsider_gets_404_everywhere(outsider_client, own_client, contact):
    i = InteractionFactory(
        client=own_client,
        summary="x",
        occurred_at=datetime(2026, 1, 1, 10, 0, tzinfo=UTC),
        promise="p",
        promise_due=date(2026, 1, 2),
    )
    for url in card_urls(own_client, contact):
        assert outsider_client.get(url).status_code == 404, url
    for url in [
        reverse("clients:log", args=[own_client.pk]),
        reverse("clients:next_step_done", args=[own_client.pk]),
        reverse("clients:promise_kept", args=[own_client.pk, i.pk]),
    ]:
        assert outsider_client.post(url, {"summary": "hack"}).status_code == 404, url
    assert Interaction.objects.count() == 1
    i.refresh_from_db()
    assert i.promise_done_at is None


def listed(response) -> list[str]:
    return [c.name for c in response.context["page"]]


def test_list_shows_only_own_clients_to_account_manager(owner_client, own_client, foreign_client):
    assert listed(owner_client.get(reverse("clients:list"))) == [own_client.name]
    # searching for the foreign client's name finds nothing either
    assert listed(owner_client.get(reverse("clients:list"), {"q": "Nordwind"})) == []


def test_manager_sees_all_and_filters(manager_client, own_client, foreign_client, owner):
    html = manager_client.get(reverse("clients:list")).content.decode()
    assert "Северный ветер" in html and "Nordwind" in html
    html = manager_client.get(reverse("clients:list"), {"am": owner.pk}).content.decode()
    assert "Северный ветер" in html and "Nordwind" not in html


def test_search_by_name_inn_email_phone(manager_client, own_client, contact, foreign_client):
    for q in [
        "северный",
        "ВЕТЕР",
        "7701234567",
        "770123",
        "IVAN@veter.ru",
        "8 (495) 123-45-67",
        "123-45-67",
    ]:
        assert listed(manager_client.get(reverse("clients:list"), {"q": q})) == [own_client.name], q
    assert listed(manager_client.get(reverse("clients:list"), {"q": "nordWIND"})) == [
        "Nordwind GmbH"
    ]


def test_class_filters_and_none(manager_client, owner):
    ClientFactory(name="AX-client", abc_class="A", xyz_class="X", lifecycle="regular")
    ClientFactory(name="Unclassified")
    html = manager_client.get(reverse("clients:list"), {"abc": "A", "xyz": "X"}).content.decode()
    assert "AX-client" in html and "Unclassified" not in html
    html = manager_client.get(reverse("clients:list"), {"abc": "none"}).content.decode()
    assert "AX-client" not in html and "Unclassified" in html
    html = manager_client.get(reverse("clients:list"), {"lifecycle": "regular"}).content.decode()
    assert "AX-client" in html and "Unclassified" not in html


@pytest.mark.parametrize(
    "params",
    [
        {"abc": "Q"},
        {"sort": "drop table"},
        {"page": "-1"},
        {"page": "abc"},
        {"segment": "999999"},
        {"am": "x"},
        {"q": "'; DROP TABLE clients_client; --"},
    ],
)
def test_bad_list_parameters_never_500(manager_client, own_client, params):
    response = manager_client.get(reverse("clients:list"), params)
    assert response.status_code == 200
    # an invalid filter is ignored, not half-applied: the visible client is still listed
    # (the injection attempt is a valid search that simply finds nothing)
    expected = [] if "q" in params else [own_client.name]
    assert listed(response) == expected


def test_sort_and_paginate(manager_client):
    for i in range(60):
        ClientFactory(name=f"Client {i:03d}")
    page2 = manager_client.get(reverse("clients:list"), {"sort": "-name", "page": 2})
    names = [c.name for c in page2.context["page"]]
    assert names[0] == "Client 009" and len(names) == 10


def _list_queries(http, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(reverse("clients:list"), params or {}).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("params", [{}, {"q": "client", "sort": "-last_contact", "abc": "A"}])
def test_list_query_count_does_not_grow_with_data(manager_client, owner, params):
    ClientFactory.create_batch(3, account_manager=owner, abc_class="A")
    few = _list_queries(manager_client, params)
    ClientFactory.create_batch(80, account_manager=owner, abc_class="A")
    assert _list_queries(manager_client, params) == few <= 8


def test_card_query_count_is_bounded(
    owner_client, own_client, django_assert_max_num_queries, portfolio
):
    segment, products = portfolio
    own_client.target_segment = segment
    own_client.save()
    for i in range(40):
        SettlementFactory(client=own_client, product=products["drill"], amount=10 + i)
        ContactFactory(client=own_client)
    # 19 of the card itself and its panels, 2 of the pipeline (deals panel, timeline), 1 of
    # the navigation (unread beacon notices)
    with django_assert_max_num_queries(22):
        response = owner_client.get(reverse("clients:detail", args=[own_client.pk]))
    assert response.status_code == 200


def test_create_client_form(owner_client, owner):
    response = owner_client.post(
        reverse("clients:create"),
        {"kind": "company", "name": "Бета", "inn": "7707083893", "tag_names": "VIP, дилер"},
    )
    assert response.status_code == 302
    client = Client.objects.get(name="Бета")
    assert client.account_manager == owner
    assert sorted(t.name for t in client.tags.all()) == ["VIP", "дилер"]


def test_create_client_bad_input_changes_nothing(owner_client):
    response = owner_client.post(
        reverse("clients:create"),
        {"kind": "company", "name": "", "inn": "12", "year_founded": "9999"},
    )
    assert response.status_code == 200
    assert not Client.objects.exists()
    form = response.context["form"]
    assert "name" in form.errors and "year_founded" in form.errors


def test_settlement_form_accepts_zero_and_refund(owner_client, own_client):
    url = reverse("clients:settlement_create", args=[own_client.pk])
    response = owner_client.post(url, {"date": "2026-01-10", "amount": "0"})
    assert response.status_code == 302
    response = owner_client.post(
        url, {"date": "2026-01-10", "amount": "-100.5", "document_number": "R-1"}
    )
    assert response.status_code == 302
    assert sorted(Settlement.objects.values_list("amount", flat=True)) == [-100.5, 0]


def test_log_contact_with_htmx_returns_panel(owner_client, own_client, contact):
    response = owner_client.post(
        reverse("clients:log", args=[own_client.pk]),
        {
            "kind": "call",
            "direction": "out",
            "occurred_at": "2026-11-20T10:00",
            "contact": contact.pk,
            "summary": "Позвонил, договорились о встрече",
            "next_step_date": "2026-12-01",
            "next_step_goal": "Встреча в офисе",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "contactLogged"
    html = response.content.decode()
    assert 'id="log-saved"' in html and "Позвонил" in html
    own_client.refresh_from_db()
    assert own_client.next_step_goal == "Встреча в офисе"


def test_log_contact_bad_input_shows_errors_and_saves_nothing(owner_client, own_client):
    response = owner_client.post(
        reverse("clients:log", args=[own_client.pk]),
        {
            "kind": "call",
            "direction": "out",
            "occurred_at": "2099-01-01T10:00",
            "summary": "",
            "next_step_goal": "без даты",
            "promise_due": "2026-01-01",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    form = response.context["interaction_form"]
    assert {"summary", "occurred_at", "next_step_date", "promise"} <= set(form.errors)
    assert not Interaction.objects.exists()


def test_card_shows_development_and_gap(owner_client, own_client, portfolio):
    segment, products = portfolio
    own_client.target_segment = segment
    own_client.save()
    SettlementFactory(client=own_client, product=products["drill"], date=date.today(), amount=5)
    html = owner_client.get(reverse("clients:detail", args=[own_client.pk])).content.decode()
    assert 'id="development-percent">25\u00a0%' in html  # Russian: a no-break space before %
    assert "Пила" in html and "Обучение" in html


def test_manager_creates_product_and_segment_through_the_forms(manager_client, portfolio):
    from clients.models import Product, TargetSegment

    _, products = portfolio
    line = products["drill"].line
    response = manager_client.post(
        reverse("clients:product_create"),
        {
            "line": line.pk,
            "name": "Перфоратор",
            "code": "P-1",
            "price": "15000.00",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    new = Product.objects.get(name="Перфоратор")
    response = manager_client.post(
        reverse("clients:segment_create"),
        {"name": "Ремонтники", "description": "Бригады", "products": [new.pk, products["saw"].pk]},
    )
    assert response.status_code == 302
    segment = TargetSegment.objects.get(name="Ремонтники")
    assert set(segment.products.all()) == {new, products["saw"]}
    # a duplicate product name in the same line is refused and nothing changes
    response = manager_client.post(
        reverse("clients:product_create"), {"line": line.pk, "name": "Перфоратор"}
    )
    assert response.status_code == 200
    assert Product.objects.filter(name="Перфоратор").count() == 1


def test_list_filters_by_tag_and_target_segment(manager_client, owner):
    vip = Tag.objects.create(name="VIP")
    dealer = Tag.objects.create(name="дилер")
    builders = TargetSegmentFactory(name="Строители")
    shops = TargetSegmentFactory(name="Магазины")
    tagged = ClientFactory(name="Tagged VIP", account_manager=owner)
    tagged.tags.set([vip])
    other_tag = ClientFactory(name="Tagged dealer", account_manager=owner)
    other_tag.tags.set([dealer])
    ClientFactory(name="Builder", account_manager=owner, target_segment=builders)
    ClientFactory(name="Shop", account_manager=owner, target_segment=shops)
    ClientFactory(name="Plain", account_manager=owner)
    url = reverse("clients:list")
    assert listed(manager_client.get(url, {"tag": vip.pk})) == ["Tagged VIP"]
    assert listed(manager_client.get(url, {"tag": dealer.pk})) == ["Tagged dealer"]
    assert listed(manager_client.get(url, {"segment": builders.pk})) == ["Builder"]
    assert listed(manager_client.get(url, {"segment": shops.pk})) == ["Shop"]


def _client_form_data(client, **changes) -> dict:
    data = {"kind": client.kind, "name": client.name, "inn": client.inn, "city": client.city}
    data.update(changes)
    return data


def test_edit_client_form_saves(owner_client, owner, own_client):
    city_before = own_client.city
    response = owner_client.post(
        reverse("clients:edit", args=[own_client.pk]),
        _client_form_data(own_client, city="Тула", tag_names="VIP"),
    )
    assert response.status_code == 302
    assert response.url == reverse("clients:detail", args=[own_client.pk])
    own_client.refresh_from_db()
    assert own_client.city == "Тула"
    assert own_client.account_manager == owner  # the disabled field kept the owner
    assert [t.name for t in own_client.tags.all()] == ["VIP"]
    # audited with the stored value as "before" (the form had already changed the instance)
    entry = AuditEntry.objects.get(action="update", object_id=str(own_client.pk))
    assert entry.actor == owner
    assert entry.changes["city"] == [city_before, "Тула"]
    assert entry.changes["tags"] == [[], ["VIP"]]


def test_edit_forms_audit_the_stored_before_value(owner_client, owner, own_client, manager_client):
    contact = ContactFactory(client=own_client, full_name="Анна", position="")
    owner_client.post(
        reverse("clients:contact_edit", args=[own_client.pk, contact.pk]),
        {"full_name": "Анна", "position": "Директор", "email": contact.email},
    )
    entry = AuditEntry.objects.get(action="update")
    assert entry.changes == {"position": ["", "Директор"]}
    line = ProductLineFactory(name="Инструмент")
    manager_client.post(reverse("clients:line_edit", args=[line.pk]), {"name": "Электроинструмент"})
    entry = AuditEntry.objects.filter(action="update").latest("id")
    assert entry.changes["name"] == ["Инструмент", "Электроинструмент"]


def test_edit_client_bad_input_changes_nothing(owner_client, own_client):
    before = Client.objects.values().get(pk=own_client.pk)
    response = owner_client.post(
        reverse("clients:edit", args=[own_client.pk]),
        _client_form_data(own_client, name="", year_founded="9999", city="Тула"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors and "year_founded" in form.errors
    assert Client.objects.values().get(pk=own_client.pk) == before
    # the form passes, the service refuses (a tax id has 10 or 12 digits): shown on the field
    response = owner_client.post(
        reverse("clients:edit", args=[own_client.pk]),
        _client_form_data(own_client, inn="12", city="Тула"),
    )
    assert response.status_code == 200
    assert "inn" in response.context["form"].errors
    assert Client.objects.values().get(pk=own_client.pk) == before
    assert not AuditEntry.objects.exists()


def test_contact_forms_create_edit_and_hand_over_primary(owner_client, owner, own_client):
    first = ContactFactory(client=own_client, full_name="Анна", is_primary=True)
    response = owner_client.post(
        reverse("clients:contact_create", args=[own_client.pk]),
        {"full_name": "Борис", "phone": "8 (900) 111-22-33", "is_primary": "on"},
    )
    assert response.status_code == 302
    second = ContactPerson.objects.get(full_name="Борис")
    assert second.client == own_client and second.phone_digits == "79001112233"
    # the second primary contact takes over: the first is un-marked, not refused
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    created = AuditEntry.objects.get(action="create")
    assert created.actor == owner and created.object_id == str(second.pk)

    response = owner_client.post(
        reverse("clients:contact_edit", args=[own_client.pk, first.pk]),
        {"full_name": "Анна Иванова", "position": "Директор", "is_primary": "on", "language": "en"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.full_name, first.position) == ("Анна Иванова", "Директор")
    assert first.language == "en"  # the language of the surveys sent to her
    assert (first.is_primary, second.is_primary) == (True, False)
    assert ContactPerson.objects.filter(client=own_client).count() == 2


def test_contact_form_bad_input_changes_nothing(owner_client, own_client, contact):
    before = ContactPerson.objects.values().get(pk=contact.pk)
    response = owner_client.post(
        reverse("clients:contact_edit", args=[own_client.pk, contact.pk]),
        {"full_name": "", "email": "not-an-email"},
    )
    assert response.status_code == 200
    assert {"full_name", "email"} <= set(response.context["form"].errors)
    assert ContactPerson.objects.values().get(pk=contact.pk) == before
    response = owner_client.post(
        reverse("clients:contact_create", args=[own_client.pk]), {"full_name": ""}
    )
    assert response.status_code == 200 and "full_name" in response.context["form"].errors
    assert ContactPerson.objects.count() == 1
    assert not AuditEntry.objects.exists()
