"""Browser: the manager opens the sales funnel, its charts are drawn (no console error: the
chart script is a static file under the strict CSP), and a figure leads to the deals behind it."""

import pytest

from sales import services
from sales.models import Pipeline, RefusalCategory, Stage
from tests.conftest import console_errors, login, screenshot
from tests.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _pipeline():
    """The seeded pipeline (a transactional test flushed the seed): three open stages."""
    pipeline, _created = Pipeline.objects.get_or_create(
        code="sales", defaults={"name_en": "Sales", "name_ru": "Продажи"}
    )
    if not pipeline.stages.exists():
        for order, kind, name in (
            (10, "open", "Needs"),
            (20, "open", "Proposal"),
            (30, "open", "Contract"),
            (70, "won", "Won"),
            (80, "lost", "Lost"),
        ):
            Stage.objects.create(
                pipeline=pipeline, order=order, kind=kind, name_en=name, name_ru=name
            )
    refusal, _created = RefusalCategory.objects.get_or_create(
        code="price", defaults={"name_en": "Price too high", "name_ru": "Высокая цена"}
    )
    return pipeline, list(pipeline.stages.order_by("order")), refusal


def test_manager_sees_the_funnel_and_drills_down(browser, page, live_server, owner, manager):
    from django.core.cache import cache

    cache.clear()
    pipeline, stages, refusal = _pipeline()
    client = ClientFactory(name="ООО Ромашка", account_manager=owner, abc_class="A")
    won = services.deal_create(actor=owner, client=client, pipeline=pipeline)
    services.deal_move(actor=owner, deal=won, stage=stages[2])  # skips "Proposal"
    services.deal_win(actor=owner, deal=won)
    lost = services.deal_create(actor=owner, client=client, pipeline=pipeline)
    services.deal_lose(actor=owner, deal=lost, refusal=refusal, note="too expensive")
    services.deal_create(actor=owner, client=client, pipeline=pipeline)
    errors = console_errors(page)
    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/sales/funnel/")
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-funnel')")
    for chart in ("chart-funnel", "chart-days", "chart-refusals", "chart-forecast"):
        assert page.evaluate(f"() => !!Chart.getChart('{chart}')")
    assert page.inner_text("[data-kpi=cohort]").strip() == "3"
    screenshot(page, "sales-funnel")
    # "Proposal" was skipped by the won deal: it counts as passed
    proposal = page.locator(f"tr[data-stage='{stages[1].pk}'] a[data-figure=reached]")
    assert proposal.inner_text().strip() == "1"
    page.click("#refusals-stage a[data-figure=refusal]")
    page.wait_for_load_state()
    assert "/sales/?" in page.url and "refusal=" in page.url
    assert "ООО Ромашка" in page.content()
    assert errors == []
