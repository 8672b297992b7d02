"""The pipeline board: column figures worked by hand, paging, filters, scope, moves through the
endpoint (htmx and plain form), the lose form, bounded query counts. Time is frozen on
20 March 2026, 12:00 Moscow time."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from sales import board as board_selectors
from sales import services
from sales.models import Deal, SalesSettings, StageKind, StageLog
from tests.factories import ClientFactory, ProductFactory, ProductLineFactory, UserFactory
from tests.sales.kanban_helpers import at, make_deal, pipeline, stage

pytestmark = pytest.mark.django_db

NOW = "2026-03-20 12:00:00+03:00"


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def _board(http, **params):
    response = http.get(reverse("sales:board"), params)
    assert response.status_code == 200
    return response


def _column(response, order):
    return next(c for c in response.context["columns"] if c.stage.order == order)


def test_columns_count_sum_and_weighted_sum(owner, owner_client):
    # Needs (10 %): 1000 + 2500 (probability set to 40 %) -> weighted 100 + 1000 = 1100
    make_deal(owner, stage_order=10, amount="1000")
    make_deal(owner, stage_order=10, amount="2500", probability=40)
    # Proposal (30 %): 3000 -> 900
    make_deal(owner, stage_order=20, amount="3000")
    # won 10 days ago (100 %): 500; won 40 days ago: outside the closed column's 30 days
    recent = make_deal(owner, stage_order=60, amount="500")
    services.deal_win(actor=owner, deal=recent, now=at("2026-03-10 10:00"))
    old = make_deal(owner, stage_order=60, amount="7000", entered="2026-01-01 10:00")
    services.deal_win(actor=owner, deal=old, now=at("2026-02-08 10:00"))
    # lost 1 day ago at Proposal: weighted 0 (the lost stage's 0 %)
    lost = make_deal(owner, stage_order=20, amount="800")
    services.deal_lose(
        actor=owner,
        deal=lost,
        refusal=services.RefusalCategory.objects.get(code="price"),
        note="too dear",
        now=at("2026-03-19 10:00"),
    )

    response = _board(owner_client)
    columns = response.context["columns"]
    assert [c.stage.kind for c in columns] == ["open"] * 6 + ["won", "lost"]
    needs, proposal = _column(response, 10), _column(response, 20)
    assert (needs.count, needs.total, needs.weighted) == (2, Decimal("3500.00"), Decimal("1100.00"))
    assert (proposal.count, proposal.total, proposal.weighted) == (
        1,
        Decimal("3000.00"),
        Decimal("900.00"),
    )
    won, lost_col = _column(response, 70), _column(response, 80)
    assert (won.count, won.total, won.weighted) == (1, Decimal("500.00"), Decimal("500.00"))
    assert [c.pk for c in won.cards] == [recent.pk]
    assert (lost_col.count, lost_col.total, lost_col.weighted) == (1, Decimal("800.00"), 0)
    assert _column(response, 30).count == 0


def test_cards_show_client_class_amount_next_step_days_and_ageing(owner, owner_client):
    # Proposal expects 10 days; class A turns red from day 11: entered 1 March = day 19
    deal = make_deal(
        owner,
        stage_order=20,
        amount="1234.50",
        entered="2026-03-01 10:00",
        abc="A",
        next_step_date=at("2026-03-18 00:00").date(),
        next_step_goal="Call the buyer",
    )
    html = _board(owner_client).content.decode()
    card = html[html.rindex("<article", 0, html.index(f'id="deal-{deal.pk}"')) :]
    card = card[: card.index("</article>")]
    assert deal.client.name in card
    assert 'title="Класс ABC">A<' in card
    assert re.search(r"1\s234,50\s₽", card)  # ru money format
    assert "Call the buyer" in card and "18.03.2026" in card
    assert "19 дней на этапе" in card
    assert 'data-ageing="red"' in card and "ageing-red" in card


def test_closed_columns_show_the_latest_closed_first_and_every_page_comes_in_one_query(
    owner, owner_client, django_assert_num_queries
):
    first = make_deal(owner, stage_order=60, entered="2026-03-01 10:00")
    services.deal_win(actor=owner, deal=first, now=at("2026-03-05 10:00"))
    second = make_deal(owner, stage_order=60, entered="2026-03-01 10:00")
    services.deal_win(actor=owner, deal=second, now=at("2026-03-18 10:00"))
    third = make_deal(owner, stage_order=20, entered="2026-03-02 10:00")
    fourth = make_deal(owner, stage_order=20, entered="2026-03-01 11:00")
    response = _board(owner_client)
    assert [c.pk for c in _column(response, 70).cards] == [second.pk, first.pk]
    assert [c.pk for c in _column(response, 20).cards] == [fourth.pk, third.pk]
    # the first pages of the two columns: one read
    stages = board_selectors.board_stages(pipeline())
    deals = board_selectors.board_deals(owner, pipeline())
    pages, settings = [(stage(20), 1), (stage(70), 1)], SalesSettings.load()
    with django_assert_num_queries(1):
        cards = board_selectors.cards_pages(
            deals, pages, today=at(NOW[:16]).date(), settings=settings
        )
    assert [c.pk for c in cards[stage(70).pk]] == [second.pk, first.pk]
    assert [c.pk for c in cards[stage(20).pk]] == [fourth.pk, third.pk]
    assert cards[stage(70).pk][0].ageing is None and cards[stage(20).pk][0].days == 19
    assert len(stages) == 8


def test_a_deal_without_next_step_says_so(owner, owner_client):
    deal = make_deal(owner, stage_order=10, entered="2026-03-19 10:00")
    html = _board(owner_client).content.decode()
    card = html[html.index(f'id="deal-{deal.pk}"') :]
    assert "нет следующего шага" in card[: card.index("</article>")]


def test_columns_page_their_cards(owner, owner_client, monkeypatch):
    monkeypatch.setattr(board_selectors, "PAGE_SIZE", 3)
    client = ClientFactory(account_manager=owner)
    product = ProductFactory()
    deals = [
        make_deal(owner, client=client, product=product, entered=f"2026-03-{day:02d} 10:00")
        for day in range(1, 8)
    ]
    response = _board(owner_client)
    needs = _column(response, 10)
    # longest in the stage first
    assert [c.pk for c in needs.cards] == [d.pk for d in deals[:3]]
    assert needs.count == 7 and needs.has_more
    url = reverse("sales:board_column", args=[pipeline().pk, stage(10).pk])
    assert f'href="{url}?page=2"' in response.content.decode()
    # htmx: the next cards and the next "more" link; without JS a page of its own
    part = owner_client.get(url, {"page": 2}, HTTP_HX_REQUEST="true")
    assert [c.pk for c in part.context["col"].cards] == [d.pk for d in deals[3:6]]
    assert f"{url}?page=3" in part.content.decode()
    assert "<html" not in part.content.decode()
    last = owner_client.get(url, {"page": 3})
    assert [c.pk for c in last.context["col"].cards] == [deals[6].pk]
    assert "<html" in last.content.decode() and "page=4" not in last.content.decode()


def test_filters_owner_product_line_class_ageing(owner, manager, owner_client):
    colleague = UserFactory(username="colleague", head=manager)
    line = ProductLineFactory(name="Training")
    in_line = make_deal(owner, product=ProductFactory(line=line), entered="2026-03-19 10:00")
    a_class = make_deal(owner, abc="A", entered="2026-03-19 10:00")
    # Needs expects 14 days: 14 days = yellow, 21 = red
    yellow = make_deal(owner, entered="2026-03-06 10:00")
    red = make_deal(owner, entered="2026-02-27 10:00")
    # the colleague works a deal of owner's client
    theirs = make_deal(owner, entered="2026-03-19 10:00")
    Deal.objects.filter(pk=theirs.pk).update(owner=colleague)

    def ids(**params):
        response = _board(owner_client, **params)
        return {c.pk for col in response.context["columns"] for c in col.cards}

    everything = {in_line.pk, a_class.pk, yellow.pk, red.pk, theirs.pk}
    assert ids() == everything
    assert ids(owner=colleague.pk) == {theirs.pk}
    assert ids(product_line=line.pk) == {in_line.pk}
    assert ids(abc="A") == {a_class.pk}
    assert ids(ageing="yellow") == {yellow.pk}
    assert ids(ageing="red") == {red.pk}
    assert ids(ageing="any") == {yellow.pk, red.pk}
    # figures follow the filters
    response = _board(owner_client, ageing="any")
    assert _column(response, 10).count == 2
    # a bad value: the message, and the whole board (never half a filter)
    response = _board(owner_client, ageing="purple")
    assert response.context["filter_errors"]
    assert ids(ageing="purple") == everything


def test_an_account_manager_sees_only_their_clients_deals(owner, outsider, owner_client):
    mine = make_deal(owner)
    foreign = make_deal(outsider)
    response = _board(owner_client)
    shown = {c.pk for col in response.context["columns"] for c in col.cards}
    assert mine.pk in shown and foreign.pk not in shown
    assert _column(response, 10).count == 1


def test_manager_sees_every_deal(owner, outsider, manager_client):
    make_deal(owner)
    make_deal(outsider)
    assert _column(_board(manager_client), 10).count == 2


def _move(http, deal, stage_obj, version=None, htmx=True, **extra):
    data = {"stage": stage_obj.pk, "version": deal.version if version is None else version}
    data.update(extra)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return http.post(reverse("sales:board_move", args=[deal.pk]), data, **headers)


def test_move_by_htmx_returns_the_card_and_fresh_figures(owner, owner_client):
    deal = make_deal(owner, amount="1000")
    response = _move(owner_client, deal, stage(20), filters="")
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stage(20) and deal.version == 2
    html = response.content.decode()
    assert f'id="deal-{deal.pk}"' in html and 'data-version="2"' in html
    # the out-of-band column heads: Needs now empty, Proposal 1 000 at 30 %
    head20 = html[html.index(f'id="col-head-{stage(20).pk}" hx-swap-oob="true"') :]
    assert 'data-count="1"' in head20[:400] and "300,00" in head20[:600]
    head10 = html[html.index(f'id="col-head-{stage(10).pk}"') :]
    assert 'data-count="0"' in head10[:400]
    # no other column changed with this move: only the two heads come back
    assert html.count('hx-swap-oob="true"') == 2
    log = StageLog.objects.filter(deal=deal).last()
    assert (log.event, log.from_stage, log.to_stage, log.actor) == (
        "moved",
        stage(10),
        stage(20),
        owner,
    )


def test_move_to_won_wins_the_deal(owner, owner_client):
    deal = make_deal(owner, stage_order=60)
    assert _move(owner_client, deal, stage(70)).status_code == 200
    deal.refresh_from_db()
    assert deal.state == StageKind.WON and deal.closed_at is not None


def test_stale_move_is_refused_with_a_message(owner, manager, owner_client):
    deal = make_deal(owner)
    seen = deal.version
    services.deal_move(actor=manager, deal=deal, stage=stage(30))  # a colleague moved it
    response = _move(owner_client, deal, stage(20), version=seen)
    assert response.status_code == 409
    assert "Кто-то изменил эту сделку" in response.content.decode() or "Someone" in (
        response.content.decode()
    )
    deal.refresh_from_db()
    assert deal.stage == stage(30) and deal.version == seen + 1
    # without JavaScript: back to the board with the message
    response = _move(owner_client, deal, stage(20), version=seen, htmx=False, next="/sales/board/")
    assert response.status_code == 302 and response["Location"] == "/sales/board/"
    deal.refresh_from_db()
    assert deal.stage == stage(30)


def test_move_of_a_closed_deal_and_bad_input_are_refused(owner, owner_client):
    deal = make_deal(owner, stage_order=60)
    services.deal_win(actor=owner, deal=deal)
    deal.refresh_from_db()
    response = _move(owner_client, deal, stage(20))
    assert response.status_code == 409
    response = owner_client.post(
        reverse("sales:board_move", args=[deal.pk]),
        {"stage": "x", "version": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    deal.refresh_from_db()
    assert deal.state == StageKind.WON


def test_outsider_gets_404_on_move_and_lose(owner, outsider_client):
    deal = make_deal(owner)
    assert _move(outsider_client, deal, stage(20)).status_code == 404
    url = reverse("sales:board_lose", args=[deal.pk])
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, {"refusal": 1, "refusal_note": "x"}).status_code == 404
    deal.refresh_from_db()
    assert deal.stage == stage(10) and deal.version == 1


def test_select_move_without_javascript_redirects_back(owner, owner_client):
    deal = make_deal(owner)
    response = _move(owner_client, deal, stage(20), htmx=False, next="/sales/board/?abc=A")
    assert response.status_code == 302 and response["Location"] == "/sales/board/?abc=A"
    deal.refresh_from_db()
    assert deal.stage == stage(20)


def test_drop_on_lost_opens_the_lose_form_which_requires_category_and_note(owner, owner_client):
    deal = make_deal(owner, stage_order=20)
    response = _move(owner_client, deal, stage(80))
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("sales:board_lose", args=[deal.pk]))
    response = _move(owner_client, deal, stage(80), htmx=False)
    assert response.status_code == 302
    url = reverse("sales:board_lose", args=[deal.pk])
    assert owner_client.get(url).status_code == 200
    response = owner_client.post(url, {"refusal": "", "refusal_note": "", "version": 1})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"refusal", "refusal_note"}
    deal.refresh_from_db()
    assert deal.is_open
    refusal = services.RefusalCategory.objects.get(code="budget")
    response = owner_client.post(
        url, {"refusal": refusal.pk, "refusal_note": "No money", "version": 1, "next": "/x/"}
    )
    assert response.status_code == 302 and response["Location"] == "/x/"
    deal.refresh_from_db()
    assert (deal.state, deal.refusal, deal.lost_at_stage) == ("lost", refusal, stage(20))
    # a stale lose form: refused on the form, nothing changed
    response = owner_client.post(url, {"refusal": refusal.pk, "refusal_note": "x", "version": 1})
    assert response.status_code == 200 and response.context["form"].non_field_errors()


def test_board_query_count_does_not_grow_with_deals(
    owner, owner_client, django_assert_max_num_queries
):
    client = ClientFactory(account_manager=owner, abc_class="B")
    product = ProductFactory()
    for order in (10, 20, 30):
        for day in range(1, 6):
            make_deal(
                owner,
                client=client,
                product=product,
                stage_order=order,
                entered=f"2026-03-{day:02d} 10:00",
            )
    # session, user, settings, pipeline(s), stages, ageing stages, two grouped reads of the
    # figures, then one read of every column's first page (3 columns here, 8 on a full board),
    # the navigation's unread beacon notices
    with django_assert_max_num_queries(13):
        _board(owner_client, ageing="any")
    for order in (10, 20, 30):
        for _day in range(1, 6):
            make_deal(owner, client=client, product=product, stage_order=order)
    with django_assert_max_num_queries(13):
        _board(owner_client, ageing="any")


def test_move_query_count_is_bounded(owner, owner_client, django_assert_max_num_queries):
    deal = make_deal(owner)
    # the service: the lock, the lost-deal constraint, the update, the log and the audit; then
    # the two columns' figures and the card (it was 30 with every field validated again)
    with django_assert_max_num_queries(19):
        assert _move(owner_client, deal, stage(20)).status_code == 200
