"""Deal ageing (docs/decisions/deal-ageing.md) with frozen time, in Python and in SQL.

The seeded "Proposal" stage (order 20) expects 10 days: yellow from day 10, red from day 15
(150 %); for a class-A client yellow from ceil(10 × 70 %) = day 7, red from ceil(7 × 1.5) = 11.
The deal enters the stage on 1 March 2026 at 23:30 Moscow time (20:30 UTC: the local date
counts, not the UTC one).
"""

from datetime import date

import pytest

from sales import ageing
from sales.models import Deal, SalesSettings, Stage
from tests.sales.kanban_helpers import make_deal

pytestmark = pytest.mark.django_db

ENTERED = "2026-03-01 23:30"


def _colour_both_ways(deal, today):
    """The Python rule and the SQL filters must agree; return the colour."""
    deal = Deal.objects.select_related("stage", "client__metrics").get(pk=deal.pk)
    colour = ageing.deal_ageing(deal, today=today)
    qs = Deal.objects.filter(pk=deal.pk)
    assert ageing.filter_ageing(qs, "red", today=today).exists() == (colour == "red")
    assert ageing.filter_ageing(qs, "yellow", today=today).exists() == (colour == "yellow")
    assert ageing.filter_ageing(qs, "any", today=today).exists() == (colour is not None)
    assert ageing.with_ageing(qs, today=today).get().ageing == colour
    return colour


@pytest.mark.parametrize(
    ("today", "days", "colour"),
    [
        (date(2026, 3, 10), 9, None),  # the day before yellow
        (date(2026, 3, 11), 10, "yellow"),  # the first yellow day
        (date(2026, 3, 15), 14, "yellow"),  # the day before red
        (date(2026, 3, 16), 15, "red"),  # the first red day
    ],
)
def test_boundary_days(owner, today, days, colour):
    deal = make_deal(owner, stage_order=20, entered=ENTERED)
    assert ageing.days_in_stage(deal, today) == days
    assert _colour_both_ways(deal, today) == colour


@pytest.mark.parametrize(
    ("today", "colour"),
    [
        (date(2026, 3, 7), None),  # day 6
        (date(2026, 3, 8), "yellow"),  # day 7 = ceil(10 × 0.7)
        (date(2026, 3, 11), "yellow"),  # day 10: yellow for any client
        (date(2026, 3, 12), "red"),  # day 11 = ceil(7 × 1.5)
    ],
)
def test_class_a_ages_sooner(owner, today, colour):
    deal = make_deal(owner, stage_order=20, entered=ENTERED, abc="A")
    assert _colour_both_ways(deal, today) == colour


def test_class_b_and_no_class_use_the_stage_days(owner):
    b = make_deal(owner, stage_order=20, entered=ENTERED, abc="B")
    none = make_deal(owner, stage_order=20, entered=ENTERED)
    for deal in (b, none):
        assert _colour_both_ways(deal, date(2026, 3, 8)) is None
        assert _colour_both_ways(deal, date(2026, 3, 12)) == "yellow"


def test_settings_change_the_thresholds(owner):
    settings = SalesSettings.load()
    settings.class_a_ageing_pct = 50
    settings.red_ageing_pct = 200
    settings.save()
    deal = make_deal(owner, stage_order=20, entered=ENTERED, abc="A")
    assert _colour_both_ways(deal, date(2026, 3, 5)) is None  # day 4
    assert _colour_both_ways(deal, date(2026, 3, 6)) == "yellow"  # day 5 = 10 × 50 %
    assert _colour_both_ways(deal, date(2026, 3, 10)) == "yellow"  # day 9
    assert _colour_both_ways(deal, date(2026, 3, 11)) == "red"  # day 10 = 5 × 200 %


def test_a_future_next_step_pauses_ageing(owner):
    today = date(2026, 3, 20)  # day 19: red
    deal = make_deal(owner, stage_order=20, entered=ENTERED, next_step_date=date(2026, 3, 21))
    assert _colour_both_ways(deal, today) is None
    # the step's day itself and a past step do not pause
    Deal.objects.filter(pk=deal.pk).update(next_step_date=today)
    assert _colour_both_ways(deal, today) == "red"
    Deal.objects.filter(pk=deal.pk).update(next_step_date=date(2026, 3, 2))
    assert _colour_both_ways(deal, today) == "red"


def test_expected_days_zero_never_ages(owner):
    Stage.objects.filter(pipeline__code="sales", order=20).update(expected_days=0)
    deal = make_deal(owner, stage_order=20, entered=ENTERED, abc="A")
    assert _colour_both_ways(deal, date(2027, 3, 1)) is None


def test_closed_deals_do_not_age(owner):
    from sales import services

    deal = make_deal(owner, stage_order=20, entered=ENTERED)
    services.deal_win(actor=owner, deal=deal)
    deal.refresh_from_db()
    assert _colour_both_ways(deal, date(2026, 6, 1)) is None


def test_thresholds_round_up():
    settings = SalesSettings(class_a_ageing_pct=70, red_ageing_pct=150)
    assert ageing.thresholds(14, class_a=False, settings=settings) == ageing.Thresholds(14, 21)
    assert ageing.thresholds(14, class_a=True, settings=settings) == ageing.Thresholds(10, 15)
    assert ageing.thresholds(1, class_a=True, settings=settings) == ageing.Thresholds(1, 2)
    assert ageing.thresholds(0, class_a=True, settings=settings) is None
