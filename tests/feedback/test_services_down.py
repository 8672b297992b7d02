"""Redis down (broker and cache on a closed port): registering and moving a complaint answer
success once saved, the assignee's email waits in the outbox and goes when the broker is back,
the list and analytics pages work without the cache. An SMTP server that refuses and then
accepts: the escalation is marked e-mailed only after the accepted send."""

import threading
import time

import pytest
from django.core import mail
from django.urls import reverse

from crm import queue
from crm.models import OutboxMessage
from feedback import emails, sla
from feedback.models import Complaint, Notice, SlaBreach
from tests.conftest import client_for, closed_port
from tests.feedback.conftest import msk


@pytest.mark.django_db(transaction=True)
def test_register_and_move_with_redis_down_answer_success_and_the_email_is_kept(
    services_down, manager, owner, own_client, theme
):
    http = client_for(manager, "en")
    started = time.monotonic()
    response = http.post(
        reverse("feedback:create"),
        {
            "client": own_client.pk,
            "theme": theme.pk,
            "priority": "high",
            "channel": "phone",
            "description": "The order came two days late",
        },
    )
    assert time.monotonic() - started < 5  # not ~20 s of broker retries
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:detail", args=[complaint.pk])
    assert complaint.responsible == owner  # the client's account manager: emailed
    notice = Notice.objects.get(kind="assigned")
    message = OutboxMessage.objects.get()
    assert (message.task, message.args, message.sent_at, message.attempts) == (
        "feedback.send_assignment_email",
        [notice.pk],
        None,
        1,
    )
    assert "Connection refused" in message.last_error
    assert mail.outbox == [] and notice.emailed_at is None

    response = http.post(reverse("feedback:step", args=[complaint.pk, "review"]))
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == "under_review"
    assert Complaint.objects.count() == 1  # no retry by the user, no duplicate
    for name in ("complaints", "mine", "board", "analytics"):
        assert http.get(reverse(f"feedback:{name}")).status_code == 200, name
    assert http.get(reverse("feedback:detail", args=[complaint.pk])).status_code == 200

    services_down.back()
    assert queue.drain()["sent"] == 1  # eager here: the task runs at once
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert mail.outbox[0].subject == f"Вам назначена жалоба №{complaint.pk}: Acme Ltd"
    notice.refresh_from_db()
    assert notice.emailed_at is not None
    # delivered twice (a redelivered message): still one email
    assert emails.send_assignment_email(notice.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_api_register_with_redis_down_answers_201(services_down, manager, own_client, theme):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    response = api.post(
        "/api/complaints/",
        {
            "client": own_client.pk,
            "theme": theme.pk,
            "priority": "normal",
            "channel": "email",
            "description": "Wrong invoice",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Complaint.objects.count() == 1
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 1


# --- SMTP that refuses, then accepts ------------------------------------------------------------
class FlakySmtp:
    """An aiosmtpd handler answering "451 try again later" to the first ``refuse`` messages."""

    def __init__(self, refuse: int):
        self.refuse = refuse
        self.attempts = 0
        self.accepted: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            if self.attempts <= self.refuse:
                return "451 4.3.0 Try again later"
            self.accepted.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(smtp_server):
    """Start an SMTP server with ``smtp(refuse=N)``; Django sends to it."""
    return lambda *, refuse: smtp_server(FlakySmtp(refuse))


@pytest.fixture
def breach_ids(register, manager, retries_run_eagerly):
    register(priority="urgent")  # the responsible's head (manager) is escalated to
    return sla.sla_escalate_breaches(now=msk(2026, 11, 23, 12))


def test_escalation_emailed_after_a_refusal_then_marked(smtp, breach_ids, manager):
    server = smtp(refuse=1)
    # eager: the retries (with backoff on a worker) run at once
    result = emails.send_escalation_emails.apply(args=[breach_ids])
    assert result.get() == 1
    assert server.attempts == 2
    assert [e.rcpt_tos for e in server.accepted] == [[manager.email]]
    breach = SlaBreach.objects.get()
    assert breach.emailed_at is not None
    # the message delivered again: nothing is sent twice
    assert emails.send_escalation_emails.apply(args=[breach_ids]).get() == 0
    assert server.attempts == 2


def test_escalation_not_marked_while_the_server_refuses(smtp, breach_ids, settings):
    server = smtp(refuse=100)
    result = emails.send_escalation_emails.apply(args=[breach_ids])
    assert result.failed()  # bounded retries, then the task fails loudly
    assert isinstance(result.result, emails.SMTPException)
    assert server.attempts == emails.EMAIL_RETRY["max_retries"] + 1
    assert server.accepted == []
    assert SlaBreach.objects.get().emailed_at is None  # still due: not marked e-mailed


def test_no_smtp_server_at_all_is_retried_and_not_marked(settings, breach_ids):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    result = emails.send_escalation_emails.apply(args=[breach_ids])
    assert result.failed() and isinstance(result.result, ConnectionRefusedError)
    assert SlaBreach.objects.get().emailed_at is None


def test_every_email_task_retries_with_backoff():
    for task in (
        emails.send_assignment_email,
        emails.send_escalation_emails,
        emails.send_client_resolution_email,
    ):
        assert task.autoretry_for == (emails.SMTPException, OSError), task.name
        assert task.retry_backoff is True and task.max_retries == 8, task.name
