"""Browser: an account manager opens a client, logs a call with a next step, finds it on My day."""

import pytest
from django.utils import timezone

from clients.models import Interaction
from tests.conftest import login, screenshot
from tests.e2e.pickers import pick
from tests.factories import ClientFactory, ContactFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_account_manager_logs_a_call_and_finds_the_next_step_on_my_day(page, live_server, owner):
    client = ClientFactory(name="ООО «Северный ветер»", account_manager=owner)
    ContactFactory(client=client, full_name="Иван Петров", is_primary=True)
    ClientFactory(name="Чужой клиент")  # another account manager's: must not show

    login(page, live_server, "owner")
    page.click("[data-nav=clients]")
    assert page.locator("#client-table tbody tr").count() == 1
    page.fill("#id_q", "северный")
    page.press("#id_q", "Enter")
    page.click("text=ООО «Северный ветер»")
    page.wait_for_selector("#log-form")
    screenshot(page, "client-card-before")

    today = timezone.localdate().isoformat()
    page.select_option("#id_kind", "call")
    pick(page, "contact", "Иван Петров")
    page.fill("#id_summary", "Обсудили поставку к весне")
    page.fill("#id_next_step_date", today)
    page.fill("#id_next_step_goal", "Отправить коммерческое предложение")
    page.click("#log-submit")
    page.wait_for_selector("#log-saved")  # htmx swapped the panel in place, no reload
    assert "Обсудили поставку к весне" in page.locator("#timeline").inner_text()
    screenshot(page, "client-card-after-log")
    interaction = Interaction.objects.get()
    assert interaction.author == owner and interaction.contact.full_name == "Иван Петров"

    page.goto(f"{live_server.url}/clients/my-day/")
    today_card = page.locator("#steps-today")
    assert "ООО «Северный ветер»" in today_card.inner_text()
    assert "Отправить коммерческое предложение" in today_card.inner_text()
    assert "Чужой клиент" not in page.content()
    screenshot(page, "my-day")
