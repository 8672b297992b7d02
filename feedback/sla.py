"""Working-time arithmetic for complaint SLAs. Pure functions: no database, no clock.

A ``WorkCalendar`` says which ISO weekdays are working days (Monday = 1) and the working hours of
such a day in a time zone. ``add_working_minutes`` finds the instant N working minutes after a
start; ``working_minutes`` counts the working time between two instants minus paused intervals.
A deadline that falls exactly at the end of a working day stays there (18:00, not 09:00 next day).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 366 * 20  # a guard against a calendar with no working time


@dataclass(frozen=True)
class WorkCalendar:
    weekdays: frozenset[int]
    start: time
    end: time
    tz: ZoneInfo

    def __post_init__(self):
        if not self.weekdays or not self.weekdays <= set(range(1, 8)):
            raise ValueError("working days must be a non-empty subset of ISO weekdays 1..7")
        if self.end <= self.start:
            raise ValueError("the working day must end after it starts")

    @classmethod
    def of(cls, weekdays: Iterable[int], start: time, end: time, tz: str) -> "WorkCalendar":
        return cls(frozenset(int(d) for d in weekdays), start, end, ZoneInfo(tz))

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        if day.isoweekday() not in self.weekdays:
            return None
        return (
            datetime.combine(day, self.start, tzinfo=self.tz),
            datetime.combine(day, self.end, tzinfo=self.tz),
        )


def _aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("an aware datetime is required")


def add_working_minutes(start: datetime, minutes: float, cal: WorkCalendar) -> datetime:
    """The instant ``minutes`` working minutes after ``start`` (in the calendar's time zone)."""
    _aware(start)
    local = start.astimezone(cal.tz)
    remaining = timedelta(minutes=minutes)
    if remaining <= timedelta(0):
        return local
    day = local.date()
    for _ in range(MAX_DAYS):
        window = cal.window(day)
        if window:
            begin, end = max(window[0], local), window[1]
            if begin < end:
                available = end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        day += timedelta(days=1)
    raise ValueError("deadline too far in the future")


def _span(a: datetime, b: datetime, cal: WorkCalendar) -> timedelta:
    """Working time inside [a, b)."""
    if b <= a:
        return timedelta(0)
    a, b = a.astimezone(cal.tz), b.astimezone(cal.tz)
    total = timedelta(0)
    day = a.date()
    last = b.date()
    while day <= last:
        window = cal.window(day)
        if window:
            begin, end = max(window[0], a), min(window[1], b)
            if begin < end:
                total += end - begin
        day += timedelta(days=1)
    return total


def working_minutes(
    a: datetime,
    b: datetime,
    cal: WorkCalendar,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
) -> float:
    """Working minutes between ``a`` and ``b`` not covered by ``pauses``.

    Pauses are (start, end) intervals that do not overlap each other; an open pause (end None)
    lasts until ``b``. Negative when ``b`` is before ``a``.
    """
    _aware(a)
    _aware(b)
    if b < a:
        return -working_minutes(b, a, cal, pauses)
    total = _span(a, b, cal)
    for p_start, p_end in pauses:
        p_end = b if p_end is None else p_end
        total -= _span(max(p_start, a), min(p_end, b), cal)
    return total.total_seconds() / 60


def format_minutes(minutes: float) -> str:
    """'2 h 05 min' style, sign kept by the caller."""
    whole = int(abs(minutes))
    hours, mins = divmod(whole, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"
