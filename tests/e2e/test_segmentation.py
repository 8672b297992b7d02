"""Browser: a manager opens the ABC×XYZ matrix, clicks the AX cell and sees those clients;
previews other thresholds in what-if, saves them, recomputes, and the matrix changes."""

from decimal import Decimal

import pytest
from django.utils import timezone

from crm.periods import add_months
from segmentation import services
from segmentation.models import SegmentationRun
from tests.conftest import login, screenshot
from tests.factories import ClientFactory, SettlementFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def monthly_buyer(name: str, amount: int):
    client = ClientFactory(name=name)
    first_of_month = timezone.localdate().replace(day=1)
    for back in range(1, 13):  # the 12 complete months before this one
        SettlementFactory(
            client=client, date=add_months(first_of_month, -back), amount=Decimal(amount)
        )
    return client


def test_matrix_what_if_save_recompute(page, live_server, manager):
    # turnover 6000 / 3600 / 1200: shares before 0, 55.6 %, 88.9 % → A, B, C (all X)
    monthly_buyer("Alpha", 500)
    monthly_buyer("Beta", 300)
    monthly_buyer("Gamma", 100)
    services.recompute(trigger="command")

    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/segments/")
    assert page.locator("td[data-cell=AX]").get_attribute("data-clients") == "1"
    screenshot(page, "segmentation-matrix-before")
    page.click("a[data-cell-link=AX]")
    page.wait_for_url("**/clients/?abc=A&xyz=X")
    body = page.locator("main").inner_text()
    assert "Alpha" in body and "Beta" not in body and "Gamma" not in body
    screenshot(page, "segmentation-ax-clients")

    page.goto(f"{live_server.url}/segments/what-if/")
    screenshot(page, "segmentation-what-if")
    page.fill("input[name=abc_a_pct]", "60")
    page.locator("input[name=abc_a_pct]").dispatch_event("change")
    page.wait_for_selector("#matrix-preview td[data-cell=AX][data-clients='2']")
    assert page.locator("#matrix-current td[data-cell=AX]").get_attribute("data-clients") == "1"
    screenshot(page, "segmentation-what-if-preview")
    page.click("#save-thresholds")
    page.wait_for_url("**/segments/runs/")
    page.click("#recompute-now")
    page.wait_for_url("**/segments/runs/")
    run = SegmentationRun.objects.latest("id")
    assert run.trigger == "manual"
    # eager Celery: finished before the redirect; a real worker: the progress bar polls (htmx)
    # until the run is done
    page.wait_for_selector(
        f"tr[data-run='{run.pk}'][data-status=success], "
        f"#run-progress-{run.pk}[data-status=success]",
        timeout=60_000,
    )
    screenshot(page, "segmentation-runs")

    page.goto(f"{live_server.url}/segments/")
    assert page.locator("td[data-cell=AX]").get_attribute("data-clients") == "2"
    assert page.locator("td[data-cell=BX]").get_attribute("data-clients") == "0"
    screenshot(page, "segmentation-matrix-after")
