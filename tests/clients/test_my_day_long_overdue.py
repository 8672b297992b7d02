"""My day keeps today's steps when the overdue list is longer than the page holds, and tells
each list's whole size beside its first rows (the home shows fewer rows than the page)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from clients import selectors
from clients.dashboard import HOME_ROWS
from tests.conftest import client_for
from tests.factories import ClientFactory, InteractionFactory

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))


def test_todays_steps_survive_a_long_overdue_list(owner):
    for i in range(12):
        ClientFactory(name=f"Late {i:02d}", account_manager=owner, next_step_date=date(2026, 11, 1))
    ClientFactory(name="Today", account_manager=owner, next_step_date=TODAY)
    day = selectors.my_day(owner, today=TODAY, limit=5)
    assert [c.name for c in day.steps_overdue] == [f"Late {i:02d}" for i in range(5)]
    assert day.steps_overdue_total == 12
    assert [c.name for c in day.steps_today] == ["Today"] and day.steps_today_total == 1


def test_each_list_is_cut_but_counted_whole(owner, outsider):
    late = [
        ClientFactory(
            name=f"Late {i:02d}", account_manager=owner, next_step_date=date(2026, 11, i + 1)
        )
        for i in range(7)
    ]
    ClientFactory(name="Not mine", account_manager=outsider, next_step_date=date(2026, 11, 1))
    for i in range(4):
        InteractionFactory(client=late[i], promise=f"P{i}", promise_due=date(2026, 11, 20 + i))
    InteractionFactory(client=late[5], promise="later", promise_due=date(2026, 11, 26))  # > +2 days
    InteractionFactory(client=late[6], promise="kept", promise_due=TODAY, promise_done_at=NOW)

    day = selectors.my_day(owner, today=TODAY, limit=3)
    assert day.steps_overdue == late[:3] and day.steps_overdue_total == 7
    assert [p.promise for p in day.promises_due] == ["P0", "P1", "P2"]
    assert day.promises_due_total == 4  # the 20th to the 23rd; the 26th is past today + 2
    assert day.steps_today == [] and day.steps_today_total == 0
    assert day.limit == 3

    empty = selectors.my_day(outsider, today=date(2026, 10, 1), limit=3)
    assert empty.steps_overdue == [] and empty.steps_overdue_total == 0
    assert empty.promises_due_total == 0 and empty.contact_overdue_total == 0


@time_machine.travel(NOW, tick=False)
def test_the_home_shows_the_first_rows_and_links_to_the_whole_day(owner):
    browser = client_for(owner, "en")
    n = HOME_ROWS + 2
    for i in range(n):
        ClientFactory(name=f"Late {i:02d}", account_manager=owner, next_step_date=date(2026, 11, 1))

    html = browser.get("/").content.decode()
    steps = html[html.index('id="steps-overdue"') : html.index('id="steps-today"')]
    assert steps.count("Late ") == HOME_ROWS and "Late 10" not in steps
    assert f'text-bg-danger">{n}</span>' in steps  # the badge counts them all
    assert f"The first {HOME_ROWS} of {n}." in steps
    assert f'href="{reverse("clients:my_day")}" id="my-day-all"' in html

    page = browser.get(reverse("clients:my_day")).content.decode()
    steps = page[page.index('id="steps-overdue"') : page.index('id="steps-today"')]
    assert steps.count("Late ") == n and "The first" not in steps
    assert 'id="my-day-all"' not in page

    russian = client_for(owner, "ru").get("/").content.decode()
    assert f"Первые {HOME_ROWS} из {n}." in russian and "Весь «Мой день»" in russian
