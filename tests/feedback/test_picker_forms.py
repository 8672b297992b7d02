"""The complaint forms pick records through the record picker (crm/pickers.py): the page holds
only the selected record, never every client; a contact of another client is refused; without
JavaScript a typed name picks the record."""

import re

import pytest
from django.urls import reverse

from feedback.models import Complaint
from tests.conftest import client_for
from tests.feedback.conftest import make_client, make_contact

pytestmark = pytest.mark.django_db

NEW = "/feedback/complaints/new/"


def options(html: str, name: str) -> list[tuple[str, str, bool]]:
    """The (value, text, selected) options of the select ``name`` on the page."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no select {name}"
    return [
        (value, text.strip(), "selected" in attrs)
        for value, attrs, text in re.findall(
            r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', select.group(1)
        )
    ]


def body(own_client, theme, **extra) -> dict:
    return {
        "client": own_client.pk,
        "theme": theme.pk,
        "priority": "normal",
        "channel": "phone",
        "description": "The delivery was late",
        **extra,
    }


def test_the_form_lists_no_client_and_no_contact(owner, own_client, contact, theme):
    for n in range(30):
        make_client(name=f"Client {n}", account_manager=owner)
    html = client_for(owner, "en").get(NEW).content.decode()
    assert options(html, "client") == [("", "---------", True)]
    assert options(html, "contact") == [("", "---------", True)]
    assert 'data-picker="/lookup/clients/"' in html
    assert 'data-picker="/lookup/contacts/" data-picker-depends="client"' in html
    assert 'name="client__search"' in html  # the no-JavaScript text box


def test_a_refused_form_shows_the_selected_records_again(owner, own_client, contact, theme):
    http = client_for(owner, "en")
    response = http.post(NEW, body(own_client, theme, contact=contact.pk, description=""))
    assert response.status_code == 200
    html = response.content.decode()
    assert options(html, "client") == [
        ("", "---------", False),
        (str(own_client.pk), f"Acme Ltd · {own_client.inn}", True),
    ]
    assert options(html, "contact") == [
        ("", "---------", False),
        (str(contact.pk), "Ivan Petrov", True),
    ]


def test_a_contact_of_another_client_is_refused(owner, own_client, theme):
    other = make_client(name="Second Co", account_manager=owner)
    theirs = make_contact(other, full_name="Petr Second")
    http = client_for(owner, "en")
    response = http.post(NEW, body(own_client, theme, contact=theirs.pk))
    assert response.status_code == 200
    assert response.context["form"].errors["contact"] == [
        "The contact person belongs to another client."
    ]
    assert not Complaint.objects.exists()


def test_the_outsider_cannot_pick_the_owners_client_or_contact(
    outsider, own_client, contact, theme
):
    http = client_for(outsider, "en")
    response = http.post(NEW, body(own_client, theme, contact=contact.pk))
    errors = response.context["form"].errors
    assert "Select a valid choice" in errors["client"][0]
    assert "Select a valid choice" in errors["contact"][0]
    # and the refused ids are not shown back with their names
    assert "Acme Ltd" not in response.content.decode()
    assert "Ivan Petrov" not in response.content.decode()
    assert not Complaint.objects.exists()


def test_without_javascript_a_typed_name_picks_the_record(owner, own_client, contact, theme):
    trading = make_client(name="Acme Trading", account_manager=owner)
    http = client_for(owner, "en")
    data = body(own_client, theme)
    del data["client"]
    # several match: listed, and the typed text is kept
    response = http.post(NEW, {**data, "client__search": "acme"})
    assert response.context["form"].errors["client"] == [
        f"Several match “acme”: Acme Ltd · {own_client.inn}; Acme Trading · {trading.inn}. "
        "Type more to tell them apart."
    ]
    assert 'name="client__search" value="acme"' in response.content.decode()
    response = http.post(NEW, {**data, "client__search": "nobody"})
    assert response.context["form"].errors["client"] == ["Nothing matches “nobody”."]
    # one match: taken, and the contact by its email
    response = http.post(
        NEW, {**data, "client__search": "acme ltd", "contact__search": "ivan@acme.example"}
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.client, complaint.contact) == (own_client, contact)


def test_the_edit_form_offers_the_clients_contacts_only(register, owner, own_client, contact):
    complaint = register()
    other = make_contact(make_client(name="Second Co", account_manager=owner))
    http = client_for(owner, "en")
    url = reverse("feedback:edit", kwargs={"pk": complaint.pk})
    html = http.get(url).content.decode()
    assert options(html, "contact") == [("", "---------", True)]
    assert f'data-picker-params="{{&quot;client&quot;: {own_client.pk}}}"' in html
    form = http.get(url).context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name in form.fields
    }
    data.update({"contact": other.pk, "company_at_fault": "unknown"})
    response = http.post(url, data)
    assert "Select a valid choice" in response.context["form"].errors["contact"][0]
    data["contact"] = contact.pk
    assert http.post(url, data).status_code == 302
    complaint.refresh_from_db()
    assert complaint.contact == contact
    html = http.get(url).content.decode()
    assert options(html, "contact") == [
        ("", "---------", False),
        (str(contact.pk), "Ivan Petrov", True),
    ]


def test_the_api_refuses_a_contact_of_another_client(owner, own_client, theme):
    theirs = make_contact(make_client(name="Second Co", account_manager=owner))
    http = client_for(owner, "en")
    response = http.post(
        "/api/complaints/",
        {"client": own_client.pk, "theme": theme.pk, "description": "Late", "contact": theirs.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"contact": ["The contact person belongs to another client."]}
    assert not Complaint.objects.exists()


def test_the_filter_picks_the_responsible_through_the_picker(owner, register):
    register()
    html = (
        client_for(owner, "en")
        .get("/feedback/complaints/", {"responsible": owner.pk})
        .content.decode()
    )
    assert options(html, "responsible") == [
        ("", "anyone", False),
        (str(owner.pk), str(owner), True),
    ]


def test_without_javascript_a_contact_is_searched_among_the_chosen_clients(
    owner, own_client, contact, theme
):
    make_contact(make_client(name="Second Co", account_manager=owner), full_name="Ivan Sidorov")
    response = client_for(owner, "en").post(NEW, body(own_client, theme, contact__search="ivan"))
    assert response.status_code == 302
    assert Complaint.objects.get().contact == contact
