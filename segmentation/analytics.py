"""The segmentation engine's arithmetic (docs/domain.md, "Segmentation"): ABC, XYZ, lifecycle, RFM.

Pure, vectorised classification on pandas/numpy frames (``classify``): no Python loop over
clients, no database. Every function here is a pure function of its inputs, tested with small
hand-worked datasets (tests/segmentation/test_analytics.py). The frames come from the SQL
aggregation in ``segmentation.loading`` (``load_frames``): the database groups settlements by
client and month over the window and by client before it.

Rules and the decisions taken where the rules leave room (also in the settings page help):

- **Windows** (one convention, ``crm/periods.py``): a run for date D sees settlements dated
  *before* D; every period is half-open ``[start, end)``. The analysis window is the
  ``window_months`` complete calendar months before D's month (``complete_months_before``);
  ABC, XYZ and RFM frequency/monetary use the same months, so the classes are stable within a
  month. A client "has settlements in the window" when at least one settlement record (sale,
  zero-amount free goods or refund) is dated in it.
- **ABC.** Basis = net sum of amounts (or margins, a setting; a missing margin counts as 0)
  over the window. Clients in the window are ranked by basis descending, ties broken by client
  id ascending (deterministic). ``share_before`` = cumulative share of the clients ranked
  strictly above; the total is the sum of the *positive* bases. A if share_before < A %, B if
  share_before < B %, else C — so the first client is always A and the client that crosses a
  boundary stays in the class it starts in. A client whose basis is zero or negative (refunds)
  still gets a class: **C**, with share 0; it adds nothing to the cumulative share. The
  comparison is exact (integer cents × basis points), never a float near a boundary.
- **XYZ.** Monthly net turnover over the window's months. History starts at the month of the
  client's first settlement ever (months before it are not counted; a client with settlements
  before the window has the whole window as history); months without sales inside the
  history count as 0. μ = mean, σ = population standard deviation (ddof=0), CV = σ/μ.
  X if CV ≤ X %, Y if CV ≤ Y %, Z above (a 1e-9 tolerance so 10 % is exactly X). Fewer than 3
  months of history → no XYZ (NULL, shown "—"). A **new** client (first settlement ever in P0)
  has no XYZ either, even when its few weeks touch three calendar months. **μ ≤ 0** (refunds
  cancel the sales) → **Z** with CV undefined (NULL): the demand is anything but stable. XYZ
  is only computed for clients with an ABC class (settlements in the window).
- **Lifecycle.** W months (setting); P0 = [D − W months, D), P1 = [D − 2W months, D − W
  months), both counted from D. Every settlement record before D counts (a zero amount too);
  settlements dated on D or later are ignored. potential: none ever; new: first ever in P0;
  regular: in P0 and P1; restored: in P0, none in P1, some before P1; lost: some, none in P0.
  The settings enforce 2W ≤ window so P0 and P1 lie inside the aggregated range.
- **RFM** (clients with settlements in the window): R = days from the last settlement before D
  to D, F = number of settlement records in the window (zero amounts included), M = net
  turnover in the window. Score = ceil(5 · rank / n) with rank = the *highest* rank among
  ties (1 = worst): quintiles 1–5, equal values get equal scores, a single client scores 5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from crm.periods import Period, add_months, complete_months_before, months_before

EPOCH = date(1970, 1, 1)
XYZ_MIN_MONTHS = 3
CV_TOLERANCE = 1e-9
_ABC_RANK = {"A": 3, "B": 2, "C": 1}


# --- dates ------------------------------------------------------------------------------------
def day_number(day: date) -> int:
    return (day - EPOCH).days


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of_day(days: np.ndarray) -> np.ndarray:
    """month_index() of day numbers, vectorised."""
    months = np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[M]")
    return (months.astype("int64") + 1970 * 12).astype(np.int32)


def to_cents(amounts: np.ndarray) -> np.ndarray:
    """Decimal sums read as floats → integer cents (exact: the sums have 2 decimals)."""
    return np.rint(np.nan_to_num(np.asarray(amounts, dtype=np.float64)) * 100).astype(np.int64)


def month_from_index(index: int) -> date:
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


@dataclass(frozen=True)
class Params:
    """Everything a run depends on besides the data."""

    as_of: date
    window_months: int = 12
    basis: str = "turnover"  # or "margin"
    abc_a_pct: Decimal = Decimal("50")
    abc_b_pct: Decimal = Decimal("80")
    xyz_x_pct: Decimal = Decimal("10")
    xyz_y_pct: Decimal = Decimal("25")
    lifecycle_months: int = 3

    @property
    def window(self) -> Period:
        """The analysis window: the complete calendar months before the run date's month."""
        return complete_months_before(self.as_of, self.window_months)

    @property
    def window_end(self) -> date:
        """First day of the run date's month: the window ends before it (exclusive)."""
        return self.window.end

    @property
    def window_start(self) -> date:
        return self.window.start

    @property
    def p0(self) -> Period:
        """P0 = [D − W months, D)."""
        return months_before(self.as_of, self.lifecycle_months)

    @property
    def p1(self) -> Period:
        """P1 = [D − 2W months, D − W months), both ends counted from D."""
        return Period(add_months(self.as_of, -2 * self.lifecycle_months), self.p0.start)

    def as_json(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "window_months": self.window_months,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "basis": self.basis,
            "abc_a_pct": str(self.abc_a_pct),
            "abc_b_pct": str(self.abc_b_pct),
            "xyz_x_pct": str(self.xyz_x_pct),
            "xyz_y_pct": str(self.xyz_y_pct),
            "lifecycle_months": self.lifecycle_months,
        }

    @classmethod
    def from_json(cls, p: dict) -> Params:
        """The parameters a run stored (``as_json``), read back."""
        return cls(
            as_of=date.fromisoformat(p["as_of"]),
            window_months=int(p["window_months"]),
            basis=p["basis"],
            abc_a_pct=Decimal(p["abc_a_pct"]),
            abc_b_pct=Decimal(p["abc_b_pct"]),
            xyz_x_pct=Decimal(p["xyz_x_pct"]),
            xyz_y_pct=Decimal(p["xyz_y_pct"]),
            lifecycle_months=int(p["lifecycle_months"]),
        )


