"""Periods and windows: one convention for every app (docs/domain.md, "Windows").

Every period is **half-open**, ``[start, end)``: a day belongs to it when
``start <= day < end``. Consecutive periods therefore share no day and leave no gap, and a
computation "as of D" sees what is dated before D when its period ends at D.

- ``months_before(D, n)`` = ``[D − n months, D)``: the rolling periods of the lifecycle
  (P0 = ``months_before(D, W)``, P1 = the W months before P0, both counted from D).
- ``complete_months_before(D, n)`` = the n complete calendar months before D's month: the
  segmentation's analysis window (ABC and XYZ use the same months).
- ``months_through(D, n)`` = ``[D + 1 day − n months, D + 1 day)``: the last n months *up to
  and including* D, for figures shown "as of today" (the client card's 12 months).

Month arithmetic clamps the day to the target month's length (31 May − 3 months = 28/29 Feb).
Pure functions of dates: no clock, no database.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q


def add_months(day: date, months: int) -> date:
    """``day`` shifted by whole months, the day clamped to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_start(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class Period:
    """A half-open period of days, ``[start, end)``."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    @property
    def last_day(self) -> date:
        """The last day inside the period (for display: "1 April – 30 June")."""
        return self.end - timedelta(days=1)

    def q(self, field: str) -> Q:
        """The ORM filter ``start <= field < end``."""
        return Q(**{f"{field}__gte": self.start, f"{field}__lt": self.end})


def months_before(day: date, months: int) -> Period:
    """``[day − months, day)``."""
    return Period(add_months(day, -months), day)


def complete_months_before(day: date, months: int) -> Period:
    """The ``months`` complete calendar months before ``day``'s month."""
    end = month_start(day)
    return Period(add_months(end, -months), end)


def months_through(day: date, months: int) -> Period:
    """The last ``months`` months up to and including ``day``."""
    return months_before(day + timedelta(days=1), months)


def month_split(period: Period) -> tuple[Period | None, list[Period]]:
    """The whole calendar months inside ``period`` (None: not one) and the days before and
    after them: ``[1 Jan, 2 Dec)`` → ``[1 Jan, 1 Dec)`` and ``[[1 Dec, 2 Dec)]``."""
    first = period.start if period.start.day == 1 else add_months(month_start(period.start), 1)
    last = period.end if period.end.day == 1 else month_start(period.end)
    if first >= last:
        return None, [period]
    parts = [Period(period.start, first)] if period.start < first else []
    if last < period.end:
        parts.append(Period(last, period.end))
    return Period(first, last), parts
