"""Seed keyword rules (ru/en) for the complaint themes that exist; managers edit them on the
"Theme keywords" page."""

from django.db import migrations

KEYWORDS = {
    "missed-deadlines": {
        "ru": ["опозда", "задерж", "срок", "доставк"],
        "en": ["late", "delay", "deadline", "delivery"],
    },
    "document-errors": {
        "ru": ["ошибк в документ", "счёт", "счет-фактур", "накладн"],
        "en": ["invoice", "wrong document", "error in"],
    },
    "problem-not-solved": {
        "ru": ["не решен", "не решил", "не помогл"],
        "en": ["not solved", "unresolved", "didn't help"],
    },
    "complicated-paperwork": {
        "ru": ["документооборот", "бумаг", "сложно оформ"],
        "en": ["paperwork", "bureaucra", "too many forms"],
    },
    "no-prompt-feedback": {
        "ru": ["не отвеча", "не перезвон", "долго ждал"],
        "en": ["no reply", "no answer", "never called", "not respond"],
    },
}


def seed(apps, schema_editor):
    Theme = apps.get_model("feedback", "Theme")
    ThemeKeyword = apps.get_model("surveys", "ThemeKeyword")
    for theme in Theme.objects.filter(code__in=KEYWORDS):
        for language, words in KEYWORDS[theme.code].items():
            for text in words:
                ThemeKeyword.objects.get_or_create(theme=theme, language=language, text=text)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_seed_themes_sla_beat"),
        ("surveys", "0004_answer_themes_keywords"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
