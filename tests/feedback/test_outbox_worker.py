"""Never lost, delivered when the broker is back — with a real Celery worker (PostgreSQL, and
Redis in CI or the filesystem broker locally): a complaint registered while the broker is on a
closed port answers 302 and leaves its email in the outbox; once the broker is back the
drain (the beat's task) runs on the worker, publishes the email task, and the worker sends it."""

import time
from pathlib import Path

import pytest
from django.urls import reverse

from crm.models import OutboxMessage
from crm.tasks import outbox_drain
from feedback.models import Complaint, Notice
from tests.conftest import client_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_email_of_a_write_made_while_the_broker_was_down_is_sent_by_the_worker(
    postgres_required, celery_worker_process, services_down, manager, owner, own_client, theme
):
    http = client_for(manager, "en")
    response = http.post(
        reverse("feedback:create"),
        {
            "client": own_client.pk,
            "theme": theme.pk,
            "priority": "normal",
            "channel": "phone",
            "description": "Nobody called back",
        },
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    notice = Notice.objects.get(kind="assigned", recipient=owner)
    message = OutboxMessage.objects.get()
    assert (message.task, message.args, message.sent_at) == (
        "feedback.send_assignment_email",
        [notice.pk],
        None,
    )

    services_down.back()  # the broker is back; the beat would send this every minute
    result = outbox_drain.apply_async().get(timeout=60)
    assert (result["sent"], result["failed"], result["pending"]) == (1, 0, 0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        notice.refresh_from_db()
        if notice.emailed_at is not None:
            break
        time.sleep(0.3)
    assert notice.emailed_at is not None
    message.refresh_from_db()
    assert message.sent_at is not None
    mail_dir = Path(celery_worker_process["env"]["VAR_DIR"]) / "mail"
    sent = [p.read_text() for p in mail_dir.glob("*.log")]
    assert sum(f"/complaints/{complaint.pk}/" in text for text in sent) == 1, sent
    log = celery_worker_process["log"].read_text()
    assert "Task feedback.send_assignment_email[outbox-" in log
