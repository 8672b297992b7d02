"""The engine's arithmetic on small datasets whose answers are worked out by hand."""

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from crm.periods import Period
from segmentation import analytics
from segmentation.analytics import (
    Params,
    add_months,
    classify_abc,
    lifecycle_status,
    quintile_scores,
    xyz_from_series,
)


def abc_of(basis: dict[int, int], a=50, b=80) -> dict[int, str]:
    frame = classify_abc(np.array(list(basis)), np.array(list(basis.values())), a, b)
    return frame["abc"].to_dict()


# --- ABC --------------------------------------------------------------------------------------
def test_abc_decides_on_the_share_before_the_client():
    # total 100; shares before: 0, 40, 70, 90, 96
    frame = classify_abc(np.array([1, 2, 3, 4, 5]), np.array([40, 30, 20, 6, 4]), 50, 80)
    assert frame["share_before"].round(4).to_dict() == {1: 0, 2: 0.4, 3: 0.7, 4: 0.9, 5: 0.96}
    # client 2 crosses 50 % (40 → 70) and stays in A, where it starts
    assert frame["abc"].to_dict() == {1: "A", 2: "A", 3: "B", 4: "C", 5: "C"}
    assert frame["rank"].to_dict() == {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}


def test_abc_share_before_exactly_on_the_threshold_goes_to_the_next_class():
    # shares before: 0, 50 (not < 50 → B), 80 (not < 80 → C)
    assert abc_of({1: 50, 2: 30, 3: 20}) == {1: "A", 2: "B", 3: "C"}


def test_abc_exact_on_boundary_with_non_round_cents():
    # 1/3 each of 300.03: shares before 0, 33.33 %, 66.67 % → A, A, B
    assert abc_of({1: 10001, 2: 10001, 3: 10001}) == {1: "A", 2: "A", 3: "B"}


def test_abc_ties_are_broken_by_client_id():
    # 3 has 40 (before 0: A); 1 and 2 both 30: 1 first (before 40: A), 2 (before 70: B)
    assert abc_of({2: 30, 1: 30, 3: 40}) == {1: "A", 2: "B", 3: "A"}


def test_abc_zero_and_negative_turnover_are_c_and_add_nothing():
    frame = classify_abc(np.array([1, 2, 3, 4]), np.array([100, 0, -50, 60]), 50, 80)
    # positive total 160: 1 before 0 → A, 4 before 62.5 % → B; 0 and refunds → C
    assert frame["abc"].to_dict() == {1: "A", 4: "B", 2: "C", 3: "C"}
    assert frame.loc[2, "share"] == 0 and frame.loc[3, "share"] == 0
    assert frame.loc[3, "share_before"] == 1.0


def test_abc_only_refunds_all_c():
    assert abc_of({1: -10, 2: 0}) == {1: "C", 2: "C"}


def test_abc_single_client_is_a():
    frame = classify_abc(np.array([7]), np.array([123]), 50, 80)
    assert frame["abc"].to_dict() == {7: "A"}
    assert frame.loc[7, "share"] == 1.0


def test_abc_classic_preset():
    # shares before: 0, 70, 90, 96 → 80/95: A, A, B, C
    assert abc_of({1: 70, 2: 20, 3: 6, 4: 4}, 80, 95) == {1: "A", 2: "A", 3: "B", 4: "C"}


def test_abc_empty():
    assert classify_abc(np.array([]), np.array([]), 50, 80).empty


# --- XYZ --------------------------------------------------------------------------------------
def xyz_of(series, start=0, x=10, y=25):
    frame = xyz_from_series(np.array([series], dtype=float), np.array([start]), x, y)
    return frame.iloc[0]


def test_xyz_cv_exactly_10_percent_is_x():
    row = xyz_of([90, 110, 90, 110])  # μ 100, σ 10
    assert row["cv"] == pytest.approx(0.10)
    assert row["xyz"] == "X"


def test_xyz_cv_exactly_25_percent_is_y_and_above_is_z():
    assert xyz_of([75, 125, 75, 125])["xyz"] == "Y"  # σ 25
    assert xyz_of([74, 126, 74, 126])["xyz"] == "Z"  # σ 26


def test_xyz_uses_population_sigma():
    row = xyz_of([100, 200, 300])  # μ 200, σ² = (100² + 0 + 100²) / 3 (not / 2)
    assert row["sigma"] == pytest.approx((20000 / 3) ** 0.5)
    assert row["cv"] == pytest.approx(0.408248, rel=1e-5)


def test_xyz_months_without_sales_count_as_zero():
    row = xyz_of([100, 0, 100, 0])  # μ 50, σ 50
    assert row["cv"] == pytest.approx(1.0)
    assert row["xyz"] == "Z"


def test_xyz_months_before_the_first_settlement_are_not_counted():
    row = xyz_of([0, 0, 100, 100, 100], start=2)
    assert row["months_history"] == 3
    assert row["cv"] == 0 and row["xyz"] == "X"


def test_xyz_mean_zero_is_z_without_cv():
    row = xyz_of([100, -100, 0])
    assert row["xyz"] == "Z"
    assert np.isnan(row["cv"])


def test_xyz_two_months_of_history_gets_no_class():
    row = xyz_of([0, 0, 0, 100, 100], start=3)
    assert row["months_history"] == 2
    assert row["xyz"] is None


# --- lifecycle --------------------------------------------------------------------------------
def test_lifecycle_statuses():
    # columns: ever, first in P0, in P0, in P1, before P1
    cases = {
        "potential": (False, False, False, False, False),
        "new": (True, True, True, False, False),
        "regular": (True, False, True, True, True),
        "restored": (True, False, True, False, True),
        "lost": (True, False, False, True, True),
    }
    status = lifecycle_status(*[np.array(col) for col in zip(*cases.values(), strict=True)])
    assert list(status) == list(cases)


def test_periods_count_back_from_the_run_date():
    params = Params(as_of=date(2026, 5, 31), window_months=12, lifecycle_months=3)
    assert params.window_start == date(2025, 5, 1)
    assert params.window_end == date(2026, 5, 1)
    assert params.p0 == Period(date(2026, 2, 28), date(2026, 5, 31))  # clamped to Feb's length
    assert params.p1 == Period(date(2025, 11, 30), date(2026, 2, 28))  # both counted from D
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


# --- RFM --------------------------------------------------------------------------------------
def test_rfm_quintiles():
    assert list(quintile_scores([10, 20, 30, 40, 50])) == [1, 2, 3, 4, 5]
    assert list(quintile_scores(range(1, 11))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(quintile_scores([5, 5, 5])) == [5, 5, 5]  # ties: equal scores
    assert list(quintile_scores([7])) == [5]
    # recency: fewer days is better
    assert list(quintile_scores([1, 100], higher_is_better=False)) == [5, 3]


def test_threshold_parsing_is_exact():
    assert analytics.pct_to_basis_points(Decimal("33.33")) == 3333
    assert analytics.pct_to_basis_points("50") == 5000
