"""Free-text fields have one length limit (the model field's max_length) that the forms, the
API and the import all enforce: 10 000 characters, never a 15 MB note."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from clients.imports import rules
from clients.models import Client, Interaction, ProductLine, TargetSegment
from crm.models import LONG_TEXT_MAX_LENGTH
from feedback.models import Complaint, Theme
from tests.clients.test_import_views import english, last_job, media_root, upload  # noqa: F401

LIMIT = LONG_TEXT_MAX_LENGTH


def api(user) -> APIClient:
    http = APIClient()
    http.force_authenticate(user)
    http.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return http


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (Client, "notes"),
        (Interaction, "summary"),
        (ProductLine, "description"),
        (TargetSegment, "description"),
        (Complaint, "description"),
        (Complaint, "resolution"),
        (Complaint, "corrective_action"),
        (Complaint, "rejection_reason"),
    ],
)
def test_every_free_text_field_has_the_limit(model, name):
    assert model._meta.get_field(name).max_length == LIMIT == 10_000


def test_api_refuses_a_note_over_the_limit_and_keeps_the_old_one(owner, own_client):
    url = f"/api/clients/{own_client.pk}/"
    response = api(owner).patch(url, {"notes": "x" * (LIMIT + 1)}, format="json")
    assert response.status_code == 400
    assert "no more than 10000 characters" in str(response.json()["notes"])
    own_client.refresh_from_db()
    assert own_client.notes == ""
    response = api(owner).patch(url, {"notes": "x" * LIMIT}, format="json")
    assert response.status_code == 200
    own_client.refresh_from_db()
    assert len(own_client.notes) == LIMIT


def test_client_form_refuses_a_note_over_the_limit(owner_client, own_client):
    response = owner_client.get(reverse("clients:edit", args=[own_client.pk]))
    assert 'maxlength="10000"' in response.content.decode()
    form = response.context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k != "tags"}
    data.update(name=own_client.name, notes="x" * (LIMIT + 1), kind="company")
    response = owner_client.post(reverse("clients:edit", args=[own_client.pk]), data)
    assert response.status_code == 200
    assert "notes" in response.context["form"].errors
    own_client.refresh_from_db()
    assert own_client.notes == ""


def test_complaint_api_refuses_texts_over_the_limit(owner, own_client):
    theme = Theme.objects.get_or_create(
        code="missed-deadlines",
        defaults={"name_en": "Missed deadlines", "name_ru": "Нарушение сроков", "order": 10},
    )[0]
    body = {"client": own_client.pk, "theme": theme.pk, "channel": "email"}
    response = api(owner).post(
        "/api/complaints/", {**body, "description": "x" * (LIMIT + 1)}, format="json"
    )
    assert response.status_code == 400
    assert "no more than 10000 characters" in str(response.json()["description"])
    assert not Complaint.objects.exists()
    response = api(owner).post("/api/complaints/", {**body, "description": "Late"}, format="json")
    assert response.status_code == 201, response.json()
    step = f"/api/complaints/{response.json()['id']}/step/"
    response = api(owner).post(
        step, {"action": "reject", "rejection_reason": "x" * (LIMIT + 1)}, format="json"
    )
    assert response.status_code == 400
    assert "no more than 10000 characters" in str(response.json()["rejection_reason"])
    assert Complaint.objects.get().status == "registered"


def test_import_reports_a_note_over_the_limit_as_a_bad_row(manager_client):
    upload(manager_client, "name,notes\nA," + "x" * (LIMIT + 1) + "\nB,fine\n", mode="valid_rows")
    job = last_job()
    assert (job.status, job.created_count, job.error_count) == ("done", 1, 1)
    assert list(Client.objects.values_list("name", "notes")) == [("B", "fine")]
    assert rules.clean_row("clients", {"name": "A", "notes": "y" * LIMIT})[1] == []
