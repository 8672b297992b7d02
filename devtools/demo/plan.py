"""Planning the demo data with numpy, without the database: each function returns the column
arrays of one table, ready for ``bulk.bulk_insert``. Each part draws from its own random
generator, so the parts stay deterministic independently of each other."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import numpy as np

from clients.models import Interaction
from devtools.demo import vocabulary as vocab
from devtools.demo.vocabulary import (
    CITIES,
    LATIN_PEOPLE,
    LATIN_POSITIONS,
    OUTCOMES,
    POSITIONS,
    PROMISES,
    SEGMENT_SHARES,
    SEGMENTS,
    SOURCE_WEIGHTS,
    SOURCES,
    STEP_GOALS,
    SUMMARIES,
    translit,
)

MONTHS = 24
PATTERNS = ("steady", "seasonal", "irregular", "one_off", "fading", "returning", "new", "never")
PATTERN_SHARES = (0.22, 0.12, 0.20, 0.07, 0.12, 0.07, 0.08, 0.12)
STEADY, SEASONAL, IRREGULAR, ONE_OFF, FADING, RETURNING, NEW, NEVER = range(len(PATTERNS))
PRODUCT_TABLE_WIDTH = 7

Columns = dict[str, Any]


@dataclass
class Calendar:
    """The run date and per-day lookups (day index 0 = first day of the oldest month)."""

    today: date
    tz: Any
    postgres: bool  # timestamps need an explicit offset in PostgreSQL's COPY text

    def __post_init__(self) -> None:
        self.month_starts = month_starts(self.today)
        self.first_day = self.month_starts[-1]
        self.days = (self.today - self.first_day).days + 1
        self.month_offset = np.array([(d - self.first_day).days for d in self.month_starts])
        self.month_len = np.array(
            [self.today.day]
            + [(self.month_starts[m - 1] - self.month_starts[m]).days for m in range(1, MONTHS)]
        )
        all_days = [self.first_day + timedelta(days=i) for i in range(self.days)]
        self.day_text = np.array([d.isoformat() for d in all_days])
        self.noon_text = np.array([self.ts(d, 12, 0) for d in all_days])
        self.now_text = self._suffix(datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"))

    def _suffix(self, text: str) -> str:
        return text + "+00" if self.postgres else text

    def ts(self, d: date, hour: int, minute: int) -> str:
        """UTC timestamp text of a local wall-clock time."""
        local = datetime.combine(d, dtime(hour, minute), tzinfo=self.tz)
        return self._suffix(local.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))

    def iso(self, days_from_today: int) -> str:
        return (self.today + timedelta(days=days_from_today)).isoformat()


def month_starts(today: date) -> list[date]:
    """First day of the current month (index 0) and of each of the 23 months before it."""
    out = []
    for m in range(MONTHS):
        year, month = divmod(today.year * 12 + today.month - 1 - m, 12)
        out.append(date(year, month + 1, 1))
    return out


def plan_counts(rng: np.random.Generator, n: int, total: int, current_share: float = 1.0):
    """Per-client pattern, size, and an (n × 24) matrix of settlement counts per month
    (column 0 = the current calendar month) summing to ``total``. ``current_share`` is the
    part of the current month elapsed by the run date: its settlements are that share of a
    month's (a steady client's monthly purchases thinned, the volume spread over the other
    months), so a run early in a month does not put a whole month on its first days."""
    pattern = rng.choice(len(PATTERNS), size=n, p=PATTERN_SHARES)
    if n >= len(PATTERNS):  # every pattern at least once, even for tiny runs
        pattern[: len(PATTERNS)] = np.arange(len(PATTERNS))
    size = rng.lognormal(0.0, 1.3, n)
    months = np.arange(MONTHS)[None, :]
    start = rng.integers(12, MONTHS, n)  # oldest active month
    end = np.zeros(n, int)  # newest active month
    is_ = {p: pattern == i for i, p in enumerate(PATTERNS)}
    start[is_["irregular"]] = rng.integers(3, MONTHS, is_["irregular"].sum())
    one = rng.integers(4, MONTHS, n)
    start[is_["one_off"]] = one[is_["one_off"]]
    end[is_["one_off"]] = one[is_["one_off"]]
    fade_end = np.minimum(rng.integers(4, 13, n), start)
    end[is_["fading"]] = fade_end[is_["fading"]]
    new_start = rng.integers(0, 2, n)
    start[is_["new"]] = new_start[is_["new"]]
    active = (months >= end[:, None]) & (months <= start[:, None])
    # returning: an old block ending 7+ months ago, a gap, then a purchase in month 0 or 1
    old_end = np.minimum(rng.integers(7, 16, n), start)
    ret = is_["returning"]
    active[ret] = (months >= old_end[ret, None]) & (months <= start[ret, None])
    recent = rng.integers(0, 2, n)
    active[ret, recent[ret]] = True
    active[is_["never"]] = False

    steady_k = np.clip(np.round(size * 0.9), 1, 4).astype(int)
    det = np.zeros((n, MONTHS), dtype=np.int64)
    det[is_["steady"]] = active[is_["steady"]] * steady_k[is_["steady"], None]
    for p in ("seasonal", "fading", "returning", "new"):
        det[is_[p]] = active[is_[p]]
    det[is_["one_off"], one[is_["one_off"]]] = 1
    det[is_["irregular"], start[is_["irregular"]]] = 1
    det[is_["irregular"], 0] = 1
    # this month's planned purchases: the elapsed share of them stays in it; the others of a
    # pattern that needs a recent purchase (new, returning, irregular…) move to last month,
    # a steady client's are dropped (its other months carry it)
    kept = rng.binomial(det[:, 0], current_share)
    moved = np.where(is_["steady"], 0, det[:, 0] - kept)
    det[:, 0] = kept
    det[:, 1] += moved
    if det.sum() > 0.75 * total:  # too few settlements for the clients: one per active month
        det[is_["steady"]] = np.minimum(det[is_["steady"]], 1)

    weights = np.zeros((n, MONTHS))
    burst = rng.gamma(0.6, 1.0, (n, MONTHS))
    weights[is_["irregular"]] = (active * burst * np.sqrt(size)[:, None])[is_["irregular"]]
    for p, w in (("fading", 0.5), ("returning", 0.5), ("new", 1.0)):
        weights[is_[p]] = (active * np.sqrt(size)[:, None] * w)[is_[p]]
    weights[:, 0] *= current_share
    remaining = total - int(det.sum())
    counts = det
    if remaining > 0 and weights.sum() > 0:
        extra = rng.multinomial(remaining, (weights / weights.sum()).ravel()).reshape(n, MONTHS)
        counts = det + extra
    elif remaining < 0:  # keep a random `total` of the planned settlements
        flat = np.repeat(np.arange(n * MONTHS), det.ravel())
        keep = rng.choice(flat.size, size=total, replace=False)
        counts = np.bincount(flat[keep], minlength=n * MONTHS).reshape(n, MONTHS)
    return pattern, size, counts


@dataclass
class ClientPlan:
    ids: np.ndarray
    pattern: np.ndarray
    size: np.ndarray
    counts: np.ndarray  # settlements per client and month
    person: np.ndarray
    latin: np.ndarray
    domains: list[str]
    person_name: tuple[list[str], list[str], list[str]]  # full, first, address form
    owner: np.ndarray  # account manager id (also where unassigned)
    unassigned: np.ndarray
    products: np.ndarray  # (n × 7) product preference: segment targets first
    columns: Columns


def plan_clients(
    rng: np.random.Generator,
    cal: Calendar,
    *,
    n: int,
    settlements: int,
    base_id: int,
    am_ids: np.ndarray,
    segment_ids: list[int],
    segment_targets: list[np.ndarray],
    product_ids: np.ndarray,
) -> ClientPlan:
    elapsed = cal.today.day / monthrange(cal.today.year, cal.today.month)[1]
    pattern, size, counts = plan_counts(rng, n, settlements, current_share=elapsed)
    ids = base_id + np.arange(n, dtype=np.int64)
    person = rng.random(n) < 0.12
    names, domains, latin, city_idx = vocab.company_names(rng, n)
    pfull, pfirst, paddress, _ = vocab.people(rng, n)
    segment_idx = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    segment_idx[person] = len(SEGMENTS) - 1
    no_segment = rng.random(n) < 0.08
    seg_values = list(SEGMENTS.values())
    pick = rng.integers(0, 100, n).tolist()
    owner = am_ids[rng.integers(0, len(am_ids), n)]
    unassigned = rng.random(n) < 0.04
    employees = np.clip(np.round(rng.lognormal(3.5, 1.2, n) * np.sqrt(size)), 1, 50_000)
    founded = rng.integers(1992, cal.today.year, n)
    source_idx = rng.choice(len(SOURCES), size=n, p=SOURCE_WEIGHTS / SOURCE_WEIGHTS.sum())
    phones, phone_digits = vocab.phones(rng, n)
    inn = vocab.inn(rng, n, person)
    birth_days = rng.integers(20 * 365, 65 * 365, n)
    parent_pick = rng.random(n) < 0.02
    parent_of = (rng.random(n) * np.arange(n)).astype(np.int64)  # an earlier client
    branches = (rng.random(n) < 0.15) & ~person
    b2b = rng.random(n) < 0.8
    # created a month before the first purchase (or two months ago for prospects)
    has_any = counts.sum(axis=1) > 0
    oldest_month = MONTHS - 1 - np.argmax(counts[:, ::-1] > 0, axis=1)
    created = np.where(has_any, cal.month_offset[oldest_month] - 30, cal.days - 60)
    created = np.clip(created, 0, cal.days - 1)

    seg = segment_idx.tolist()
    company = ~person
    columns: Columns = {
        "id": ids,
        "created_at": cal.noon_text[created],
        "updated_at": cal.now_text,
        "kind": np.where(person, "person", "company"),
        "name": [pfull[i] if person[i] else names[i] for i in range(n)],
        "inn": inn,
        "external_id": [f"demo-{i:07d}" for i in ids.tolist()],
        "industry": [
            seg_values[s][2][pick[i] % len(seg_values[s][2])] if company[i] else ""
            for i, s in enumerate(seg)
        ],
        "activity": [
            seg_values[s][3][pick[i] % len(seg_values[s][3])] if company[i] else ""
            for i, s in enumerate(seg)
        ],
        "has_branches": branches,
        "employees": [int(employees[i]) if company[i] else None for i in range(n)],
        "customer_type": np.where(person, "", np.where(b2b, "b2b", "b2c")),
        "year_founded": [int(founded[i]) if company[i] else None for i in range(n)],
        "birthday": [
            (cal.today - timedelta(days=int(birth_days[i]))).isoformat() if person[i] else None
            for i in range(n)
        ],
        "parent_id": [
            int(ids[parent_of[i]]) if parent_pick[i] and i > 0 else None for i in range(n)
        ],
        "account_manager_id": [None if unassigned[i] else int(owner[i]) for i in range(n)],
        "target_segment_id": [None if no_segment[i] else segment_ids[s] for i, s in enumerate(seg)],
        "source": np.array(SOURCES)[source_idx],
        "address_form": [paddress[i] if person[i] else "" for i in range(n)],
        "email": [
            f"{translit(pfirst[i])}.{i % 1000}@mail.ru" if person[i] else f"info@{domains[i]}"
            for i in range(n)
        ],
        "phone": phones,
        "phone_digits": phone_digits,
        "city": np.array(CITIES)[city_idx],
        "notes": "",
    }
    # product preference: the segment's target products in a random order, then others
    width = PRODUCT_TABLE_WIDTH
    products = np.empty((n, width), dtype=np.int64)
    for s, targets in enumerate(segment_targets):
        rows = np.flatnonzero(segment_idx == s)
        perm = np.argsort(rng.random((rows.size, targets.size)), axis=1)
        products[rows, : targets.size] = targets[perm]
        products[rows, targets.size :] = product_ids[
            rng.integers(0, product_ids.size, (rows.size, width - targets.size))
        ]
    return ClientPlan(
        ids=ids,
        pattern=pattern,
        size=size,
        counts=counts,
        person=person,
        latin=latin,
        domains=domains,
        person_name=(pfull, pfirst, paddress),
        owner=owner,
        unassigned=unassigned,
        products=products,
        columns=columns,
    )


def plan_settlements(rng: np.random.Generator, cal: Calendar, cp: ClientPlan) -> Columns:
    """Arrays (sorted by date, the realistic insert order): client_id, product_id, day (index
    into the calendar), amount, margin."""
    n = cp.ids.size
    cells = np.repeat(np.arange(n * MONTHS), cp.counts.ravel())
    s_client = cells // MONTHS
    s_month = cells % MONTHS
    m = cells.size
    day = cal.month_offset[s_month] + (rng.random(m) * cal.month_len[s_month]).astype(np.int64)
    # the client's monthly turnover, split over the month's settlements
    base = 25_000.0 * cp.size
    per_cell = cp.counts.ravel()[cells]
    pattern = cp.pattern[s_client]
    noise = np.where(
        pattern == STEADY,
        rng.normal(1.0, 0.03, m),
        np.where(pattern == SEASONAL, rng.normal(1.0, 0.05, m), rng.lognormal(-0.18, 0.6, m)),
    )
    amplitude = rng.uniform(0.15, 0.7, n)
    phase = rng.integers(0, 12, n)
    cal_month = np.array([d.month for d in cal.month_starts])[s_month]
    season = 1 + amplitude[s_client] * np.sin(2 * np.pi * (cal_month - phase[s_client]) / 12)
    season = np.where(pattern == SEASONAL, season, 1.0)
    amount = np.maximum(np.round(base[s_client] * season * noise / per_cell, 2), 50.0)
    refund = (rng.random(m) < 0.004) & ~np.isin(pattern, [STEADY, SEASONAL])
    refunded = -np.maximum(np.round(amount * rng.uniform(0.2, 1.0, m)), 50)
    amount = np.where(refund, refunded, amount)
    margin = np.round(amount * rng.uniform(0.08, 0.35, n)[s_client], 2)
    # a client buys from the first `breadth` products of its preference, mostly the first
    breadth = rng.integers(1, PRODUCT_TABLE_WIDTH + 1, n)
    pick = (rng.random(m) ** 2 * breadth[s_client]).astype(np.int64)
    product = cp.products[s_client, np.minimum(pick, PRODUCT_TABLE_WIDTH - 1)]
    order = np.argsort(day, kind="stable")
    return {
        "client_id": cp.ids[s_client][order],
        "product_id": product[order],
        "day": day[order],
        "amount": amount[order],
        "margin": margin[order],
    }


def plan_contacts(
    rng: np.random.Generator, cal: Calendar, cp: ClientPlan, *, base_id: int
) -> tuple[Columns, np.ndarray]:
    """Contact persons (1–3 a company, the person itself for a private client) and the id of
    each client's primary contact."""
    n = cp.ids.size
    per_client = np.where(cp.person, 1, rng.integers(1, 4, n))
    owner = np.repeat(np.arange(n), per_client)
    nc = owner.size
    ids = base_id + np.arange(nc, dtype=np.int64)
    primary = np.r_[True, owner[1:] != owner[:-1]] if nc else np.zeros(0, bool)
    primary_id = base_id + np.r_[0, np.cumsum(per_client)[:-1]]
    full_names, first_names, address_forms, _ = vocab.people(rng, nc)
    latin = cp.latin[owner]
    latin_pick = rng.integers(0, len(LATIN_PEOPLE), nc).tolist()
    position_pick = rng.integers(0, len(POSITIONS), nc).tolist()
    phones, phone_digits = vocab.phones(rng, nc)
    birth = rng.integers(22 * 365, 65 * 365, nc)
    has_birth = rng.random(nc) < 0.4
    pfull, pfirst, paddress = cp.person_name
    names, positions, emails, addresses = [], [], [], []
    for j in range(nc):
        c = int(owner[j])
        if cp.person[c]:
            full, first, address, position = pfull[c], pfirst[c], paddress[c], ""
        elif latin[j]:
            full = LATIN_PEOPLE[latin_pick[j]]
            first = address = full.split()[0]
            position = LATIN_POSITIONS[position_pick[j] % len(LATIN_POSITIONS)]
        else:
            full, first, address = full_names[j], first_names[j], address_forms[j]
            position = POSITIONS[position_pick[j]]
        names.append(full)
        addresses.append(address)
        positions.append(position)
        local = translit(first) + "." + translit(full.split()[-1 if latin[j] else 0])
        domain = cp.domains[c]
        emails.append(f"{local}{j % 97}@{domain}" if cp.person[c] else f"{local}@{domain}")
    columns: Columns = {
        "id": ids,
        "created_at": np.asarray(cp.columns["created_at"])[owner],
        "updated_at": cal.now_text,
        "client_id": cp.ids[owner],
        "full_name": names,
        "position": positions,
        "email": emails,
        "phone": phones,
        "phone_digits": phone_digits,
        "birthday": [
            (cal.today - timedelta(days=int(birth[j]))).isoformat() if has_birth[j] else None
            for j in range(nc)
        ],
        "address_form": addresses,
        "greeting_consent": rng.random(nc) < 0.6,
        "is_primary": primary,
        "survey_opt_out": rng.random(nc) < 0.05,
        "external_id": None,
    }
    return columns, primary_id


