"""Browser: pages that run scripts (the chart, htmx, Bootstrap, Swagger UI) work under the
Content-Security-Policy; the ``page`` fixture fails the test on any CSP violation."""

import pytest
from django.core.cache import cache

from tests.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_chart_dropdown_and_api_docs_run_under_the_csp(page, live_server, manager):
    cache.clear()
    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/feedback/complaints/analytics/")
    # Chart.js drew the chart: it sizes the canvas itself
    page.wait_for_function("() => window.Chart && Chart.getChart('chart-months') !== undefined")
    # Bootstrap's script opens the user menu
    page.click("#user-menu")
    page.wait_for_selector(".dropdown-menu.show")
    screenshot(page, "csp-analytics")
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    screenshot(page, "csp-api-docs")
