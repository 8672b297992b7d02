"""PATCH through the client and contact API: the field changes, the change is audited (old →
new, by whom) through the same services as the pages, and the rows are scoped — another
account manager's client or contact is not found."""

import pytest

from clients.models import Client, ContactPerson, Tag
from crm.models import AuditEntry
from tests.conftest import client_for
from tests.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db


def patch(http, url: str, data: dict):
    return http.patch(url, data, content_type="application/json")


def updates_of(instance) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_id=str(instance.pk), action="update").order_by("id")
    )


@pytest.fixture
def owner_api(owner):
    return client_for(owner, "en")


@pytest.fixture
def manager_api(manager):
    return client_for(manager, "en")


# --- clients ----------------------------------------------------------------------------------
def test_patch_client_changes_the_field_and_audits_it(owner_api, owner, own_client):
    own_client.city = "Москва"
    own_client.save()
    response = patch(
        owner_api, f"/api/clients/{own_client.pk}/", {"city": "Казань", "phone": "8 843 111-22-33"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["city"], body["phone"]) == (own_client.pk, "Казань", "8 843 111-22-33")
    assert body["name"] == "ООО «Северный ветер»"  # untouched by a PATCH
    own_client.refresh_from_db()
    assert (own_client.city, own_client.phone_digits) == ("Казань", "78431112233")
    [entry] = updates_of(own_client)
    assert entry.actor == owner
    assert entry.changes == {
        "city": ["Москва", "Казань"],
        "phone": ["", "8 843 111-22-33"],
        "phone_digits": ["", "78431112233"],
    }


def test_patch_client_tags_are_audited_as_lists(owner_api, own_client):
    Tag.objects.create(name="vip")
    Tag.objects.create(name="export")
    response = patch(owner_api, f"/api/clients/{own_client.pk}/", {"tags": ["vip", "export"]})
    assert response.status_code == 200, response.content
    assert sorted(response.json()["tags"]) == ["export", "vip"]
    [entry] = updates_of(own_client)
    assert entry.changes == {"tags": [[], ["export", "vip"]]}


def test_patch_of_another_managers_client_is_not_found(owner_api, foreign_client):
    response = patch(owner_api, f"/api/clients/{foreign_client.pk}/", {"city": "Казань"})
    assert response.status_code == 404
    foreign_client.refresh_from_db()
    assert foreign_client.city == ""
    assert updates_of(foreign_client) == []


def test_an_account_manager_cannot_reassign_by_patch(owner_api, own_client, outsider):
    response = patch(owner_api, f"/api/clients/{own_client.pk}/", {"account_manager": outsider.pk})
    assert response.status_code == 400
    assert response.json() == {"account_manager": ["Only a manager can reassign a client."]}
    own_client.refresh_from_db()
    assert own_client.account_manager.username == "owner"
    assert updates_of(own_client) == []


def test_a_manager_reassigns_by_patch(manager_api, manager, owner, own_client, outsider):
    response = patch(
        manager_api, f"/api/clients/{own_client.pk}/", {"account_manager": outsider.pk}
    )
    assert response.status_code == 200, response.content
    own_client.refresh_from_db()
    assert own_client.account_manager == outsider
    [entry] = updates_of(own_client)
    assert entry.actor == manager
    assert entry.changes == {"account_manager": [str(owner), str(outsider)]}


# --- contacts ---------------------------------------------------------------------------------
def test_patch_contact_changes_the_field_and_audits_it(owner_api, owner, contact):
    response = patch(
        owner_api,
        f"/api/contacts/{contact.pk}/",
        {"position": "Chief buyer", "phone": "+7 (812) 000-11-22"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["position"], body["phone"]) == ("Chief buyer", "+7 (812) 000-11-22")
    assert body["full_name"] == "Иван Петров"
    contact.refresh_from_db()
    assert (contact.position, contact.phone_digits) == ("Chief buyer", "78120001122")
    [entry] = updates_of(contact)
    assert entry.actor == owner
    assert entry.changes == {
        "position": ["", "Chief buyer"],
        "phone": ["+7 (495) 123-45-67", "+7 (812) 000-11-22"],
        "phone_digits": ["74951234567", "78120001122"],
    }


def test_patch_contact_primary_unmarks_the_previous_primary(owner_api, own_client, contact):
    first = ContactFactory(client=own_client, full_name="Анна Смирнова", is_primary=True)
    response = patch(owner_api, f"/api/contacts/{contact.pk}/", {"is_primary": True})
    assert response.status_code == 200, response.content
    assert list(
        ContactPerson.objects.filter(client=own_client, is_primary=True).values_list(
            "full_name", flat=True
        )
    ) == ["Иван Петров"]
    assert updates_of(first)[0].changes == {"is_primary": [True, False]}
    assert updates_of(contact)[0].changes == {"is_primary": [False, True]}


def test_a_new_primary_contact_by_post_unmarks_the_previous_one(owner_api, own_client, contact):
    contact.is_primary = True
    contact.save()
    response = owner_api.post(
        "/api/contacts/",
        {"client": own_client.pk, "full_name": "Олег Орлов", "is_primary": True},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    primary = ContactPerson.objects.filter(client=own_client, is_primary=True)
    assert list(primary.values_list("full_name", flat=True)) == ["Олег Орлов"]
    assert updates_of(contact)[0].changes == {"is_primary": [True, False]}


def test_patch_of_another_managers_contact_is_not_found(owner_api, foreign_client):
    theirs = ContactFactory(client=foreign_client, position="Director")
    response = patch(owner_api, f"/api/contacts/{theirs.pk}/", {"position": "Nobody"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.position == "Director"
    assert updates_of(theirs) == []


def test_a_contact_cannot_be_moved_to_another_client_by_patch(
    owner_api, owner, contact, foreign_client
):
    other_own = ClientFactory(name="Second own", account_manager=owner)
    # another manager's client: not a client this user may name at all
    response = patch(owner_api, f"/api/contacts/{contact.pk}/", {"client": foreign_client.pk})
    assert response.status_code == 400
    assert list(response.json()) == ["client"]
    # one of the user's own clients: the service refuses to move a contact between clients
    response = patch(owner_api, f"/api/contacts/{contact.pk}/", {"client": other_own.pk})
    assert response.status_code == 400
    assert response.json() == {"detail": ["The contact belongs to another client."]}
    contact.refresh_from_db()
    assert contact.client_id != other_own.pk
    assert Client.objects.get(pk=contact.client_id).name == "ООО «Северный ветер»"
    assert updates_of(contact) == []


def test_patch_contact_language_of_surveys(owner_api, contact):
    """The contact's survey language is settable through the API, within the site's languages."""
    response = patch(owner_api, f"/api/contacts/{contact.pk}/", {"language": "en"})
    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert contact.language == "en"
    refused = patch(owner_api, f"/api/contacts/{contact.pk}/", {"language": "de"})
    assert refused.status_code == 400 and "language" in refused.json()
    contact.refresh_from_db()
    assert contact.language == "en"
