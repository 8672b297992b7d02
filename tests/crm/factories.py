"""Factories of the core package's own tables (the personas are in tests/factories.py)."""

import datetime

import factory
from factory.django import DjangoModelFactory

from crm.models import CalendarDay


class CalendarDayFactory(DjangoModelFactory):
    class Meta:
        model = CalendarDay
        django_get_or_create = ("date",)

    date = factory.Sequence(lambda n: datetime.date(2027, 1, 1) + datetime.timedelta(days=n))
    kind = CalendarDay.Kind.HOLIDAY
    name = "Holiday"


def holidays(*days: datetime.date) -> list[CalendarDay]:
    return [CalendarDayFactory(date=d) for d in days]
