"""Template filters for money and numbers: ``{% load formatting %}``.

- ``{{ amount|money }}`` — an amount in the ``CURRENCY`` setting: ``14 000,00 ₽`` /
  ``RUB 14,000.00``; ``{{ amount|money:"EUR" }}`` for another currency.
- ``{{ count|number }}`` — grouping: ``100 000`` / ``100,000``; ``{{ x|number:2 }}`` — exactly
  2 decimals: ``1,50`` / ``1.50``.
- ``{{ fraction|percent }}`` — 0.123 → ``12,3 %`` / ``12.3%``; ``{{ fraction|percent:2 }}``.
- ``{{ points|percent_points }}`` — a value already in percent: 95.5 → ``95,5 %`` / ``95.5%``.

All use the active language and show ``—`` for None. The rules live in ``crm/formats.py``.
A value that is not a number is shown as it is rather than hidden.
"""

from django import template

from crm import formats

register = template.Library()


def _digits(arg, default: int | None) -> int | None:
    if arg in (None, ""):
        return default
    return int(arg)


@register.filter
def money(value, currency=None):
    try:
        return formats.format_money(value, currency or None)
    except ValueError:
        return value


@register.filter
def number(value, digits=None):
    try:
        return formats.format_number(value, _digits(digits, None))
    except ValueError:
        return value


@register.filter
def percent(value, digits=None):
    try:
        return formats.format_percent(value, _digits(digits, 1))
    except ValueError:
        return value


@register.filter
def percent_points(value, digits=None):
    try:
        return formats.format_percent_points(value, _digits(digits, 1))
    except ValueError:
        return value
