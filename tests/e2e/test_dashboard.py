"""Browser: a manager opens the dashboard (the current month to date), its charts are drawn
(no console error under the strict CSP), switches to the previous period, clicks the
"detractors without a case" card and lands on exactly those answers; desktop and phone
screenshots."""

from datetime import timedelta

import pytest

from surveys.models import Answer, Campaign, Invitation, Questionnaire
from tests.conftest import console_errors, login, screenshot
from tests.factories import ClientFactory, ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _answers(client, campaign, scores, at):
    for score in scores:
        contact = ContactFactory(client=client)
        inv = Invitation.objects.create(
            campaign=campaign,
            client=client,
            contact=contact,
            email=contact.email,
            language="ru",
            status="answered",
            created_at=at,
            sent_at=at,
            answered_at=at,
        )
        Answer.objects.create(invitation=inv, nps=score, submitted_at=at)


def test_manager_switches_period_and_opens_detractors(browser, page, live_server, owner, manager):
    from django.core.cache import cache
    from django.utils import timezone

    cache.clear()
    questionnaire, _created = Questionnaire.objects.get_or_create(
        code="relationship-nps",
        defaults={"title_ru": "Оценка нашей работы", "title_en": "How are we doing?"},
    )
    campaign = Campaign.objects.create(name="NPS 2026", questionnaire=questionnaire)
    client = ClientFactory(name="ООО Ромашка", account_manager=owner, abc_class="A")
    now = timezone.localtime()  # the site's day and month
    _answers(client, campaign, [10, 3], now)  # this month: one detractor
    last_month = now.replace(day=1) - timedelta(days=10)
    _answers(client, campaign, [0, 1, 9], last_month)  # last month: two detractors
    errors = console_errors(page)
    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("[data-kpi=nps]")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-nps')")
    assert page.inner_text("[data-kpi=detractors_without_case]").strip() == "1"
    assert page.is_visible("#manager-table")
    screenshot(page, "dashboard-desktop")
    page.click("#period-previous")
    page.wait_for_url("**/?*day=*")
    assert page.inner_text("[data-kpi=detractors_without_case]").strip() == "2"
    page.click("[data-card=detractors_without_case]")
    page.wait_for_selector("#answer-count")
    assert page.get_attribute("#answer-count", "data-count") == "2"
    assert "ООО Ромашка" in page.inner_text("#answer-table")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("[data-kpi=nps]")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1  # nothing wider than the phone
    screenshot(page, "dashboard-phone")
    assert not errors, errors
