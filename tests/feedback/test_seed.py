"""seed_complaints: every state, some breached, deterministic, idempotent, bulk sizes."""

from io import StringIO

import pytest
from django.core.management import call_command

from feedback.models import Complaint, SlaBreach
from tests.feedback.conftest import make_client, make_contact

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("seed_complaints", *args, stdout=out)
    return out.getvalue()


def test_no_clients_prints_and_exits():
    assert "No clients yet" in _run()
    assert Complaint.objects.count() == 0


def test_every_state_some_breached_idempotent_deterministic(owner, manager):
    for i in range(5):
        make_contact(make_client(name=f"Demo {i}", account_manager=owner))
    _run("--count", "21")
    assert Complaint.objects.count() == 21
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Complaint.Status.values)
    assert SlaBreach.objects.exists()
    first = list(Complaint.objects.order_by("id").values_list("status", "priority", "theme"))
    assert "already exist" in _run()
    assert Complaint.objects.count() == 21
    _run("--force", "--count", "21")
    again = list(Complaint.objects.order_by("id").values_list("status", "priority", "theme"))
    assert again == first  # same seed, same complaints


def test_bulk_count(owner):
    make_client(account_manager=owner)
    _run("--count", "600")
    assert Complaint.objects.count() == 600
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Complaint.Status.values)
