"""Demo and benchmark data: a deterministic, bilingual client base with 24 months of settlements.

``seed(clients=N, settlements=M, seed=S)`` generates everything with numpy arrays (no Python loop
per settlement) and loads it in bulk: PostgreSQL gets ``COPY … FROM STDIN`` in chunks, other
databases (SQLite) a multi-row ``executemany``. Dates are relative to ``timezone.localdate()`` at
the time of the call, so the same seed on the same day gives the same data.

Client purchase patterns (so every ABC/XYZ class and lifecycle status appears after a
segmentation run):

- ``steady``     — the same number of purchases every month, amounts ±3 % → XYZ X, regular;
- ``seasonal``   — one purchase a month, amount follows a yearly sine wave → Y or Z, regular;
- ``irregular``  — bursty purchases in random months → Z;
- ``one_off``    — a single purchase 4–23 months ago → lost;
- ``fading``     — bought for a year or more, stopped 4–12 months ago → lost;
- ``returning``  — bought long ago, nothing for 5+ months, bought again in the last two
  calendar months → restored;
- ``new``        — first purchase in the last two calendar months → new;
- ``never``      — no settlements at all → potential.

Turnover is heavy-tailed (log-normal), so a few big clients make class A. A few refunds are
negative amounts.
"""

from devtools.demo.generate import (
    DEFAULT_SEED,
    MAX_EXTRA_AMS,
    SIZES,
    SeedResult,
    ensure_account_managers,
    ensure_catalogue,
    reset,
    seed,
)
from devtools.demo.plan import MONTHS, PATTERNS, plan_counts
from devtools.demo.vocabulary import EXTRA_AMS

__all__ = [
    "DEFAULT_SEED",
    "EXTRA_AMS",
    "MAX_EXTRA_AMS",
    "MONTHS",
    "PATTERNS",
    "SIZES",
    "SeedResult",
    "ensure_account_managers",
    "ensure_catalogue",
    "plan_counts",
    "reset",
    "seed",
]
