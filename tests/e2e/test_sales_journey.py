"""Browser: the whole sales journey of issue 13, through the UI only.

1. The account manager opens their client's card, clicks "New deal", fills the form (the
   pipeline, one product line: 3 × 50 000) and saves.
2. On the board (desktop size) they drag that deal through every open stage to "won"; after
   each drop the target column's count and sum follow, the column left behind empties, and
   the deal ends won in the database with the full stage log.
3. A second deal is created from the card, dragged to "Proposal" and dropped on "lost": the
   lose form asks for a refusal category and a note; the deal is lost at "Proposal".
4. The manager opens the funnel for the period holding today (the default, this quarter):
   2 deals created, 1 won, 1 lost, win rate 50 % of the closed; the refusal is counted in the
   refusals-by-stage table at "Proposal" under "Price too high".
5. The period report counts settlements, not deals (sales/reports.py: a first sale is a
   client's first settlement ever, dated in the period) — a won deal alone changes none of
   its figures. So the account manager records the client's settlement for the won deal on the
   client card (150 000, today), and the manager's period report (this quarter) shows, on the
   account manager's row, 1 first sale worth 150 000 and the same on the total row.

At phone size the funnel and the report fit the screen's width (no sideways page scroll).
"""

import importlib
import re
from decimal import Decimal

import pytest

from sales.models import Deal, RefusalCategory, StageKind, StageLog
from tests.conftest import login, screenshot
from tests.e2e.pickers import pick
from tests.factories import ClientFactory, ProductFactory
from tests.sales.kanban_helpers import stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1920, "height": 1000}  # every board column in view
PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _seeded_pipeline(db):
    """The seeded pipeline and refusal categories (a transactional test before this one may
    have flushed them): the seed migration's own function, run again."""
    from django.apps import apps
    from django.core.cache import cache

    seed = importlib.import_module("sales.migrations.0002_seed_pipeline_refusals").seed
    seed(apps, None)
    cache.clear()  # the funnel and the report cache their figures


def _digits(text: str) -> str:
    """A formatted sum with its spaces, currency and decimals dropped: "150 000,00 ₽" → "150000"."""
    whole = re.split(r"[,.]\d\d\D*$", text.strip())[0]
    return re.sub(r"\D", "", whole)


def _new_deal_from_card(page, live_server, client, product, quantity: str, price: str) -> Deal:
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    before = set(Deal.objects.values_list("pk", flat=True))
    page.get_by_role("link", name="Новая сделка").click()
    page.wait_for_selector("#deal-form")
    page.select_option("#id_pipeline", label="Продажи")
    pick(page, "lines-0-product", product.name, typed=product.name[:6])
    page.fill("#id_lines-0-quantity", quantity)
    page.fill("#id_lines-0-price", price)
    page.click("#deal-submit")
    page.wait_for_url(re.compile(r"/sales/\d+/$"))
    (pk,) = set(Deal.objects.values_list("pk", flat=True)) - before
    return Deal.objects.get(pk=pk)


def _drag(page, deal, target) -> None:
    page.locator(f"#deal-{deal.pk}").drag_to(page.locator(f"#col-cards-{target.pk}"))
    page.wait_for_selector(f'#col-cards-{target.pk} #deal-{deal.pk}[data-stage="{target.pk}"]')


def _head(page, col):
    head = page.locator(f"#col-head-{col.pk}")
    return head.locator("[data-count]").get_attribute("data-count"), _digits(
        head.locator("[data-sum]").inner_text().split(":", 1)[1]
    )


