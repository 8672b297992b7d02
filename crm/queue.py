"""The one way to queue background work after a write: a transactional outbox.

``enqueue(task, *args)`` writes an ``OutboxMessage`` row in the caller's transaction, so the
message exists exactly when the write does (a rollback removes both). After the commit it tries
to publish the message to the broker at once; a publish that fails (broker down, network) only
leaves the row pending, and the ``crm.outbox_drain`` beat task publishes it when the broker is
back. A row is marked sent only after the broker accepted the message, so a message can be
published twice (a crash between the publish and the mark) but never lost: tasks are written
to be idempotent. Why, and what was not done: docs/decisions/outbox.md.

Services call ``enqueue``; views never queue work.
"""

import logging
from datetime import timedelta
from functools import partial

from celery import Task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.celery import app as celery_app
from crm.models import OutboxMessage

log = logging.getLogger(__name__)

# While the committing process publishes a new row, the drain leaves it alone this long.
LEASE = timedelta(seconds=60)
BATCH = 200
# The drain stops after this long even with rows left (the next beat tick goes on).
DRAIN_BUDGET = timedelta(seconds=45)
KEEP_SENT = timedelta(days=7)


def enqueue(task: Task | str, *args, **kwargs) -> OutboxMessage:
    """Queue ``task(*args, **kwargs)`` reliably: a row now, a publish after commit.

    ``task`` is the task or its registered name (a service whose app's tasks import the
    services names it, so the import goes one way). Arguments must be JSON-serialisable (ids,
    not objects)."""
    message = OutboxMessage.objects.create(
        task=task if isinstance(task, str) else task.name,
        args=list(args),
        kwargs=kwargs,
        available_at=timezone.now() + LEASE,
    )
    transaction.on_commit(partial(_publish_after_commit, message.pk))
    return message


def enqueue_chunks(task: Task | str, ids: list, size: int) -> None:
    """Queue ``task(chunk)`` once per ``size`` ids of ``ids`` (one outbox row a chunk), so a
    worker takes a large set in pieces that each fit one connection or one transaction."""
    for start in range(0, len(ids), size):
        enqueue(task, ids[start : start + size])


def _publish_after_commit(message_id: int) -> None:
    message = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).first()
    if message is not None:
        publish(message)


def publish(message: OutboxMessage) -> bool:
    """Hand one message to the broker; True once it was accepted (and the row marked sent).

    Never raises for a broker or network failure: the row stays pending with the error, due
    for the next drain. With eager Celery (unit tests) the task runs here and its errors
    propagate, as they would from ``task.delay``."""
    task = _registered(message.task)
    options = {"task_id": f"outbox-{message.pk}"}
    if celery_app.conf.task_always_eager and task is not None:
        _mark_sent(message)
        task.apply_async(args=message.args, kwargs=message.kwargs, **options)
        return True
    try:
        if task is not None:
            task.apply_async(args=message.args, kwargs=message.kwargs, **options)
        else:  # not imported in this process: publish by name (the worker knows it)
            celery_app.send_task(message.task, args=message.args, kwargs=message.kwargs, **options)
    except Exception as exc:  # noqa: BLE001 - any publish failure leaves the row for the drain
        log.warning(
            "outbox message %s (%s) not published yet: %s", message.pk, message.task, _describe(exc)
        )
        OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
            attempts=F("attempts") + 1,
            last_error=_describe(exc)[:2000],
            available_at=timezone.now(),
        )
        return False
    _mark_sent(message)
    return True


def _registered(name: str) -> Task | None:
    """The task called ``name``; the apps' tasks modules are imported the first time (a web
    process imports only the tasks its code touched, a worker all of them)."""
    task = celery_app.tasks.get(name)
    if task is None:
        celery_app.loader.import_default_modules()
        task = celery_app.tasks.get(name)
    return task


def _describe(exc: BaseException) -> str:
    """The root cause ("ConnectionError: … Connection refused"), not a wrapper's words."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return f"{type(exc).__name__}: {str(exc).strip()}"


def _mark_sent(message: OutboxMessage) -> None:
    message.sent_at = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=message.sent_at, last_error="")


def _claim(message_id: int, now) -> bool:
    """Take a due row for this process (a conditional UPDATE: two drains never both win)."""
    return bool(
        OutboxMessage.objects.filter(
            pk=message_id, sent_at__isnull=True, available_at__lte=now
        ).update(available_at=now + LEASE)
    )


def drain(*, budget: timedelta = DRAIN_BUDGET) -> dict:
    """Publish the pending messages that are due, oldest first; stop at the first failure
    (the broker is down: the next run tries again). Also forget rows sent long ago."""
    started = timezone.now()
    sent = failed = 0
    stop = False
    while not stop and timezone.now() - started < budget:
        now = timezone.now()
        ids = list(
            OutboxMessage.objects.filter(sent_at__isnull=True, available_at__lte=now)
            .order_by("id")
            .values_list("id", flat=True)[:BATCH]
        )
        if not ids:
            break
        for message_id in ids:
            if not _claim(message_id, timezone.now()):
                continue  # taken meanwhile by the committing process or another drain
            if publish(OutboxMessage.objects.get(pk=message_id)):
                sent += 1
            else:
                failed += 1
                stop = True
                break
    pruned, _by_model = OutboxMessage.objects.filter(
        sent_at__lt=timezone.now() - KEEP_SENT
    ).delete()
    pending = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    return {"sent": sent, "failed": failed, "pending": pending, "pruned": pruned}
