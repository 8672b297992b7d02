from django import template

register = template.Library()


@register.filter
def bar(value, maximum):
    """Width in % of a bar for value against maximum."""
    try:
        return max(0, min(100, round(abs(float(value)) / float(maximum) * 100)))
    except (TypeError, ValueError, ZeroDivisionError):
        return 0
