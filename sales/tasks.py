"""Thin Celery tasks of sales: ids in, a service call. Beat entry:
sales/migrations/0005_kanban_digest."""

from celery import shared_task

from feedback.emails import EMAIL_RETRY
from sales import digest


@shared_task(name="sales.queue_digests")
def queue_digests() -> int:
    """Beat, daily: queue each deal owner's digest of the day (once a day)."""
    return digest.digests_queue()


@shared_task(name="sales.send_digest", **EMAIL_RETRY)
def send_digest(digest_id: int) -> bool:
    return digest.digest_send(digest_id)
