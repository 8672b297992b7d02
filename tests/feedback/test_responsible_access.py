"""The responsible of a complaint must be someone who may see its client: they are sent the
client's name and the complaint text, and must be able to open it. Other account managers'
records are refused exactly like records that do not exist."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from feedback import services
from feedback.models import Complaint, Notice
from tests.conftest import client_for
from tests.factories import ManagerFactory
from tests.feedback.conftest import make_client, make_contact

REFUSED = "cannot see this client: choose the client's account manager or a manager."


def test_another_account_manager_cannot_be_made_responsible(
    register, outsider, django_capture_on_commit_callbacks
):
    with (
        translation.override("en"),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ValidationError) as exc,
    ):
        register(responsible=outsider)
    assert exc.value.message_dict == {"responsible": [f"{outsider} {REFUSED}"]}
    assert not Complaint.objects.exists()
    assert not Notice.objects.exists()
    assert mail.outbox == []


def test_reassigning_to_another_account_manager_changes_nothing(
    register, owner, outsider, django_capture_on_commit_callbacks
):
    complaint = register()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        services.complaint_update(actor=owner, complaint=complaint, data={"responsible": outsider})
    complaint.refresh_from_db()
    assert complaint.responsible == owner
    assert not Notice.objects.filter(recipient=outsider).exists()
    assert mail.outbox == []


def test_the_clients_account_manager_and_managers_may_be_responsible(register, owner, manager):
    assert register(responsible=owner).responsible == owner
    deputy = ManagerFactory(username="deputy")
    complaint = services.complaint_update(
        actor=owner, complaint=register(), data={"responsible": deputy}
    )
    assert complaint.responsible == deputy
    assert Notice.objects.filter(recipient=deputy, kind="assigned").count() == 1


def test_a_responsible_kept_after_the_client_moved_does_not_block_other_edits(
    register, owner, outsider, own_client
):
    complaint = register()
    own_client.account_manager = outsider  # the client moves to another account manager
    own_client.save()
    complaint = services.complaint_update(
        actor=outsider, complaint=complaint, data={"priority": "high"}
    )
    assert (complaint.priority, complaint.responsible) == ("high", owner)


def test_edit_page_offers_only_people_who_may_see_the_client(register, owner, manager, outsider):
    complaint = register()
    http = client_for(owner, "en")
    page = http.get(reverse("feedback:edit", kwargs={"pk": complaint.pk}))
    choices = set(page.context["form"].fields["responsible"].queryset)
    assert choices == {owner, manager}
    data = {
        name: value
        for name, value in page.context["form"].initial.items()
        if value is not None and name in services.EDITABLE_FIELDS
    }
    data.update({"responsible": outsider.pk, "company_at_fault": "unknown"})
    response = http.post(reverse("feedback:edit", kwargs={"pk": complaint.pk}), data)
    assert response.status_code == 200
    assert "Select a valid choice" in str(response.context["form"].errors["responsible"])
    complaint.refresh_from_db()
    assert complaint.responsible == owner


def test_api_refuses_another_account_manager_as_responsible(owner, own_client, outsider, theme):
    http = client_for(owner, "en")
    body = {"client": own_client.pk, "theme": theme.pk, "description": "Late"}
    response = http.post(
        "/api/complaints/", {**body, "responsible": outsider.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"responsible": [f"{outsider} {REFUSED}"]}
    assert not Complaint.objects.exists()
    created = http.post("/api/complaints/", body, content_type="application/json")
    assert created.status_code == 201
    pk = created.json()["id"]
    response = http.patch(
        f"/api/complaints/{pk}/", {"responsible": outsider.pk}, content_type="application/json"
    )
    assert response.status_code == 400
    assert Complaint.objects.get(pk=pk).responsible == owner


def test_api_contact_of_another_owners_client_is_answered_like_a_missing_one(
    owner, own_client, outsider, theme
):
    theirs = make_contact(make_client(name="Other Co", account_manager=outsider))
    http = client_for(owner, "en")
    body = {"client": own_client.pk, "theme": theme.pk, "description": "Late"}

    def errors(contact_id):
        response = http.post(
            "/api/complaints/", {**body, "contact": contact_id}, content_type="application/json"
        )
        assert response.status_code == 400
        return response.json()

    assert errors(theirs.pk) == {"contact": [f'Invalid pk "{theirs.pk}" - object does not exist.']}
    assert errors(999_999) == {"contact": ['Invalid pk "999999" - object does not exist.']}
    # a client of another account manager: the same as a client that does not exist
    other = make_client(name="Not Mine", account_manager=outsider)
    response = http.post(
        "/api/complaints/", {**body, "client": other.pk}, content_type="application/json"
    )
    assert response.json() == {"client": [f'Invalid pk "{other.pk}" - object does not exist.']}
    assert not Complaint.objects.exists()


def test_api_filter_by_another_owners_client_is_answered_like_a_missing_one(
    register, outsider_client, own_client
):
    register()
    theirs = outsider_client.get("/api/complaints/", {"client": own_client.pk})
    missing = outsider_client.get("/api/complaints/", {"client": 999_999})
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json() == missing.json()
    assert list(missing.json()) == ["client"]
