"""Working-time arithmetic: the SLA clock every app shares (complaints today; surveys, the
pipeline and loyalty reuse it). Pure functions: no database, no clock.

A ``WorkCalendar`` says which ISO weekdays are working days (Monday = 1), the working hours of
such a day in a time zone, and the exceptions of the non-working-dates calendar: holidays (not
worked even on a working weekday) and moved working days (worked even on a weekend).
``add_working_minutes`` finds the instant N working minutes after a start; ``working_minutes``
counts the working time between two instants minus paused intervals; ``extend_for_pauses``
moves a deadline by the pauses that stopped its clock.

Minutes are real elapsed minutes: the working window of a day is turned into UTC instants before
anything is compared, added or subtracted (Python's arithmetic on two datetimes of the same
zone is wall-clock arithmetic, one hour off on the days daylight saving time switches).
A deadline that falls exactly at the end of a working day stays there (18:00, not 09:00 next day).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 366 * 20  # a guard against a calendar with no working time


@dataclass(frozen=True)
class WorkCalendar:
    weekdays: frozenset[int]
    start: time
    end: time
    tz: ZoneInfo
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()  # moved working days (on a weekend)

    def __post_init__(self):
        if not self.weekdays or not self.weekdays <= set(range(1, 8)):
            raise ValueError("working days must be a non-empty subset of ISO weekdays 1..7")
        if self.end <= self.start:
            raise ValueError("the working day must end after it starts")

    @classmethod
    def of(
        cls,
        weekdays: Iterable[int],
        start: time,
        end: time,
        tz: str,
        *,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
    ) -> "WorkCalendar":
        return cls(
            frozenset(int(d) for d in weekdays),
            start,
            end,
            ZoneInfo(tz),
            frozenset(holidays),
            frozenset(workdays),
        )

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day in self.workdays or day.isoweekday() in self.weekdays

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of ``day`` as UTC instants, or None on a day off."""
        if not self.is_working_day(day):
            return None
        begin = datetime.combine(day, self.start, tzinfo=self.tz).astimezone(UTC)
        end = datetime.combine(day, self.end, tzinfo=self.tz).astimezone(UTC)
        return (begin, end) if begin < end else None


def _aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("an aware datetime is required")


def add_working_minutes(start: datetime, minutes: float, cal: WorkCalendar) -> datetime:
    """The instant ``minutes`` working minutes after ``start`` (in the calendar's time zone)."""
    _aware(start)
    remaining = timedelta(minutes=minutes)
    if remaining <= timedelta(0):
        return start.astimezone(cal.tz)
    at = start.astimezone(UTC)
    day = start.astimezone(cal.tz).date()
    for _ in range(MAX_DAYS):
        window = cal.window(day)
        if window:
            begin, end = max(window[0], at), window[1]
            if begin < end:
                available = end - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(cal.tz)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError("deadline too far in the future")


def _span(a: datetime, b: datetime, cal: WorkCalendar) -> timedelta:
    """Working time inside [a, b), in real elapsed time."""
    if b <= a:
        return timedelta(0)
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta(0)
    day = a.astimezone(cal.tz).date()
    last = b.astimezone(cal.tz).date()
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


def extend_for_pauses(
    due: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]],
    cal: WorkCalendar,
) -> datetime:
    """``due`` (planned as if the clock never stopped) moved by the pauses that stopped it.

    The clock stops only while it still runs, i.e. before the deadline in force: the pauses are
    walked in order of their start; one that begins before the deadline in force moves it by the
    working time it covers (the budget left when it began is spent after it ends); one that
    begins at or after it changes nothing — the deadline had passed, a breach stays a breach.
    Open pauses (end None) are skipped: they count when they end.
    """
    _aware(due)
    for p_start, p_end in sorted((p for p in pauses if p[1] is not None), key=lambda p: p[0]):
        if p_start < due:
            due = add_working_minutes(due, working_minutes(p_start, p_end, cal), cal)
    return due.astimezone(cal.tz)


def format_minutes(minutes: float) -> str:
    """'2 h 05 min' style, sign kept by the caller."""
    whole = int(abs(minutes))
    hours, mins = divmod(whole, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"
