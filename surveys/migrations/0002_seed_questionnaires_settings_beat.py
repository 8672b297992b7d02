"""Seed the survey settings record, the two questionnaires (a relationship NPS one and a
per-product satisfaction one), the complaint theme of unhappy survey answers, and the beat
entries: reminders and the expiry sweep every hour, recurring campaigns daily."""

from django.db import migrations

BEAT = [
    ("surveys: send the reminders due", "surveys.send_reminders", 1, "hours"),
    ("surveys: expire unanswered invitations", "surveys.expire_invitations", 1, "hours"),
    ("surveys: launch recurring campaigns", "surveys.run_due_campaigns", 1, "days"),
]
NPS = {
    "code": "relationship-nps",
    "title_ru": "Оценка нашей работы",
    "title_en": "How are we doing?",
    "intro_ru": "Пожалуйста, ответьте на несколько вопросов о работе с нами.",
    "intro_en": "Please answer a few questions about working with us.",
    "ask_nps": True,
    "ask_comment": True,
    "ask_liked": True,
    "ask_best_employee": True,
}
CSAT = {
    "code": "product-csat",
    "title_ru": "Оценка покупки",
    "title_en": "Rate your purchase",
    "intro_ru": "Насколько вы довольны покупкой? Оцените от 1 (очень плохо) до 5 (отлично).",
    "intro_en": "How happy are you with your purchase? Rate from 1 (very poor) to 5 (excellent).",
    "ask_nps": True,
    "ask_comment": True,
    "ask_liked": False,
    "ask_best_employee": False,
}
CSAT_ITEMS = [
    ("Внешний вид товара", "Product appearance", 10),
    ("Скорость доставки", "Delivery speed", 20),
    ("Удобство оплаты", "Payment method", 30),
    ("Качество обслуживания", "Quality of service", 40),
]
THEME = ("survey-feedback", "Unhappy survey answer", "Недовольство в опросе", 60)


def seed(apps, schema_editor):
    Settings = apps.get_model("surveys", "SurveySettings")
    Settings.objects.get_or_create(
        pk=1,
        defaults={
            "company_head_name": "",
            "company_head_title_ru": "Генеральный директор",
            "company_head_title_en": "Chief Executive Officer",
        },
    )
    Questionnaire = apps.get_model("surveys", "Questionnaire")
    Item = apps.get_model("surveys", "QuestionnaireItem")
    Questionnaire.objects.get_or_create(code=NPS["code"], defaults=NPS)
    csat, created = Questionnaire.objects.get_or_create(code=CSAT["code"], defaults=CSAT)
    if created:
        for ru, en, order in CSAT_ITEMS:
            Item.objects.create(questionnaire=csat, text_ru=ru, text_en=en, order=order)
    Theme = apps.get_model("feedback", "Theme")
    code, en, ru, order = THEME
    Theme.objects.get_or_create(code=code, defaults={"name_en": en, "name_ru": ru, "order": order})
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period in BEAT:
        interval, _ = Interval.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "enabled": True}
        )


def unseed(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_rest in BEAT]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0001_initial"),
        ("feedback", "0007_date_range_new_fields"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
