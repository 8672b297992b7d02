"""The period report per account manager on a hand-made quarter (Q2 2026: 1 April – 30 June)."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from clients.models import Client
from crm.periods import Period
from sales import reports
from segmentation.models import ClassChange, SegmentationRun
from tests.conftest import client_for
from tests.factories import (
    ClientFactory,
    ProductFactory,
    ProductLineFactory,
    SettlementFactory,
    UserFactory,
)

Q2 = Period(date(2026, 4, 1), date(2026, 7, 1))
OLD = datetime(2025, 1, 10, 12, tzinfo=UTC)  # the clients were added long before


@pytest.fixture(autouse=True)
def _no_cache(settings):
    settings.SALES_REPORT_CACHE_SECONDS = 0  # each test computes its own figures


def _client(name, am, created=OLD):
    client = ClientFactory(name=name, account_manager=am)
    Client.objects.filter(pk=client.pk).update(created_at=created)
    return client


def _sale(client, day, amount, product=None):
    return SettlementFactory(client=client, date=day, amount=Decimal(amount), product=product)


def _change(client, day, old, new):
    run, _ = SegmentationRun.objects.get_or_create(as_of=day, defaults={"status": "success"})
    ClassChange.objects.create(
        client=client, run=run, date=day, lifecycle_old=old, lifecycle_new=new
    )


@pytest.fixture
def quarter(owner, outsider):
    """The hand-made quarter. Owner's clients:

    - first_on_start: no purchase before; buys 1 April (first day) 100 and 10 May 50
      → first sale, 150; potential at the start, converted.
    - first_on_end: buys 30 June (last day) 70 → first sale, 70; potential, converted.
    - after_end: buys 1 July only → potential at the start, not converted.
    - never: never buys → potential.
    - added_late: added 5 May, buys 6 May 40 → first sale 40, not potential at the start.
    - repeat_same: bought line A on 31 March (the day before); buys A 1 April 200 and a refund
      -20 on 2 May → repeat sale 180, no new line.
    - repeat_new: bought line A in 2025; buys line B 15 May 300 and 20 May 30, line A 16 May 10
      → repeat 340; new line B on 15 May only: 300.
    - lost_restored: lifecycle regular → lost 5 April, lost → restored 20 June.
    - lost_only: regular → lost on 30 June (last day); restored on 1 July (outside).
    - first_class: first classification "lost" (no previous status) in the period: not a change.
    Outsider's client bought for the first time in the quarter: 999 on the outsider's row.
    """
    line_a, line_b = ProductLineFactory(name="A"), ProductLineFactory(name="B")
    a1, a2 = ProductFactory(line=line_a), ProductFactory(line=line_a)
    b1 = ProductFactory(line=line_b)
    c = {}
    c["first_on_start"] = _client("Alpha", owner)
    _sale(c["first_on_start"], date(2026, 4, 1), 100, a1)
    _sale(c["first_on_start"], date(2026, 5, 10), 50, b1)
    c["first_on_end"] = _client("Bravo", owner)
    _sale(c["first_on_end"], date(2026, 6, 30), 70)
    c["after_end"] = _client("Charlie", owner)
    _sale(c["after_end"], date(2026, 7, 1), 500)
    c["never"] = _client("Delta", owner)
    c["added_late"] = _client("Echo", owner, created=datetime(2026, 5, 5, 9, tzinfo=UTC))
    _sale(c["added_late"], date(2026, 5, 6), 40)
    c["repeat_same"] = _client("Foxtrot", owner)
    _sale(c["repeat_same"], date(2026, 3, 31), 1000, a1)
    _sale(c["repeat_same"], date(2026, 4, 1), 200, a2)
    _sale(c["repeat_same"], date(2026, 5, 2), -20, a1)
    c["repeat_new"] = _client("Golf", owner)
    _sale(c["repeat_new"], date(2025, 6, 1), 800, a1)
    _sale(c["repeat_new"], date(2026, 5, 15), 300, b1)
    _sale(c["repeat_new"], date(2026, 5, 20), 30, b1)
    _sale(c["repeat_new"], date(2026, 5, 16), 10, a2)
    c["lost_restored"] = _client("Hotel", owner)
    _sale(c["lost_restored"], date(2025, 1, 15), 10)
    _change(c["lost_restored"], date(2026, 4, 5), "regular", "lost")
    _change(c["lost_restored"], date(2026, 6, 20), "lost", "restored")
    c["lost_only"] = _client("India", owner)
    _sale(c["lost_only"], date(2025, 1, 15), 10)
    _change(c["lost_only"], date(2026, 3, 31), "new", "regular")
    _change(c["lost_only"], date(2026, 6, 30), "regular", "lost")
    _change(c["lost_only"], date(2026, 7, 1), "lost", "restored")
    c["first_class"] = _client("Juliett", owner)
    _sale(c["first_class"], date(2025, 1, 15), 10)
    _change(c["first_class"], date(2026, 4, 10), None, "lost")
    c["outsider"] = _client("Kilo", outsider)
    _sale(c["outsider"], date(2026, 4, 20), 999)
    return c


def _ids(clients, *names):
    return {clients[n].pk for n in names}


def test_each_definition_by_hand(quarter, owner, manager):
    facts = reports.period_facts(manager, Q2)
    rows, total = reports.report_rows(manager, facts)
    row = next(r for r in rows if r.manager_id == owner.pk)
    mine = {m: set(reports.detail_ids(facts, m, owner.pk)) for m in reports.METRICS}
    assert mine[reports.POTENTIAL] == _ids(
        quarter, "first_on_start", "first_on_end", "after_end", "never"
    )
    assert mine[reports.FIRST] == _ids(quarter, "first_on_start", "first_on_end", "added_late")
    assert row.sums[reports.FIRST] == Decimal("260")  # 100 + 50 + 70 + 40
    assert mine[reports.REPEAT] == _ids(quarter, "repeat_same", "repeat_new")
    assert row.sums[reports.REPEAT] == Decimal("520")  # 200 − 20 + 300 + 30 + 10
    assert mine[reports.NEW_LINE] == _ids(quarter, "repeat_new")
    assert row.sums[reports.NEW_LINE] == Decimal("300")  # line B's first day only
    assert mine[reports.LOST] == _ids(quarter, "lost_restored", "lost_only")
    assert mine[reports.RESTORED] == _ids(quarter, "lost_restored")
    assert mine[reports.CONVERTED] == _ids(quarter, "first_on_start", "first_on_end")
    assert row.conversion == Decimal("0.5000")  # 2 of 4
    assert row.counts == {m: len(v) for m, v in mine.items()}
    # the outsider's client is on the outsider's row, and in the totals
    assert total.counts[reports.FIRST] == 4
    assert total.sums[reports.FIRST] == Decimal("1259")


def test_first_and_repeat_sums_add_up_to_the_turnover(quarter, manager):
    facts = reports.period_facts(manager, Q2)
    _rows, total = reports.report_rows(manager, facts)
    assert total.sums[reports.FIRST] + total.sums[reports.REPEAT] == Decimal("1779")


def test_boundaries_last_day_of_the_month_before_and_after(quarter, manager, owner):
    """A period of the single day 30 June: the sale on 30 June is in, 1 July is out."""
    day = Period(date(2026, 6, 30), date(2026, 7, 1))
    facts = reports.period_facts(manager, day)
    assert set(facts.sets[reports.FIRST]) == _ids(quarter, "first_on_end")
    assert set(facts.sets[reports.LOST]) == _ids(quarter, "lost_only")
    assert not facts.sets[reports.RESTORED]
    q3 = reports.period_facts(manager, reports.period_of(reports.QUARTER, date(2026, 7, 1)))
    assert set(q3.sets[reports.RESTORED]) == _ids(quarter, "lost_only")
    assert set(q3.sets[reports.FIRST]) == _ids(quarter, "after_end")


def test_empty_period(quarter, manager):
    facts = reports.period_facts(manager, Period(date(2020, 1, 1), date(2020, 4, 1)))
    rows, total = reports.report_rows(manager, facts)
    assert all(total.counts[m] == 0 for m in reports.METRICS)
    assert total.sums[reports.FIRST] == 0
    assert total.conversion is None
    assert rows  # every account manager has a row, with zeros


def test_period_of():
    assert reports.period_of("month", date(2026, 2, 14)) == Period(
        date(2026, 2, 1), date(2026, 3, 1)
    )
    assert reports.period_of("quarter", date(2026, 12, 31)) == Period(
        date(2026, 10, 1), date(2027, 1, 1)
    )
    assert reports.period_of("year", date(2026, 5, 5)) == Period(date(2026, 1, 1), date(2027, 1, 1))


URL = "/sales/report/"
DETAIL = "/sales/report/clients/"
Q2_QUERY = "period=custom&start=2026-04-01&end=2026-06-30"


def test_page_figures_and_detail_counts(quarter, owner, manager, django_assert_max_num_queries):
    http = client_for(manager, "en")
    # 13 with the navigation's unread beacon notices
    with django_assert_max_num_queries(13):
        page = http.get(f"{URL}?{Q2_QUERY}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Definitions" in html and "first settlement ever" in html
    for metric in reports.METRICS:
        facts = reports.period_facts(manager, Q2)
        expected = len(reports.detail_ids(facts, metric, owner.pk))
        with django_assert_max_num_queries(13):
            detail = http.get(f"{DETAIL}?{Q2_QUERY}&metric={metric}&row={owner.pk}")
        assert detail.status_code == 200
        assert len(detail.context["page"].object_list) == expected == detail.context["count"]
    detail = http.get(f"{DETAIL}?{Q2_QUERY}&metric=repeat&row={owner.pk}")
    assert detail.context["total_sum"] == Decimal("520")
    # a figure with a sum: largest first
    assert [c["name"] for c in detail.context["page"].object_list] == ["Golf", "Foxtrot"]
    detail = http.get(f"{DETAIL}?{Q2_QUERY}&metric=potential&row={owner.pk}")
    names = [c["name"] for c in detail.context["page"].object_list]
    assert names == ["Alpha", "Bravo", "Charlie", "Delta"]  # the others by name


def test_outsider_sees_only_their_own_row(quarter, owner, outsider):
    http = client_for(outsider, "en")
    page = http.get(f"{URL}?{Q2_QUERY}")
    assert page.status_code == 200
    table = page.context["table"]
    assert [r["param"] for r in table] == [str(outsider.pk), ""]
    assert table[0]["cells"][1]["count"] == 1  # the outsider's first sale
    assert "Alpha" not in http.get(f"{DETAIL}?{Q2_QUERY}&metric=first&row=").content.decode()
    assert http.get(f"{DETAIL}?{Q2_QUERY}&metric=first&row={owner.pk}").status_code == 404
    assert http.get(f"{URL}?{Q2_QUERY}&am={owner.pk}").status_code == 404
    assert http.get(f"/api/sales/report/clients/?metric=first&row={owner.pk}").status_code == 404
    body = http.get(f"/api/sales/report/?{Q2_QUERY}").json()
    assert [r["account_manager"] for r in body["rows"]] == [outsider.pk]
    assert body["rows"][0]["counts"]["first"] == 1


def test_bad_input_is_refused_clearly(quarter, manager):
    http = client_for(manager, "en")
    assert http.get(f"{DETAIL}?metric=nonsense").status_code == 400
    assert http.get(f"{DETAIL}?metric=first&row=abc").status_code == 400
    page = http.get(f"{URL}?period=custom&start=2026-06-30&end=2026-04-01")
    assert page.status_code == 200
    assert "The period ends before it starts." in page.content.decode()
    api = http.get("/api/sales/report/?period=custom&start=2026-06-30")
    assert api.status_code == 400


def test_xlsx_export_read_back(quarter, owner, manager):
    http = client_for(manager, "en")
    response = http.get(f"{URL}?{Q2_QUERY}&format=xlsx")
    assert response.status_code == 200
    book = load_workbook(BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    header = rows[1]
    owner_row = next(r for r in rows if r and r[0] == str(owner))
    assert owner_row[header.index("First sales")] == 3
    assert owner_row[header.index("First sales, sum")] == 260
    assert owner_row[header.index("Sales in new product lines, sum")] == 300
    assert owner_row[header.index("Conversion, %")] == 50
    total = next(r for r in rows if r and r[0] == "Total")
    assert total[header.index("First sales")] == 4
    detail = http.get(f"{DETAIL}?{Q2_QUERY}&metric=first&row={owner.pk}&format=xlsx")
    book = load_workbook(BytesIO(b"".join(detail.streaming_content)))
    assert list(book.active.iter_rows(values_only=True))[1:] == [
        ("Alpha", 150),
        ("Bravo", 70),
        ("Echo", 40),
    ]


@pytest.mark.parametrize(("language", "text"), [("ru", "Первые продажи"), ("en", "First sales")])
def test_page_renders_in_both_languages(quarter, owner, language, text):
    page = client_for(owner, language).get(URL)
    assert page.status_code == 200
    assert text in page.content.decode()


def test_api_totals(quarter, manager):
    body = client_for(manager).get(f"/api/sales/report/?{Q2_QUERY}").json()
    assert body["total"]["counts"]["first"] == 4
    assert Decimal(body["total"]["sums"]["first"]) == Decimal("1259")
    clients = client_for(manager).get(f"/api/sales/report/clients/?{Q2_QUERY}&metric=lost").json()
    assert clients["count"] == 2


def test_clients_without_account_manager_are_a_row_of_their_own(quarter, manager):
    lonely = _client("Lima", None)
    _sale(lonely, date(2026, 4, 2), 5)
    facts = reports.period_facts(manager, Q2)
    rows, _total = reports.report_rows(manager, facts)
    assert rows[-1].manager_id == reports.NO_MANAGER
    assert rows[-1].counts[reports.FIRST] == 1
    page = client_for(manager, "en").get(f"{DETAIL}?{Q2_QUERY}&metric=first&row=none")
    assert page.context["count"] == 1


def test_account_manager_filter_for_managers(quarter, owner, outsider, manager):
    UserFactory(username="idle")
    page = client_for(manager, "en").get(f"{URL}?{Q2_QUERY}&am={outsider.pk}")
    table = page.context["table"]
    assert [r["param"] for r in table] == [str(outsider.pk), ""]
    assert table[0]["cells"][1]["count"] == table[1]["cells"][1]["count"] == 1


def test_cached_figures_follow_new_records(quarter, owner, manager, settings):
    from django.core.cache import cache

    settings.SALES_REPORT_CACHE_SECONDS = 60
    cache.clear()
    first = reports.cached_facts(manager, Q2)
    assert reports.cached_facts(manager, Q2).sets == first.sets  # from the cache
    newcomer = _client("Mike", owner)
    _sale(newcomer, date(2026, 4, 3), 1)
    again = reports.cached_facts(manager, Q2)
    assert newcomer.pk in again.sets[reports.FIRST]  # a new settlement: a new key
    cache.clear()


def test_the_period_select_shows_the_default_quarter(manager):
    """The page opens on the current quarter, and its select says so."""
    html = client_for(manager, "en").get(reverse("sales:report")).content.decode()
    assert re.search(r'<option value="quarter"[^>]*selected', html)


def test_facts_keep_their_sums_exactly_through_the_cache(manager, owner):
    """The cached form holds the sums in kopecks: what comes back equals what went in, the
    sets without sums stay without, an empty set stays empty."""
    import pickle

    facts = reports.Facts(Period(date(2026, 1, 1), date(2026, 4, 1)))
    facts.manager_of.update({1: owner.pk, 2: 0, 3: owner.pk})
    facts.cents[reports.REPEAT].update({1: 123456, 2: -5, 3: 0})
    facts.cents[reports.NEW_LINE][1] = 100
    facts.cents[reports.POTENTIAL].update({2: None, 3: None})
    back = pickle.loads(pickle.dumps(facts))  # noqa: S301 - our own bytes
    assert back.period == facts.period and back.manager_of == facts.manager_of
    assert back.cents == facts.cents
    assert back.sets == facts.sets
    assert [str(v) for v in back.sets[reports.REPEAT].values()] == ["1234.56", "-0.05", "0.00"]
    assert back.sets[reports.NEW_LINE] == {1: Decimal("1.00")}
    assert back.sets[reports.POTENTIAL] == {2: None, 3: None}
    assert back.sets[reports.FIRST] == {}
    assert reports.detail_ids(back, reports.REPEAT, owner.pk) == {
        1: Decimal("1234.56"),
        3: Decimal("0.00"),
    }
    _rows, total = reports.report_rows(manager, back)
    assert total.sums[reports.REPEAT] == Decimal("1234.51")
    assert total.counts[reports.REPEAT] == 3 and total.counts[reports.POTENTIAL] == 2
