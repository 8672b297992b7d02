"""Browser: the manager opens survey analytics, the trend chart with its target line is drawn
(no console error: the chart script is a static file under the strict CSP), and a breakdown
figure leads to the answers behind it."""

import pytest

from surveys import rollup
from surveys.models import Answer, Campaign, Invitation, Questionnaire
from tests.conftest import console_errors, login, screenshot
from tests.factories import ClientFactory, ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_manager_sees_nps_trend_and_drills_down(browser, page, live_server, owner, manager):
    from django.core.cache import cache
    from django.utils import timezone

    cache.clear()
    questionnaire, _created = Questionnaire.objects.get_or_create(
        code="relationship-nps",
        defaults={"title_ru": "Оценка нашей работы", "title_en": "How are we doing?"},
    )
    campaign = Campaign.objects.create(name="NPS 2026", questionnaire=questionnaire)
    client = ClientFactory(name="ООО Ромашка", account_manager=owner, abc_class="A")
    now = timezone.now()
    for i, score in enumerate([10, 9, 3]):
        contact = ContactFactory(client=client, email=f"p{i}@romashka.example")
        inv = Invitation.objects.create(
            campaign=campaign,
            client=client,
            contact=contact,
            email=contact.email,
            language="ru",
            status="answered",
            created_at=now,
            sent_at=now,
            answered_at=now,
        )
        Answer.objects.create(invitation=inv, nps=score, submitted_at=now)
    rollup.rebuild()  # answers stored directly: the analytics' rollups summed again
    errors = console_errors(page)
    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/surveys/analytics/")
    page.wait_for_selector("#chart-trend")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-trend')")
    datasets = page.evaluate("() => Chart.getChart('chart-trend').data.datasets.length")
    assert datasets == 3  # NPS, CSAT, the target line
    assert page.inner_text("[data-kpi=nps]").strip() == "33,3"
    screenshot(page, "survey-analytics")
    page.click("#breakdown-abc [data-cell=A] a[data-count]")
    page.wait_for_selector("#answer-table")
    assert page.get_attribute("#answer-count", "data-count") == "3"
    assert "ООО Ромашка" in page.inner_text("#answer-table")
    assert not errors, errors
