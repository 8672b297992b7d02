"""The seeded beacon rules (docs/domain.md, "Beacons") and the beat entry that evaluates the
active rules every 15 minutes (idempotent, editable in the admin and on /beacons/)."""

from django.db import migrations

TASK_NAME = "crm: evaluate the beacon rules"

RULES = [
    # name, metric, operator, threshold, scope, class
    ("NPS below 40", "nps", "<", 40, "company", ""),
    ("SLA compliance below 90 %", "sla_compliance", "<", 90, "company", ""),
    ("A class-A client overdue for contact", "contact_overdue_class", ">", 0, "class", "A"),
    ("A detractor without a complaint case after 48 hours", "detractors_overdue", ">", 0,
     "company", ""),
    ("An overdue promise", "promise_overdue", ">", 0, "company", ""),
    ("A deal past 1.5× its stage's expected days", "deals_ageing_red", ">", 0, "company", ""),
]


def seed(apps, schema_editor):
    BeaconRule = apps.get_model("crm", "BeaconRule")
    BeaconState = apps.get_model("crm", "BeaconState")
    for name, metric, operator, threshold, scope, abc in RULES:
        rule, created = BeaconRule.objects.get_or_create(
            metric=metric,
            scope=scope,
            scope_class=abc,
            defaults={"name": name, "operator": operator, "threshold": threshold},
        )
        BeaconState.objects.get_or_create(rule=rule)
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={"task": "crm.evaluate_beacons", "interval": every, "enabled": True},
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()
    apps.get_model("crm", "BeaconRule").objects.filter(
        metric__in=[r[1] for r in RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_beacons"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
