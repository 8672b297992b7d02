"""Thin Celery tasks of surveys: ids in, a service call. The email tasks retry SMTP and network
errors with backoff (``feedback.emails.EMAIL_RETRY``) and are idempotent (see
``surveys.services.delivery``). Beat entries: surveys/migrations/0002."""

from celery import shared_task
from django.db import transaction

from crm.queue import enqueue
from feedback.emails import EMAIL_RETRY
from surveys import selectors, services
from surveys.models import Campaign

REMINDER_CHUNK = 200


@shared_task(name="surveys.send_invitations", **EMAIL_RETRY)
def send_invitations(invitation_ids: list[int]) -> int:
    return services.send_batch(invitation_ids)


@shared_task(name="surveys.send_reminder_batch", **EMAIL_RETRY)
def send_reminder_batch(invitation_ids: list[int]) -> int:
    return services.send_batch(invitation_ids, reminder=True)


@shared_task(name="surveys.send_reminders")
def send_reminders() -> int:
    """Beat, hourly: queue the reminders due now in batches (each batch re-checks, under its
    row locks, that its rows are still due: two runs never remind twice)."""
    ids = selectors.reminders_due()
    with transaction.atomic():
        for start in range(0, len(ids), REMINDER_CHUNK):
            enqueue(send_reminder_batch, ids[start : start + REMINDER_CHUNK])
    return len(ids)


@shared_task(name="surveys.expire_invitations")
def expire_invitations() -> int:
    """Beat, hourly: unanswered invitations past their expiry become expired."""
    return services.expire_invitations()


@shared_task(name="surveys.run_due_campaigns")
def run_due_campaigns() -> int:
    """Beat, daily: launch the recurring campaigns whose next run has come."""
    total = 0
    for campaign in Campaign.objects.filter(pk__in=services.campaigns_due()):
        total += services.campaign_launch(actor=None, campaign=campaign)
    return total


@shared_task(name="surveys.first_purchases")
def first_purchases(settlement_ids: list[int]) -> int:
    return services.first_purchases_fire(settlement_ids=settlement_ids)
