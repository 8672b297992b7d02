from celery import shared_task
from django.db import connection


@shared_task(name="crm.ping")
def ping() -> dict:
    """A health task: proves a worker picks messages up and reaches the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"pong": True, "database": connection.vendor, "select": one}
