"""The default pipeline (needs & presentation → proposal → contract / invoice → payment →
delivery → evaluation & close, won with follow-up, lost), refusal categories and the settings
record. Managers edit all of them afterwards."""

from django.db import migrations

STAGES = [
    # order, kind, probability, expected days, en, ru, exit criteria en, exit criteria ru
    (10, "open", 10, 14, "Needs & presentation", "Потребности и презентация",
     "The client's needs are known and the presentation was given; meeting protocol sent.",
     "Потребности клиента выяснены, презентация проведена, протокол встречи отправлен."),
    (20, "open", 30, 10, "Proposal", "Коммерческое предложение",
     "The proposal is agreed with the client (or corrected and agreed).",
     "Коммерческое предложение согласовано с клиентом (или уточнено и согласовано)."),
    (30, "open", 50, 10, "Contract / invoice", "Договор / счёт",
     "The contract is signed or the invoice is issued.",
     "Договор подписан или счёт выставлен."),
    (40, "open", 70, 10, "Payment", "Оплата",
     "Payment (or the agreed prepayment) received.",
     "Оплата (или согласованная предоплата) получена."),
    (50, "open", 85, 14, "Delivery", "Отгрузка / мероприятие",
     "Delivered or the event held; the act signed.",
     "Отгрузка выполнена или мероприятие проведено, акт подписан."),
    (60, "open", 95, 7, "Evaluation & close", "Оценка и закрытие",
     "The client's satisfaction is asked; the next contact is agreed.",
     "Удовлетворённость клиента оценена, договорённость о следующем контакте есть."),
    (70, "won", 100, 0, "Won (follow-up)", "Успешно (follow-up)",
     "The sale is closed; the next contact date and goal are set.",
     "Продажа закрыта; дата и цель следующего контакта назначены."),
    (80, "lost", 0, 0, "Lost", "Неуспешно",
     "A refusal category and a note are given.",
     "Указаны категория отказа и комментарий."),
]

REFUSALS = [
    ("price", "Price too high", "Высокая цена"),
    ("competitor", "Chose a competitor", "Выбрал конкурента"),
    ("budget", "No budget", "Нет бюджета"),
    ("no_need", "No need now", "Нет потребности сейчас"),
    ("product_fit", "The product does not fit", "Продукт не подходит"),
    ("no_response", "No response / no decision", "Нет ответа / решения"),
    ("terms", "Terms (delivery, payment) not accepted", "Не устроили условия (сроки, оплата)"),
    ("other", "Other", "Другое"),
]


def seed(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    RefusalCategory = apps.get_model("sales", "RefusalCategory")
    SalesSettings = apps.get_model("sales", "SalesSettings")
    pipeline, created = Pipeline.objects.get_or_create(
        code="sales", defaults={"name_en": "Sales", "name_ru": "Продажи", "order": 10}
    )
    if created:
        for order, kind, probability, days, en, ru, crit_en, crit_ru in STAGES:
            Stage.objects.create(
                pipeline=pipeline, order=order, kind=kind, probability=probability,
                expected_days=days, name_en=en, name_ru=ru,
                exit_criteria_en=crit_en, exit_criteria_ru=crit_ru,
            )
    for order, (code, en, ru) in enumerate(REFUSALS, start=1):
        RefusalCategory.objects.get_or_create(
            code=code, defaults={"name_en": en, "name_ru": ru, "order": order * 10}
        )
    SalesSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
