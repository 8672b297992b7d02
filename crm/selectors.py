"""Reads of the core package."""

from collections.abc import Iterable
from datetime import date, time

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Model, QuerySet, Window

from crm.models import AuditEntry, BeaconNotice, CalendarDay, OutboxMessage
from crm.worktime import WorkCalendar


def audit_for_object(instance: Model) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=str(instance.pk),
    ).select_related("actor")


def first_with_total(queryset: QuerySet, limit: int) -> tuple[list, int]:
    """The first ``limit`` rows of an ordered ``queryset`` and how many it holds, in one read:
    a window count rides on each row instead of a second ``COUNT`` (or every id brought over)."""
    rows = list(queryset.annotate(listed_total=Window(Count("pk")))[:limit])
    return rows, rows[0].listed_total if rows else 0


UNREAD_CAP = 99


def unread_beacon_notices(user, cap: int = UNREAD_CAP) -> int:
    """How many of ``user``'s beacon notices are unread, counting at most ``cap`` + 1 (the
    navigation shows "99+"): one query on the partial index of unread notices, bounded
    whatever the backlog."""
    unread = BeaconNotice.objects.filter(recipient=user, read_at__isnull=True)
    return unread.order_by()[: cap + 1].count()


def calendar_days_of_year(year: int) -> QuerySet[CalendarDay]:
    return CalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lt=date(year + 1, 1, 1))


def calendar_years() -> list[int]:
    """The years that have entries (for the calendar page's year switcher)."""
    return sorted({d.year for d in CalendarDay.objects.dates("date", "year")})


def work_calendar_of(weekdays: Iterable[int], start: time, end: time, tz: str) -> WorkCalendar:
    """A clock's calendar: the weekly pattern given by the caller's settings plus the
    non-working-dates calendar, read in one query. The table holds a few dozen rows a year, so
    all of them are read (a deadline can be re-planned from a registration long ago)."""
    holidays, workdays = set(), set()
    for day, kind in CalendarDay.objects.values_list("date", "kind"):
        (holidays if kind == CalendarDay.Kind.HOLIDAY else workdays).add(day)
    return WorkCalendar.of(weekdays, start, end, tz, holidays=holidays, workdays=workdays)


def outbox_waiting(task: str, *args) -> bool:
    """Is a queued ``task(*args)`` still waiting for the broker (not published yet)?"""
    return OutboxMessage.objects.filter(task=task, args=list(args), sent_at__isnull=True).exists()
