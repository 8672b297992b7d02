"""The outbox (crm.queue): a queued task is a row written with the write, published after
commit; a publish against a dead broker fails fast and leaves the row for the drain, which
publishes it once the broker is back. Rows are marked sent only after a successful publish."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm import queue
from crm.models import OutboxMessage
from crm.tasks import outbox_drain, ping


def test_drain_beat_entry_is_created_by_the_migration(db):
    entry = PeriodicTask.objects.get(task="crm.outbox_drain")
    assert entry.enabled and (entry.interval.every, entry.interval.period) == (1, "minutes")
    assert entry.expire_seconds == 120


def test_the_row_lives_and_dies_with_the_write(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.enqueue(ping)
        assert OutboxMessage.objects.count() == 1
        raise RuntimeError("the write failed")
    assert OutboxMessage.objects.count() == 0  # rolled back together: nothing to publish


def test_published_after_commit_and_marked_sent(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue.enqueue("crm.ping")  # by name, as services of higher apps do
        assert OutboxMessage.objects.get().sent_at is None  # not before the commit
    message.refresh_from_db()
    assert message.sent_at is not None and (message.task, message.args) == ("crm.ping", [])


@pytest.mark.django_db(transaction=True)
def test_dead_broker_fails_fast_and_the_drain_publishes_when_it_is_back(services_down):
    started = time.monotonic()
    message = queue.enqueue(ping)  # autocommit: published (tried) at once
    assert time.monotonic() - started < 5  # ~0.5 s, not kombu's ~20 s of retries
    message.refresh_from_db()
    assert (message.sent_at, message.attempts) == (None, 1)
    assert "refused" in message.last_error.lower()
    assert message.available_at <= timezone.now()  # due for the next drain
    # the drain while the broker is still down: stops at the first failure, keeps the row
    assert queue.drain() == {"sent": 0, "failed": 1, "pending": 1, "pruned": 0}
    message.refresh_from_db()
    assert (message.sent_at, message.attempts) == (None, 2)

    services_down.back()  # the broker is back (eager here; a real worker: test_outbox_worker)
    assert queue.drain() == {"sent": 1, "failed": 0, "pending": 0, "pruned": 0}
    message.refresh_from_db()
    assert message.sent_at is not None and message.last_error == ""
    assert queue.drain()["sent"] == 0  # sent once only


def test_the_drain_leaves_a_row_its_committing_process_is_publishing(db):
    leased = OutboxMessage.objects.create(
        task="crm.ping", available_at=timezone.now() + queue.LEASE
    )
    assert queue.drain()["sent"] == 0
    leased.refresh_from_db()
    assert leased.sent_at is None
    # once the lease ran out (that process died after its commit) the drain sends it
    OutboxMessage.objects.filter(pk=leased.pk).update(available_at=timezone.now())
    assert queue.drain()["sent"] == 1


def test_two_drains_never_claim_the_same_row(db):
    row = OutboxMessage.objects.create(task="crm.ping", available_at=timezone.now())
    now = timezone.now()
    assert queue._claim(row.pk, now) is True
    assert queue._claim(row.pk, now) is False


def test_sent_rows_are_pruned_after_a_week(db):
    now = timezone.now()
    old = OutboxMessage.objects.create(
        task="crm.ping", available_at=now, sent_at=now - timedelta(days=8)
    )
    recent = OutboxMessage.objects.create(
        task="crm.ping", available_at=now, sent_at=now - timedelta(days=6)
    )
    assert queue.drain()["pruned"] == 1
    assert list(OutboxMessage.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not OutboxMessage.objects.filter(pk=old.pk).exists()


def test_drain_task_runs_eagerly(db):
    OutboxMessage.objects.create(task="crm.ping", available_at=timezone.now())
    assert outbox_drain.delay().get() == {"sent": 1, "failed": 0, "pending": 0, "pruned": 0}


def test_enqueue_chunks_writes_one_row_per_chunk(db):
    with transaction.atomic():
        queue.enqueue_chunks("crm.ping", [1, 2, 3, 4, 5], 2)
    rows = OutboxMessage.objects.order_by("id")
    assert [(r.task, r.args) for r in rows] == [
        ("crm.ping", [[1, 2]]),
        ("crm.ping", [[3, 4]]),
        ("crm.ping", [[5]]),
    ]
