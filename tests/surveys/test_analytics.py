"""Survey analytics worked by hand on small fixed answer sets (frozen time): NPS, CSAT %, the
integral index, the response rate, small-cell hiding for anonymous campaigns, row-level scope,
and every figure's link leading to a list of exactly that many answers."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse

from surveys import analytics, rollup
from surveys.models import Answer, AnswerItem, Campaign, Invitation, QuestionnaireItem
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ProductLineFactory,
    TargetSegmentFactory,
)
from tests.surveys.conftest import invite, msk

NOW = msk(2026, 11, 20, 12)
URL = reverse("survey_analytics:analytics")
ANSWERS = reverse("survey_analytics:answers")
NOV = "m2026-11"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    cache.clear()


def answer(campaign, client, nps, *, at=None, items=(), contact=None, **fields) -> Answer:
    contact = contact or ContactFactory(client=client, email=f"c{Answer.objects.count()}@x.example")
    at = at or msk(2026, 11, 10, 12)
    inv = invite(campaign, contact, at=at, status=Invitation.Status.ANSWERED, sent_at=at)
    a = Answer.objects.create(invitation=inv, nps=nps, submitted_at=at, **fields)
    for item, score in items:
        AnswerItem.objects.create(answer=a, item=item, score=score)
    if items:
        a.set_item_sums(score for _item, score in items)
        a.save()
    rollup.rebuild()  # stored directly, as a bulk load: the rollups summed again
    return a


def kpi(html: str, key: str) -> str:
    m = re.search(rf'data-kpi="{key}">([^<]*)<', html)
    # the same figures in either language: "66,7 %" (ru) = "66.7%" (en)
    text = unescape(m.group(1)).replace("\xa0", "").replace("\u202f", "").replace(" ", "")
    return text.replace(",", ".").strip()


@pytest.fixture
def named(make_campaign):
    return make_campaign(name="Named NPS")


@pytest.fixture
def anon(make_campaign):
    return make_campaign(name="Anonymous NPS", anonymous=True)


def test_all_passive_is_zero_and_all_detractor_minus_100(named, own_client, manager):
    for score in (7, 8, 7):
        answer(named, own_client, score)
    cell = analytics.totals(analytics.answers_for(manager))
    assert cell.nps == Decimal("0.0")
    Answer.objects.all().delete()
    for score in (0, 6, 3):
        answer(named, own_client, score)
    assert analytics.totals(analytics.answers_for(manager)).nps == Decimal("-100.0")


def test_page_figures_by_hand(named, own_client, manager_client, csat_questionnaire):
    item = csat_questionnaire.items.first()
    # promoters 10, 9 (2), passive 8 (1), detractors 6, 0, 5 (3): n = 6
    # NPS = 100 * (2 - 3) / 6 = -16.666… -> -16.7
    answer(named, own_client, 10, items=[(item, 5)])
    answer(named, own_client, 9, items=[(item, 4)])
    answer(named, own_client, 8, items=[(item, 2)])
    answer(named, own_client, 6)
    answer(named, own_client, 0)
    answer(named, own_client, 5)
    # items 5, 4, 2: CSAT 2 of 3 = 66.7 %; index (5 + 4 + 2) / 3 = 3.67
    # an October answer is outside November
    answer(named, own_client, 10, at=msk(2026, 10, 31, 23, 59))
    html = manager_client.get(URL, {"period": NOV}).content.decode()
    assert kpi(html, "nps") == "-16.7"
    assert kpi(html, "csat") == "66.7%"
    assert kpi(html, "index") == "3.67"
    assert kpi(html, "answers") == "6"
    # response rate: 7 delivered (sent_at) of which 6 in November answered; one more sent
    # and not answered
    extra = invite(named, ContactFactory(client=own_client, email="q@x.example"), at=NOW)
    Invitation.objects.filter(pk=extra.pk).update(status="sent", sent_at=msk(2026, 11, 19))
    analytics.bump_version()
    html = manager_client.get(URL, {"period": NOV}).content.decode()
    # 6 answered of 7 delivered in November = 85.7 %
    assert kpi(html, "response-rate") == "85.7%"


def test_rounding_half_away_from_zero(named, own_client, manager):
    # 1 detractor of 80 = -1.25 -> -1.3
    answer(named, own_client, 0)
    for _ in range(79):
        answer(named, own_client, 8)
    assert analytics.totals(analytics.answers_for(manager)).nps == Decimal("-1.3")


def test_empty_period_shows_dashes(manager_client):
    html = manager_client.get(URL, {"period": NOV}).content.decode()
    assert kpi(html, "nps") == "—"
    assert kpi(html, "answers") == "0"


def test_small_anonymous_cell_hidden_mixed_cell_too(named, anon, own_client, manager_client):
    a_client = ClientFactory(account_manager=own_client.account_manager, abc_class="A")
    b_client = ClientFactory(account_manager=own_client.account_manager, abc_class="B")
    # class A: 4 anonymous answers -> hidden; class B: 10 named + 2 anonymous -> hidden (mixed)
    for _ in range(4):
        answer(anon, a_client, 10)
    for _ in range(10):
        answer(named, b_client, 9)
    for _ in range(2):
        answer(anon, b_client, 0)
    # no class: 5 anonymous -> shown
    for _ in range(5):
        answer(anon, own_client, 3)
    html = manager_client.get(URL, {"period": NOV}).content.decode()
    table = html.split('id="breakdown-abc"')[1].split("</table>")[0]
    assert re.search(r'data-cell="A" data-hidden="1"', table)
    assert re.search(r'data-cell="B" data-hidden="1"', table)
    none_row = table.split('data-cell="none"')[1].split("</tr>")[0]
    assert "data-hidden" not in none_row.split(">")[0]
    assert 'data-count="5"' in none_row
    # the totals hold 11 anonymous answers: shown
    assert kpi(html, "answers") == "21"
    # an anonymous answer never shows its respondent in the list
    listing = manager_client.get(ANSWERS, {"abc": "none"}).content.decode()
    assert own_client.name not in listing
    assert listing.count('data-anonymous="1"') == 5
    # a list filtered down to 1-4 anonymous answers leaves them out
    listing = manager_client.get(ANSWERS, {"abc": "A"}).content.decode()
    assert 'id="anonymous-hidden"' in listing
    assert 'data-count="0"' in listing


def test_account_manager_sees_own_named_answers_only(
    named, anon, own_client, owner_client, outsider, manager_client
):
    other = ClientFactory(account_manager=outsider, name="Other Co")
    for _ in range(3):
        answer(named, own_client, 10)
    for _ in range(2):
        answer(named, other, 0)
    for _ in range(6):
        answer(anon, own_client, 0)
    html = owner_client.get(URL, {"period": NOV}).content.decode()
    assert kpi(html, "answers") == "3"
    assert kpi(html, "nps") == "100.0"
    assert 'id="id_account_manager"' not in html
    am_table = html.split('id="breakdown-account_manager"')[1].split("</table>")[0]
    assert am_table.count("data-cell=") == 1
    listing = owner_client.get(ANSWERS).content.decode()
    assert "Other Co" not in listing and 'data-count="3"' in listing
    # the manager sees all 11, and filters by account manager
    assert kpi(manager_client.get(URL, {"period": NOV}).content.decode(), "answers") == "11"
    html = manager_client.get(URL, {"period": NOV, "account_manager": outsider.pk}).content.decode()
    assert kpi(html, "answers") == "2" and kpi(html, "nps") == "-100.0"


def _links(html: str) -> list[tuple[str, int]]:
    return [
        (unescape(url), int(n))
        for url, n in re.findall(r'<a href="([^"]*answers/\?[^"]*)" data-count="(\d+)"', html)
    ]


def test_every_figure_links_to_that_many_answers(
    named, anon, own_client, manager_client, csat_questionnaire, outsider
):
    line = ProductLineFactory(name="Pumps")
    item = QuestionnaireItem.objects.create(
        questionnaire=csat_questionnaire, text_ru="Насос", text_en="Pump", product_line=line
    )
    seg = TargetSegmentFactory(name="Retail")
    a = ClientFactory(
        account_manager=own_client.account_manager, abc_class="A", xyz_class="X", target_segment=seg
    )
    b = ClientFactory(account_manager=outsider, abc_class="B", lifecycle="new")
    for i in range(3):
        answer(named, a, 9 - i, items=[(item, 5 - i)], best_employee=outsider)
    for i in range(2):
        answer(named, b, i, at=msk(2026, 10, 5))
    for _ in range(5):
        answer(anon, own_client, 10, items=[(item, 4)])
    html = manager_client.get(URL).content.decode()  # the last 12 months
    links = _links(html)
    kinds = {
        re.search(
            r"[?&](abc|xyz|lifecycle|segment|account_manager|product_line|campaign|"
            r"best_employee)=",
            url,
        ).group(1)
        if re.search(
            r"[?&](abc|xyz|lifecycle|segment|account_manager|product_line|"
            r"campaign|best_employee)=",
            url,
        )
        else "month"
        for url, _n in links
    }
    assert kinds >= {
        "abc",
        "xyz",
        "lifecycle",
        "segment",
        "account_manager",
        "product_line",
        "campaign",
        "best_employee",
        "month",
    }
    for url, n in links:
        listing = manager_client.get(url).content.decode()
        count = int(re.search(r'id="answer-count" data-count="(\d+)"', listing).group(1))
        assert count == n, url


def test_api_analytics_matches_and_is_scoped(named, own_client, owner, outsider, manager):
    from rest_framework.test import APIClient

    for s in (10, 10, 0):
        answer(named, own_client, s)
    answer(named, ClientFactory(account_manager=outsider), 0)
    api = APIClient()
    api.force_authenticate(owner)
    body = api.get("/api/survey-analytics/", {"period": NOV}).json()
    assert body["totals"]["answers"] == 3
    assert body["totals"]["nps"] == "33.3"
    assert body["target_nps"] == 40
    api.force_authenticate(manager)
    body = api.get("/api/survey-analytics/", {"period": NOV}).json()
    assert body["totals"]["answers"] == 4 and body["totals"]["nps"] == "0.0"
    assert [c["label"] for c in body["breakdowns"]["campaign"]] == ["Named NPS"]
    assert {c["key"] for c in body["breakdowns"]["account_manager"]} == {
        str(owner.pk),
        str(outsider.pk),
    }
    assert api.get("/api/survey-analytics/", {"period": "m1999-01"}).status_code == 400
    assert api.get("/api/survey-analytics/", {"account_manager": "x"}).status_code == 400


def test_api_answers_anonymous_and_scope(named, anon, own_client, owner, outsider, manager):
    from rest_framework.test import APIClient

    for _ in range(5):
        answer(anon, own_client, 3, comment="slow")
    answer(named, own_client, 9)
    answer(named, ClientFactory(account_manager=outsider), 9)
    api = APIClient()
    api.force_authenticate(manager)
    rows = api.get("/api/survey-answers/", {"page_size": 100}).json()["results"]
    assert len(rows) == 7
    for row in [r for r in rows if r["anonymous"]]:
        assert row["client"] is None and row["contact"] is None and row["invitation"] is None
        assert "T" not in row["submitted"]
    api.force_authenticate(owner)
    rows = api.get("/api/survey-answers/").json()["results"]
    assert len(rows) == 1 and rows[0]["client"] == own_client.pk
    inv = api.get("/api/survey-invitations/").json()["results"]
    assert len(inv) == 1
    assert not any("token" in key for key in inv[0])
    # bad input is a 400, never a 500
    assert api.get("/api/survey-answers/", {"nps_min": "11"}).status_code == 400
    assert api.get("/api/survey-answers/", {"date_from": "99999-01-01"}).status_code == 400
    assert api.get("/api/survey-answers/", {"band": "nobody"}).status_code == 400


def test_api_campaigns_manager_writes_preview_launch(
    nps_questionnaire, owner, manager, contact, settings
):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(owner)
    payload = {"name": "Q4", "questionnaire": nps_questionnaire.pk, "filters": {"abc": ["A"]}}
    assert api.post("/api/survey-campaigns/", payload, format="json").status_code == 403
    api.force_authenticate(manager)
    bad = api.post("/api/survey-campaigns/", {**payload, "filters": {"abc": ["Q"]}}, format="json")
    assert bad.status_code == 400
    made = api.post("/api/survey-campaigns/", {**payload, "filters": {}}, format="json")
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert api.post(f"/api/survey-campaigns/{pk}/preview/").json() == {"audience": 1}
    api.force_authenticate(owner)
    assert api.post(f"/api/survey-campaigns/{pk}/launch/").status_code == 403
    api.force_authenticate(manager)
    assert api.post(f"/api/survey-campaigns/{pk}/launch/").json() == {"invitations": 1}
    assert Invitation.objects.filter(campaign_id=pk).count() == 1


def test_a_submitted_answer_counts_at_once(
    make_campaign, csat_questionnaire, contact, manager, django_capture_on_commit_callbacks
):
    """The service stores the copies the analytics add up and makes the cached report stale."""
    from surveys import services

    campaign = make_campaign(questionnaire=csat_questionnaire)
    item = csat_questionnaire.items.first()
    before = analytics.cached_report(
        manager,
        period=analytics.month_period(NOW.date()),
        trend_period=analytics.month_period(NOW.date()),
    )
    assert before.totals.answers == 0
    inv = invite(campaign, contact, at=msk(2026, 11, 19), status="sent")
    with django_capture_on_commit_callbacks(execute=True):
        stored = services.answer_submit(invitation=inv, data={"nps": 10, "items": {item.pk: 2}})
    assert (stored.campaign_id, stored.client_id, stored.item_scores, stored.item_sum) == (
        campaign.pk,
        contact.client_id,
        1,
        2,
    )
    after = analytics.cached_report(
        manager,
        period=analytics.month_period(NOW.date()),
        trend_period=analytics.month_period(NOW.date()),
    )
    assert after.totals.answers == 1
    assert after.totals.nps == Decimal("100.0") and after.totals.csat == Decimal("0.0")


def test_xlsx_export_names_no_anonymous_respondent(anon, named, own_client, manager_client):
    from io import BytesIO

    from openpyxl import load_workbook

    for _ in range(5):
        answer(anon, own_client, 2, comment="=HYPERLINK(1)")
    answer(named, own_client, 9)
    response = manager_client.get(ANSWERS, {"format": "xlsx"})
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert len(rows) == 7
    anonymous = [r for r in rows[1:] if r[1] == "Anonymous NPS"]
    assert len(anonymous) == 5
    assert all(r[2] in ("", None) and r[3] in ("", None) for r in anonymous)
    assert all(not str(r[5]).startswith("=") for r in anonymous)  # a formula is made text
    named_rows = [r for r in rows[1:] if r[1] == "Named NPS"]
    assert named_rows[0][2] == own_client.name
    assert manager_client.get(ANSWERS, {"format": "xlsx", "nps_min": "42"}).status_code == 400


def test_api_questionnaires_read_by_all_written_by_managers(owner, manager, nps_questionnaire):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(owner)
    assert api.get("/api/survey-questionnaires/").status_code == 200
    data = {"code": "short", "title_ru": "Кратко", "title_en": "Short"}
    assert api.post("/api/survey-questionnaires/", data, format="json").status_code == 403
    api.force_authenticate(manager)
    made = api.post("/api/survey-questionnaires/", data, format="json")
    assert made.status_code == 201 and made.json()["items"] == []
    dup = api.post("/api/survey-questionnaires/", data, format="json")
    assert dup.status_code == 400


def test_bad_page_input_is_not_an_error(manager_client, owner_client):
    assert manager_client.get(URL, {"period": "m1999-01"}).status_code == 200
    assert manager_client.get(URL, {"account_manager": "nope"}).status_code == 200
    page = manager_client.get(ANSWERS, {"nps_min": "-3", "date_from": "99999-01-01"})
    assert page.status_code == 200 and 'id="filter-errors"' in page.content.decode()
    assert owner_client.get(ANSWERS, {"page": "999"}).status_code == 200


def test_report_cells_equal_each_breakdown_on_its_own(anon, named, manager, csat_questionnaire):
    """The report's one-scan aggregate (GROUPING SETS on PostgreSQL) gives the same cells as
    each breakdown's own query."""
    item = csat_questionnaire.items.first()
    seg = TargetSegmentFactory(name="Wholesale")
    clients = [
        ClientFactory(abc_class="A", xyz_class="Y", target_segment=seg),
        ClientFactory(abc_class="C", lifecycle="lost"),
        ClientFactory(),
    ]
    for i in range(18):
        campaign = anon if i % 3 == 0 else named
        answer(campaign, clients[i % 3], i % 11, items=[(item, 1 + i % 5)], best_employee=manager)
    period = analytics.month_period(NOW.date())
    report = analytics.report(manager, period=period, trend_period=period)
    answers = analytics.in_period(analytics.answers_for(manager), period)

    def figures(cells):
        return sorted(
            (str(c.key), c.answers, c.anonymous, c.nps, c.csat, c.index, c.hidden) for c in cells
        )

    for name in analytics.BREAKDOWNS:
        assert figures(report.breakdowns[name]) == figures(analytics.breakdown(answers, name))
    assert figures([report.totals]) == figures([analytics.totals(answers)])
    assert report.totals.answers == 18 and report.totals.anonymous == 6


