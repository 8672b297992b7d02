"""The settings record and the nightly beat entry exist right after migrate."""

from django.db import migrations

TASK_NAME = "segmentation.recompute"
ENTRY_NAME = "Segmentation: nightly recompute"


def create(apps, schema_editor):
    Settings = apps.get_model("segmentation", "SegmentationSettings")
    Settings.objects.get_or_create(id=1)
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Europe/Moscow",
    )
    PeriodicTask.objects.get_or_create(
        name=ENTRY_NAME,
        defaults={
            "task": TASK_NAME,
            "crontab": crontab,
            "enabled": True,
            "description": "Recompute ABC, XYZ, lifecycle and RFM for every client.",
        },
    )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=ENTRY_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
