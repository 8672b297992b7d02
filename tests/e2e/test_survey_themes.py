"""Browser: comment themes. A manager opens the survey answers, sees the theme the keyword rules
suggest for a comment that holds a keyword (none for the other), applies it with one click; the
analytics page's "Comment themes" table then counts the answer and its figure links back to it.
Desktop, then on a phone the same for a second answer."""

import pytest

from feedback.models import Theme
from surveys.models import Answer, Campaign, Invitation, Questionnaire, ThemeKeyword
from tests.conftest import console_errors, login, screenshot
from tests.factories import ClientFactory, ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _answer(campaign, client, n: int, nps: int, comment: str, at) -> Answer:
    contact = ContactFactory(client=client, email=f"t{n}@romashka.example")
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
    return Answer.objects.create(invitation=inv, nps=nps, comment=comment, submitted_at=at)


def _apply_suggestion(pg, live_server, answer: Answer, theme: Theme) -> None:
    pg.goto(f"{live_server.url}/surveys/analytics/answers/")
    row = pg.locator(f"#answer-table tr[data-answer='{answer.pk}']")
    form = row.locator("form[data-suggested]")
    assert form.get_attribute("data-suggested").split() == [theme.code]
    assert theme.name_ru in form.locator("button").inner_text()
    form.locator("button").click()
    pg.wait_for_selector(
        f"#answer-table tr[data-answer='{answer.pk}'] [data-themes='{theme.code} ']"
    )
    assert row.locator("form[data-suggested]").count() == 0  # tagged: nothing left to suggest
    assert theme.name_ru in row.locator("[data-themes]").inner_text()


def _theme_count(pg, live_server, theme: Theme) -> str:
    pg.goto(f"{live_server.url}/surveys/analytics/")
    link = pg.locator(f"#comment-themes tr[data-cell='{theme.pk}'] a[data-count]")
    assert theme.name_ru in pg.locator(f"#comment-themes tr[data-cell='{theme.pk}']").inner_text()
    return link.get_attribute("data-count")


def test_manager_applies_a_suggested_theme_and_analytics_counts_it(
    browser, page, live_server, owner, manager
):
    from django.core.cache import cache
    from django.utils import timezone

    cache.clear()
    ThemeKeyword.objects.all().delete()  # only this test's rule
    theme = Theme.objects.create(code="courier", name_en="Courier", name_ru="Курьер", order=1)
    ThemeKeyword.objects.create(theme=theme, language="ru", text="опозда")
    questionnaire, _created = Questionnaire.objects.get_or_create(
        code="relationship-nps",
        defaults={"title_ru": "Оценка нашей работы", "title_en": "How are we doing?"},
    )
    campaign = Campaign.objects.create(name="NPS 2026", questionnaire=questionnaire)
    client = ClientFactory(name="ООО Ромашка", account_manager=owner)
    now = timezone.now()
    late = _answer(campaign, client, 1, 4, "Курьер ОПОЗДАЛ на два часа", now)
    fine = _answer(campaign, client, 2, 10, "Всё отлично, спасибо", now)
    later = _answer(campaign, client, 3, 6, "Доставка опоздала на день", now)

    errors = console_errors(page)
    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/surveys/analytics/")
    assert page.locator(f"#comment-themes tr[data-cell='{theme.pk}']").count() == 0
    page.goto(f"{live_server.url}/surveys/analytics/answers/")
    assert page.locator(f"tr[data-answer='{fine.pk}'] form[data-suggested]").count() == 0
    screenshot(page, "survey-themes-suggested")
    _apply_suggestion(page, live_server, late, theme)
    assert list(late.themes.all()) == [theme]
    assert not fine.themes.exists() and not later.themes.exists()
    screenshot(page, "survey-themes-applied")

    assert _theme_count(page, live_server, theme) == "1"
    screenshot(page, "survey-themes-analytics")
    page.click(f"#comment-themes tr[data-cell='{theme.pk}'] a[data-count]")
    page.wait_for_selector("#answer-table")
    assert page.get_attribute("#answer-count", "data-count") == "1"
    rows = page.locator("#answer-table tbody tr[data-answer]")
    assert rows.count() == 1 and rows.first.get_attribute("data-answer") == str(late.pk)
    assert "Курьер ОПОЗДАЛ на два часа" in rows.first.inner_text()
    assert not errors, errors

    # on a phone: the second matching answer, then the table counts both
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="ru-RU")
    phone = context.new_page()
    phone.set_default_timeout(15000)
    blocked: list[str] = []
    phone.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text else None)
    login(phone, live_server, "boss")
    _apply_suggestion(phone, live_server, later, theme)
    screenshot(phone, "survey-themes-applied-phone")
    assert _theme_count(phone, live_server, theme) == "2"
    screenshot(phone, "survey-themes-analytics-phone")
    phone.locator(f"#comment-themes tr[data-cell='{theme.pk}'] a[data-count]").tap()
    phone.wait_for_selector("#answer-table")
    assert phone.get_attribute("#answer-count", "data-count") == "2"
    listed = phone.locator("#answer-table tbody tr[data-answer]")
    assert {listed.nth(i).get_attribute("data-answer") for i in range(listed.count())} == {
        str(late.pk),
        str(later.pk),
    }
    context.close()
    assert blocked == []
    assert set(later.themes.all()) == {theme} and not fine.themes.exists()
