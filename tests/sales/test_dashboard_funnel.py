"""The pipeline's funnel cards and the period report's per-manager columns on the dashboard
(sales/dashboard.py), worked by hand. Time frozen on 5 Dec 2026 12:00 (Moscow); the period is
November 2026, its previous period October. Pipeline "sales" (S1…S6 open, won, lost; S3
"Contract" has probability 50 %).

Deals (owner's on Charlie, outsider's on Kilo):

| deal | owner    | created | moves                          | now  | sum  | expected close       |
|------|----------|---------|--------------------------------|------|------|----------------------|
| N1   | owner    | 2 Nov   | S1 → S2 (3 Nov) → won (10 Nov) | won  | 1000 |                      |
| N2   | owner    | 5 Nov   | S1 → lost (12 Nov)             | lost | 500  |                      |
| N3   | owner    | 6 Nov   | S1 → S3 (7 Nov, skips S2)      | open | 2000 | 20 Dec 2026          |
| N4   | outsider | 8 Nov   | S1 → won (20 Nov)              | won  | 3000 |                      |
| O1   | owner    | 3 Oct   | S1 → won (15 Oct)              | won  | 700  |                      |
| O2   | owner    | 4 Oct   | S1 → lost (6 Oct)              | lost |      |                      |
| O3   | owner    | 5 Oct   | S1 → lost (7 Oct)              | lost |      |                      |
| O4   | outsider | 9 Oct   | S1 → lost (10 Oct)             | lost |      |                      |
| X1   | owner    | 1 Jun   | S2, probability 40 %           | open | 1000 | 10 Feb 2027          |
| X2   | owner    | 1 Jul   | S1                             | open | 100  | 10 Nov 2026, overdue |
| X3   | outsider | 1 Jul   | S1                             | open | 5000 | 5 Dec 2027, later    |
| X4   | owner    | 1 Jul   | S1                             | open | 300  | none                 |
| X5   | outsider | 1 Jul   | S1, probability 10 %           | open | 1000 | 15 Jan 2027          |

Manager, November: cohort N1–N4 = 4, won 2 (N1, N4), lost 1 → funnel (won ÷ created)
2 / 4 = 50.0 %, win rate 2 / 3 = 66.7 %; reached S1 4, S2 3 (N1; N3 and N4 skipped it),
S3…S6: S3 3 (N3, N1, N4), S4–S6 2 (the won ones), won 2. October: O1–O4, won 1, lost 3 → win
rate 25.0 % → change (66.7 − 25.0) ÷ 25.0 = +166.8 %. Owner: November N1–N3 → 1 / 3 = 33.3 %,
win rate 1 / 2 = 50.0 %; October O1–O3 → 1 / 3 = 33.3 % → change +50.2 %.
Forecast (now; months December 2026 – November 2027): N3 2000 × 50 % + X1 1000 × 40 % + X5
1000 × 10 % = 1 500.00 of 3 deals (owner: 1 400.00 of 2); X2 is overdue, X3 later, X4 undated.

Period report, November (clients added in 2025): owner — Alpha (potential, first sale 10 Nov
100: converted), Bravo (potential, never buys), Charlie (bought line A in 2025; 15 Nov line B
300, 16 Nov line A 50 → repeat 350, new line 300), Delta (regular → lost 4 Nov); outsider —
Gamma (potential, first sale 20 Nov 999, lost → regular 10 Nov: restored), Kilo (bought in
2025, nothing since). Owner: potential 2, first 1 / 100, repeat 1 / 350, new lines 1 / 300,
lost 1, restored 0, conversion 1 / 2 = 50.0 %; outsider: potential 1, first 1 / 999, restored
1, conversion 100.0 %; totals: potential 3, first 2 / 1 099, repeat 1 / 350, new lines 1 /
300, lost 1, restored 1, conversion 2 / 3 = 66.7 %.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from clients.models import Client
from crm import dashboard as kpi
from sales.funnel import funnel_stages
from segmentation.models import ClassChange, SegmentationRun
from tests.conftest import client_for
from tests.factories import ClientFactory, ProductFactory, ProductLineFactory, SettlementFactory
from tests.sales.kanban_helpers import Book
from tests.sales.kanban_helpers import pipeline as seeded_pipeline

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 12, 5, 12, tzinfo=MSK)
NOV = kpi.Period(date(2026, 11, 1), date(2026, 12, 1))
TODAY = date(2026, 12, 5)
OLD = datetime(2025, 1, 10, 12, tzinfo=UTC)
URL = reverse("dashboard")
REPORT_COLUMNS = (
    "report_potential",
    "report_first",
    "report_first_sum",
    "report_repeat",
    "report_repeat_sum",
    "report_new_line",
    "report_new_line_sum",
    "report_lost",
    "report_restored",
    "report_conversion",
)


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 10, tzinfo=MSK)


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _client(name, am):
    client = ClientFactory(name=name, account_manager=am)
    Client.objects.filter(pk=client.pk).update(created_at=OLD)
    return client


def _change(client, day, old, new):
    run, _ = SegmentationRun.objects.get_or_create(as_of=day, defaults={"status": "success"})
    ClassChange.objects.create(
        client=client, run=run, date=day, lifecycle_old=old, lifecycle_new=new
    )


def _book(time_machine, actor) -> Book:
    pipeline = seeded_pipeline()  # seeded again after an earlier transactional test's flush
    open_stages, _won, _lost = funnel_stages(pipeline)
    stages = {f"S{i}": s for i, s in enumerate(open_stages, start=1)}
    return Book(time_machine, pipeline, stages, actor)


@pytest.fixture
def data(time_machine, manager, owner, outsider):
    line_a, line_b = ProductLineFactory(name="A"), ProductLineFactory(name="B")
    a1, b1 = ProductFactory(line=line_a), ProductFactory(line=line_b)
    c = {name: _client(name, owner) for name in ("Alpha", "Bravo", "Charlie", "Delta")}
    c |= {name: _client(name, outsider) for name in ("Gamma", "Kilo")}
    SettlementFactory(client=c["Alpha"], date=date(2026, 11, 10), amount=Decimal("100"))
    SettlementFactory(client=c["Charlie"], date=date(2025, 6, 1), amount=Decimal("800"), product=a1)
    SettlementFactory(
        client=c["Charlie"], date=date(2026, 11, 15), amount=Decimal("300"), product=b1
    )
    SettlementFactory(
        client=c["Charlie"], date=date(2026, 11, 16), amount=Decimal("50"), product=a1
    )
    SettlementFactory(client=c["Delta"], date=date(2025, 1, 15), amount=Decimal("10"))
    SettlementFactory(client=c["Gamma"], date=date(2026, 11, 20), amount=Decimal("999"))
    SettlementFactory(client=c["Kilo"], date=date(2025, 1, 15), amount=Decimal("10"))
    _change(c["Delta"], date(2026, 11, 4), "regular", "lost")
    _change(c["Gamma"], date(2026, 11, 10), "lost", "regular")

    book = _book(time_machine, manager)
    mine, theirs = c["Charlie"], c["Kilo"]
    n1 = book.create(mine, at(11, 2), amount="1000")
    book.move(n1, at(11, 3), "S2")
    book.win(n1, at(11, 10))
    book.lose(book.create(mine, at(11, 5), amount="500"), at(11, 12), "price")
    n3 = book.create(mine, at(11, 6), amount="2000", expected_close=date(2026, 12, 20))
    book.move(n3, at(11, 7), "S3")
    book.win(book.create(theirs, at(11, 8), amount="3000"), at(11, 20))
    book.win(book.create(mine, at(10, 3), amount="700"), at(10, 15))
    book.lose(book.create(mine, at(10, 4)), at(10, 6), "price")
    book.lose(book.create(mine, at(10, 5)), at(10, 7), "price")
    book.lose(book.create(theirs, at(10, 9)), at(10, 10), "price")
    book.create(
        mine, at(6, 1), amount="1000", stage="S2", probability=40, expected_close=date(2027, 2, 10)
    )
    book.create(mine, at(7, 1), amount="100", expected_close=date(2026, 11, 10))
    book.create(theirs, at(7, 1), amount="5000", expected_close=date(2027, 12, 5))
    book.create(mine, at(7, 1), amount="300")
    book.create(theirs, at(7, 1), amount="1000", probability=10, expected_close=date(2027, 1, 15))
    time_machine.move_to(NOW, tick=False)
    cache.clear()  # the writes above were cached under the moving clock
    return c


def board_for(user, period=NOV, **kw):
    ctx = kpi.KpiContext(period=period, user=user, today=TODAY, **kw)
    return kpi.compute(ctx)


def _list_count(http, url: str) -> int:
    response = http.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


def _detail_count(http, url: str) -> int:
    response = http.get(url)
    assert response.status_code == 200, url
    return response.context["count"]


def test_funnel_cards_by_hand_for_the_manager(data, manager):
    board = board_for(manager)
    funnel = board.results["funnel"]
    assert (funnel.figure.value, funnel.figure.count) == (Decimal("50.0"), 4)
    assert [p.value for p in funnel.figure.series] == [4, 3, 3, 2, 2, 2, 2]
    won = funnel.figure.series[-1].label  # lazy: the cached board serves both languages
    with translation.override("en"):
        assert str(won) == "Won"
    with translation.override("ru"):
        assert str(won) == "Успешно"
    win = board.results["win_rate"]
    assert (win.figure.value, win.figure.count) == (Decimal("66.7"), 2)
    assert win.previous.value == Decimal("25.0")
    assert win.change == Decimal("166.8")
    assert funnel.previous.value == Decimal("25.0")  # October: 1 won of 4 created
    forecast = board.results["forecast"]
    assert (forecast.figure.value, forecast.figure.count) == (Decimal("1500.00"), 3)
    assert forecast.previous is None  # a state now
    assert "close_from=2026-12-01" in forecast.figure.url
    assert "close_to=2027-11-30" in forecast.figure.url


def test_funnel_cards_for_an_account_manager_count_their_own_deals(data, owner, outsider):
    board = board_for(owner)
    assert board.table == {}  # no per-manager table on an account manager's home
    assert board.results["funnel"].figure.value == Decimal("33.3")
    win = board.results["win_rate"]
    assert (win.figure.value, win.previous.value, win.change) == (
        Decimal("50.0"),
        Decimal("33.3"),
        Decimal("50.2"),
    )
    assert board.results["forecast"].figure.value == Decimal("1400.00")
    theirs = board_for(outsider)
    assert theirs.results["win_rate"].figure.value == Decimal("100.0")  # N4 only
    assert theirs.results["win_rate"].previous.value == Decimal("0.0")  # O4 lost
    assert theirs.results["win_rate"].change is None
    assert theirs.results["forecast"].figure.value == Decimal("100.00")  # X5


def test_the_manager_filter_narrows_the_funnel_like_the_owner_sees_it(data, manager, owner):
    board = board_for(manager, account_manager=owner.pk)
    assert board.results["funnel"].figure.value == Decimal("33.3")
    assert board.results["win_rate"].figure.value == Decimal("50.0")
    assert board.results["forecast"].figure.value == Decimal("1400.00")
    assert f"owner={owner.pk}" in board.results["win_rate"].figure.url


def test_empty_period(data, manager, manager_client):
    board = board_for(manager, period=kpi.Period(date(2025, 3, 1), date(2025, 4, 1)))
    assert board.results["funnel"].figure.value is None
    assert board.results["funnel"].figure.count == 0
    assert board.results["win_rate"].figure.value is None
    assert board.results["win_rate"].change is None
    report = board.table
    for key in REPORT_COLUMNS[1:-1]:
        assert report[key][None].value == 0, key
    # Alpha, Bravo, Charlie (first purchase in June 2025), Gamma had not bought by March
    assert report["report_potential"][None].value == 4
    assert report["report_conversion"][None].value == Decimal("0.0")
    html = manager_client.get(URL, {"kind": "month", "day": "2025-03-10"}).content.decode()
    assert 'data-kpi="win_rate">—<' in html


@pytest.mark.parametrize("persona", ["manager", "owner"])
def test_card_lists_hold_the_card_counts(data, persona, request):
    user = request.getfixturevalue(persona)
    http = client_for(user)
    board = board_for(user)
    for key in ("funnel", "win_rate", "forecast"):
        figure = board.results[key].figure
        assert _list_count(http, figure.url) == figure.count, key
        previous = board.results[key].previous
        if previous is not None:
            assert _list_count(http, previous.url) == previous.count, key
    for point in board.results["funnel"].figure.series:
        assert _list_count(http, point.url) == point.value, point.label


def test_report_columns_by_hand(data, manager, owner, outsider):
    table = board_for(manager).table
    mine = {key: table[key][owner.pk].value for key in REPORT_COLUMNS}
    assert mine == {
        "report_potential": 2,
        "report_first": 1,
        "report_first_sum": Decimal("100"),
        "report_repeat": 1,
        "report_repeat_sum": Decimal("350"),
        "report_new_line": 1,
        "report_new_line_sum": Decimal("300"),
        "report_lost": 1,
        "report_restored": 0,
        "report_conversion": Decimal("50.0"),
    }
    theirs = {key: table[key][outsider.pk].value for key in REPORT_COLUMNS}
    assert theirs["report_potential"] == 1 and theirs["report_first_sum"] == Decimal("999")
    assert theirs["report_restored"] == 1 and theirs["report_conversion"] == Decimal("100.0")
    totals = {key: table[key][None].value for key in REPORT_COLUMNS}
    assert totals == {
        "report_potential": 3,
        "report_first": 2,
        "report_first_sum": Decimal("1099"),
        "report_repeat": 1,
        "report_repeat_sum": Decimal("350"),
        "report_new_line": 1,
        "report_new_line_sum": Decimal("300"),
        "report_lost": 1,
        "report_restored": 1,
        "report_conversion": Decimal("66.7"),
    }


def test_report_is_computed_once_per_dashboard(data, manager, monkeypatch):
    from sales import reports

    calls = []
    real = reports.report_rows

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "report_rows", counting)
    board_for(manager)
    assert len(calls) == 1  # ten columns, one computation


def test_every_report_cell_opens_a_detail_of_its_count(data, manager, owner, outsider):
    http = client_for(manager)
    table = board_for(manager).table
    for key in REPORT_COLUMNS:
        for am in (owner.pk, outsider.pk, None):
            figure = table[key][am]
            count = figure.count if figure.count is not None else figure.value
            assert _detail_count(http, figure.url) == count, (key, am)


def test_report_columns_with_the_manager_filter_and_an_account_managers_scope(
    data, manager, owner, outsider
):
    table = board_for(manager, account_manager=owner.pk).table
    assert table["report_potential"][None].value == 2  # the owner's clients only
    assert table["report_first_sum"][owner.pk].url.endswith(f"am={owner.pk}")
    http = client_for(manager)
    assert _detail_count(http, table["report_potential"][owner.pk].url) == 2
    # computed for the account manager (as the API or a beacon would): their row only
    ctx = kpi.KpiContext(period=NOV, user=owner, today=TODAY)
    own = kpi.columns()
    cells = {c.key: c.compute(ctx) for c in own if c.key in REPORT_COLUMNS}
    assert set(cells["report_potential"]) == {owner.pk, None}
    assert cells["report_potential"][None].value == 2
    assert cells["report_restored"][None].value == 0  # Gamma is the outsider's
    owner_http = client_for(owner)
    assert _detail_count(owner_http, cells["report_first_sum"][owner.pk].url) == 1
    # another account manager's detail stays closed
    other = cells["report_first"][owner.pk].url.replace(f"row={owner.pk}", f"row={outsider.pk}")
    assert owner_http.get(other).status_code == 404


def test_a_segment_filter_leaves_the_report_columns_empty(data, manager, manager_client):
    from tests.factories import TargetSegmentFactory

    retail = TargetSegmentFactory(name="Retail")
    Client.objects.filter(pk=data["Charlie"].pk).update(target_segment=retail)
    board = board_for(manager, filters={"segment": retail.pk})
    assert board.table["report_potential"] == {}
    # the funnel narrows to the segment's deals and the list keeps the segment
    win = board.results["win_rate"].figure
    assert win.value == Decimal("50.0") and f"segment={retail.pk}" in win.url
    assert _list_count(manager_client, win.url) == win.count == 1


def test_page_and_xlsx_show_the_new_columns(data, manager, owner):
    http = client_for(manager, "en")
    html = http.get(URL, {"kind": "month", "day": "2026-11-15"}).content.decode()
    assert 'data-kpi="win_rate">66.7' in html
    assert "Sales in new product lines, sum" in html
    response = http.get(URL, {"kind": "month", "day": "2026-11-15", "format": "xlsx"})
    book = load_workbook(BytesIO(response.content))
    indicators, table = book.worksheets
    rows = {r[1]: r for r in indicators.iter_rows(min_row=5, values_only=True)}
    assert rows["Win rate (of closed)"][2] == 66.7 and rows["Win rate (of closed)"][3] == 25.0
    assert rows["Forecast for 12 months (weighted)"][2] == 1500
    lines = list(table.iter_rows(values_only=True))
    header = lines[0]
    for label in (
        "Potential clients",
        "First sales",
        "First sales, sum",
        "Repeat sales",
        "Repeat sales, sum",
        "Sales in new product lines",
        "Sales in new product lines, sum",
        "Lost clients",
        "Restored clients",
        "Conversion",
    ):
        assert label in header, label
    by_name = {line[0]: dict(zip(header, line, strict=True)) for line in lines[1:]}
    mine = by_name[str(owner)]
    assert mine["Potential clients"] == 2 and mine["Repeat sales, sum"] == 350
    assert mine["Sales in new product lines, sum"] == 300 and mine["Conversion"] == 50
    assert by_name["Total"]["First sales, sum"] == 1099
    ru = client_for(manager, "ru").get(URL, {"kind": "month", "day": "2026-11-15"})
    text = ru.content.decode()
    assert "Доля успешных (из закрытых)" in text and "Прогноз на 12 месяцев" in text
    assert "Продажи по новым направлениям, сумма" in text


def test_query_count_does_not_grow_with_the_data(data, manager, time_machine):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory

    def counted() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            board_for(manager)
        return len(queries)

    before = counted()
    book = _book(time_machine, manager)
    for n in range(3):  # three more account managers, each with a client, a sale and deals
        am = UserFactory(username=f"am{n}")
        client = _client(f"More {n}", am)
        SettlementFactory(client=client, date=date(2026, 11, 3 + n), amount=Decimal("10"))
        deal = book.create(client, at(11, 3 + n), amount="100")
        book.move(deal, at(11, 4 + n), "S2")
        book.win(deal, at(11, 10 + n))
        book.create(client, at(11, 4 + n), amount="50", expected_close=date(2027, 1, 1))
    time_machine.move_to(NOW, tick=False)
    assert counted() == before


@pytest.mark.django_db(transaction=True)
def test_the_report_computed_ahead_on_a_second_connection_gives_the_same_columns(
    data, manager, settings, monkeypatch
):
    """PostgreSQL, outside a transaction: a manager's board starts the period report on a
    second connection before its cards (``crm.dashboard.register_ahead``); the columns are
    those computed in turn. Inside a transaction (the second connection would not see its
    writes) the report is computed in turn."""
    import threading

    from django.db import connection, transaction

    from sales import dashboard as sales_dashboard

    if connection.vendor != "postgresql":
        pytest.skip("a second connection while the board is computed: PostgreSQL only")
    threads = []
    real = sales_dashboard._compute_report

    def recording(ctx):
        threads.append(threading.get_ident())
        return real(ctx)

    monkeypatch.setattr(sales_dashboard, "_compute_report", recording)

    def columns(table):
        return {k: {am: f.value for am, f in table[k].items()} for k in REPORT_COLUMNS}

    settings.DASHBOARD_AHEAD = False
    cache.clear()
    in_turn = columns(board_for(manager).table)
    settings.DASHBOARD_AHEAD = True
    cache.clear()
    ahead = columns(board_for(manager).table)
    cache.clear()
    with transaction.atomic():
        in_a_transaction = columns(board_for(manager).table)
    me = threading.get_ident()
    assert threads[0] == me and threads[1] != me and threads[2] == me
    assert ahead == in_turn == in_a_transaction
    assert ahead["report_first"][None] == 2 and ahead["report_first_sum"][None] == Decimal("1099")
