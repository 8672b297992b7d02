"""The manager dashboard worked by hand on a small fixed dataset (time frozen on 5 Dec 2026,
the period November 2026 = [1 Nov, 1 Dec), its previous period [2 Oct, 1 Nov)): each KPI, the
change against the previous period, an empty period, every card's list holding the card's
count, the account manager's home with their own figures only, the per-manager table, bounded
queries with a cold and a warm cache, both languages, the API."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse

from clients.models import Client, Interaction
from crm import dashboard as kpi
from feedback import services as complaint_services
from feedback.models import Theme
from segmentation.models import ClassChange, SegmentationRun
from surveys.models import Answer, Invitation
from tests.conftest import client_for
from tests.factories import (
    ClientFactory,
    ContactFactory,
    SettlementFactory,
    TargetSegmentFactory,
)
from tests.surveys.conftest import (  # noqa: F401 - the survey fixtures used here
    invite,
    make_campaign,
    nps_questionnaire,
    prefs,
)

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 5, 12, tzinfo=MSK)
NOV = {"kind": "month", "day": "2026-11-15"}
URL = reverse("dashboard")


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    cache.clear()
    yield
    cache.clear()


def kpi_text(html: str, key: str) -> str:
    m = re.search(rf'data-kpi="{key}">([^<]*)<', html)
    assert m, key
    text = unescape(m.group(1)).replace("\xa0", "").replace("\u202f", "").replace(" ", "")
    return text.replace(",", ".").strip()


def change_text(html: str, key: str) -> str:
    m = re.search(rf'data-change="{key}"[^>]*>([^<]*)<', html)
    assert m, key
    text = unescape(m.group(1)).replace("\xa0", "").replace("\u202f", "").replace(" ", "")
    return text.replace(",", ".").strip()


def _answer(campaign, client, nps, at):
    contact = ContactFactory(client=client)
    inv = invite(campaign, contact, at=at, status=Invitation.Status.ANSWERED, sent_at=at)
    return Answer.objects.create(invitation=inv, nps=nps, submitted_at=at)


@pytest.fixture
def data(owner, outsider, manager, make_campaign):  # noqa: F811
    """owner: Acme (A, regular, segment "Retail"), Beta (B, new); outsider: Gamma (A, regular).

    - settlements: Acme 10 Nov 1000 + 20 Nov 500, Beta 15 Oct 300 (previous period), Gamma
      5 Nov 2000 → November 3500 (owner 1500), previous 300;
    - answers: Acme 10 and 9, Beta 3 in November, Gamma 0 in November, Acme 8 on 20 Oct
      → November NPS (2 promoters − 2 detractors) / 4 = 0.0 (owner: (2 − 1) / 3 = 33.3),
      previous 0.0 (one passive); detractors without a case: 2 (owner 1);
    - complaints: Acme and Gamma, registered 16 Nov, never acknowledged: open 2 (owner 1),
      overdue 2 (owner 1), iceberg 2 ÷ 0.10 = 20 (owner 10), SLA compliance 0 %;
    - Acme and Gamma last contacted in January: overdue for contact (A: every 30 days);
      Acme and Gamma have a promise due 30 Nov not kept: overdue;
    - class changes: Acme became new 3 Nov, Beta lost 4 Nov, Gamma restored 10 Oct.
    """
    retail = TargetSegmentFactory(name="Retail")
    acme = ClientFactory(
        name="Acme", account_manager=owner, abc_class="A", xyz_class="X", target_segment=retail
    )
    beta = ClientFactory(name="Beta", account_manager=owner, abc_class="B", lifecycle="new")
    gamma = ClientFactory(name="Gamma", account_manager=outsider, abc_class="A", xyz_class="Y")
    SettlementFactory(client=acme, date=date(2026, 11, 10), amount=1000)
    SettlementFactory(client=acme, date=date(2026, 11, 20), amount=500)
    SettlementFactory(client=beta, date=date(2026, 10, 15), amount=300)
    SettlementFactory(client=gamma, date=date(2026, 11, 5), amount=2000)
    campaign = make_campaign(name="Named NPS")
    _answer(campaign, acme, 10, msk(2026, 11, 10, 12))
    _answer(campaign, acme, 9, msk(2026, 11, 11, 12))
    _answer(campaign, beta, 3, msk(2026, 11, 12, 12))
    _answer(campaign, gamma, 0, msk(2026, 11, 13, 12))
    _answer(campaign, acme, 8, msk(2026, 10, 20, 12))
    # the seeded themes (a transactional test after another's flush finds none: seed one)
    theme = Theme.objects.first() or Theme.objects.create(
        code="delivery", name_en="Delivery", name_ru="Доставка"
    )
    for client in (acme, gamma):
        complaint_services.complaint_register(
            actor=manager,
            client=client,
            theme=theme,
            description="Late delivery",
            priority="normal",
            now=msk(2026, 11, 16, 10),
        )
    Client.objects.filter(pk__in=[acme.pk, gamma.pk]).update(last_contact_at=msk(2026, 1, 10))
    Client.objects.filter(pk=beta.pk).update(last_contact_at=NOW - timedelta(days=1))
    for client in (acme, gamma):
        Interaction.objects.create(
            client=client,
            occurred_at=msk(2026, 11, 1, 10),
            summary="Call",
            promise="Send the offer",
            promise_due=date(2026, 11, 30),
        )
    # the run's summary holds the matrix of the classes it wrote (the manager's matrix)
    matrix = {k: {"clients": 1, "cents": 100} for k in ("AX", "Bnone", "AY")}
    run = SegmentationRun.objects.create(
        status="success",
        as_of=date(2026, 11, 30),
        summary={"matrix": matrix, "turnover_cents": 300},
    )
    ClassChange.objects.create(client=acme, run=run, date=date(2026, 11, 3), lifecycle_new="new")
    ClassChange.objects.create(
        client=beta, run=run, date=date(2026, 11, 4), lifecycle_old="regular", lifecycle_new="lost"
    )
    ClassChange.objects.create(
        client=gamma,
        run=run,
        date=date(2026, 10, 10),
        lifecycle_old="lost",
        lifecycle_new="restored",
    )
    # the answers were written directly, not by the answer service: their monthly rollups
    # (what the survey cards sum for whole months) summed as ``rebuild_survey_rollups`` does
    from surveys import rollup

    rollup.rebuild()
    return {"acme": acme, "beta": beta, "gamma": gamma, "retail": retail}


NOVEMBER = kpi.Period(date(2026, 11, 1), date(2026, 12, 1))


def board_for(user, period=NOVEMBER, **kw):
    ctx = kpi.KpiContext(period=period, user=user, today=date(2026, 12, 5), **kw)
    return kpi.compute(ctx)


def values(board) -> dict:
    return {key: r.figure.value for key, r in board.results.items()}


def test_previous_period_and_change():
    nov = kpi.Period(date(2026, 11, 1), date(2026, 12, 1))
    assert kpi.previous_period(nov) == kpi.Period(date(2026, 10, 1), date(2026, 11, 1))
    q1 = kpi.Period(date(2026, 1, 1), date(2026, 4, 1))
    assert kpi.previous_period(q1) == kpi.Period(date(2025, 10, 1), date(2026, 1, 1))
    # to date: the same days of the month before; 31 March to date → 1–28 February
    assert kpi.previous_period(kpi.Period(date(2026, 12, 1), date(2026, 12, 6))) == kpi.Period(
        date(2026, 11, 1), date(2026, 11, 6)
    )
    assert kpi.previous_period(kpi.Period(date(2026, 3, 1), date(2026, 4, 1))) == kpi.Period(
        date(2026, 2, 1), date(2026, 3, 1)
    )
    # a custom period not starting on the 1st: the same number of days just before
    custom = kpi.Period(date(2026, 11, 10), date(2026, 11, 20))
    assert kpi.previous_period(custom) == kpi.Period(date(2026, 10, 31), date(2026, 11, 10))
    assert kpi.change_pct(Decimal("3500"), Decimal("300")) == Decimal("1066.7")
    assert kpi.change_pct(5, 10) == Decimal("-50.0")
    assert kpi.change_pct(5, 0) is None
    assert kpi.change_pct(None, 3) is None and kpi.change_pct(3, None) is None


def test_every_kpi_by_hand_for_the_manager(data, manager):
    board = board_for(manager)
    v = values(board)
    assert v["revenue"] == Decimal("3500")
    assert board.results["revenue"].previous.value == Decimal("300")
    assert board.results["revenue"].change == Decimal("1066.7")
    assert v["nps"] == Decimal("0.0")
    assert board.results["nps"].previous.value == Decimal("0.0")
    assert board.results["nps"].change is None  # the previous value is 0
    assert v["detractors_without_case"] == 2
    assert v["complaints_open"] == 2 and v["complaints_overdue"] == 2
    assert board.results["complaints_open"].previous is None  # a state as of now
    assert v["complaints"] == 2 and v["iceberg"] == 20
    assert v["sla_compliance"] == 0.0
    assert v["complaints_cost"] == Decimal("0")
    assert v["contact_overdue"] == 2
    assert v["promise_overdue"] == 2
    assert v["regular"] == 2
    assert v["new"] == 1 and v["lost"] == 1 and v["restored"] == 0
    assert board.results["restored"].previous.value == 1
    assert board.results["restored"].change == Decimal("-100.0")
    # the NPS trend: 12 months ending with November, October 0.0, November 0.0
    series = board.results["nps"].figure.series
    assert len(series) == 12 and series[-1].label == date(2026, 11, 1)
    assert series[-2].value == Decimal("0.0") and series[0].value is None
    by_class = {p.label: p.value for p in board.results["contact_overdue"].figure.series}
    assert by_class == {"A": 2, "B": 0, "C": 0, "—": 0}


def test_per_manager_table(data, manager, owner, outsider):
    table = board_for(manager).table
    assert table["clients"][owner.pk].value == 2 and table["clients"][outsider.pk].value == 1
    assert table["clients"][None].value == 3
    assert table["revenue"][owner.pk].value == Decimal("1500")
    assert table["revenue"][None].value == Decimal("3500")
    # owner: 10, 9, 3 → (2 − 1) / 3 = 33.3; outsider: 0 → −100
    assert table["nps"][owner.pk].value == Decimal("33.3")
    assert table["nps"][outsider.pk].value == Decimal("-100.0")
    assert table["contact_overdue"][owner.pk].value == 1
    assert table["complaints_open"][outsider.pk].value == 1
    assert table["complaints_open"][None].value == 2
    assert table["promise_overdue"][owner.pk].value == 1


def test_filters_narrow_every_card(data, manager, owner):
    v = values(board_for(manager, account_manager=owner.pk))
    assert v["revenue"] == Decimal("1500") and v["complaints_open"] == 1
    assert v["nps"] == Decimal("33.3")
    v = values(board_for(manager, filters={"segment": data["retail"].pk}))
    assert v["revenue"] == Decimal("1500")  # Acme alone
    assert v["nps"] == Decimal("100.0") and v["contact_overdue"] == 1
    assert v["matrix"] == 1


def test_empty_period(data, manager, manager_client):
    v = values(board_for(manager, period=kpi.Period(date(2025, 3, 1), date(2025, 4, 1))))
    assert v["revenue"] == 0 and v["nps"] is None and v["complaints"] == 0
    assert v["sla_compliance"] is None
    html = manager_client.get(URL, {"kind": "month", "day": "2025-03-10"}).content.decode()
    assert kpi_text(html, "nps") == "—"
    assert kpi_text(html, "complaints") == "0"
    assert change_text(html, "complaints") == "—"  # 0 before: no change in %


def test_page_shows_figures_and_changes(data, manager_client):
    html = manager_client.get(URL, NOV).content.decode()
    assert kpi_text(html, "nps") == "0.0"
    assert kpi_text(html, "complaints_open") == "2"
    assert kpi_text(html, "detractors_without_case") == "2"
    assert change_text(html, "revenue") == "+1066.7%"
    assert change_text(html, "nps") == "—"
    assert 'id="manager-table"' in html
    assert 'id="chart-nps"' in html and 'id="dashboard-charts"' in html


def _list_count(http, url: str) -> int:
    response = http.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


@pytest.mark.parametrize("persona", ["manager", "owner"])
def test_every_card_links_to_a_list_of_its_count(data, persona, request):
    user = request.getfixturevalue(persona)
    http = client_for(user)
    board = board_for(user)
    checked = set()
    for key, result in board.results.items():
        figure = result.figure
        count = figure.count
        if count is None and figure.kind == "number" and isinstance(figure.value, int):
            count = figure.value
        if figure.url and count is not None and key != "matrix":
            assert _list_count(http, figure.url) == count, key
            checked.add(key)
        for point in figure.series:
            if point.url and isinstance(point.value, int):
                assert _list_count(http, point.url) == point.value, (key, point.label)
    for row in board.results["matrix"].figure.extra["rows"]:
        for cell in row:
            assert _list_count(http, cell["url"]) == cell["clients"], cell["key"]
    assert {
        "revenue",
        "nps",
        "csat",
        "detractors_without_case",
        "complaints_open",
        "complaints_overdue",
        "complaints",
        "iceberg",
        "contact_overdue",
        "promise_overdue",
        "regular",
        "new",
        "lost",
        "restored",
    } <= checked


def test_every_table_cell_links_to_a_list_of_its_count(data, manager, manager_client):
    for key, cells in board_for(manager).table.items():
        for am, figure in cells.items():
            count = figure.count if figure.count is not None else figure.value
            if key == "nps" or figure.kind == "money":
                count = figure.count
            assert _list_count(manager_client, figure.url) == count, (key, am)


def test_account_managers_home_shows_their_own_figures(data, owner_client, outsider_client):
    html = owner_client.get(URL, NOV).content.decode()
    assert 'id="steps-overdue"' in html and 'id="contact-overdue"' in html  # My day
    assert kpi_text(html, "complaints_open") == "1"
    assert kpi_text(html, "nps") == "33.3"
    assert kpi_text(html, "detractors_without_case") == "1"
    assert "Gamma" not in html  # the outsider's client, in no list or figure
    assert 'id="manager-table"' not in html and 'id="id_account_manager"' not in html
    # an account manager cannot widen the scope with the filter
    html = owner_client.get(URL, NOV | {"account_manager": data["gamma"].account_manager_id})
    assert kpi_text(html.content.decode(), "complaints_open") == "1"
    html = outsider_client.get(URL, NOV).content.decode()
    assert kpi_text(html, "complaints_open") == "1"
    assert kpi_text(html, "nps") == "-100.0"
    assert "Acme" not in html


def test_period_kinds(data, manager_client):
    page = manager_client.get(URL, {"kind": "quarter", "day": "2026-11-15"})
    # the current quarter, to date
    assert page.context["period"] == kpi.Period(date(2026, 10, 1), date(2026, 12, 6))
    page = manager_client.get(URL, {"kind": "year", "day": "2025-02-01"})
    assert page.context["period"] == kpi.Period(date(2025, 1, 1), date(2026, 1, 1))
    # the year before (2024 had 366 days: calendar years, not 365 days back)
    assert page.context["previous_period"] == kpi.Period(date(2024, 1, 1), date(2025, 1, 1))
    # the current month by default, to date: [1 Dec, 6 Dec), compared with [1 Nov, 6 Nov)
    page = manager_client.get(URL)
    assert page.context["period"] == kpi.Period(date(2026, 12, 1), date(2026, 12, 6))
    assert page.context["previous_period"] == kpi.Period(date(2026, 11, 1), date(2026, 11, 6))
    page = manager_client.get(URL, {"kind": "custom", "start": "2026-11-01", "end": "2026-11-30"})
    assert page.context["period"] == kpi.Period(date(2026, 11, 1), date(2026, 12, 1))
    bad = manager_client.get(URL, {"kind": "custom", "start": "2026-11-30", "end": "2026-11-01"})
    assert bad.status_code == 200
    assert bad.context["form"].errors and 'id="dashboard-errors"' in bad.content.decode()
    assert bad.context["period"] == kpi.Period(date(2026, 12, 1), date(2026, 12, 6))


def test_queries_bounded_cold_and_warm(
    data, manager_client, owner_client, django_assert_max_num_queries
):
    # a fixed number of aggregates whatever the data (no query per row): 64 today, of which
    # the pipeline's funnel cards 2 × 9 (this period and the previous one) and the period
    # report's columns 10 (computed once for all of them)
    with django_assert_max_num_queries(70):
        manager_client.get(URL, NOV)
    # warm: session, user, the filters' choices, the table's people, the firing beacons, the
    # navigation's unread beacon notices
    with django_assert_max_num_queries(8):
        manager_client.get(URL, NOV)
    with django_assert_max_num_queries(56):  # 51 today
        owner_client.get(URL, NOV)
    # warm: My day is read live (as on its own page), the firing beacons of their scope, the
    # cards from the cache, the navigation's unread beacon notices
    with django_assert_max_num_queries(12):
        owner_client.get(URL, NOV)


def test_a_settlement_recorded_shows_at_once(
    data, manager, manager_client, django_capture_on_commit_callbacks
):
    from clients import services

    assert kpi_text(manager_client.get(URL, NOV).content.decode(), "revenue") == "3500.00₽"
    with django_capture_on_commit_callbacks(execute=True):
        services.settlement_record(
            actor=manager,
            client=data["beta"],
            product=None,
            date=date(2026, 11, 25),
            amount=Decimal("100"),
        )
    assert kpi_text(manager_client.get(URL, NOV).content.decode(), "revenue") == "3600.00₽"


def test_cached_until_a_write(data, manager, manager_client, make_campaign):  # noqa: F811
    assert kpi_text(manager_client.get(URL, NOV).content.decode(), "detractors_without_case") == "2"
    _answer(Answer.objects.first().campaign, data["beta"], 1, msk(2026, 11, 14, 12))
    from surveys import analytics

    analytics.bump_version()  # as the answer service does after its commit
    assert kpi_text(manager_client.get(URL, NOV).content.decode(), "detractors_without_case") == "3"


@pytest.mark.parametrize(("language", "word"), [("ru", "Выручка"), ("en", "Revenue")])
def test_page_in_both_languages(data, manager, owner, language, word):
    html = client_for(manager, language).get(URL, NOV).content.decode()
    assert word in html
    assert client_for(owner, language).get(URL, NOV).status_code == 200


def test_api_scoped_by_role(data, manager, owner):
    from rest_framework.test import APIClient

    assert APIClient().get("/api/dashboard/", NOV).status_code in (401, 403)
    api = APIClient()
    api.force_authenticate(owner)
    body = api.get("/api/dashboard/", NOV).json()
    figures = {k["key"]: k for k in body["kpis"]}
    assert body["start"] == "2026-11-01" and body["end"] == "2026-12-01"
    assert Decimal(figures["revenue"]["value"]) == Decimal("1500")
    assert Decimal(figures["revenue"]["previous"]) == Decimal("300")
    assert Decimal(figures["revenue"]["change_pct"]) == Decimal("400.0")
    assert figures["complaints_open"]["value"] is not None and body["managers"] == []
    api.force_authenticate(manager)
    body = api.get("/api/dashboard/", NOV).json()
    assert Decimal({k["key"]: k for k in body["kpis"]}["revenue"]["value"]) == Decimal("3500")
    totals = next(r for r in body["managers"] if r["account_manager"] is None)
    assert Decimal(totals["values"]["clients"]) == 3
    bad = api.get("/api/dashboard/", {"kind": "custom", "start": "2026-11-30"})
    assert bad.status_code == 400


def test_complaint_list_keeps_the_drill_down_filters(data, manager, manager_client):
    url = board_for(manager).results["complaints"].figure.url
    html = manager_client.get(url).content.decode()
    assert '<input type="hidden" name="registered_from" value="2026-11-01">' in html
    assert '<input type="hidden" name="registered_to" value="2026-11-30">' in html
    assert 'type="hidden" name="open"' not in html


def test_xlsx_export(data, manager, owner, outsider):
    from io import BytesIO

    from openpyxl import load_workbook

    outsider.first_name, outsider.last_name = "=HYPERLINK(1)", ""
    outsider.save()
    response = client_for(manager, "en").get(URL, NOV | {"format": "xlsx"})
    assert response.status_code == 200
    assert "dashboard-2026-11-01-2026-11-30.xlsx" in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    indicators, table = book.worksheets
    rows = {r[1]: r for r in indicators.iter_rows(min_row=5, values_only=True)}
    assert rows["Revenue"][2] == 3500 and rows["Revenue"][3] == 300
    assert rows["Revenue"][4] == Decimal("1066.7") or rows["Revenue"][4] == 1066.7
    assert rows["Open complaints"][3] is None  # a state as of now: no previous value
    lines = list(table.iter_rows(values_only=True))
    assert lines[-1][0] == "Total" and lines[-1][1] == 3
    names = [line[0] for line in lines[1:-1]]
    assert "'=HYPERLINK(1)" in names  # never a formula
    # an account manager's workbook: their own figures, no table
    response = client_for(owner, "en").get(URL, NOV | {"format": "xlsx"})
    book = load_workbook(BytesIO(response.content))
    assert len(book.worksheets) == 1
    rows = {r[1]: r for r in book.worksheets[0].iter_rows(min_row=5, values_only=True)}
    assert rows["Revenue"][2] == 1500


# --- the KPI digest ------------------------------------------------------------------------------
def test_digest_periods():
    from crm.digest import digest_period

    monday, tuesday, first = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 1)
    assert digest_period("daily", tuesday) == kpi.Period(date(2026, 11, 30), tuesday)
    assert digest_period("weekly", monday) == kpi.Period(date(2026, 11, 23), monday)
    assert digest_period("weekly", tuesday) is None
    assert digest_period("monthly", first) == kpi.Period(date(2026, 11, 1), first)
    assert digest_period("monthly", date(2026, 12, 2)) is None
    assert digest_period("off", monday) is None


def test_digest_content_scope_language_and_once_a_day(data, manager, owner, outsider):
    from django.core import mail

    from crm.digest import send_due_digests
    from crm.models import User

    User.objects.filter(pk__in=[manager.pk, owner.pk]).update(kpi_digest="monthly")
    User.objects.filter(pk=owner.pk).update(language="en")
    User.objects.filter(pk=outsider.pk).update(kpi_digest="off")
    first = date(2026, 12, 1)  # November's digest
    assert send_due_digests(first) == 2
    by_to = {m.to[0]: m for m in mail.outbox}
    mine = by_to[owner.email]
    assert mine.subject.startswith("KPI digest")
    assert "Revenue:" in mine.body and "(+400.0%)" in mine.body
    assert "Open complaints: 1" in mine.body
    assert "Gamma" not in mine.body  # never another account manager's figures
    assert "http://" in mine.body and "/clients/settlements/?" in mine.body
    boss = by_to[manager.email]
    assert boss.subject == "Сводка KPI: 01.11.2026 – 30.11.2026"
    assert "Выручка" in boss.body and "Открытые жалобы: 2" in boss.body
    # a second run the same day (another beat, another worker) sends nothing
    assert send_due_digests(first) == 0 and len(mail.outbox) == 2
    assert send_due_digests(date(2026, 12, 2)) == 0  # monthly: not due


def test_digest_failure_gives_the_day_back(data, manager, monkeypatch):
    from django.core.mail import EmailMessage

    from crm.digest import send_due_digests
    from crm.models import User

    User.objects.exclude(pk=manager.pk).update(kpi_digest="off")
    User.objects.filter(pk=manager.pk).update(kpi_digest="daily")

    def broken(self, *args, **kwargs):
        raise ConnectionError("smtp down")

    monkeypatch.setattr(EmailMessage, "send", broken)
    assert send_due_digests(date(2026, 12, 1)) == 0
    assert User.objects.get(pk=manager.pk).kpi_digest_sent_on is None
    monkeypatch.undo()
    assert send_due_digests(date(2026, 12, 1)) == 1


def test_profile_sets_the_digest(owner, owner_client):
    from crm.models import User

    assert owner.kpi_digest == "weekly"  # the default
    data = {"first_name": "A", "last_name": "B", "email": "a@example.com", "language": "en"}
    response = owner_client.post(reverse("profile"), data | {"kpi_digest": "off"})
    assert response.status_code == 302
    assert User.objects.get(pk=owner.pk).kpi_digest == "off"
    owner_client.post(reverse("profile"), data)  # left out: unchanged
    assert User.objects.get(pk=owner.pk).kpi_digest == "off"
    bad = owner_client.post(reverse("profile"), data | {"kpi_digest": "hourly"})
    assert bad.status_code == 200 and User.objects.get(pk=owner.pk).kpi_digest == "off"


def test_a_deal_write_shows_at_once(
    data, manager, manager_client, django_capture_on_commit_callbacks
):
    """The pipeline's cards are cached with the board too: a deal write bumps the sales data
    version (registered by the sales app), so the next page counts the new deal."""
    from sales import services as sales_services
    from sales.models import Pipeline

    assert kpi_text(manager_client.get(URL, NOV).content.decode(), "open_deals") == "0"
    with django_capture_on_commit_callbacks(execute=True):
        sales_services.deal_create(
            actor=manager, client=data["acme"], pipeline=Pipeline.objects.get(code="sales")
        )
    assert kpi_text(manager_client.get(URL, NOV).content.decode(), "open_deals") == "1"


@pytest.mark.django_db(transaction=True)
def test_the_response_rate_counted_ahead_equals_the_one_in_turn(
    data, manager, settings, monkeypatch
):
    """PostgreSQL, outside a transaction: a manager's board counts the period's invitations on
    the second connection (``surveys.dashboard.response_rate_ahead``), with the same figure as
    counted in turn: November's five invitations sent, four answered → 80 %."""
    import threading

    from django.db import connection

    from surveys import dashboard as survey_cards

    if connection.vendor != "postgresql":
        pytest.skip("a second connection while the board is computed: PostgreSQL only")
    campaign = Invitation.objects.first().campaign
    invite(
        campaign,
        ContactFactory(client=data["acme"]),
        at=msk(2026, 11, 14, 12),
        status=Invitation.Status.SENT,
        sent_at=msk(2026, 11, 14, 12),
    )
    threads = []
    real = survey_cards._response_rate

    def recording(ctx):
        threads.append((threading.get_ident(), ctx.period))
        return real(ctx)

    monkeypatch.setattr(survey_cards, "_response_rate", recording)
    settings.DASHBOARD_AHEAD = False
    cache.clear()
    in_turn = board_for(manager).results["response_rate"]
    settings.DASHBOARD_AHEAD = True
    cache.clear()
    ahead = board_for(manager).results["response_rate"]
    me = threading.get_ident()
    current = [who for who, period in threads if period == NOVEMBER]
    assert current[0] == me and current[1] != me
    assert in_turn.figure.value == ahead.figure.value == Decimal("80.0")
    assert in_turn.figure.hint == ahead.figure.hint == "4/5"
    assert in_turn.previous.value == ahead.previous.value == Decimal("100.0")  # October: 1/1