# --- the input of the classification ----------------------------------------------------------
@dataclass
class Frames:
    """What ``segmentation.loading.load_frames`` reads: one row per client (its current
    classes), per client and month in the window (cents, count, first and last day), and per
    client before the window (first and last day)."""

    clients: pd.DataFrame
    monthly: pd.DataFrame
    before: pd.DataFrame


# --- classification: pure functions -----------------------------------------------------------
def _below(numerator: np.ndarray, total: int, basis_points: int) -> np.ndarray:
    """numerator / total < basis_points / 10000, exactly (integers, no float rounding)."""
    if total <= 0:
        return np.zeros(len(numerator), dtype=bool)
    if total < 2**62 // 10_000 and basis_points <= 1_000_000:
        return numerator.astype(np.int64) * 10_000 < basis_points * total
    big = numerator.astype(object) * 10_000  # beyond int64: Python integers, still exact
    return np.asarray(big < basis_points * int(total), dtype=bool)


def pct_to_basis_points(pct: Decimal | float | str) -> int:
    return int((Decimal(str(pct)) * 100).to_integral_value())


def classify_abc(client_ids: np.ndarray, basis_cents: np.ndarray, a_pct, b_pct) -> pd.DataFrame:
    """ABC on the share *before* each client. Returns a frame indexed by client_id with
    rank, share, share_before, abc (see the module docstring for the rules)."""
    ids = np.asarray(client_ids, dtype=np.int64)
    basis = np.asarray(basis_cents, dtype=np.int64)
    if len(ids) == 0:
        return pd.DataFrame(
            {"rank": [], "share": [], "share_before": [], "abc": []},
            index=pd.Index([], name="client_id", dtype="int64"),
        )
    order = np.lexsort((ids, -basis))  # basis desc, then id asc
    ids_sorted, basis_sorted = ids[order], basis[order]
    positive = np.where(basis_sorted > 0, basis_sorted, 0)
    total = int(positive.sum())
    cum_before = np.cumsum(positive) - positive
    in_a = _below(cum_before, total, pct_to_basis_points(a_pct))
    in_b = _below(cum_before, total, pct_to_basis_points(b_pct))
    abc = np.where(in_a, "A", np.where(in_b, "B", "C")).astype(object)
    abc[basis_sorted <= 0] = "C"
    if total > 0:
        share = positive / total
        share_before = cum_before / total
    else:
        share = np.full(len(ids), np.nan)
        share_before = np.full(len(ids), np.nan)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(ids) + 1, dtype=np.int64),
            "share": share,
            "share_before": share_before,
            "abc": abc,
        },
        index=pd.Index(ids_sorted, name="client_id"),
    )


