"""Browser: a seeded beacon fires and its notice appears (issue 14). A manager is signed in;
one client has a promise overdue since yesterday (another kept theirs); the beat task
(crm.evaluate_beacons, called directly) fires the seeded "An overdue promise" rule; the
manager reloads and sees the bell's unread badge in the navigation, opens the notices, sees
the rule, follows the notice to the clients behind it (exactly the one) and the badge is
gone. One email; a second run notifies nobody. Desktop and phone, with screenshots."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail

from clients.models import Interaction
from crm.models import BeaconNotice
from crm.tasks import evaluate_beacons
from tests.conftest import console_errors, login, screenshot
from tests.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
RULE = "An overdue promise"


def _promise(client, due, kept=None):
    from django.utils import timezone

    Interaction.objects.create(
        client=client,
        occurred_at=timezone.now() - timedelta(days=8),
        summary="Call",
        promise="Send the offer",
        promise_due=due,
        promise_done_at=kept,
    )


@pytest.mark.parametrize("size", SIZES)
def test_a_beacon_fires_and_its_notice_appears(page, live_server, manager, owner, size):
    from django.core.cache import cache
    from django.utils import timezone

    cache.clear()
    # a transactional test starts with the seeded rows flushed: seed the rules again
    importlib.import_module("crm.migrations.0009_beacons_seed").seed(apps, None)
    yesterday = timezone.localdate() - timedelta(days=1)
    late = ClientFactory(name="ООО Обещание", account_manager=owner, abc_class="B")
    kept = ClientFactory(name="ООО Сдержали", account_manager=owner, abc_class="B")
    _promise(late, yesterday)
    _promise(kept, yesterday, kept=timezone.now() - timedelta(days=2))
    errors = console_errors(page)
    page.set_viewport_size(SIZES[size])
    login(page, live_server, "boss")
    bell = page.locator("#nav-notices")
    assert bell.is_visible()  # outside the collapsed menu: on a phone too
    assert bell.get_attribute("aria-label") == "Уведомления маяков"
    assert page.locator("#nav-unread").count() == 0

    assert evaluate_beacons() == 1  # the beat task: only the promise rule changes state
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [manager.email]
    assert mail.outbox[0].subject == f"Сработал маяк: {RULE}"
    assert "promise_overdue=true" in mail.outbox[0].body

    page.reload()
    assert page.inner_text("#nav-unread").strip() == "1"
    named = page.get_by_role("link", name="Уведомления маяков: 1 непрочитанное")
    assert named.is_visible()
    screenshot(page, f"beacon-badge-{size}")

    named.click()
    page.wait_for_url("**/beacons/notices/")
    row = page.locator("#beacon-notice-list [data-notice]")
    assert row.count() == 1
    assert RULE in row.inner_text() and "сработал" in row.inner_text()
    assert "fw-bold" in row.get_attribute("class")  # shown as new this once
    assert page.locator("#nav-unread").count() == 0  # read: the badge is gone at once
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"] + 1  # the table fits (or scrolls in its own box)
    screenshot(page, f"beacon-notices-{size}")

    row.locator("[data-notice-list]").click()
    page.wait_for_url("**/clients/?*promise_overdue=true*")
    assert page.inner_text("#client-count").strip() == "1"
    clients = page.inner_text("#client-table")
    assert "ООО Обещание" in clients and "ООО Сдержали" not in clients
    assert page.locator("#nav-unread").count() == 0
    screenshot(page, f"beacon-list-{size}")

    # the next beat run: still firing, no change of state, nobody notified again
    assert evaluate_beacons() == 0
    assert len(mail.outbox) == 1
    assert BeaconNotice.objects.count() == 1
    page.reload()
    assert page.locator("#nav-unread").count() == 0
    page.goto(f"{live_server.url}/beacons/notices/")
    assert "fw-bold" not in (
        page.locator("#beacon-notice-list [data-notice]").get_attribute("class")
    )
    assert not errors, errors
