"""``{{ params|deals_url }}``: the deal list (``/sales/``) filtered by a figure's parameters."""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

register = template.Library()

# the deal list's URL name (the deals owner's page); the funnel's prefix otherwise
LIST_NAMES = ("sales:list", "sales:deal_list", "sales:deals")


def deal_list_url() -> str:
    for name in LIST_NAMES:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return reverse("sales:funnel").removesuffix("funnel/")


@register.filter
def deals_url(params) -> str:
    if params is None:
        return ""
    return deal_list_url() + "?" + urlencode(params)


@register.filter
def state_link(data, state: str) -> str:
    """The deal list of the funnel's cohort in one state (open, won, lost)."""
    return deals_url(data.state_params(state))