def monthly_matrix(
    client_ids: np.ndarray, positions: np.ndarray, months: np.ndarray, amounts: np.ndarray, n_months
) -> np.ndarray:
    """Dense (clients × months) matrix of cents; ``positions`` index rows."""
    flat = np.asarray(positions, dtype=np.int64) * n_months + np.asarray(months, dtype=np.int64)
    sums = np.bincount(
        flat, weights=np.asarray(amounts, dtype=np.float64), minlength=len(client_ids) * n_months
    )
    return sums.reshape(len(client_ids), n_months)


def xyz_from_series(matrix: np.ndarray, start: np.ndarray, x_pct, y_pct) -> pd.DataFrame:
    """XYZ from a (clients × months) matrix and each client's first history month (column
    index; months before it are not counted). Returns months_history, mean, sigma, cv, xyz."""
    n_clients, n_months = matrix.shape
    columns = np.arange(n_months)
    mask = columns[None, :] >= start[:, None]
    history = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(history > 0, (matrix * mask).sum(axis=1) / np.maximum(history, 1), 0.0)
        deviation = (matrix - mean[:, None]) * mask
        sigma = np.sqrt((deviation**2).sum(axis=1) / np.maximum(history, 1))
        cv = np.where(mean > 0, sigma / np.where(mean > 0, mean, 1.0), np.nan)
    return xyz_from_cv(history, mean, cv, x_pct, y_pct).assign(sigma=sigma)


def xyz_from_cv(history, mean, cv, x_pct, y_pct) -> pd.DataFrame:
    """The XYZ decision from the figures (also used by the what-if preview)."""
    history = np.asarray(history, dtype=np.int64)
    mean = np.asarray(mean, dtype=np.float64)
    cv = np.asarray(cv, dtype=np.float64)
    x = float(Decimal(str(x_pct)) / 100) + CV_TOLERANCE
    y = float(Decimal(str(y_pct)) / 100) + CV_TOLERANCE
    xyz = np.where(cv <= x, "X", np.where(cv <= y, "Y", "Z")).astype(object)
    xyz[mean <= 0] = "Z"
    xyz[history < XYZ_MIN_MONTHS] = None
    # no CV shown without a class (fewer than 3 months: "—", not a guess; μ ≤ 0: undefined)
    cv_out = np.where((history >= XYZ_MIN_MONTHS) & (mean > 0), cv, np.nan)
    return pd.DataFrame({"months_history": history, "mean": mean, "cv": cv_out, "xyz": xyz})


