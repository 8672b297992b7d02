"""SLA escalation: each breach is escalated once (email + notice to the responsible's head),
however many times the beat task runs, and with two workers at once on PostgreSQL."""

import threading
import time

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django_celery_beat.models import PeriodicTask

from feedback import services, sla, tasks
from feedback.models import Complaint, Notice, SlaBreach
from tests.factories import ManagerFactory
from tests.feedback.conftest import msk

# urgent, registered Monday 10:00: acknowledge by 11:00, resolve by 14:00 (working hours)


def test_beat_entry_is_created_by_the_migration(db):
    entry = PeriodicTask.objects.get(task="feedback.escalate_sla_breaches")
    assert entry.enabled and entry.interval.every == 5 and entry.interval.period == "minutes"


@pytest.mark.django_db
def test_each_breach_escalated_once_however_often_the_scan_runs(
    register, owner, manager, django_capture_on_commit_callbacks
):
    c = register(priority="urgent")
    with django_capture_on_commit_callbacks(execute=True):
        assert sla.sla_escalate_breaches(now=msk(2026, 11, 23, 10, 59)) == []  # not yet
        first = sla.sla_escalate_breaches(now=msk(2026, 11, 23, 11, 30))
        for _ in range(5):
            assert sla.sla_escalate_breaches(now=msk(2026, 11, 23, 11, 45)) == []
    assert len(first) == 1
    breach = SlaBreach.objects.get()
    assert (breach.complaint, breach.kind, breach.escalated_to) == (c, "ack", manager)
    assert breach.due_at == msk(2026, 11, 23, 11, 0) and breach.emailed_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [manager.email]
    assert mail.outbox[0].subject == f"Нарушен SLA: жалоба №{c.pk} ({c.client.name})"
    assert Notice.objects.filter(recipient=manager, kind="escalation").count() == 1
    # 15:00: the resolution deadline (14:00) has passed too → a second, different breach
    with django_capture_on_commit_callbacks(execute=True):
        assert len(sla.sla_escalate_breaches(now=msk(2026, 11, 23, 15))) == 1
        assert sla.sla_escalate_breaches(now=msk(2026, 11, 23, 16)) == []
    assert sorted(SlaBreach.objects.values_list("kind", flat=True)) == ["ack", "resolution"]
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_closed_or_acknowledged_in_time_complaints_are_not_escalated(register, owner):
    c = register(priority="urgent")
    services.complaint_transition(
        actor=owner, complaint=c, action="review", now=msk(2026, 11, 23, 10, 30)
    )
    # 12:00: acknowledged in time; resolution due 14:00 → nothing
    assert sla.sla_escalate_breaches(now=msk(2026, 11, 23, 12)) == []
    rejected = register(priority="urgent")
    services.complaint_transition(
        actor=owner,
        complaint=rejected,
        action="reject",
        data={"rejection_reason": "duplicate"},
        now=msk(2026, 11, 23, 10, 5),
    )
    # 15:00: only the first (still under review) misses its resolution deadline
    created = sla.sla_escalate_breaches(now=msk(2026, 11, 23, 15))
    assert list(SlaBreach.objects.filter(pk__in=created).values_list("complaint", "kind")) == [
        (c.pk, "resolution")
    ]


@pytest.mark.django_db
def test_responsible_without_a_head_breach_recorded_no_email(
    register, own_client, django_capture_on_commit_callbacks
):
    # a manager (may be responsible for any client's complaint) who reports to nobody
    lonely = ManagerFactory(username="lonely", head=None)
    register(priority="urgent", responsible=lonely)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert len(sla.sla_escalate_breaches(now=msk(2026, 11, 23, 12))) == 1
    assert SlaBreach.objects.get().escalated_to is None
    assert mail.outbox == [] and not Notice.objects.filter(kind="escalation").exists()


@pytest.mark.django_db
def test_email_task_delivered_twice_sends_once(register, manager):
    register(priority="urgent")
    ids = sla.sla_escalate_breaches(now=msk(2026, 11, 23, 12))
    assert tasks.send_escalation_emails(ids) == 1
    assert tasks.send_escalation_emails(ids) == 0  # a redelivered message
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_beat_task_eager_with_frozen_time(register, manager, django_capture_on_commit_callbacks):
    register(priority="urgent")
    with (
        time_machine.travel(msk(2026, 11, 23, 11, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert tasks.escalate_sla_breaches.delay().get() == 1
        assert tasks.escalate_sla_breaches.delay().get() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_overdue_shown_on_the_complaint_page(register, manager, manager_client):
    c = register(priority="urgent")
    sla.sla_escalate_breaches(now=msk(2026, 11, 23, 11, 30))
    manager_client.cookies["django_language"] = "en"
    with time_machine.travel(msk(2026, 11, 23, 11, 30), tick=False):
        html = manager_client.get(f"/feedback/complaints/{c.pk}/").content.decode()
    assert 'data-breach="ack"' in html
    assert "overdue by 30 min of working time" in html  # ack due 11:00, now 11:30
    assert "2 h 30 min of working time left" in html  # resolve due 14:00


# --- PostgreSQL: two workers at once -------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_escalate_once(postgres_required, register, manager):
    for _ in range(20):
        register(priority="urgent")
    now = msk(2026, 11, 23, 11, 30)  # all 20 acknowledgements are overdue
    a_inserted = threading.Event()
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def worker_a():
        try:
            with transaction.atomic():
                results["a"] = sla.sla_escalate_breaches(now=now)
                a_inserted.set()
                time.sleep(1.0)  # hold the uncommitted rows while B runs into them
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            a_inserted.set()
        finally:
            connection.close()

    def worker_b():
        try:
            a_inserted.wait(10)
            results["b"] = sla.sla_escalate_breaches(now=now)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(results["a"]) == 20 and results["b"] == []
    assert SlaBreach.objects.count() == 20
    assert len(mail.outbox) == 20  # one email per breach, sent by the worker that inserted it
    assert Notice.objects.filter(kind="escalation").count() == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_workers_started_together_escalate_once(postgres_required, register, manager):
    for _ in range(30):
        register(priority="urgent")
    now = msk(2026, 11, 23, 11, 30)
    barrier = threading.Barrier(4)
    found: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait(10)
            found.extend(sla.sla_escalate_breaches(now=now))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(found) == 30 and len(set(found)) == 30
    assert len(mail.outbox) == 30
    assert Complaint.objects.count() == 30
    # every acknowledgement is overdue (due 11:00), no resolution yet (due 14:00): 30 breaches,
    # each recorded and escalated once whichever worker found it
    assert SlaBreach.objects.count() == 30
    assert set(SlaBreach.objects.values_list("kind", flat=True)) == {"ack"}
    assert Notice.objects.filter(kind="escalation").count() == 30
