from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(cents):
    """Integer cents → Decimal currency units (format with floatformat in the template)."""
    if cents in (None, ""):
        return None
    return Decimal(int(cents)) / 100


@register.filter
def pct(fraction, digits: int = 1):
    """A fraction (0.123) → 12.3; None stays None (shown as —)."""
    if fraction is None or fraction != fraction:  # None or NaN
        return None
    return round(float(fraction) * 100, int(digits))


@register.filter
def bar(value, maximum):
    """Width in % of a bar for value against maximum."""
    try:
        return max(0, min(100, round(abs(float(value)) / float(maximum) * 100)))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0
