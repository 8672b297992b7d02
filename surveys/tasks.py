"""Thin Celery tasks of surveys: ids in, a service call. The email tasks retry SMTP and network
errors with backoff (``feedback.emails.EMAIL_RETRY``) and are idempotent (see
``surveys.services.delivery``). Beat entries: surveys/migrations/0002."""

from celery import shared_task

from feedback.emails import EMAIL_RETRY
from surveys import services


@shared_task(name="surveys.send_invitations", **EMAIL_RETRY)
def send_invitations(invitation_ids: list[int]) -> int:
    return services.send_batch(invitation_ids)


@shared_task(name="surveys.send_reminder_batch", **EMAIL_RETRY)
def send_reminder_batch(invitation_ids: list[int]) -> int:
    return services.send_batch(invitation_ids, reminder=True)


@shared_task(name="surveys.send_reminders")
def send_reminders() -> int:
    """Beat, hourly: queue the reminders due now."""
    return services.reminders_queue()


@shared_task(name="surveys.expire_invitations")
def expire_invitations() -> int:
    """Beat, hourly: unanswered invitations past their expiry become expired."""
    return services.expire_invitations()


@shared_task(name="surveys.run_due_campaigns")
def run_due_campaigns() -> int:
    """Beat, daily: launch the recurring campaigns whose next run has come."""
    return services.campaigns_launch_due()


@shared_task(name="surveys.first_purchases")
def first_purchases(settlement_ids: list[int]) -> int:
    return services.first_purchases_fire(settlement_ids=settlement_ids)
