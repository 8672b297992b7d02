"""The beat task on a real Celery worker (PostgreSQL + Redis, or the filesystem broker)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from feedback import tasks
from feedback.models import SlaBreach

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_worker_escalates_once_and_sends_the_email(
    postgres_required, celery_worker_process, register, manager
):
    register(priority="urgent", at=timezone.now() - timedelta(days=30))  # both deadlines past
    assert tasks.escalate_sla_breaches.delay().get(timeout=60) == 2
    assert tasks.escalate_sla_breaches.delay().get(timeout=60) == 0
    # the worker sends the escalation email after its scan commits (one task per chunk)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if SlaBreach.objects.filter(emailed_at__isnull=True).count() == 0:
            break
        time.sleep(0.3)
    assert SlaBreach.objects.count() == 2
    assert SlaBreach.objects.filter(emailed_at__isnull=False).count() == 2
    assert sorted(SlaBreach.objects.values_list("escalated_to__username", flat=True)) == [
        "boss",
        "boss",
    ]