def plan_interactions(
    rng: np.random.Generator,
    cal: Calendar,
    cp: ClientPlan,
    *,
    primary_contact: np.ndarray,
    am_ids: np.ndarray,
    share: float,
    my_day: bool = True,
) -> tuple[Columns, Columns]:
    """The contact log of the last ~4 months and the clients' denormalised last contact and
    next step (from each client's newest entry). With ``my_day`` every account manager gets
    next steps due today and overdue and open promises due today and overdue, so "My day" has
    content (a chunked run does it in its first block only)."""
    n = cp.ids.size
    talked = ~cp.unassigned & (rng.random(n) < share)
    client = np.repeat(np.arange(n), np.where(talked, rng.integers(1, 4, n), 0))
    k = client.size
    # the first entry of each client is its newest (within 30 days), the others are older
    newest = np.r_[True, client[1:] != client[:-1]] if k else np.zeros(0, bool)
    group_first = np.maximum.accumulate(np.where(newest, np.arange(k), 0)) if k else newest
    days_ago = rng.integers(0, 30, k)
    days_ago = np.where(newest, days_ago, days_ago[group_first] + rng.integers(1, 90, k))
    hour, minute = rng.integers(9, 19, k), rng.integers(0, 60, k)
    kinds = np.array([c for c, _ in Interaction.Kind.choices])
    touchpoints = np.array([c for c, _ in Interaction.Touchpoint.choices])
    has_step = newest & (rng.random(k) < 0.85)
    step_offset = rng.integers(-10, 22, k)
    has_promise = rng.random(k) < 0.3
    promise_offset = rng.integers(-14, 10, k)
    kept = rng.random(k) < 0.45
    goal = rng.integers(0, len(STEP_GOALS), k)
    promise = rng.integers(0, len(PROMISES), k)
    author = cp.owner[client]
    for am in am_ids.tolist() if my_day else []:
        rows = np.flatnonzero(newest & (author == am))[:6]
        step_offset[rows[:2]] = 0  # due today
        step_offset[rows[2:4]] = -3  # overdue
        has_step[rows[:4]] = True
        has_promise[rows[4:6]] = True
        promise_offset[rows[4:6]] = [0, -2][: rows[4:6].size]
        kept[rows[4:6]] = False
    product = cp.products[client, 0]

    occurred, promise_due, promise_done = [], [], []
    for j in range(k):
        day = cal.today - timedelta(days=int(days_ago[j]))
        occurred.append(cal.ts(day, int(hour[j]), int(minute[j])))
        due = done = None
        if has_promise[j]:
            due_day = max(day, cal.today + timedelta(days=int(promise_offset[j])))
            due = due_day.isoformat()
            if kept[j] and due_day < cal.today:
                done = cal.ts(due_day, 19, 0)
        promise_due.append(due)
        promise_done.append(done)
    step_date = [cal.iso(int(step_offset[j])) if has_step[j] else None for j in range(k)]
    step_goal = [STEP_GOALS[goal[j]] if has_step[j] else "" for j in range(k)]
    step_product = [int(product[j]) if has_step[j] else None for j in range(k)]
    columns: Columns = {
        "created_at": occurred,
        "updated_at": occurred,
        "client_id": cp.ids[client],
        "kind": kinds[rng.integers(0, kinds.size, k)],
        "direction": np.where(rng.random(k) < 0.7, "out", "in"),
        "occurred_at": occurred,
        "author_id": author,
        "contact_id": primary_contact[client],
        "touchpoint": touchpoints[rng.integers(0, touchpoints.size, k)],
        "summary": np.array(SUMMARIES)[rng.integers(0, len(SUMMARIES), k)],
        "outcome": np.array(OUTCOMES)[rng.integers(0, len(OUTCOMES), k)],
        "promise": [PROMISES[promise[j]] if has_promise[j] else "" for j in range(k)],
        "promise_due": promise_due,
        "promise_done_at": promise_done,
        "next_step_date": step_date,
        "next_step_goal": step_goal,
        "next_step_product_id": step_product,
    }
    denormalised: Columns = {
        "last_contact_at": [None] * n,
        "next_step_date": [None] * n,
        "next_step_goal": [""] * n,
        "next_step_product_id": [None] * n,
    }
    for j in np.flatnonzero(newest).tolist():
        c = int(client[j])
        denormalised["last_contact_at"][c] = occurred[j]
        denormalised["next_step_date"][c] = step_date[j]
        denormalised["next_step_goal"][c] = step_goal[j]
        denormalised["next_step_product_id"][c] = step_product[j]
    return columns, denormalised
