"""Browser: the record picker on the complaint form, on a desktop and on a phone. The account
manager types part of a client's name, picks the client, then a contact of that client only
(the contacts reload when the client changes), and saves; another account manager's client is
never offered."""

import pytest

from clients.models import Client, ContactPerson
from feedback.models import Complaint, Theme
from tests.conftest import login, screenshot
from tests.e2e.pickers import pick
from tests.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", list(SIZES))
def test_pick_a_client_then_its_contact_and_save(page, live_server, owner, outsider, size):
    page.set_viewport_size(SIZES[size])
    Theme.objects.get_or_create(
        code="document-errors",
        defaults={"name_en": "Errors in documents", "name_ru": "Ошибки в документах"},
    )
    romashka = Client.objects.create(name="ООО Ромашка", inn="7701000001", account_manager=owner)
    vasilek = Client.objects.create(name="ООО Василёк", inn="7701000002", account_manager=owner)
    Client.objects.create(name="ООО Ромашка-Юг", inn="7801000003", account_manager=outsider)
    ivan = ContactPerson.objects.create(client=romashka, full_name="Иван Петров", is_primary=True)
    ContactPerson.objects.create(client=vasilek, full_name="Пётр Васильев")
    ClientFactory.create_batch(45, account_manager=owner)  # more than a page of clients

    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/feedback/complaints/new/")
    page.wait_for_selector("#id_client-ts-control")
    # the contact picker waits for a client
    contact = page.locator("#id_contact-ts-control")
    assert contact.is_disabled()
    assert contact.get_attribute("placeholder") == "Сначала выберите клиента"

    # an empty search lists the first page; scrolling to its end loads the next one
    page.click("#id_client-ts-control")
    options = page.locator("#id_client-ts-dropdown .option")
    options.nth(19).wait_for()
    options.nth(19).scroll_into_view_if_needed()
    options.nth(20).wait_for()
    assert options.count() > 20
    screenshot(page, f"picker-client-pages-{size}")

    # typing searches on the server: the outsider's «Ромашка-Юг» is never offered
    page.fill("#id_client-ts-control", "ромаш")
    page.locator("#id_client-ts-dropdown .option", has_text="ООО Ромашка").first.wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('#id_client-ts-dropdown .option').length === 1"
    )
    screenshot(page, f"picker-client-search-{size}")
    assert "Юг" not in page.locator("#id_client-ts-dropdown").inner_text()
    pick(page, "client", "ООО Ромашка")

    # the contacts are the chosen client's only
    page.click("#id_contact + .ts-wrapper .ts-control")
    page.locator("#id_contact-ts-dropdown .option").first.wait_for()
    assert page.locator("#id_contact-ts-dropdown .option").all_inner_texts() == ["Иван Петров"]
    page.keyboard.press("Escape")

    # another client: the contact is emptied and the other client's contacts are offered
    pick(page, "client", "ООО Василёк", typed="васил")
    assert page.eval_on_selector("#id_contact", "s => s.value") == ""
    page.click("#id_contact + .ts-wrapper .ts-control")
    page.locator("#id_contact-ts-dropdown .option").first.wait_for()
    assert page.locator("#id_contact-ts-dropdown .option").all_inner_texts() == ["Пётр Васильев"]
    page.keyboard.press("Escape")

    # back to «Ромашка» and its contact, then save
    pick(page, "client", "ООО Ромашка", typed="7701000001")
    pick(page, "contact", "Иван Петров")
    page.select_option("#id_theme", label="Ошибки в документах")
    page.fill("#id_description", "В счёте неверная сумма")
    screenshot(page, f"picker-complaint-filled-{size}")
    page.click("#complaint-submit")
    page.wait_for_selector("#sla")
    complaint = Complaint.objects.get()
    assert (complaint.client, complaint.contact) == (romashka, ivan)


def test_without_javascript_the_text_box_picks_the_record(browser, live_server, owner):
    Theme.objects.get_or_create(
        code="document-errors",
        defaults={"name_en": "Errors in documents", "name_ru": "Ошибки в документах"},
    )
    romashka = Client.objects.create(name="ООО Ромашка", inn="7701000001", account_manager=owner)
    ivan = ContactPerson.objects.create(client=romashka, full_name="Иван Петров")
    Client.objects.create(name="ООО Ромашка-Север", inn="7701000009", account_manager=owner)
    context = browser.new_context(java_script_enabled=False, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        login(page, live_server, "owner")
        page.goto(f"{live_server.url}/feedback/complaints/new/")
        # the plain select holds no client; the text box beside it takes a search
        assert page.locator("#id_client option").count() == 1
        page.fill("input[name=client__search]", "ромашка")
        page.select_option("#id_theme", label="Ошибки в документах")
        page.fill("#id_description", "В счёте неверная сумма")
        page.click("#complaint-submit")
        # two match: both listed, the typed text kept
        error = page.locator("#div_id_client .invalid-feedback").inner_text()
        assert "ООО Ромашка · 7701000001" in error and "ООО Ромашка-Север" in error
        assert page.input_value("input[name=client__search]") == "ромашка"
        page.fill("input[name=client__search]", "7701000001")
        page.fill("input[name=contact__search]", "петров")
        screenshot(page, "picker-no-javascript")
        page.click("#complaint-submit")
        page.wait_for_selector("#sla")
    finally:
        context.close()
    complaint = Complaint.objects.get()
    assert (complaint.client, complaint.contact) == (romashka, ivan)
