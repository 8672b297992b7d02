"""Browser, phone-sized and with JavaScript off: a class-A client's contact opens the emailed
survey link, answers 4 with a comment; the account manager then sees the new complaint case."""

from pathlib import Path

import pytest
from django.core import mail

from feedback.models import Complaint, Theme
from surveys import services
from surveys.models import Answer, Campaign, Questionnaire
from tests.conftest import ARTIFACTS, login
from tests.factories import ClientFactory, ContactFactory
from tests.surveys.conftest import tokens_in_outbox

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def shot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def test_client_answers_on_a_phone_and_the_account_manager_sees_the_case(
    browser, live_server, owner, manager, django_capture_on_commit_callbacks
):
    Theme.objects.get_or_create(
        code="survey-feedback",
        defaults={"name_en": "Unhappy survey answer", "name_ru": "Недовольство в опросе"},
    )
    questionnaire = Questionnaire.objects.get_or_create(
        code="relationship-nps",
        defaults={"title_ru": "Оценка нашей работы", "title_en": "How are we doing?"},
    )[0]
    a_client = ClientFactory(name="ООО Ромашка", account_manager=owner, abc_class="A")
    ContactFactory(client=a_client, full_name="Иван Петров", email="ivan@romashka.example")
    b_client = ClientFactory(name="ООО Лютик", abc_class="B")
    ContactFactory(client=b_client, email="b@lutik.example")
    campaign = Campaign.objects.create(
        name="NPS класса A", questionnaire=questionnaire, filters={"abc": ["A"]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.campaign_launch(actor=manager, campaign=campaign) == 1
    assert [m.to for m in mail.outbox] == [["ivan@romashka.example"]]
    [token] = tokens_in_outbox()

    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="ru-RU",
        java_script_enabled=False,
    )
    phone = context.new_page()
    phone.set_default_timeout(15000)
    blocked: list[str] = []
    phone.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    phone.goto(f"{live_server.url}/s/{token}/")
    assert phone.locator("h1").inner_text() == "Оценка нашей работы"
    four = phone.locator("label[for=id_nps_4]")
    box = four.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44  # thumb-sized
    four.click()
    phone.fill("#id_comment", "Доставка опоздала на день")
    shot(phone, "survey-phone-answer")
    phone.click("#survey-submit")
    phone.wait_for_selector("#survey-thanks")
    shot(phone, "survey-phone-thanks")
    phone.goto(f"{live_server.url}/s/{token}/?lang=en")  # the same link later, in English
    assert "You have already answered this survey" in phone.content()
    context.close()
    assert blocked == []

    answer = Answer.objects.get()
    assert (answer.nps, answer.comment) == (4, "Доставка опоздала на день")
    case = Complaint.objects.get()
    assert answer.complaint == case and case.responsible == owner

    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    pg = desk.new_page()
    login(pg, live_server, "owner")
    pg.goto(f"{live_server.url}/feedback/complaints/{case.pk}/")
    assert "Доставка опоздала на день" in pg.content()
    shot(pg, "survey-case-for-the-account-manager")
    desk.close()
