"""The client × product board: cell states and their precedence, the 12-month window, order,
paging, filters, scope, the export and the query bound."""

from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from sales import product_board
from sales.models import Deal, DealLine, Pipeline, StageKind
from tests.conftest import client_for
from tests.factories import (
    ClientFactory,
    ProductFactory,
    ProductLineFactory,
    SettlementFactory,
    TargetSegmentFactory,
)

TODAY = date(2026, 6, 15)  # months_through(TODAY, 12) = 16 June 2025 … 15 June 2026
URL = "/sales/products/"


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(datetime(2026, 6, 15, 9, tzinfo=UTC))


def _deal(client, product, *, state, owner, next_step=None, refusal=None, closed=None):
    pipeline = Pipeline.objects.get(code="sales")  # the conftest's ``pipeline`` fixture
    stage = pipeline.stages.filter(kind=state).first()
    deal = Deal.objects.create(
        client=client,
        owner=owner,
        pipeline=pipeline,
        stage=stage,
        state=state,
        stage_entered_at=timezone.now(),
        sale_type="repeat",
        sale_type_derived="repeat",
        next_step_date=next_step,
        refusal=refusal,
        lost_at_stage=pipeline.stages.first() if state == StageKind.LOST else None,
        closed_at=closed,
    )
    DealLine.objects.create(deal=deal, product=product, price=10, amount=10)
    return deal


@pytest.fixture
def board(owner, outsider, pipeline, refusal):
    line_a, line_b = ProductLineFactory(name="Line A"), ProductLineFactory(name="Line B")
    p1 = ProductFactory(line=line_a, name="P1")
    p2 = ProductFactory(line=line_a, name="P2")
    p3 = ProductFactory(line=line_b, name="P3")
    p4 = ProductFactory(line=line_b, name="P4")
    segment = TargetSegmentFactory(name="Builders")
    segment.products.set([p1, p2, p3, p4])
    other = TargetSegmentFactory(name="Alpha segment")
    other.products.set([p1])
    c_a = ClientFactory(name="Zulu", account_manager=owner, target_segment=segment, abc_class="A")
    c_b = ClientFactory(name="Bravo", account_manager=owner, target_segment=segment, abc_class="B")
    c_none = ClientFactory(name="Alpha", account_manager=owner, target_segment=segment)
    c_other = ClientFactory(name="Yankee", account_manager=owner, target_segment=other)
    c_out = ClientFactory(name="Secret", account_manager=outsider, target_segment=segment)
    ClientFactory(name="No segment", account_manager=owner)
    # c_a: P1 bought on the first day of the window and in a deal → in a deal, turnover shown
    SettlementFactory(client=c_a, product=p1, date=date(2025, 6, 16), amount=Decimal("500"))
    SettlementFactory(client=c_a, product=p1, date=date(2025, 6, 15), amount=Decimal("9999"))
    _deal(c_a, p1, state=StageKind.OPEN, owner=owner, next_step=date(2026, 6, 20))
    _deal(c_a, p1, state=StageKind.OPEN, owner=owner, next_step=date(2026, 7, 1))
    # P2 bought only the day before the window → not bought; and refused → refused
    SettlementFactory(client=c_a, product=p2, date=date(2025, 6, 15), amount=Decimal("100"))
    lost_on = datetime(2026, 3, 3, 10, tzinfo=UTC)
    _deal(c_a, p2, state=StageKind.LOST, owner=owner, refusal=refusal, closed=lost_on)
    # P3 bought today (the window's last day) and refused earlier → bought wins
    SettlementFactory(client=c_a, product=p3, date=TODAY, amount=Decimal("70"))
    _deal(c_a, p3, state=StageKind.LOST, owner=owner, refusal=refusal, closed=lost_on)
    # P4: a won deal is no state of its own → not offered
    _deal(c_a, p4, state=StageKind.WON, owner=owner)
    # c_b: a refund cancels part of P3's turnover; P4 tomorrow is outside the window
    SettlementFactory(client=c_b, product=p3, date=date(2026, 1, 5), amount=Decimal("300"))
    SettlementFactory(client=c_b, product=p3, date=date(2026, 2, 5), amount=Decimal("-100"))
    SettlementFactory(client=c_b, product=p4, date=date(2026, 6, 16), amount=Decimal("50"))
    SettlementFactory(client=c_out, product=p1, date=TODAY, amount=Decimal("1"))
    return {
        "A": c_a, "B": c_b, "none": c_none, "other": c_other, "out": c_out, "refusal": refusal,
        "products": [p1, p2, p3, p4], "segment": segment, "lines": [line_a, line_b],
    }  # fmt: skip


def _states(group, client):
    row = next(r for r in group.rows if r.client.pk == client.pk)
    return [c.state for c in row.cells], row.cells


