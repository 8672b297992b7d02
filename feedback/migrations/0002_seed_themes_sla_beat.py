"""Seed the five complaint themes (docs/domain.md, "Complaints"), the SLA settings record and the beat entry
of the escalation scan (every 5 minutes; editable in the admin)."""

from django.db import migrations

THEMES = [
    ("missed-deadlines", "Missed deadlines", "Нарушение сроков", 10),
    ("document-errors", "Errors in documents", "Ошибки в документах", 20),
    ("problem-not-solved", "Problem not solved", "Проблема не решена", 30),
    ("complicated-paperwork", "Complicated paperwork", "Сложный документооборот", 40),
    ("no-prompt-feedback", "No prompt feedback", "Нет оперативной обратной связи", 50),
]
TASK_NAME = "feedback: escalate complaint SLA breaches"


def seed(apps, schema_editor):
    Theme = apps.get_model("feedback", "Theme")
    for code, en, ru, order in THEMES:
        Theme.objects.get_or_create(code=code, defaults={"name_en": en, "name_ru": ru, "order": order})
    SlaSettings = apps.get_model("feedback", "SlaSettings")
    SlaSettings.objects.get_or_create(pk=1)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every5, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "feedback.escalate_sla_breaches", "interval": every5, "enabled": True},
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
