"""Working-time arithmetic (crm/worktime.py) across nights, weekends and pauses.

Calendar: Monday–Friday 09:00–18:00 Europe/Moscow (9 working hours = 540 minutes a day).
2026-11-20 is a Friday, 2026-11-23 a Monday.
"""

from datetime import UTC, datetime, time

import pytest

from crm.worktime import WorkCalendar, add_working_minutes, format_minutes, working_minutes
from tests.feedback.conftest import msk

CAL = WorkCalendar.of([1, 2, 3, 4, 5], time(9), time(18), "Europe/Moscow")


def test_add_within_the_same_day():
    # Monday 10:00 + 60 min = Monday 11:00
    assert add_working_minutes(msk(2026, 11, 23, 10, 0), 60, CAL) == msk(2026, 11, 23, 11, 0)


def test_add_across_the_night():
    # Monday 17:00 + 4 h: 1 h left on Monday (17→18), 3 h on Tuesday from 09:00 → Tue 12:00
    assert add_working_minutes(msk(2026, 11, 23, 17, 0), 240, CAL) == msk(2026, 11, 24, 12, 0)


def test_add_across_the_weekend():
    # Friday 16:30 + 4 h: 1.5 h on Friday, Sat/Sun skipped, 2.5 h on Monday → Mon 11:30
    assert add_working_minutes(msk(2026, 11, 20, 16, 30), 240, CAL) == msk(2026, 11, 23, 11, 30)


def test_add_from_outside_working_hours_starts_next_morning():
    # Saturday 14:00 + 1 h → Monday 10:00; Tuesday 07:00 + 1 h → Tuesday 10:00;
    # Tuesday 20:00 + 1 h → Wednesday 10:00
    assert add_working_minutes(msk(2026, 11, 21, 14, 0), 60, CAL) == msk(2026, 11, 23, 10, 0)
    assert add_working_minutes(msk(2026, 11, 24, 7, 0), 60, CAL) == msk(2026, 11, 24, 10, 0)
    assert add_working_minutes(msk(2026, 11, 24, 20, 0), 60, CAL) == msk(2026, 11, 25, 10, 0)


def test_deadline_exactly_at_the_end_of_the_day_stays_there():
    # Monday 09:00 + 540 min (one full day) = Monday 18:00, not Tuesday 09:00
    assert add_working_minutes(msk(2026, 11, 23, 9, 0), 540, CAL) == msk(2026, 11, 23, 18, 0)


def test_add_several_days_low_priority():
    # Wednesday 15:00 + 72 h (4320 min = 8 working days of 540):
    # Wed 3 h (180), Thu 540, Fri 540 → 1260; Mon–Thu 4×540 = 2160 → 3420; left 900:
    # Fri(4 Dec) 540 → 3960; left 360 = 6 h on Mon 7 Dec → 15:00
    assert add_working_minutes(msk(2026, 11, 25, 15, 0), 4320, CAL) == msk(2026, 12, 7, 15, 0)


def test_add_accepts_utc_and_answers_in_the_calendar_zone():
    # 07:00 UTC = 10:00 Moscow, Monday
    start = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    due = add_working_minutes(start, 30, CAL)
    assert due == msk(2026, 11, 23, 10, 30)
    assert due.utcoffset().total_seconds() == 3 * 3600


def test_working_minutes_across_night_and_weekend():
    # Friday 17:00 → Monday 10:00: 60 (Fri) + 60 (Mon) = 120
    assert working_minutes(msk(2026, 11, 20, 17), msk(2026, 11, 23, 10), CAL) == 120
    # reversed: negative
    assert working_minutes(msk(2026, 11, 23, 10), msk(2026, 11, 20, 17), CAL) == -120
    # entirely in a weekend: 0
    assert working_minutes(msk(2026, 11, 21, 10), msk(2026, 11, 22, 20), CAL) == 0


def test_working_minutes_minus_pauses():
    # Monday 10:00 → Tuesday 12:00 = 480 (Mon) + 180 (Tue) = 660;
    # paused Monday 16:00 → Tuesday 10:00 = 120 (Mon) + 60 (Tue) = 180 → 660 − 180 = 480
    pauses = [(msk(2026, 11, 23, 16), msk(2026, 11, 24, 10))]
    assert working_minutes(msk(2026, 11, 23, 10), msk(2026, 11, 24, 12), CAL, pauses) == 480


def test_open_pause_lasts_until_the_end_and_is_clipped_to_the_interval():
    # Monday 10:00 → 15:00 = 300; an open pause from 13:00 takes 120 → 180
    pauses = [(msk(2026, 11, 23, 13), None)]
    assert working_minutes(msk(2026, 11, 23, 10), msk(2026, 11, 23, 15), CAL, pauses) == 180
    # a pause that started before the interval only counts from its start: 09:00–11:00 pause,
    # interval 10:00–12:00 → 120 − 60 = 60
    pauses = [(msk(2026, 11, 23, 9), msk(2026, 11, 23, 11))]
    assert working_minutes(msk(2026, 11, 23, 10), msk(2026, 11, 23, 12), CAL, pauses) == 60


def test_add_and_count_agree():
    start = msk(2026, 11, 20, 16, 30)
    for minutes in (1, 30, 59, 540, 541, 1000, 4320):
        assert working_minutes(start, add_working_minutes(start, minutes, CAL), CAL) == minutes


def test_six_day_week_and_short_day():
    cal = WorkCalendar.of([1, 2, 3, 4, 5, 6], time(10), time(14), "Europe/Moscow")
    # Friday 13:00 + 3 h: 1 h Fri, 2 h Saturday from 10:00 → Sat 12:00
    assert add_working_minutes(msk(2026, 11, 20, 13), 180, cal) == msk(2026, 11, 21, 12)


def test_bad_calendars_and_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        WorkCalendar.of([], time(9), time(18), "Europe/Moscow")
    with pytest.raises(ValueError):
        WorkCalendar.of([1], time(18), time(9), "Europe/Moscow")
    with pytest.raises(ValueError):
        add_working_minutes(datetime(2026, 11, 23, 10), 10, CAL)  # noqa: DTZ001


def test_format_minutes():
    assert format_minutes(125) == "2 h 05 min"
    assert format_minutes(-45) == "45 min"