def test_cell_states_precedence_and_window(board, owner):
    page, groups = product_board.board_page(product_board.board_base(owner), today=TODAY)
    assert [g.segment.name for g in groups] == ["Alpha segment", "Builders"]
    builders = groups[1]
    assert [c.name for c in builders.columns] == ["P1", "P2", "P3", "P4"]
    # ABC A, B, then no class; names only within a class
    assert [r.client.name for r in builders.rows] == ["Zulu", "Bravo", "Alpha"]
    states, cells = _states(builders, board["A"])
    assert states == ["deal", "refused", "bought", "none"]
    p1 = cells[0]
    assert p1.turnover == Decimal("500")  # 15 June 2025 is outside the window
    assert p1.next_step == date(2026, 6, 20) and p1.open_deals == 2
    assert p1.stage
    assert cells[1].refusal == board["refusal"].name and cells[1].refused_on == date(2026, 3, 3)
    assert cells[2].turnover == Decimal("70")
    states, cells = _states(builders, board["B"])
    assert states == ["none", "none", "bought", "none"]
    assert cells[2].turnover == Decimal("200")
    assert _states(builders, board["none"])[0] == ["none"] * 4


def test_lines_mode(board, owner):
    _page, groups = product_board.board_page(
        product_board.board_base(owner), today=TODAY, by_lines=True
    )
    builders = groups[1]
    assert [c.name for c in builders.columns] == ["Line A", "Line B"]
    states, cells = _states(builders, board["A"])
    assert states == ["deal", "bought"]
    assert cells[0].turnover == Decimal("500") and cells[0].refusal  # line A was refused too
    assert _states(builders, board["B"])[0] == ["none", "bought"]


def test_filters_and_clients_without_segment(board, owner, manager):
    http = client_for(manager, "en")
    page = http.get(f"{URL}?abc=A")
    assert [r.client.name for g in page.context["groups"] for r in g.rows] == ["Zulu"]
    page = http.get(f"{URL}?abc=none")
    assert {r.client.name for g in page.context["groups"] for r in g.rows} == {
        "Alpha",
        "Yankee",
        "Secret",
    }
    page = http.get(f"{URL}?segment={board['segment'].pk}&am={owner.pk}")
    assert [r.client.name for g in page.context["groups"] for r in g.rows] == [
        "Zulu", "Bravo", "Alpha",
    ]  # fmt: skip
    page = http.get(URL)
    names = [r.client.name for g in page.context["groups"] for r in g.rows]
    assert "No segment" not in names and "Secret" in names
    assert http.get(f"{URL}?abc=Q").context["filter_errors"]


def test_scope_outsider_sees_nothing_of_anothers_clients(board, owner, outsider):
    http = client_for(outsider, "en")
    page = http.get(URL)
    assert [r.client.name for g in page.context["groups"] for r in g.rows] == ["Secret"]
    assert "Zulu" not in page.content.decode()
    assert http.get(f"{URL}?am={owner.pk}").status_code == 404
    assert http.get(f"/api/sales/products/?am={owner.pk}").status_code == 404
    body = http.get("/api/sales/products/").json()
    assert [c["name"] for s in body["segments"] for c in s["clients"]] == ["Secret"]
    export = http.get(f"{URL}?format=xlsx")
    book = load_workbook(BytesIO(b"".join(export.streaming_content)))
    cells = {v for row in book.active.iter_rows(values_only=True) for v in row}
    assert "Secret" in cells and "Zulu" not in cells


def test_paging_with_a_bounded_number_of_queries(board, owner, django_assert_max_num_queries):
    segment = board["segment"]
    for i in range(60):
        client = ClientFactory(name=f"Extra {i:02d}", account_manager=owner, target_segment=segment)
        SettlementFactory(client=client, product=board["products"][i % 4], date=TODAY)
    http = client_for(owner, "en")
    with django_assert_max_num_queries(14):
        first = http.get(URL)
    assert first.status_code == 200
    assert first.context["page"].paginator.count == 64
    assert sum(len(g.rows) for g in first.context["groups"]) == 50
    with django_assert_max_num_queries(14):
        second = http.get(f"{URL}?page=2&lines=on")
    rows = [r for g in second.context["groups"] for r in g.rows]
    assert len(rows) == 14
    assert [r.client.name for r in rows] == [f"Extra {i}" for i in range(46, 60)]


def test_xlsx_content(board, manager):
    response = client_for(manager, "en").get(f"{URL}?segment={board['segment'].pk}&format=xlsx")
    assert response.status_code == 200
    book = load_workbook(BytesIO(b"".join(response.streaming_content)))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "Target segment",
        "Client",
        "Account manager",
        "ABC",
        "P1",
        "P1: 12-month turnover",
    )
    zulu = next(r for r in rows if r[1] == "Zulu")
    assert zulu[3] == "A"
    assert zulu[4].startswith("in a deal;") and "next step 2026-06-20" in zulu[4]
    assert zulu[5] == 500
    assert zulu[6].startswith("refused;") and "2026-03-03" in zulu[6]
    assert zulu[8] == "bought" and zulu[9] == 70
    assert zulu[10] == "not offered" and zulu[11] is None
    assert [r[1] for r in rows[1:]] == ["Zulu", "Bravo", "Alpha", "Secret"]


def test_bad_filter_export_refused(board, manager):
    assert client_for(manager).get(f"{URL}?abc=Q&format=xlsx").status_code == 400


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("ru", ["Клиенты × продукты", "в сделке", "купил"]),
        ("en", ["Clients × products", "in a deal", "bought"]),
    ],
)
def test_page_renders_in_both_languages(board, owner, language, texts):
    html = client_for(owner, language).get(URL).content.decode()
    for text in texts:
        assert text in html
