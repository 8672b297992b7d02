"""Working-time arithmetic (crm/worktime.py) across nights, weekends, pauses, holidays and the
daylight-saving switches.

Calendar: Monday–Friday 09:00–18:00 Europe/Moscow (9 working hours = 540 minutes a day).
2026-11-20 is a Friday, 2026-11-23 a Monday.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.worktime import (
    WorkCalendar,
    add_working_minutes,
    extend_for_pauses,
    format_minutes,
    working_minutes,
)
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


# --- daylight saving time: real elapsed minutes ------------------------------------------------
# Europe/Berlin switches on the last Sundays of March (02:00 CET → 03:00 CEST, 29 March 2026)
# and October (03:00 CEST → 02:00 CET, 25 October 2026). A calendar that works 01:00–05:00 every
# day puts each switch inside working hours.
BERLIN = WorkCalendar.of([1, 2, 3, 4, 5, 6, 7], time(1), time(5), "Europe/Berlin")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ber(*args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin"))


def test_spring_forward_day_has_three_real_working_hours():
    # 01:00 CET = 00:00 UTC … 05:00 CEST = 03:00 UTC: 180 minutes, not the wall clock's 240
    assert working_minutes(ber(2026, 3, 29, 1), ber(2026, 3, 29, 5), BERLIN) == 180
    # 01:00 + 120 real minutes = 02:00 UTC = 04:00 CEST (the wall clock would say 03:00)
    assert add_working_minutes(ber(2026, 3, 29, 1), 120, BERLIN) == utc(2026, 3, 29, 2)
    assert add_working_minutes(ber(2026, 3, 29, 1), 120, BERLIN) == ber(2026, 3, 29, 4)
    # 200 minutes: 180 that day, 20 on Monday from 01:00 CEST → 01:20 CEST (23:20 UTC Sunday)
    assert add_working_minutes(ber(2026, 3, 29, 1), 200, BERLIN) == utc(2026, 3, 29, 23, 20)
    # the day before and after keep their 240
    assert working_minutes(ber(2026, 3, 28, 1), ber(2026, 3, 28, 5), BERLIN) == 240
    assert working_minutes(ber(2026, 3, 30, 1), ber(2026, 3, 30, 5), BERLIN) == 240


def test_fall_back_day_has_five_real_working_hours():
    # 01:00 CEST = 23:00 UTC (24 Oct) … 05:00 CET = 04:00 UTC: 300 minutes, not 240
    assert working_minutes(ber(2026, 10, 25, 1), ber(2026, 10, 25, 5), BERLIN) == 300
    # 01:00 CEST + 240 real minutes = 03:00 UTC = 04:00 CET (the wall clock would say 05:00)
    assert add_working_minutes(ber(2026, 10, 25, 1), 240, BERLIN) == utc(2026, 10, 25, 3)
    # + 300 = the end of that day's window exactly (05:00 CET = 04:00 UTC), not the next day
    assert add_working_minutes(ber(2026, 10, 25, 1), 300, BERLIN) == utc(2026, 10, 25, 4)
    # inside the repeated hour: 02:30 CEST (00:30 UTC) → 02:30 CET (01:30 UTC) is 60 minutes
    assert working_minutes(utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), BERLIN) == 60


def test_round_the_clock_calendar_across_both_switches():
    cal = WorkCalendar.of([1, 2, 3, 4, 5, 6, 7], time(0), time(23, 59), "Europe/Berlin")
    # Saturday 12:00 CET → Sunday 12:00 CEST across the spring switch: Saturday 12:00–23:59
    # (719) + Sunday 00:00 CET–12:00 CEST = 23:00–10:00 UTC (660, an hour lost) = 1379 real
    # minutes (the wall clock says 719 + 720 = 1439)
    assert working_minutes(ber(2026, 3, 28, 12), ber(2026, 3, 29, 12), cal) == 1379
    # autumn: 719 + Sunday 00:00 CEST–12:00 CET = 22:00–11:00 UTC (780, an hour gained) = 1499
    assert working_minutes(ber(2026, 10, 24, 12), ber(2026, 10, 25, 12), cal) == 1499
    start = ber(2026, 3, 28, 20)
    for minutes in (60, 239, 240, 1000, 1378, 2000):
        assert working_minutes(start, add_working_minutes(start, minutes, cal), cal) == minutes


# --- holidays and moved working days ---------------------------------------------------------
def test_holidays_are_skipped_even_on_working_weekdays():
    # New Year: 1–8 January 2027 (Fri 1 … Fri 8) are holidays, 9–10 the weekend
    new_year = [date(2027, 1, d) for d in range(1, 9)]
    cal = WorkCalendar.of([1, 2, 3, 4, 5], time(9), time(18), "Europe/Moscow", holidays=new_year)
    # Thursday 31 Dec 17:00 + 2 h: 1 h on Thursday, then Monday 11 January 09:00 + 1 h
    assert add_working_minutes(msk(2026, 12, 31, 17), 120, cal) == msk(2027, 1, 11, 10)
    # without the holidays: Friday 1 January 10:00
    assert add_working_minutes(msk(2026, 12, 31, 17), 120, CAL) == msk(2027, 1, 1, 10)
    assert working_minutes(msk(2026, 12, 31, 9), msk(2027, 1, 11, 18), cal) == 540 * 2
    assert not cal.is_working_day(date(2027, 1, 4)) and cal.is_working_day(date(2027, 1, 11))


def test_a_moved_working_saturday_counts():
    cal = WorkCalendar.of(
        [1, 2, 3, 4, 5], time(9), time(18), "Europe/Moscow", workdays=[date(2027, 2, 20)]
    )
    # Friday 19 Feb 2027 16:00 + 4 h: 2 h on Friday, 2 h on the working Saturday → Sat 11:00
    assert add_working_minutes(msk(2027, 2, 19, 16), 240, cal) == msk(2027, 2, 20, 11)
    # an ordinary Saturday (27 Feb) is still a day off: Fri 26 16:00 + 4 h → Mon 1 Mar 11:00
    assert add_working_minutes(msk(2027, 2, 26, 16), 240, cal) == msk(2027, 3, 1, 11)
    assert working_minutes(msk(2027, 2, 20, 0), msk(2027, 2, 21, 0), cal) == 540


# --- pauses move a deadline only when they begin before it ------------------------------------
def test_a_pause_begun_at_or_after_the_deadline_does_not_move_it():
    due = msk(2026, 11, 23, 14)  # Monday 14:00
    assert extend_for_pauses(due, [(msk(2026, 11, 23, 16), msk(2026, 11, 23, 21))], CAL) == due
    assert extend_for_pauses(due, [(due, msk(2026, 11, 23, 17))], CAL) == due


def test_a_pause_begun_before_the_deadline_moves_it_by_its_working_time():
    due = msk(2026, 11, 23, 14)
    # 11:00–12:30: 90 working minutes → 15:30
    one = [(msk(2026, 11, 23, 11), msk(2026, 11, 23, 12, 30))]
    assert extend_for_pauses(due, one, CAL) == msk(2026, 11, 23, 15, 30)
    # 13:00–15:00 crosses the deadline: at 13:00 one hour was left, spent after 15:00 → 16:00
    across = [(msk(2026, 11, 23, 13), msk(2026, 11, 23, 15))]
    assert extend_for_pauses(due, across, CAL) == msk(2026, 11, 23, 16)
    # due Monday 18:00, paused Monday 17:00 → Tuesday 10:00 = 60 + 60 → Tuesday 11:00
    night = [(msk(2026, 11, 23, 17), msk(2026, 11, 24, 10))]
    assert extend_for_pauses(msk(2026, 11, 23, 18), night, CAL) == msk(2026, 11, 24, 11)


def test_pauses_are_walked_in_order_against_the_deadline_in_force():
    due = msk(2026, 11, 23, 14)
    pauses = [
        (msk(2026, 11, 23, 15), msk(2026, 11, 23, 16)),  # given out of order on purpose
        (msk(2026, 11, 23, 11), msk(2026, 11, 23, 12)),
        (msk(2026, 11, 23, 16, 30), None),  # open: counts when it ends
    ]
    # 11–12 moves 14:00 → 15:00; 15–16 begins AT the deadline in force → no move
    assert extend_for_pauses(due, pauses, CAL) == msk(2026, 11, 23, 15)
    # had the first pause lasted until 12:30, the deadline (15:30) is in force when the second
    # begins at 15:00 → it moves by 60 more: 16:30
    pauses[1] = (msk(2026, 11, 23, 11), msk(2026, 11, 23, 12, 30))
    assert extend_for_pauses(due, pauses, CAL) == msk(2026, 11, 23, 16, 30)


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 3, 20),  # made aware (UTC) by ``timezones``
        max_value=datetime(2026, 11, 5),
        timezones=st.just(UTC),
    ),
    minutes=st.integers(min_value=1, max_value=6000),
    hours=st.sampled_from([(time(1), time(5)), (time(0), time(23, 59)), (time(9), time(18))]),
    off=st.sets(st.dates(min_value=date(2026, 3, 20), max_value=date(2026, 12, 31)), max_size=40),
)
def test_adding_and_counting_agree_across_dst_and_holidays(start, minutes, hours, off):
    """Whatever the start, the holidays and the switches in between, the working time from a
    start to ``add_working_minutes(start, m)`` is exactly m real minutes."""
    cal = WorkCalendar.of(
        [1, 2, 3, 4, 5, 6],
        hours[0],
        hours[1],
        "Europe/Berlin",
        holidays=off,
        workdays=[date(2026, 3, 29), date(2026, 10, 25)],  # the switch Sundays are worked
    )
    due = add_working_minutes(start, minutes, cal)
    assert working_minutes(start, due, cal) == minutes
    assert cal.is_working_day(due.astimezone(cal.tz).date())
