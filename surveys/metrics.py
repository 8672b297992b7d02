"""The survey formulas (docs/domain.md, "Surveys"): pure functions of raw scores, no database.

- **NPS** from 0–10 answers: promoters score 9–10, passives 7–8, detractors 0–6;
  NPS = % promoters − % detractors, from −100 to +100, rounded to one decimal, half away from
  zero (−12.25 → −12.3). No answers: None (not 0: "nobody answered" is not "neutral").
- **CSAT %** from 1–5 item scores: the share of 4 and 5 among all scores, in per cent, one
  decimal, half up. No scores: None.
- **Integral index**: the mean of all item scores (1–5), two decimals, half up. No scores: None.

Exact arithmetic: the counts are integers and the rounding is done on Decimals, never on floats.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

PROMOTER_MIN = 9
DETRACTOR_MAX = 6
SATISFIED_MIN = 4  # CSAT: 4 and 5 are "satisfied"
UNHAPPY_ITEM_MAX = 3  # the closed loop: an item scored 3 or lower opens a case

ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")


def band(score: int) -> str:
    """ "promoter", "passive" or "detractor" of one 0–10 answer."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS answer is 0–10, not {score}")
    if score >= PROMOTER_MIN:
        return "promoter"
    return "detractor" if score <= DETRACTOR_MAX else "passive"


def _round(value: Decimal, step: Decimal) -> Decimal:
    # ROUND_HALF_UP on Decimals rounds half away from zero: -12.25 -> -12.3
    return value.quantize(step, rounding=ROUND_HALF_UP)


def nps_from_counts(promoters: int, passives: int, detractors: int) -> Decimal | None:
    total = promoters + passives + detractors
    if total == 0:
        return None
    return _round(Decimal(100 * (promoters - detractors)) / Decimal(total), ONE_DECIMAL)


def nps(scores: Iterable[int]) -> Decimal | None:
    counts = {"promoter": 0, "passive": 0, "detractor": 0}
    for score in scores:
        counts[band(score)] += 1
    return nps_from_counts(counts["promoter"], counts["passive"], counts["detractor"])


def _items(scores: Iterable[int]) -> list[int]:
    values = list(scores)
    for score in values:
        if not 1 <= score <= 5:
            raise ValueError(f"an item score is 1–5, not {score}")
    return values


def share_pct(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in per cent, one decimal, half up (response rates)."""
    if whole == 0:
        return None
    return _round(Decimal(100 * part) / Decimal(whole), ONE_DECIMAL)


def csat_from_counts(satisfied: int, scores: int) -> Decimal | None:
    """CSAT % from counts (the analytics' SQL aggregates): ``satisfied`` 4–5 of ``scores``."""
    return share_pct(satisfied, scores)


def csat_pct(scores: Iterable[int]) -> Decimal | None:
    values = _items(scores)
    return csat_from_counts(sum(1 for s in values if s >= SATISFIED_MIN), len(values))


def index_from_sum(total: int, scores: int) -> Decimal | None:
    """The integral index from the sum and the number of item scores."""
    if scores == 0:
        return None
    return _round(Decimal(total) / Decimal(scores), TWO_DECIMALS)


def integral_index(scores: Iterable[int]) -> Decimal | None:
    values = _items(scores)
    return index_from_sum(sum(values), len(values))


def is_unhappy(nps_score: int | None, item_scores: Iterable[int]) -> bool:
    """The closed loop's rule: NPS 0–6 or any item scored 3 or lower."""
    if nps_score is not None and nps_score <= DETRACTOR_MAX:
        return True
    return any(s <= UNHAPPY_ITEM_MAX for s in item_scores)
