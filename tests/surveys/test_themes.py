"""Comment themes of survey answers: keyword suggestions (ru/en, any case), the audited
tagging service with its access rule, the analytics table's counts against the filtered list,
and the answers list's queries with suggestions."""

import re

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from crm.models import AuditEntry
from feedback.models import Theme
from surveys.models import ThemeKeyword
from surveys.services.themes import (
    answer_themes_set,
    keyword_rules,
    match_themes,
    suggest_themes,
)
from tests.factories import ClientFactory
from tests.surveys.conftest import msk
from tests.surveys.test_analytics import answer

NOW = msk(2026, 11, 20, 12)
ANSWERS = reverse("survey_analytics:answers")
ANALYTICS = reverse("survey_analytics:analytics")


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    cache.clear()


@pytest.fixture
def delivery(db):
    ThemeKeyword.objects.all().delete()  # only this test's rules
    theme = Theme.objects.create(code="delivery", name_en="Delivery", name_ru="Доставка")
    for lang, text in (("ru", "доставк"), ("ru", "опозда"), ("en", "delivery"), ("en", "late")):
        ThemeKeyword.objects.create(theme=theme, language=lang, text=text)
    return theme


@pytest.fixture
def docs(db):
    theme = Theme.objects.create(code="docs", name_en="Documents", name_ru="Документы")
    ThemeKeyword.objects.create(theme=theme, language="en", text="invoice")
    return theme


@pytest.fixture
def named(make_campaign):
    return make_campaign(name="Named NPS")


@pytest.fixture
def anon(make_campaign):
    return make_campaign(name="Anonymous NPS", anonymous=True)


def test_seeded_keywords_exist_for_the_seeded_themes(db):
    theme = Theme.objects.get(code="missed-deadlines")
    texts = set(ThemeKeyword.objects.filter(theme=theme).values_list("text", flat=True))
    assert {"опозда", "late"} <= texts


def test_keyword_matching_ru_en_any_case_and_no_match(delivery, docs):
    rules = keyword_rules()
    assert match_themes("Курьер ОПОЗДАЛ на два часа", rules) == [delivery]
    assert match_themes("Доставка хорошая, но INVOICE с ошибкой", rules) == [delivery, docs]
    assert match_themes("The DELIVERY was Late", rules) == [delivery]
    assert match_themes("Всё отлично, спасибо", rules) == []
    assert match_themes("", rules) == []


def test_suggestions_for_untagged_answers_only_from_comment_and_liked(
    delivery, docs, named, own_client, manager
):
    a1 = answer(named, own_client, 3, comment="Курьер опоздал")
    a2 = answer(named, own_client, 9, comment="", liked="Fast delivery")
    a3 = answer(named, own_client, 5, comment="invoice wrong")
    a3.themes.set([docs])
    a4 = answer(named, own_client, 10, comment="Всё хорошо")
    got = suggest_themes([a1, a2, a3, a4])
    assert got == {a1.pk: [delivery], a2.pk: [delivery]}


def test_manager_sets_themes_audited(delivery, docs, named, own_client, manager):
    a = answer(named, own_client, 3, comment="late")
    answer_themes_set(actor=manager, answer=a, themes=[delivery.pk, str(docs.pk)])
    assert set(a.themes.values_list("code", flat=True)) == {"delivery", "docs"}
    entry = AuditEntry.objects.filter(object_id=str(a.pk)).latest("id")
    assert entry.actor == manager
    assert entry.changes == {"themes": [[], ["delivery", "docs"]]}


def test_owner_tags_own_answer_through_the_page(delivery, named, own_client, owner_client):
    a = answer(named, own_client, 3, comment="late")
    url = reverse("survey_analytics:answer_themes", args=[a.pk])
    r = owner_client.post(url, {"themes": [delivery.pk], "next": ANSWERS + "?page=1"})
    assert r.status_code == 302 and r["Location"] == ANSWERS + "?page=1"
    assert list(a.themes.all()) == [delivery]


def test_outsider_cannot_tag_and_nothing_changes(
    delivery, docs, named, own_client, outsider, outsider_client
):
    a = answer(named, own_client, 3, comment="late")
    a.themes.set([docs])
    url = reverse("survey_analytics:answer_themes", args=[a.pk])
    assert outsider_client.post(url, {"themes": [delivery.pk]}).status_code == 404
    with pytest.raises(PermissionDenied):
        answer_themes_set(actor=outsider, answer=a, themes=[delivery])
    assert list(a.themes.all()) == [docs]
    assert not AuditEntry.objects.filter(object_id=str(a.pk), changes__has_key="themes").exists()


