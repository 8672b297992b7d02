"""Browser: a manager creates a campaign for class-A clients on the staff pages, sees the
audience count, launches it; the client opens the emailed link on a phone, answers 4 with a
comment; the account manager sees the survey and the new complaint case on the client card.
Desktop and phone sizes."""

import pytest
from django.core import mail

from feedback.models import Complaint, Theme
from surveys.models import Answer, Campaign, Invitation, Questionnaire
from tests.conftest import login, screenshot
from tests.factories import ClientFactory, ContactFactory
from tests.surveys.conftest import tokens_in_outbox

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_manager_launches_a_class_a_campaign_and_the_loop_reaches_the_card(
    browser, page, live_server, owner, manager
):
    Theme.objects.get_or_create(
        code="survey-feedback",
        defaults={"name_en": "Unhappy survey answer", "name_ru": "Недовольство в опросе"},
    )
    questionnaire, _created = Questionnaire.objects.get_or_create(
        code="relationship-nps",
        defaults={"title_ru": "Оценка нашей работы", "title_en": "How are we doing?"},
    )
    a_client = ClientFactory(name="ООО Ромашка", account_manager=owner, abc_class="A")
    ContactFactory(client=a_client, full_name="Иван Петров", email="ivan@romashka.example")
    b_client = ClientFactory(name="ООО Лютик", abc_class="B")
    ContactFactory(client=b_client, email="b@lutik.example")
    mail.outbox.clear()

    # the manager: a new campaign, the audience counted as the filters change
    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/surveys/questionnaires/{questionnaire.pk}/edit/")
    page.fill("#id_items-0-text_ru", "Скорость ответа")
    page.fill("#id_items-0-text_en", "Speed of reply")
    screenshot(page, "survey-questionnaire-form")
    page.click("#save-questionnaire")
    page.wait_for_selector("#item-table")
    assert questionnaire.items.get().text_en == "Speed of reply"
    page.click("[data-nav=surveys]")
    page.wait_for_selector("#campaign-table")
    page.click("#new-campaign")
    page.fill("#id_name", "NPS класса A")
    page.select_option("#id_questionnaire", label="Оценка нашей работы")
    page.wait_for_selector("[data-audience-count='2']")  # no filter yet: both clients
    page.check("#id_abc_0")  # A
    page.wait_for_selector("[data-audience-count='1']")
    screenshot(page, "survey-campaign-form")
    page.click("#save-campaign")
    page.wait_for_selector("#launch-campaign")
    campaign = Campaign.objects.get()
    assert campaign.filters == {"abc": ["A"]}
    assert page.locator("[data-kpi=audience]").inner_text() == "1"
    page.click("#launch-campaign")
    assert page.locator("#launch-count").get_attribute("data-audience-count") == "1"
    screenshot(page, "survey-campaign-launch")
    page.click("#confirm-launch")
    page.wait_for_selector("[data-status=active]")
    assert page.locator("[data-kpi=invited]").inner_text() == "1"
    screenshot(page, "survey-campaign-detail")
    invitation = Invitation.objects.get()
    assert invitation.contact.email == "ivan@romashka.example" and invitation.status == "sent"

    # the emailed link, on a phone
    assert [m.to for m in mail.outbox] == [["ivan@romashka.example"]]
    [token] = tokens_in_outbox()
    phone_context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="ru-RU"
    )
    phone = phone_context.new_page()
    phone.set_default_timeout(15000)
    phone.goto(f"{live_server.url}/s/{token}/")
    phone.locator("label[for=id_nps_4]").click()
    phone.fill("#id_comment", "Менеджер долго не отвечал")
    phone.click("#survey-submit")
    phone.wait_for_selector("#survey-thanks")
    screenshot(phone, "survey-pages-phone-thanks")
    phone_context.close()
    answer = Answer.objects.get()
    case = Complaint.objects.get()
    assert (answer.nps, answer.complaint) == (4, case)

    # the account manager: the survey and the case on the client card, desktop then phone
    for size, name in (({"width": 1366, "height": 900}, "desktop"), (PHONE, "phone")):
        context = browser.new_context(viewport=size, locale="ru-RU")
        pg = context.new_page()
        pg.set_default_timeout(15000)
        login(pg, live_server, "owner")
        pg.goto(f"{live_server.url}/clients/{a_client.pk}/")
        panel = pg.locator("#surveys-panel")
        assert panel.locator(f"[data-nps='{invitation.pk}']").inner_text() == "4"
        assert panel.locator(f"a[href='/feedback/complaints/{case.pk}/']").count() == 1
        assert "Менеджер долго не отвечал" in pg.content()  # the answer on the timeline
        screenshot(pg, f"survey-client-card-{name}")
        pg.goto(f"{live_server.url}/surveys/campaigns/{campaign.pk}/")
        assert pg.locator(f"[data-invitation='{invitation.pk}']").count() == 1
        assert pg.locator("#launch-campaign").count() == 0  # account managers only read
        screenshot(pg, f"survey-campaign-owner-{name}")
        context.close()