def test_sales_journey_from_card_to_funnel_and_report(page, live_server, owner, manager):
    client = ClientFactory(name="ООО «Северный ветер»", account_manager=owner, abc_class="A")
    product = ProductFactory(name="Насос центробежный ЦН-100", price=Decimal("55000"))
    price_cat = RefusalCategory.objects.get(code="price")

    # 1. a deal from the client card
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "owner")
    won = _new_deal_from_card(page, live_server, client, product, "3", "50000")
    screenshot(page, "sales-journey-deal-created")
    assert won.client == client and won.owner == owner
    assert won.stage == stage(10) and won.amount == Decimal("150000")

    # 2. through every open stage to won on the board
    page.goto(f"{live_server.url}/sales/board/")
    page.wait_for_selector(f"#deal-{won.pk}")
    assert _head(page, stage(10)) == ("1", "150000")
    screenshot(page, "sales-journey-board-start")
    previous = stage(10)
    for order in (20, 30, 40, 50, 60, 70):
        target = stage(order)
        _drag(page, won, target)
        assert _head(page, target) == ("1", "150000"), target.name_en
        assert _head(page, previous) == ("0", "0"), previous.name_en
        previous = target
    screenshot(page, "sales-journey-board-won")
    won.refresh_from_db()
    assert won.state == StageKind.WON and won.stage == stage(70)
    assert list(
        StageLog.objects.filter(deal=won).order_by("at", "id").values_list("event", flat=True)
    ) == ["created"] + ["moved"] * 5 + ["won"]
    assert page.locator(f"#deal-{won.pk}").get_attribute("data-open") is None

    # 3. a second deal, lost at "Proposal" with a category and a note
    lost = _new_deal_from_card(page, live_server, client, product, "1", "20000")
    page.goto(f"{live_server.url}/sales/board/")
    page.wait_for_selector(f"#deal-{lost.pk}")
    _drag(page, lost, stage(20))
    page.locator(f"#deal-{lost.pk}").drag_to(page.locator(f"#col-cards-{stage(80).pk}"))
    page.wait_for_selector("#lose-form")
    page.select_option("#id_refusal", str(price_cat.pk))
    page.fill("#id_refusal_note", "Конкурент дал скидку 15 %")
    screenshot(page, "sales-journey-lose-form")
    page.click("#lose-form button[type=submit]")
    page.wait_for_selector(f"#col-cards-{stage(80).pk} #deal-{lost.pk}")
    screenshot(page, "sales-journey-board-lost")
    lost.refresh_from_db()
    assert lost.state == StageKind.LOST
    assert lost.refusal == price_cat and lost.lost_at_stage == stage(20)
    assert lost.refusal_note == "Конкурент дал скидку 15 %"
    # the card's panel lists the lost deal with its reason
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    assert "Высокая цена" in page.inner_text(f"[data-lost-deal='{lost.pk}']")

    # the settlement for the won deal, recorded on the client card
    page.click(f"a[href='/clients/{client.pk}/settlements/new/']")
    pick(page, "product", product.name, typed=product.name[:6])
    page.fill("#id_amount", "150000")
    page.click("#form-submit")
    page.wait_for_url(f"{live_server.url}/clients/{client.pk}/")
    assert client.settlements.get().amount == Decimal("150000")

    # 4. the manager's funnel: both deals, win rate 50 %, the refusal at "Proposal"
    page.context.clear_cookies()
    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/sales/funnel/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-funnel')")
    assert page.inner_text("[data-kpi=cohort]").strip() == "2"
    assert page.inner_text("[data-kpi=win-rate]").replace("\xa0", " ").strip() == "50,0 %"
    assert page.locator("[data-figure=won]").first.get_attribute("data-count") == "1"
    assert page.locator("[data-figure=lost]").first.get_attribute("data-count") == "1"
    refusal = page.locator(
        f"#refusals-stage tr[data-row='{stage(20).pk}'] a[data-figure=refusal]"
        f"[href*='refusal={price_cat.pk}']"
    )
    assert refusal.get_attribute("data-count") == "1"
    assert page.get_attribute("#refusals-stage a[data-figure=refusal-total]", "data-count") == "1"
    screenshot(page, "sales-journey-funnel")

    # 5. the manager's period report: the client's first sale on the account manager's row
    page.goto(f"{live_server.url}/sales/report/")
    row = page.locator(f"#report-table tr[data-row='{owner.pk}']")
    assert row.locator("td[data-metric=first]").inner_text().strip() == "1"
    assert _digits(row.locator("td[data-sum=first]").inner_text()) == "150000"
    assert row.locator("td[data-metric=repeat]").inner_text().strip() == "0"
    total = page.locator("#report-table tr[data-row='total']")
    assert _digits(total.locator("td[data-sum=first]").inner_text()) == "150000"
    screenshot(page, "sales-journey-report")
    # drill down: the detail lists the client
    row.locator("td[data-metric=first] a").click()
    page.wait_for_load_state()
    assert "ООО «Северный ветер»" in page.content()

    # phone size: the same pages fit the screen's width (wide tables scroll inside their box)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/sales/funnel/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-funnel')")
    screenshot(page, "sales-journey-funnel-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto(f"{live_server.url}/sales/report/")
    screenshot(page, "sales-journey-report-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
