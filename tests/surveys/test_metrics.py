"""The survey formulas worked by hand (docs/domain.md, "Surveys")."""

from decimal import Decimal

import pytest

from surveys import metrics


def test_all_passive_is_zero():
    assert metrics.nps([7, 8, 7, 8]) == Decimal("0.0")


def test_all_detractors_is_minus_100():
    assert metrics.nps([0, 3, 6]) == Decimal("-100.0")


def test_all_promoters_is_100():
    assert metrics.nps([9, 10]) == Decimal("100.0")


def test_mixed_set_by_hand():
    # promoters 10, 9, 9 (3); passives 8, 7 (2); detractors 6, 2, 0 (3); n = 8
    # NPS = 100 * (3 - 3) / 8 = 0; add a promoter: 4 - 3 = 1 of 9 -> 11.11… -> 11.1
    assert metrics.nps([10, 9, 9, 8, 7, 6, 2, 0]) == Decimal("0.0")
    assert metrics.nps([10, 9, 9, 8, 7, 6, 2, 0, 10]) == Decimal("11.1")


def test_rounding_half_away_from_zero():
    # 1 promoter and 7 passives: 100 * 1 / 8 = 12.5 exactly
    assert metrics.nps([9] + [7] * 7) == Decimal("12.5")
    # 1 promoter of 6: 16.666… -> 16.7; 1 detractor of 6: -16.7
    assert metrics.nps([10, 7, 7, 7, 7, 7]) == Decimal("16.7")
    assert metrics.nps([0, 7, 7, 7, 7, 7]) == Decimal("-16.7")
    # a half at the second decimal: 1 promoter of 80 = 1.25 -> 1.3 (half up),
    # 1 detractor of 80 = -1.25 -> -1.3 (half away from zero)
    assert metrics.nps([10] + [8] * 79) == Decimal("1.3")
    assert metrics.nps([0] + [8] * 79) == Decimal("-1.3")


def test_empty_is_none_not_zero():
    assert metrics.nps([]) is None
    assert metrics.csat_pct([]) is None
    assert metrics.integral_index([]) is None


def test_bands():
    assert [metrics.band(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    with pytest.raises(ValueError):
        metrics.band(11)


def test_csat_share_of_4_and_5():
    # 5, 4, 4 satisfied of 5, 4, 4, 3, 1 -> 3/5 = 60 %
    assert metrics.csat_pct([5, 4, 4, 3, 1]) == Decimal("60.0")
    # 2 of 3 -> 66.666… -> 66.7
    assert metrics.csat_pct([5, 4, 2]) == Decimal("66.7")
    with pytest.raises(ValueError):
        metrics.csat_pct([0])


def test_integral_index_mean_two_decimals():
    # (5 + 4 + 4 + 3 + 1) / 5 = 17 / 5 = 3.4
    assert metrics.integral_index([5, 4, 4, 3, 1]) == Decimal("3.40")
    # (5 + 4 + 2) / 3 = 3.666… -> 3.67
    assert metrics.integral_index([5, 4, 2]) == Decimal("3.67")
    # 1.125 -> 1.13 (half up): (1 * 7 + 2) / 8
    assert metrics.integral_index([1] * 7 + [2]) == Decimal("1.13")


def test_unhappy_rule():
    assert metrics.is_unhappy(6, [])
    assert not metrics.is_unhappy(7, [4, 5])
    assert metrics.is_unhappy(10, [5, 3])
    assert not metrics.is_unhappy(None, [])