def quintile_scores(values, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1–5: ceil(5 · rank / n), rank ascending from the worst, ties take the highest
    rank (equal values, equal scores)."""
    series = pd.Series(np.asarray(values, dtype=np.float64))
    if series.empty:
        return np.array([], dtype=np.int64)
    ranked = (series if higher_is_better else -series).rank(method="max")
    return np.ceil(5 * ranked.to_numpy() / len(series)).astype(np.int64).clip(1, 5)


def lifecycle_status(ever, first_after_p0, in_p0, in_p1, before_p1) -> np.ndarray:
    """potential / new / regular / restored / lost from boolean arrays (docs/domain.md)."""
    ever = np.asarray(ever, dtype=bool)
    in_p0 = np.asarray(in_p0, dtype=bool)
    in_p1 = np.asarray(in_p1, dtype=bool)
    before_p1 = np.asarray(before_p1, dtype=bool)
    first_after_p0 = np.asarray(first_after_p0, dtype=bool)
    return np.select(
        [~ever, first_after_p0, in_p0 & in_p1, in_p0 & ~in_p1 & before_p1],
        ["potential", "new", "regular", "restored"],
        default="lost",
    ).astype(object)


def abc_move(old, new) -> np.ndarray:
    old = pd.Series(old, dtype=object)
    new = pd.Series(new, dtype=object)
    old_rank = old.map(_ABC_RANK).fillna(0).to_numpy()
    new_rank = new.map(_ABC_RANK).fillna(0).to_numpy()
    return np.select(
        [
            (old_rank == 0) & (new_rank > 0),
            (old_rank > 0) & (new_rank == 0),
            new_rank > old_rank,
            new_rank < old_rank,
        ],
        ["gained", "dropped", "up", "down"],
        default="",
    ).astype(object)


@dataclass
class Result:
    """Per client (index client_id, every client): new classes, old classes, figures."""

    frame: pd.DataFrame
    summary: dict = field(default_factory=dict)

    @property
    def changed_mask(self) -> np.ndarray:
        """Clients whose ABC, XYZ or lifecycle differs from their current one."""
        f = self.frame
        mask = np.zeros(len(f), dtype=bool)
        for new, old in (("abc", "abc_old"), ("xyz", "xyz_old"), ("lifecycle", "lifecycle_old")):
            mask |= f[new].fillna("").to_numpy() != f[old].fillna("").to_numpy()
        return mask


def _hits(mn: np.ndarray, mx: np.ndarray, period: Period) -> np.ndarray:
    """Does a month bucket have a settlement in the half-open ``period``? Iff its first or last
    date falls there: a period of W >= 1 months always starts in an earlier calendar month
    than its last day, so no bucket can hold days on both sides of it."""
    start, end = day_number(period.start), day_number(period.end)
    return ((mn >= start) & (mn < end)) | ((mx >= start) & (mx < end))


def classify(frames: Frames, params: Params, *, consume: bool = False) -> Result:
    """One pass over the aggregated frames: ABC, XYZ, lifecycle, RFM for every client.
    ``consume=True`` releases ``frames.monthly`` once used (a run does not need it after)."""
    clients = frames.clients.set_index("client_id").sort_index()
    monthly = frames.monthly
    before = frames.before.set_index("client_id")
    out = pd.DataFrame(index=clients.index)
    out[["abc_old", "xyz_old", "lifecycle_old"]] = clients[["abc_old", "xyz_old", "lifecycle_old"]]

    m0 = month_index(params.window_start)
    m_end = month_index(params.window_end)  # exclusive
    n_months = m_end - m0
    p0, p1 = params.p0, params.p1
    as_of = day_number(params.as_of)

    # only clients that exist (a settlement of a client deleted meanwhile is ignored)
    known = monthly["client_id"].isin(out.index)
    if not known.all():  # copy only when there is something to drop (memory at 10M rows)
        monthly = monthly[known]
    del known
    before = before[before.index.isin(out.index)]

    # --- per-client facts from the buckets (one groupby) --------------------------------------
    mn, mx = monthly["min_day"].to_numpy(), monthly["max_day"].to_numpy()

    in_window_month = (monthly["month"].to_numpy() < m_end).astype(np.int8)
    buckets = pd.DataFrame(
        {
            "client_id": monthly["client_id"].to_numpy(),
            "min_day": mn,
            "max_day": mx,
            "in_p0": _hits(mn, mx, p0).astype(np.int8),
            "in_p1": _hits(mn, mx, p1).astype(np.int8),
            "before_p1": (mn < day_number(p1.start)).astype(np.int8),
            "in_window": in_window_month,
            "amount": np.where(in_window_month == 1, monthly["amount"].to_numpy(), 0),
            "margin": np.where(in_window_month == 1, monthly["margin"].to_numpy(), 0),
            "n": np.where(in_window_month == 1, monthly["n"].to_numpy(), 0),
        }
    )
    per_client = buckets.groupby("client_id", sort=True).agg(
        min_day=("min_day", "min"),
        max_day=("max_day", "max"),
        in_p0=("in_p0", "max"),
        in_p1=("in_p1", "max"),
        before_p1=("before_p1", "max"),
        in_window=("in_window", "max"),
        amount=("amount", "sum"),
        margin=("margin", "sum"),
        n=("n", "sum"),
    )
    del buckets, in_window_month, mn, mx
    out = out.join(per_client, how="left")
    has_before = out.index.isin(before.index)
    out["before_min"] = before["min_day"].reindex(out.index)
    out["before_max"] = before["max_day"].reindex(out.index)
    out["first_day"] = out[["min_day", "before_min"]].min(axis=1)
    out["last_day"] = out[["max_day", "before_max"]].max(axis=1)
    out["ever"] = out["first_day"].notna()
    out["in_window"] = out["in_window"].fillna(0).astype(bool)
    for col in ("amount", "margin", "n"):
        out[col] = out[col].fillna(0).astype(np.int64)

    # --- lifecycle ----------------------------------------------------------------------------
    out["lifecycle"] = lifecycle_status(
        out["ever"].to_numpy(),
        (out["first_day"].fillna(-(10**9)) >= day_number(p0.start)).to_numpy(),
        out["in_p0"].fillna(0).astype(bool).to_numpy(),
        out["in_p1"].fillna(0).astype(bool).to_numpy(),
        (out["before_p1"].fillna(0).astype(bool) | has_before).to_numpy(),
    )

    # --- ABC ----------------------------------------------------------------------------------
    window = out[out["in_window"]]
    basis = window["margin"] if params.basis == "margin" else window["amount"]
    abc = classify_abc(
        window.index.to_numpy(), basis.to_numpy(), params.abc_a_pct, params.abc_b_pct
    )
    out = out.join(abc, how="left")
    out["abc"] = out["abc"].astype(object).where(out["abc"].notna(), None)

    # --- XYZ ----------------------------------------------------------------------------------
    window_ids = window.index.to_numpy()  # sorted: out is sorted by client_id
    wm = monthly[(monthly["month"] >= m0) & (monthly["month"] < m_end)]
    matrix = monthly_matrix(
        window_ids,
        np.searchsorted(window_ids, wm["client_id"].to_numpy()),
        wm["month"].to_numpy() - m0,
        wm["amount"].to_numpy(),
        n_months,
    )
    del wm, monthly
    if consume:
        frames.monthly = None  # the caller is done with it: free the largest frame now
    first_month = month_of_day(window["first_day"].to_numpy()).astype(np.int64)
    start = np.clip(first_month - m0, 0, n_months)
    xyz = xyz_from_series(matrix, start, params.xyz_x_pct, params.xyz_y_pct)
    xyz.index = window.index
    # a new client (first settlement ever in P0) has no XYZ, however many months it touches
    new = (out.loc[window.index, "lifecycle"] == "new").to_numpy()
    xyz.loc[new, "xyz"] = None
    xyz.loc[new, "cv"] = np.nan
    out = out.join(xyz, how="left")
    out["xyz"] = out["xyz"].astype(object).where(out["xyz"].notna(), None)
    out["months_history"] = out["months_history"].fillna(0).astype(np.int64)

    # --- RFM ----------------------------------------------------------------------------------
    recency = as_of - window["last_day"].to_numpy()
    out["r_score"] = pd.Series(quintile_scores(recency, higher_is_better=False), index=window.index)
    out["f_score"] = pd.Series(quintile_scores(window["n"].to_numpy()), index=window.index)
    out["m_score"] = pd.Series(quintile_scores(window["amount"].to_numpy()), index=window.index)

    out["abc_move"] = abc_move(out["abc_old"].to_numpy(), out["abc"].to_numpy())
    return Result(frame=out, summary=summarise(out))


def matrix_cells(abc, xyz, cents) -> dict[str, dict]:
    """{"AX": {"clients", "cents"}, …} of classified clients' ABC, XYZ (None: "none") and
    turnover in cents."""
    cells = (
        pd.DataFrame({"abc": abc, "xyz": pd.Series(xyz).fillna("none").to_numpy(), "c": cents})
        .groupby(["abc", "xyz"])
        .agg(clients=("c", "size"), cents=("c", "sum"))
    )
    return {
        f"{a}{x}": {"clients": int(row.clients), "cents": int(row.cents)}
        for (a, x), row in cells.iterrows()  # at most 12 cells, not clients
    }


def summarise(frame: pd.DataFrame) -> dict:
    """Matrix (clients and turnover per ABC×XYZ cell), lifecycle counts, totals."""
    classified = frame[frame["abc"].notna()]
    matrix = matrix_cells(
        classified["abc"].to_numpy(), classified["xyz"].to_numpy(), classified["amount"].to_numpy()
    )
    lifecycle = frame["lifecycle"].value_counts().to_dict()
    return {
        "matrix": matrix,
        "turnover_cents": int(classified["amount"].sum()),
        "classified": len(classified),
        "clients": len(frame),
        "lifecycle": {str(k): int(v) for k, v in lifecycle.items()},
        "abc": {k: int(v) for k, v in classified["abc"].value_counts().to_dict().items()},
        "xyz": {k: int(v) for k, v in classified["xyz"].dropna().value_counts().to_dict().items()},
    }


def series_for_client(rows: list[tuple[date, Decimal]], params_window: tuple[date, date]):
    """Monthly series (month start, Decimal) over [start, end) from (month, sum) rows."""
    start, end = params_window
    sums = {month_index(m): amount for m, amount in rows}
    return [
        (month_from_index(i), sums.get(i, Decimal("0")))
        for i in range(month_index(start), month_index(end))
    ]
