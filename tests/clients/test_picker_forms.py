"""The client base's forms pick records through the record picker: the account manager among
those who may hold the role, the parent among the user's clients, products among the active
ones, the contact among the client's."""

import pytest
from django.urls import reverse

from clients.models import Client, Interaction, Settlement
from tests.conftest import client_for
from tests.factories import ClientFactory, ContactFactory, ProductFactory, UserFactory
from tests.feedback.test_picker_forms import options

pytestmark = pytest.mark.django_db


def client_data(client, **changes) -> dict:
    return {"kind": client.kind, "name": client.name, "inn": client.inn, **changes}


def test_the_account_manager_is_one_who_may_hold_the_role(manager, owner, outsider, own_client):
    admin = UserFactory(username="root", role="admin")
    http = client_for(manager, "en")
    url = reverse("clients:edit", args=[own_client.pk])
    html = http.get(url).content.decode()
    assert options(html, "account_manager") == [
        ("", "---------", False),
        (str(owner.pk), str(owner), True),
    ]
    assert 'data-picker-params="{&quot;role&quot;: &quot;account_manager&quot;}"' in html
    response = http.post(url, client_data(own_client, account_manager=admin.pk))
    assert "Select a valid choice" in response.context["form"].errors["account_manager"][0]
    assert http.post(url, client_data(own_client, account_manager=outsider.pk)).status_code == 302
    own_client.refresh_from_db()
    assert own_client.account_manager == outsider


def test_an_account_manager_sees_their_own_name_fixed(owner_client, owner, own_client):
    html = owner_client.get(reverse("clients:edit", args=[own_client.pk])).content.decode()
    assert options(html, "account_manager") == [
        ("", "---------", False),
        (str(owner.pk), str(owner), True),
    ]
    assert 'name="account_manager__search"' not in html  # disabled: no text box either


def test_the_parent_is_one_of_the_users_clients(owner, own_client, foreign_client):
    owner_client = client_for(owner, "en")
    head = ClientFactory(name="Head Co", account_manager=own_client.account_manager)
    url = reverse("clients:edit", args=[own_client.pk])
    for refused in (foreign_client.pk, own_client.pk):  # another's client, the client itself
        response = owner_client.post(url, client_data(own_client, parent=refused))
        assert "Select a valid choice" in response.context["form"].errors["parent"][0]
    assert owner_client.post(url, client_data(own_client, parent=head.pk)).status_code == 302
    own_client.refresh_from_db()
    assert own_client.parent == head
    html = owner_client.get(url).content.decode()
    assert options(html, "parent") == [
        ("", "---------", False),
        (str(head.pk), f"Head Co · {head.inn}", True),
    ]
    assert f'data-picker-params="{{&quot;exclude&quot;: {own_client.pk}}}"' in html
    assert Client.objects.count() == 3


def test_a_settlement_names_an_active_product(owner, own_client):
    owner_client = client_for(owner, "en")
    active = ProductFactory(name="Drill", code="DR-1")
    retired = ProductFactory(name="Old drill", is_active=False)
    url = reverse("clients:settlement_create", args=[own_client.pk])
    html = owner_client.get(url).content.decode()
    assert options(html, "product") == [("", "---------", True)]
    data = {"date": "2026-11-02", "amount": "100.00"}
    response = owner_client.post(url, {**data, "product": retired.pk})
    assert "Select a valid choice" in response.context["form"].errors["product"][0]
    assert owner_client.post(url, {**data, "product": active.pk}).status_code == 302
    assert Settlement.objects.get().product == active


def test_a_logged_contact_is_one_of_the_clients_contacts(owner, own_client, contact):
    owner_client = client_for(owner, "en")
    stranger = ContactFactory(client=ClientFactory(account_manager=own_client.account_manager))
    url = reverse("clients:log", args=[own_client.pk])
    data = {
        "kind": "call",
        "direction": "out",
        "occurred_at": "2026-11-02T10:00",
        "summary": "Talked",
    }
    response = owner_client.post(url, {**data, "contact": stranger.pk})
    assert "Select a valid choice" in response.context["form"].errors["contact"][0]
    assert not Interaction.objects.exists()
    response = owner_client.post(url, {**data, "contact": contact.pk})
    assert response.status_code == 302
    assert Interaction.objects.get().contact == contact


def test_the_client_lists_account_manager_filter_is_a_picker(manager, owner, own_client):
    http = client_for(manager, "en")
    html = http.get(reverse("clients:list"), {"am": owner.pk}).content.decode()
    assert options(html, "am") == [("", "---------", False), (str(owner.pk), str(owner), True)]
    assert 'data-picker-params="{&quot;role&quot;: &quot;account_manager&quot;}"' in html
    assert list(http.get(reverse("clients:list"), {"am": owner.pk}).context["page"]) == [own_client]
