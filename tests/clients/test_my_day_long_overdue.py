"""My day keeps today's steps when the overdue list is longer than the page holds."""

from datetime import date

from clients import selectors
from tests.factories import ClientFactory


def test_todays_steps_survive_a_long_overdue_list(owner):
    today = date(2026, 11, 23)
    for i in range(12):
        ClientFactory(name=f"Late {i:02d}", account_manager=owner, next_step_date=date(2026, 11, 1))
    ClientFactory(name="Today", account_manager=owner, next_step_date=today)
    day = selectors.my_day(owner, today=today, limit=5)
    assert [c.name for c in day.steps_overdue] == [f"Late {i:02d}" for i in range(5)]
    assert [c.name for c in day.steps_today] == ["Today"]