def test_owner_cannot_tag_anonymous_answer(delivery, anon, own_client, owner, owner_client):
    a = answer(anon, own_client, 3, comment="late")
    url = reverse("survey_analytics:answer_themes", args=[a.pk])
    assert owner_client.post(url, {"themes": [delivery.pk]}).status_code == 404
    assert not a.themes.exists()


def test_manager_tags_anonymous_answer_without_respondent(
    delivery, anon, own_client, manager_client
):
    # five anonymous answers: fewer would be left out of the list (small-cell rule)
    a = answer(anon, own_client, 3, comment="Доставка опоздала")
    for _ in range(4):
        answer(anon, own_client, 9, comment="ok")
    html = manager_client.get(ANSWERS).content.decode()
    assert 'data-suggested="delivery ' in html
    manager_client.post(
        reverse("survey_analytics:answer_themes", args=[a.pk]), {"themes": [delivery.pk]}
    )
    assert list(a.themes.all()) == [delivery]
    html = manager_client.get(ANSWERS + f"?theme={delivery.pk}").content.decode()
    assert "Acme Ltd" not in html


def test_bad_theme_id_gives_clear_error_and_changes_nothing(
    delivery, named, own_client, manager, manager_client
):
    a = answer(named, own_client, 3)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        answer_themes_set(actor=manager, answer=a, themes=[delivery.pk, 999999])
    assert exc.value.message_dict == {"themes": ["Unknown theme: 999999."]}
    with pytest.raises(ValidationError):
        answer_themes_set(actor=manager, answer=a, themes=["abc"])
    url = reverse("survey_analytics:answer_themes", args=[a.pk])
    r = manager_client.post(url, {"themes": ["999999"]}, follow=True)
    assert "Неизвестная тема: 999999." in r.content.decode()  # the page's language
    assert not a.themes.exists()


def _theme_count(html: str, theme: Theme) -> tuple[int, str]:
    row = re.search(rf'<tr data-cell="{theme.pk}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    link = re.search(r'<a href="([^"]+)" data-count="(\d+)"', row)
    return int(link.group(2)), link.group(1).replace("&amp;", "&")


def test_analytics_theme_counts_equal_filtered_list(
    delivery, docs, named, anon, own_client, manager, manager_client
):
    other = ClientFactory(name="Beta")
    for score in (10, 9, 3):
        answer_themes_set(actor=manager, answer=answer(named, own_client, score), themes=[delivery])
    answer_themes_set(actor=manager, answer=answer(named, other, 8), themes=[delivery, docs])
    # old answer outside the period (last 12 months from Dec 2025)
    old = answer(named, own_client, 0, at=msk(2025, 6, 1, 12))
    answer_themes_set(actor=manager, answer=old, themes=[delivery])
    # 2 anonymous answers with docs: the docs cell is hidden (1–4 anonymous)
    for _ in range(2):
        answer_themes_set(actor=manager, answer=answer(anon, own_client, 2), themes=[docs])
    html = manager_client.get(ANALYTICS).content.decode()
    count, url = _theme_count(html, delivery)
    assert count == 4
    assert re.search(rf'<tr data-cell="{delivery.pk}".*?data-nps="25[.,]0"', html, re.S)
    listed = manager_client.get(url).content.decode()
    assert f'data-count="{count}"' in listed
    assert re.search(rf'<tr data-cell="{docs.pk}" data-hidden="1"', html)


def test_answers_list_queries_bounded_with_suggestions(
    delivery, docs, named, own_client, manager, manager_client
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert manager_client.get(ANSWERS).status_code == 200
        return len(ctx)

    answer(named, own_client, 3, comment="late delivery")
    first = queries()
    for i in range(10):
        a = answer(named, ClientFactory(), 4, comment=f"опоздали {i}, invoice")
        if i % 2:
            a.themes.set([docs])
    assert queries() == first


def test_keywords_page_managers_add_and_delete_owner_gets_404(
    delivery, manager_client, owner_client
):
    url = reverse("survey_analytics:theme_keywords")
    assert owner_client.get(url).status_code == 404
    assert (
        owner_client.post(url, {"theme": delivery.pk, "language": "en", "text": "x"}).status_code
        == 404
    )
    assert manager_client.get(url).status_code == 200
    r = manager_client.post(url, {"theme": delivery.pk, "language": "ru", "text": " Курьер "})
    assert r.status_code == 302
    kw = ThemeKeyword.objects.get(text="курьер")
    assert AuditEntry.objects.filter(object_id=str(kw.pk), action="create").exists()
    r = manager_client.post(url, {"theme": delivery.pk, "language": "ru", "text": "курьер"})
    assert r.status_code == 200 and ThemeKeyword.objects.filter(text="курьер").count() == 1
    manager_client.post(url, {"delete": kw.pk})
    assert not ThemeKeyword.objects.filter(pk=kw.pk).exists()
