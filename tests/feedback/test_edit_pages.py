"""Editing through the pages: a complaint through its edit form and a complaint theme, each
saved by its service and audited with what changed (old → new)."""

from datetime import datetime

import pytest
from django.urls import reverse

from crm.models import AuditEntry
from feedback.forms import ComplaintEditForm
from feedback.models import Complaint, Theme
from tests.conftest import client_for
from tests.feedback.conftest import msk

pytestmark = pytest.mark.django_db


def form_data(complaint: Complaint, **changes) -> dict:
    """What the edit form posts when nothing is touched, with ``changes`` typed in."""
    form = ComplaintEditForm(instance=complaint)
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    data.update(changes)
    return data


def updates_of(instance) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(object_id=str(instance.pk), action="update").order_by("id")
    )


def test_complaint_edit_saves_replans_and_audits_the_diff(register, owner):
    # urgent on Monday 10:00: acknowledge by 11:00, resolve by 14:00; normal: 18:00 and
    # Thursday 15:00 (8 and 32 working hours)
    complaint = register(priority="urgent", description="The delivery was late")
    http = client_for(owner, "en")
    url = reverse("feedback:edit", args=[complaint.pk])
    assert http.get(url).status_code == 200
    response = http.post(
        url,
        form_data(
            complaint,
            description="The delivery was two days late",
            priority="normal",
            touchpoint="delivery",
        ),
        follow=True,
    )
    assert response.redirect_chain == [(reverse("feedback:detail", args=[complaint.pk]), 302)]
    assert "Complaint saved." in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.description == "The delivery was two days late"
    assert (complaint.priority, complaint.touchpoint) == ("normal", "delivery")
    assert (complaint.ack_due_at, complaint.resolve_due_at) == (
        msk(2026, 11, 23, 18),
        msk(2026, 11, 26, 15),
    )
    [entry] = updates_of(complaint)
    assert entry.actor == owner
    changes = entry.changes
    assert set(changes) == {
        "description",
        "priority",
        "touchpoint",
        "ack_due_at",
        "resolve_due_at",
    }
    assert changes["description"] == ["The delivery was late", "The delivery was two days late"]
    assert changes["priority"] == ["urgent", "normal"]
    assert changes["touchpoint"] == ["", "delivery"]
    deadlines = ("ack_due_at", "resolve_due_at")
    assert {k: [datetime.fromisoformat(v) for v in changes[k]] for k in deadlines} == {
        "ack_due_at": [msk(2026, 11, 23, 11), msk(2026, 11, 23, 18)],
        "resolve_due_at": [msk(2026, 11, 23, 14), msk(2026, 11, 26, 15)],
    }


def test_complaint_edit_with_nothing_changed_writes_no_audit_entry(register, owner):
    complaint = register()
    response = client_for(owner, "en").post(
        reverse("feedback:edit", args=[complaint.pk]), form_data(complaint)
    )
    assert response.status_code == 302
    assert updates_of(complaint) == []


def test_complaint_edit_refused_by_the_form_changes_nothing(register, owner):
    complaint = register()
    response = client_for(owner, "en").post(
        reverse("feedback:edit", args=[complaint.pk]),
        form_data(complaint, description="", priority="urgent"),
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    complaint.refresh_from_db()
    assert (complaint.description, complaint.priority) == ("The delivery was late", "normal")
    assert updates_of(complaint) == []


def theme_data(theme: Theme, **changes) -> dict:
    data = {
        "code": theme.code,
        "name_en": theme.name_en,
        "name_ru": theme.name_ru,
        "order": theme.order,
        "is_active": "on" if theme.is_active else "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_theme_edit_saves_and_audits_the_diff(manager, theme):
    http = client_for(manager, "en")
    url = reverse("feedback:theme_edit", args=[theme.pk])
    assert http.get(url).status_code == 200
    response = http.post(
        url, theme_data(theme, name_en="Deadlines missed", order=5, is_active=""), follow=True
    )
    assert response.redirect_chain == [(reverse("feedback:themes"), 302)]
    page = response.content.decode()
    assert "Theme saved." in page and "Deadlines missed" in page
    theme.refresh_from_db()
    assert (theme.name_en, theme.name_ru, theme.order, theme.is_active) == (
        "Deadlines missed",
        "Нарушение сроков",
        5,
        False,
    )
    [entry] = updates_of(theme)
    assert entry.actor == manager
    assert entry.changes == {
        "name_en": ["Missed deadlines", "Deadlines missed"],
        "order": [10, 5],
        "is_active": [True, False],
    }


def test_theme_edit_refuses_a_taken_code_and_changes_nothing(manager, theme):
    other = Theme.objects.get(code="document-errors")
    response = client_for(manager, "en").post(
        reverse("feedback:theme_edit", args=[other.pk]), theme_data(other, code=theme.code)
    )
    assert response.status_code == 200
    assert "Complaint theme with this Code already exists." in response.content.decode()
    other.refresh_from_db()
    assert other.code == "document-errors"
    assert updates_of(other) == []


def test_theme_edit_is_for_managers_only(owner, theme):
    http = client_for(owner, "en")
    url = reverse("feedback:theme_edit", args=[theme.pk])
    assert http.get(url).status_code == 404
    assert http.post(url, theme_data(theme, name_en="Hijacked")).status_code == 404
    theme.refresh_from_db()
    assert theme.name_en == "Missed deadlines"
    assert updates_of(theme) == []
