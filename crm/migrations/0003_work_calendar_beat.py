"""The beat entry that keeps the non-working-dates calendar seeded for this year and the next
(monthly, on the 1st at 03:00; idempotent, editable in the admin). The dates themselves are
not seeded here: they come from the holidays library at run time (seed_calendar)."""

from django.db import migrations

TASK_NAME = "crm: seed the working calendar (this year and the next)"


def seed(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    monthly, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_month="1", month_of_year="*", day_of_week="*"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "crm.seed_work_calendar", "crontab": monthly, "enabled": True},
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0002_calendar_day"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