def test_migration_fills_the_copies_of_older_answers(anon, own_client, csat_questionnaire):
    import importlib

    from django.apps import apps

    item = csat_questionnaire.items.first()
    stored = answer(anon, own_client, 4, items=[(item, 5)])
    Answer.objects.filter(pk=stored.pk).update(
        campaign=None, client=None, anonymous=False, item_scores=0, item_sum=0, item_satisfied=0
    )
    migration = importlib.import_module("surveys.migrations.0003_analytics_answer_copies")
    migration.fill_copies(apps, None)
    stored.refresh_from_db()
    assert (stored.campaign_id, stored.client_id, stored.anonymous) == (
        anon.pk,
        own_client.pk,
        True,
    )
    assert (stored.item_scores, stored.item_sum, stored.item_satisfied) == (1, 5, 1)


def test_api_updates_questionnaires_and_campaigns_through_the_audited_service(
    nps_questionnaire, owner, manager
):
    """A PATCH is a manager's, goes through the service the pages use (audited, checked)."""
    from rest_framework.test import APIClient

    from crm.models import AuditEntry

    api = APIClient()
    api.force_authenticate(manager)
    made = api.post(
        "/api/survey-campaigns/",
        {"name": "Q4", "questionnaire": nps_questionnaire.pk, "filters": {}},
        format="json",
    )
    pk = made.json()["id"]
    api.force_authenticate(owner)
    url = f"/api/survey-questionnaires/{nps_questionnaire.pk}/"
    assert api.patch(url, {"title_en": "Ours"}, format="json").status_code == 403
    assert api.patch(f"/api/survey-campaigns/{pk}/", {"name": "Q1"}).status_code == 403
    api.force_authenticate(manager)
    changed = api.patch(url, {"title_en": "Rate us, please"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["title_en"] == "Rate us, please"
    nps_questionnaire.refresh_from_db()
    assert nps_questionnaire.title_en == "Rate us, please"
    entry = AuditEntry.objects.get(
        content_type__model="questionnaire",
        object_id=str(nps_questionnaire.pk),
        action=AuditEntry.Action.UPDATE,
    )
    assert entry.actor == manager and entry.changes["title_en"][1] == "Rate us, please"
    renamed = api.patch(f"/api/survey-campaigns/{pk}/", {"name": "Q1"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Q1"
    assert AuditEntry.objects.get(
        content_type__model="campaign", object_id=str(pk), action=AuditEntry.Action.UPDATE
    ).changes["name"] == ["Q4", "Q1"]
    bad = api.patch(f"/api/survey-campaigns/{pk}/", {"filters": {"abc": ["Q"]}}, format="json")
    assert bad.status_code == 400
    assert Campaign.objects.get(pk=pk).filters == {}
