"""My day with frozen time: steps due, promises due, overdue for contact by class cadence."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from clients import selectors
from clients.models import Client
from segmentation import services as segmentation_services
from tests.factories import ClientFactory, InteractionFactory

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=MSK)


@time_machine.travel(NOW, tick=False)
def test_my_day_contents(owner, outsider, owner_client):
    today = date(2026, 11, 23)
    late = ClientFactory(
        name="Опоздание",
        account_manager=owner,
        next_step_date=today - timedelta(days=2),
        last_contact_at=NOW,
    )
    due = ClientFactory(
        name="Сегодня", account_manager=owner, next_step_date=today, last_contact_at=NOW
    )
    ClientFactory(
        name="Завтра",
        account_manager=owner,
        next_step_date=today + timedelta(days=1),
        last_contact_at=NOW,
    )
    ClientFactory(name="Чужой", account_manager=outsider, next_step_date=today)
    # cadence A 14 days, B 30, C 90, unclassified 30
    a_late = ClientFactory(
        name="A-15", account_manager=owner, abc_class="A", last_contact_at=NOW - timedelta(days=15)
    )
    ClientFactory(
        name="A-13", account_manager=owner, abc_class="A", last_contact_at=NOW - timedelta(days=13)
    )
    ClientFactory(
        name="C-89", account_manager=owner, abc_class="C", last_contact_at=NOW - timedelta(days=89)
    )
    c_late = ClientFactory(
        name="C-91", account_manager=owner, abc_class="C", last_contact_at=NOW - timedelta(days=91)
    )
    never = ClientFactory(name="Никогда", account_manager=owner, last_contact_at=None)
    Client.objects.filter(pk=never.pk).update(created_at=NOW - timedelta(days=31))
    fresh = ClientFactory(name="Новый", account_manager=owner, last_contact_at=None)  # created now
    promised = InteractionFactory(client=due, promise="КП", promise_due=today - timedelta(days=1))
    InteractionFactory(client=due, promise="Счёт", promise_due=today + timedelta(days=5))
    InteractionFactory(client=due, promise="Done", promise_due=today, promise_done_at=NOW)

    day = selectors.my_day(owner, today=today)
    assert day.steps_overdue == [late]
    assert day.steps_today == [due]
    assert day.promises_due == [promised]
    assert day.contact_overdue == [a_late, c_late, never]  # A first, unclassified last
    assert fresh not in day.contact_overdue
    assert day.contact_overdue_total == 3
    first = selectors.my_day(owner, today=today, limit=2)  # the list is cut, not its size
    assert first.contact_overdue == [a_late, c_late] and first.contact_overdue_total == 3

    html = owner_client.get(reverse("clients:my_day")).content.decode()
    for name in ("Опоздание", "Сегодня", "КП", "A-15", "C-91", "Никогда"):
        assert name in html
    assert "Чужой" not in html and "Завтра" not in html


def test_my_day_query_count_does_not_grow(owner, owner_client, django_assert_max_num_queries):
    for i in range(30):
        c = ClientFactory(account_manager=owner, next_step_date=date(2020, 1, 1))
        InteractionFactory(client=c, promise=f"p{i}", promise_due=date(2020, 1, 1))
    with django_assert_max_num_queries(10):
        assert owner_client.get(reverse("clients:my_day")).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_my_day_follows_the_configured_cadence(owner, owner_client):
    today = date(2026, 11, 23)
    a_8 = ClientFactory(
        name="A-8", account_manager=owner, abc_class="A", last_contact_at=NOW - timedelta(days=8)
    )
    ClientFactory(
        name="A-6", account_manager=owner, abc_class="A", last_contact_at=NOW - timedelta(days=6)
    )
    # the default cadence for A is 14 days: 8 days without contact is not overdue yet
    assert selectors.my_day(owner, today=today).contact_overdue == []
    assert "A-8" not in owner_client.get(reverse("clients:my_day")).content.decode()

    segmentation_services.settings_update(actor=None, data={"cadence_a_days": 7})

    day = selectors.my_day(owner, today=today)
    assert day.contact_overdue == [a_8] and day.contact_overdue_total == 1
    html = owner_client.get(reverse("clients:my_day")).content.decode()
    assert "A-8" in html and "A-6" not in html
