from celery import shared_task
from django.conf import settings
from django.db import connection

from crm import digest, queue, services


@shared_task(name="crm.ping")
def ping() -> dict:
    """A health task: proves a worker picks messages up and reaches the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"pong": True, "database": connection.vendor, "select": one}


@shared_task(name="crm.seed_work_calendar")
def seed_work_calendar() -> int:
    """Beat, monthly (data migration 0003): keep this year and the next in the non-working-dates
    calendar, so next year's holidays are there before it starts. Idempotent; returns the number
    of dates added."""
    added, _kept = services.calendar_seed(
        country=settings.WORK_CALENDAR_COUNTRY, years=services.default_seed_years()
    )
    return added


@shared_task(name="crm.outbox_drain")
def outbox_drain() -> dict:
    """Beat, every minute (data migration 0004): publish the queued messages a broker outage
    left behind (crm.queue). A no-op when there are none."""
    return queue.drain()


@shared_task(name="crm.kpi_digest")
def kpi_digest() -> int:
    """Beat, every morning at 07:00 (data migration 0007): email the KPI digests due today
    (crm/digest.py). Idempotent: a user gets one digest a day at most."""
    return digest.send_due_digests()


@shared_task(name="crm.evaluate_beacons")
def evaluate_beacons() -> int:
    """Beat, every 15 minutes (data migration 0009): evaluate the active beacon rules
    (crm/beacons.py). Safe to run twice at once: a change of state notifies once."""
    from crm import beacons

    return beacons.evaluate_all()
