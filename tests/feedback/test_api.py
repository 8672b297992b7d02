"""Complaint API: CRUD and steps through the services, scoped by role."""

import pytest
from rest_framework.test import APIClient

from feedback.models import Complaint
from tests.feedback.conftest import make_client

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    c.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return c


def test_create_read_update_and_steps(owner, own_client, contact, theme):
    c = api(owner)
    r = c.post(
        "/api/complaints/",
        {
            "client": own_client.pk,
            "contact": contact.pk,
            "theme": theme.pk,
            "description": "Late delivery",
            "priority": "urgent",
            "channel": "email",
            "goodwill_gift": "Coffee",
        },
        format="json",
    )
    assert r.status_code == 201, r.json()
    pk = r.json()["id"]
    obj = Complaint.objects.get(pk=pk)
    assert obj.status == "registered" and obj.goodwill_gift == "Coffee"
    assert r.json()["ack_due_at"] and r.json()["resolve_due_at"]
    r = c.patch(f"/api/complaints/{pk}/", {"priority": "low", "status": "closed"}, format="json")
    assert r.status_code == 200 and r.json()["priority"] == "low"
    assert r.json()["status"] == "registered"  # read-only: status only through steps
    r = c.post(f"/api/complaints/{pk}/step/", {"action": "close"}, format="json")
    assert r.status_code == 400
    assert "is not allowed for a complaint that is" in str(r.json())
    r = c.post(f"/api/complaints/{pk}/step/", {"action": "review"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "under_review"
    r = c.post(
        f"/api/complaints/{pk}/step/",
        {"action": "resolve", "resolution": "Refund"},
        format="json",
    )
    assert r.status_code == 400
    assert "Record the root cause" in str(r.json())
    r = c.post(
        f"/api/complaints/{pk}/step/",
        {
            "action": "resolve",
            "resolution": "Refund",
            "why_1": "Late truck",
            "root_cause": "supplier",
        },
        format="json",
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved"


def test_scoped_by_role(owner, outsider, manager, register):
    mine = register()
    other = register(client=make_client(account_manager=outsider), actor=outsider)
    ids = [row["id"] for row in api(owner).get("/api/complaints/").json()["results"]]
    assert ids == [mine.pk]
    assert api(outsider).get(f"/api/complaints/{mine.pk}/").status_code == 404
    assert (
        api(outsider).post(f"/api/complaints/{mine.pk}/step/", {"action": "review"}).status_code
        == 404
    )
    assert api(manager).get("/api/complaints/").json()["count"] == 2
    # an account manager cannot register on someone else's client
    r = api(owner).post(
        "/api/complaints/",
        {"client": other.client_id, "theme": mine.theme_id, "description": "x"},
        format="json",
    )
    assert r.status_code == 400 and Complaint.objects.count() == 2
    # delete: managers only
    assert api(owner).delete(f"/api/complaints/{mine.pk}/").status_code == 403
    assert api(manager).delete(f"/api/complaints/{mine.pk}/").status_code == 204
    assert not Complaint.objects.filter(pk=mine.pk).exists()


def test_themes_endpoint(owner):
    rows = api(owner).get("/api/complaint-themes/").json()["results"]
    assert {r["name_ru"] for r in rows} >= {"Нарушение сроков", "Ошибки в документах"}
    assert len(rows) == 6  # the five of complaints and surveys' "Unhappy survey answer"
