"""Browser: an account manager registers a complaint from the client card, moves it through
every state, and the manager sees it in the analytics."""

import pytest
from django.core.cache import cache

from clients.models import Client, ContactPerson
from feedback.models import Complaint, Theme
from tests.conftest import login, screenshot
from tests.e2e.pickers import pick

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _step(page, action: str, fill: dict | None = None, select: dict | None = None) -> None:
    page.click(f"#steps a[data-step={action}]")
    page.wait_for_selector("#step-form")
    for name, value in (fill or {}).items():
        page.fill(f"#step-form [name={name}]", value)
    for name, value in (select or {}).items():
        page.select_option(f"#step-form [name={name}]", value)
    page.click("#step-submit")
    page.wait_for_selector("#sla")  # back on the complaint page


def test_account_manager_runs_a_complaint_and_manager_sees_it(page, live_server, owner, manager):
    cache.clear()  # the analytics page caches its figures per data version
    Theme.objects.get_or_create(
        code="document-errors",
        defaults={"name_en": "Errors in documents", "name_ru": "Ошибки в документах"},
    )
    client = Client.objects.create(name="ООО Ромашка", account_manager=owner)
    ContactPerson.objects.create(client=client, full_name="Иван Петров", email="ivan@example.com")

    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    page.click(f"a[href='/feedback/complaints/new/?client={client.pk}']")
    page.wait_for_selector("#complaint-form")
    page.select_option("#id_theme", label="Ошибки в документах")
    page.select_option("#id_priority", "urgent")
    pick(page, "contact", "Иван Петров")
    page.fill("#id_description", "В счёте неверная сумма")
    screenshot(page, "complaint-register")
    page.click("#complaint-submit")
    page.wait_for_selector("#sla")
    complaint = Complaint.objects.get()
    assert complaint.client == client and complaint.priority == "urgent"
    assert page.locator("[data-status=registered]").first.is_visible()

    _step(page, "review")
    _step(page, "wait", fill={"note": "Ждём номер счёта"})
    assert page.locator("[data-status=waiting]").first.is_visible()
    _step(page, "resume")
    # resolving without the root cause is refused with the message
    page.click("#steps a[data-step=resolve]")
    page.fill("#step-form [name=resolution]", "Выставили исправленный счёт")
    page.click("#step-submit")
    assert "Укажите первопричину" in page.locator("#form-errors").inner_text()
    page.fill("#step-form [name=why_1]", "Сумму ввели вручную")
    page.select_option("#step-form [name=root_cause]", "documents")
    page.click("#step-submit")
    page.wait_for_selector("#sla")
    _step(page, "fix_process", fill={"corrective_action": "Счета формируются из заказа"})
    page.select_option("#inform-form [name=via]", "phone")
    page.click("#inform-submit")
    page.wait_for_selector("#sla")
    _step(page, "close")
    assert page.locator("[data-status=closed]").first.is_visible()
    assert page.locator("#complaint-timeline [data-transition]").count() == 6
    screenshot(page, "complaint-closed")
    complaint.refresh_from_db()
    assert complaint.status == "closed"

    # the client card timeline shows it
    page.goto(f"{live_server.url}/clients/{client.pk}/")
    assert page.locator(f"a[href='/feedback/complaints/{complaint.pk}/']").count() >= 1

    page.context.clear_cookies()
    login(page, live_server, "boss")
    page.goto(f"{live_server.url}/feedback/complaints/analytics/")
    assert page.locator("[data-kpi=total]").inner_text().strip() == "1"
    assert "Ошибки в документах" in page.locator("#themes-table").inner_text()
    assert "документы" in page.locator("#causes-table").inner_text().lower()
    screenshot(page, "complaint-analytics")
