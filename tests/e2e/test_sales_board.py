"""Browser: an account manager drags a deal through the stages to won on the pipeline board
(desktop), and moves another with the card's select at phone size."""

import importlib

import pytest

from sales.models import Deal, StageKind, StageLog
from tests.conftest import login, screenshot
from tests.factories import ClientFactory
from tests.sales.kanban_helpers import make_deal, stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _seeded_pipeline(db):
    """The seeded pipeline and refusal categories (a transactional test before this one may
    have flushed them): the seed migration's own function, run again."""
    from django.apps import apps

    seed = importlib.import_module("sales.migrations.0002_seed_pipeline_refusals").seed
    seed(apps, None)


def _card(page, deal):
    return page.locator(f"#deal-{deal.pk}")


def _wait_in(page, deal, target):
    page.wait_for_selector(f'#col-cards-{target.pk} #deal-{deal.pk}[data-stage="{target.pk}"]')


def test_account_manager_drags_a_deal_to_won(page, live_server, owner):
    client = ClientFactory(name="ООО «Северный ветер»", account_manager=owner, abc_class="A")
    deal = make_deal(owner, client=client, amount="150000", title="Поставка к весне")
    other = make_deal(owner, title="Вторая сделка")
    page.set_viewport_size({"width": 1920, "height": 1000})  # a desktop: every column in view
    login(page, live_server, "owner")
    page.click("[data-nav=pipeline]")
    page.wait_for_selector(f"#deal-{deal.pk}")
    screenshot(page, "sales-board-before")
    for order in (20, 30, 40, 50, 60, 70):
        target = stage(order)
        _card(page, deal).drag_to(page.locator(f"#col-cards-{target.pk}"))
        _wait_in(page, deal, target)
        # the column's count follows the move
        head = page.locator(f"#col-head-{target.pk} [data-count]")
        assert head.get_attribute("data-count") == "1"
    screenshot(page, "sales-board-won")
    deal.refresh_from_db()
    assert deal.state == StageKind.WON
    assert list(
        StageLog.objects.filter(deal=deal).order_by("at", "id").values_list("event", flat=True)
    ) == ["created"] + ["moved"] * 5 + ["won"]
    # the won card cannot be dragged further; the other deal stays where it was
    assert _card(page, deal).get_attribute("data-open") is None
    other.refresh_from_db()
    assert other.stage == stage(10)


def test_a_stale_drag_snaps_back_with_a_message(page, live_server, owner, manager):
    from sales import services

    deal = make_deal(owner, title="Спорная")
    page.set_viewport_size({"width": 1920, "height": 1000})
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/sales/board/")
    page.wait_for_selector(f"#deal-{deal.pk}")
    services.deal_move(actor=manager, deal=deal, stage=stage(30))  # a colleague, meanwhile
    _card(page, deal).drag_to(page.locator(f"#col-cards-{stage(20).pk}"))
    page.wait_for_selector("#board-status:not([hidden])")
    assert page.locator(f"#col-cards-{stage(10).pk} #deal-{deal.pk}").count() == 1
    screenshot(page, "sales-board-stale-move")
    deal.refresh_from_db()
    assert deal.stage == stage(30)


def test_phone_moves_a_deal_with_the_select(page, live_server, owner):
    deal = make_deal(owner, title="С телефона")
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/sales/board/")
    page.wait_for_selector(f"#deal-{deal.pk}")
    page.select_option(f"#move-{deal.pk}", str(stage(20).pk))
    page.click(f"#deal-{deal.pk} [data-move-button]")
    _wait_in(page, deal, stage(20))
    screenshot(page, "sales-board-phone-select")
    assert Deal.objects.get(pk=deal.pk).stage == stage(20)
