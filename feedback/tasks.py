"""Thin Celery tasks of the feedback app: the beat entry of the SLA escalation scan.

The email tasks live in ``feedback.emails`` (services enqueue them); importing them here
registers them with the worker through autodiscovery.
"""

from celery import shared_task

from feedback import sla
from feedback.emails import (  # noqa: F401 - registered with the worker
    send_assignment_email,
    send_client_resolution_email,
    send_escalation_emails,
)


@shared_task(name="feedback.escalate_sla_breaches")
def escalate_sla_breaches() -> int:
    """Beat, every 5 minutes (data migration 0002): escalate new SLA breaches once each."""
    return len(sla.sla_escalate_breaches())
