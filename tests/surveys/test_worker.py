"""Sending on a real Celery worker (PostgreSQL + Redis in CI; the test fails there when either is
missing): the same batch delivered three times — as a broker redelivers it — sends each
invitation once, and a row another sender holds in flight is left alone."""

import re
import time
from pathlib import Path

import pytest

from surveys import tasks
from surveys.models import Invitation
from tests.factories import ContactFactory
from tests.surveys.conftest import invite

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def delivered(mail_dir: Path) -> list[str]:
    """The recipients of the messages the worker wrote (file email backend)."""
    found = []
    for path in mail_dir.glob("*.log"):
        found += re.findall(r"^To: (\S+)$", path.read_text(), re.M)
    return sorted(found)


def test_redelivered_batches_send_each_invitation_once(
    postgres_required, redis_required, celery_worker_process, make_campaign, own_client
):
    mail_dir = Path(celery_worker_process["env"]["VAR_DIR"]) / "mail"
    before = delivered(mail_dir) if mail_dir.exists() else []
    campaign = make_campaign()
    people = [ContactFactory(client=own_client, email=f"w{i}@acme.example") for i in range(6)]
    ids = [invite(campaign, p).pk for p in people]
    held = Invitation.objects.get(pk=ids[-1])
    Invitation.objects.filter(pk=held.pk).update(in_flight_since=held.created_at)
    results = [tasks.send_invitations.apply_async(args=[ids]) for _ in range(3)]
    counts = sorted(r.get(timeout=60) for r in results)
    assert counts == [0, 0, 5]
    sent = [r for r in delivered(mail_dir) if r not in before]
    assert sent == sorted(p.email for p in people[:-1])  # each once; the held one not at all
    statuses = dict(Invitation.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["sent"] * 5 + ["queued"]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not celery_worker_process["log"].exists():
        time.sleep(0.1)
    assert "surveys.send_invitations" in celery_worker_process["log"].read_text()
