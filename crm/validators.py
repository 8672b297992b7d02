"""Input validation shared by every app: the sane range of dates.

A date outside ``[DATE_MIN, DATE_MAX]`` is a typo or a fuzzer, never a business fact, and
date arithmetic near the ends of Python's calendar (year 1, year 9999) overflows: "the day
after 9999-12-31" or "0001-01-01 in UTC" raise ``OverflowError``. So every date that comes in
— model fields (and with them every ModelForm and ModelSerializer), form fields, list and API
filters — is refused outside this range with one clear message.
"""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)


@deconstructible
class DateRangeValidator:
    """Refuses a date (or datetime) outside ``[DATE_MIN, DATE_MAX]``."""

    message = _("Enter a date between %(min)s and %(max)s.")
    code = "date_out_of_range"

    def __call__(self, value) -> None:
        if value is None:
            return
        day = value.date() if isinstance(value, datetime) else value
        if not isinstance(day, date) or not (DATE_MIN <= day <= DATE_MAX):
            raise ValidationError(
                self.message,
                code=self.code,
                params={
                    "min": date_format(DATE_MIN, "SHORT_DATE_FORMAT"),
                    "max": date_format(DATE_MAX, "SHORT_DATE_FORMAT"),
                },
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, DateRangeValidator)

    def __hash__(self) -> int:
        return hash(DateRangeValidator)


validate_date_range = DateRangeValidator()


class DateField(forms.DateField):
    """A form date field refusing dates outside the sane range."""

    default_validators = [validate_date_range]


class DateTimeField(forms.DateTimeField):
    """A form datetime field refusing datetimes outside the sane range."""

    default_validators = [validate_date_range]
