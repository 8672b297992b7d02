"""The generator: patterns, clients, settlements, contacts and the contact log."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

import numpy as np
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from clients.demo import vocabulary as vocab
from clients.demo.bulk import bulk_insert, bulk_load_mode, copy_binary_int8, money
from clients.demo.vocabulary import (
    CATALOGUE,
    CITIES,
    EXTRA_AMS,
    LATIN_PEOPLE,
    LATIN_POSITIONS,
    LINE_DESCRIPTIONS,
    OUTCOMES,
    POSITIONS,
    PROMISES,
    SEGMENT_SHARES,
    SEGMENTS,
    SOURCE_WEIGHTS,
    SOURCES,
    STEP_GOALS,
    SUMMARIES,
    TAGS,
    translit,
)
from clients.models import (
    Client,
    ContactPerson,
    Interaction,
    Product,
    ProductLine,
    Settlement,
    Tag,
    TargetSegment,
)
from crm.models import User

DEFAULT_SEED = 20240601
MONTHS = 24
# size name -> (clients, settlements, extra account managers)
SIZES: dict[str, tuple[int, int, int]] = {
    "small": (300, 6_000, 0),
    "bench": (100_000, 2_000_000, 18),
}

PATTERNS = ("steady", "seasonal", "irregular", "one_off", "fading", "returning", "new", "never")
PATTERN_SHARES = (0.22, 0.12, 0.20, 0.07, 0.12, 0.07, 0.08, 0.12)
STEADY, SEASONAL, IRREGULAR, ONE_OFF, FADING, RETURNING, NEW, NEVER = range(len(PATTERNS))


# --- results ----------------------------------------------------------------------------------
@dataclass
class SeedResult:
    clients: int = 0
    contacts: int = 0
    settlements: int = 0
    interactions: int = 0
    account_managers: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.clients} clients, {self.contacts} contacts, {self.settlements} settlements, "
            f"{self.interactions} interactions, {self.account_managers} account managers "
            f"in {self.seconds:.1f} s"
        )


# --- catalogue and people -------------------------------------------------------------------
@dataclass
class Catalogue:
    product_ids: np.ndarray  # all products, catalogue order
    segment_ids: list[int]  # SEGMENTS order
    segment_targets: list[np.ndarray]  # product ids per segment
    tag_ids: list[int]


def ensure_catalogue() -> Catalogue:
    """Product lines, products, target segments and tags; idempotent by name/code."""
    by_code: dict[str, int] = {}
    for line_name, products in CATALOGUE.items():
        line, _ = ProductLine.objects.get_or_create(
            name=line_name, defaults={"description": LINE_DESCRIPTIONS[line_name]}
        )
        for name, code, price in products:
            product, _ = Product.objects.get_or_create(
                code=code, defaults={"line": line, "name": name, "price": price}
            )
            by_code[code] = product.pk
    segment_ids, targets = [], []
    for name, (portrait, codes, _, _) in SEGMENTS.items():
        segment, created = TargetSegment.objects.get_or_create(
            name=name, defaults={"description": portrait}
        )
        if created or not segment.products.exists():
            segment.products.set([by_code[c] for c in codes])
        segment_ids.append(segment.pk)
        targets.append(np.array([by_code[c] for c in codes], dtype=np.int64))
    tag_ids = [Tag.objects.get_or_create(name=t)[0].pk for t in TAGS]
    product_ids = np.array([by_code[c] for ps in CATALOGUE.values() for _, c, _ in ps])
    return Catalogue(product_ids, segment_ids, targets, tag_ids)


def ensure_account_managers(extra: int, stdout=None) -> list[int]:
    """am1, am2 (via create_demo_users, which prints their passwords once) plus ``extra``
    generated account managers (``am03``…) with unusable passwords, reporting to ``manager``."""
    if User.objects.filter(username__in=["am1", "am2"]).count() != 2:
        call_command("create_demo_users", stdout=stdout or io.StringIO())
    head = User.objects.filter(username="manager").first()
    for i, (first, last) in enumerate(EXTRA_AMS[:extra], start=3):
        username = f"am{i:02d}"
        if not User.objects.filter(username=username).exists():
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                role=User.Role.ACCOUNT_MANAGER,
                head=head,
            )
            user.set_unusable_password()
            user.save()
    usernames = ["am1", "am2"] + [f"am{i:02d}" for i in range(3, 3 + extra)]
    ids = dict(User.objects.filter(username__in=usernames).values_list("username", "id"))
    return [ids[u] for u in usernames]


# --- generation helpers -----------------------------------------------------------------------
def _month_starts(today: date) -> list[date]:
    """First day of the current month (index 0) and of each of the 23 months before it."""
    out = []
    for m in range(MONTHS):
        year, month = divmod(today.year * 12 + today.month - 1 - m, 12)
        out.append(date(year, month + 1, 1))
    return out


def _utc_text(d: date, hour: int, minute: int, tz) -> str:
    local = datetime.combine(d, dtime(hour, minute), tzinfo=tz)
    return local.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _ts_column(values: list[str]) -> list[str]:
    """UTC timestamp text for the current backend (PostgreSQL wants the offset)."""
    if connection.vendor == "postgresql":
        return [v + "+00" for v in values]
    return values


# --- the generator ----------------------------------------------------------------------------
def plan_counts(rng: np.random.Generator, n: int, total: int):
    """Per-client pattern, size, and an (n × 24) matrix of settlement counts per month
    (column 0 = the current calendar month) summing to ``total`` where the patterns allow."""
    pattern = rng.choice(len(PATTERNS), size=n, p=PATTERN_SHARES)
    if n >= len(PATTERNS):  # every pattern at least once, even for tiny runs
        pattern[: len(PATTERNS)] = np.arange(len(PATTERNS))
    size = rng.lognormal(0.0, 1.3, n)
    months = np.arange(MONTHS)[None, :]
    start = np.zeros(n, int)  # oldest active month
    end = np.zeros(n, int)  # newest active month
    start[:] = rng.integers(12, MONTHS, n)
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
    if det.sum() > 0.75 * total:  # too few settlements for the clients: one per active month
        det[is_["steady"]] = np.minimum(det[is_["steady"]], 1)

    weights = np.zeros((n, MONTHS))
    burst = rng.gamma(0.6, 1.0, (n, MONTHS))
    weights[is_["irregular"]] = (active * burst * np.sqrt(size)[:, None])[is_["irregular"]]
    for p, w in (("fading", 0.5), ("returning", 0.5), ("new", 1.0)):
        weights[is_[p]] = (active * np.sqrt(size)[:, None] * w)[is_[p]]
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


def seed(
    *,
    clients: int,
    settlements: int,
    seed: int = DEFAULT_SEED,
    extra_account_managers: int = 0,
    interaction_share: float = 0.35,
    stdout=None,
    log: Callable[[str], None] | None = None,
) -> SeedResult:
    """Generate and load a demo client base. Deterministic for a given seed and run date."""
    started = time.perf_counter()
    result = SeedResult()
    say = log or (lambda msg: None)
    mark = [started]

    def step(name: str) -> None:
        now = time.perf_counter()
        result.timings[name] = now - mark[0]
        mark[0] = now
        say(f"  {name}: {result.timings[name]:.1f} s")

    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    rng = np.random.default_rng(seed)
    n = clients

    with transaction.atomic():
        catalogue = ensure_catalogue()
        am_ids = np.array(ensure_account_managers(extra_account_managers, stdout=stdout))
        result.account_managers = len(am_ids)
        base_client = (Client.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        base_contact = (
            ContactPerson.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ) + 1
    step("catalogue")

    # --- clients ---
    pattern, size, counts = plan_counts(rng, n, settlements)
    client_ids = base_client + np.arange(n, dtype=np.int64)
    person = rng.random(n) < 0.12
    names, domains, latin, city_idx = vocab._company_names(rng, n)
    pfull, pfirst, paddress, pfemale = vocab._people(rng, n)
    names = [pfull[i] if person[i] else names[i] for i in range(n)]
    segment_idx = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARES)
    segment_idx[person] = len(SEGMENTS) - 1
    no_segment = rng.random(n) < 0.08
    seg_values = list(SEGMENTS.values())
    seg_col = [
        None if no_segment[i] else catalogue.segment_ids[s]
        for i, s in enumerate(segment_idx.tolist())
    ]
    ind_pick = rng.integers(0, 100, n).tolist()
    industry = [
        seg_values[s][2][ind_pick[i] % len(seg_values[s][2])]
        for i, s in enumerate(segment_idx.tolist())
    ]
    activity = [
        seg_values[s][3][ind_pick[i] % len(seg_values[s][3])]
        for i, s in enumerate(segment_idx.tolist())
    ]
    am_share = np.full(len(am_ids), 1.0)
    owner_col = am_ids[rng.choice(len(am_ids), size=n, p=am_share / am_share.sum())]
    unassigned = rng.random(n) < 0.04
    employees = np.clip(np.round(rng.lognormal(3.5, 1.2, n) * np.sqrt(size)), 1, 50_000)
    founded = rng.integers(1992, today.year, n)
    source_idx = rng.choice(len(SOURCES), size=n, p=SOURCE_WEIGHTS / SOURCE_WEIGHTS.sum())
    phones, phone_digits = vocab._phones(rng, n)
    inn = vocab._inn(rng, n, person)
    birth_days = rng.integers(20 * 365, 65 * 365, n)
    parent_pick = rng.random(n) < 0.02
    parent_pick[0] = False
    parent = [
        int(client_ids[int(rng.integers(0, i))]) if parent_pick[i] and i > 0 else None
        for i in range(n)
    ]
    step("clients planned")

    # --- settlements ---
    month_starts = _month_starts(today)
    month_len = np.array(
        [today.day] + [(month_starts[m - 1] - month_starts[m]).days for m in range(1, MONTHS)]
    )
    first_ordinal = month_starts[-1].toordinal()
    month_offset = np.array([d.toordinal() - first_ordinal for d in month_starts])
    cells = np.repeat(np.arange(n * MONTHS), counts.ravel())
    s_client = cells // MONTHS
    s_month = cells % MONTHS
    m_total = cells.size
    day = month_offset[s_month] + (rng.random(m_total) * month_len[s_month]).astype(np.int64)
    # monthly turnover of the client, split over the month's settlements
    base = 25_000.0 * size
    per_cell = counts.ravel()[cells]
    noise = np.where(
        np.isin(pattern[s_client], [STEADY]),
        rng.normal(1.0, 0.03, m_total),
        np.where(
            pattern[s_client] == SEASONAL,
            rng.normal(1.0, 0.05, m_total),
            rng.lognormal(-0.18, 0.6, m_total),
        ),
    )
    amplitude = rng.uniform(0.15, 0.7, n)
    phase = rng.integers(0, 12, n)
    cal_month = np.array([d.month for d in month_starts])[s_month]
    season = 1 + amplitude[s_client] * np.sin(2 * np.pi * (cal_month - phase[s_client]) / 12)
    season = np.where(pattern[s_client] == SEASONAL, season, 1.0)
    amount = np.round(base[s_client] * season * noise / per_cell, 2)
    amount = np.maximum(amount, 50.0)
    refund = (rng.random(m_total) < 0.004) & ~np.isin(pattern[s_client], [STEADY, SEASONAL])
    amount = np.where(
        refund, -np.maximum(np.round(amount * rng.uniform(0.2, 1.0, m_total)), 50), amount
    )
    margin = np.round(amount * rng.uniform(0.08, 0.35, n)[s_client], 2)
    # products: mostly the segment's target products, a few others; breadth differs per client
    width = 7
    table = np.empty((n, width), dtype=np.int64)
    for s, targets in enumerate(catalogue.segment_targets):
        rows = np.flatnonzero(segment_idx == s)
        perm = np.argsort(rng.random((rows.size, targets.size)), axis=1)
        table[rows, : targets.size] = targets[perm]
        others = catalogue.product_ids[
            rng.integers(0, catalogue.product_ids.size, (rows.size, width - targets.size))
        ]
        table[rows, targets.size :] = others
    breadth = rng.integers(1, width + 1, n)
    pick = (rng.random(m_total) ** 2 * breadth[s_client]).astype(np.int64)
    s_product = table[s_client, np.minimum(pick, width - 1)]
    # realistic insert order: by date
    order = np.argsort(day, kind="stable")
    s_client, day, amount, margin, s_product = (
        s_client[order],
        day[order],
        amount[order],
        margin[order],
        s_product[order],
    )
    days_total = (today - month_starts[-1]).days + 1
    all_days = [month_starts[-1] + timedelta(days=i) for i in range(days_total)]
    day_text = np.array([d.isoformat() for d in all_days])
    created_text = np.array(_ts_column([_utc_text(d, 12, 0, tz) for d in all_days]))
    step("settlements planned")

    # --- interactions (the last 120 days) and the clients' next steps ---
    talked = (~unassigned) & (rng.random(n) < interaction_share)
    per_client = np.where(talked, rng.integers(1, 4, n), 0)
    i_client = np.repeat(np.arange(n), per_client)
    k = i_client.size
    # the first entry of each client is its newest (within 30 days), the others are older
    newest = np.r_[True, i_client[1:] != i_client[:-1]] if k else np.zeros(0, bool)
    group_first = np.maximum.accumulate(np.where(newest, np.arange(k), 0)) if k else newest
    i_days_ago = rng.integers(0, 30, k)
    i_days_ago = np.where(newest, i_days_ago, i_days_ago[group_first] + rng.integers(1, 90, k))
    i_hour = rng.integers(9, 19, k)
    i_minute = rng.integers(0, 60, k)
    kinds = [c for c, _ in Interaction.Kind.choices]
    touch = [c for c, _ in Interaction.Touchpoint.choices]
    i_kind = rng.integers(0, len(kinds), k)
    i_dir = rng.random(k) < 0.7
    i_touch = rng.integers(0, len(touch), k)
    i_summary = rng.integers(0, len(SUMMARIES), k)
    i_outcome = rng.integers(0, len(OUTCOMES), k)
    has_step = newest & (rng.random(k) < 0.85)
    step_offset = rng.integers(-10, 22, k)
    has_promise = rng.random(k) < 0.3
    promise_offset = rng.integers(-14, 10, k)
    promise_kept = rng.random(k) < 0.45
    i_goal = rng.integers(0, len(STEP_GOALS), k)
    i_promise = rng.integers(0, len(PROMISES), k)
    # "My day" has content for every account manager: due today and overdue items
    owner_of = owner_col[i_client] if k else np.zeros(0, np.int64)
    forced: set[int] = set()
    for am in am_ids.tolist():
        rows = np.flatnonzero(newest & (owner_of == am))[:6]
        step_offset[rows[:2]] = 0
        step_offset[rows[2:4]] = -3
        has_step[rows[:4]] = True
        has_promise[rows[4:6]] = True
        promise_offset[rows[4:5]] = 0
        promise_offset[rows[5:6]] = -2
        forced.update(rows[4:6].tolist())
    step_product = table[i_client, 0] if k else np.zeros(0, np.int64)
    occurred, occurred_date = [], []
    step_date, promise_due, promise_done_at = [], [], []
    for j in range(k):
        d = today - timedelta(days=int(i_days_ago[j]))
        occurred_date.append(d)
        occurred.append(_utc_text(d, int(i_hour[j]), int(i_minute[j]), tz))
        step_date.append(
            (today + timedelta(days=int(step_offset[j]))).isoformat() if has_step[j] else None
        )
        if has_promise[j]:
            due = max(d, today + timedelta(days=int(promise_offset[j])))
            promise_due.append(due.isoformat())
            kept = promise_kept[j] and due < today and j not in forced
            promise_done_at.append(_utc_text(due, 19, 0, tz) if kept else None)
        else:
            promise_due.append(None)
            promise_done_at.append(None)
    # denormalised on the client: the newest interaction
    last_contact = [None] * n
    next_date, next_goal, next_product = [None] * n, [""] * n, [None] * n
    best: dict[int, int] = {}
    for j in range(k):
        c = int(i_client[j])
        if c not in best or occurred[j] > occurred[best[c]]:
            best[c] = j
    for c, j in best.items():
        last_contact[c] = occurred[j]
        if has_step[j]:
            next_date[c] = step_date[j]
            next_goal[c] = STEP_GOALS[i_goal[j]]
            next_product[c] = int(step_product[j])
    step("interactions planned")

    # --- contacts ---
    n_contacts = np.where(person, 1, rng.integers(1, 4, n))
    c_client = np.repeat(np.arange(n), n_contacts)
    nc = c_client.size
    contact_ids = base_contact + np.arange(nc, dtype=np.int64)
    primary = np.r_[True, c_client[1:] != c_client[:-1]] if nc else np.zeros(0, bool)
    cfull, cfirst, caddress, _ = vocab._people(rng, nc)
    c_latin = latin[c_client]
    latin_pick = rng.integers(0, len(LATIN_PEOPLE), nc).tolist()
    pos_pick = rng.integers(0, len(POSITIONS), nc).tolist()
    c_phones, c_digits = vocab._phones(rng, nc)
    c_birth = rng.integers(22 * 365, 65 * 365, nc)
    has_birth = rng.random(nc) < 0.4
    consent = rng.random(nc) < 0.6
    opt_out = rng.random(nc) < 0.05
    c_name, c_position, c_email, c_address = [], [], [], []
    for j in range(nc):
        c = int(c_client[j])
        if person[c]:
            full, first, addr = pfull[c], pfirst[c], paddress[c]
        elif c_latin[j]:
            full = LATIN_PEOPLE[latin_pick[j]]
            first = addr = full.split()[0]
        else:
            full, first, addr = cfull[j], cfirst[j], caddress[j]
        c_name.append(full)
        c_address.append(addr)
        if person[c]:
            c_position.append("")
        elif c_latin[j]:
            c_position.append(LATIN_POSITIONS[pos_pick[j] % len(LATIN_POSITIONS)])
        else:
            c_position.append(POSITIONS[pos_pick[j]])
        local = translit(first) + "." + translit(full.split()[0 if not c_latin[j] else -1])
        c_email.append(f"{local}{j % 97}@{domains[c]}" if person[c] else f"{local}@{domains[c]}")
    contact_of_interaction = [None] * k
    first_contact = {}
    for j in range(nc):
        first_contact.setdefault(int(c_client[j]), int(contact_ids[j]))
    for j in range(k):
        contact_of_interaction[j] = first_contact.get(int(i_client[j]))
    step("contacts planned")

    # --- write ---
    now_text = timezone.now().astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    first_day = np.full(n, -1)
    has_any = counts.sum(axis=1) > 0
    first_day[has_any] = month_offset[MONTHS - 1 - np.argmax(counts[:, ::-1] > 0, axis=1)[has_any]]
    created_days = np.where(has_any, np.maximum(first_day - 30, 0), days_total - 60)
    created_days = np.clip(created_days, 0, days_total - 1)
    client_created = created_text[created_days]
    kind_col = np.where(person, "person", "company")
    big = n + m_total >= 200_000
    bulk_models = (Client, Client.tags.through, ContactPerson, Settlement, Interaction)
    with transaction.atomic(), bulk_load_mode(bulk_models, enabled=big):
        bulk_insert(
            Client._meta.db_table,
            {
                "id": client_ids,
                "created_at": client_created,
                "updated_at": _ts_column([now_text] * n),
                "kind": kind_col,
                "name": names,
                "inn": inn,
                "external_id": [f"demo-{i:07d}" for i in client_ids.tolist()],
                "industry": ["" if person[i] else industry[i] for i in range(n)],
                "activity": ["" if person[i] else activity[i] for i in range(n)],
                "has_branches": (rng.random(n) < 0.15) & ~person,
                "employees": [None if person[i] else int(employees[i]) for i in range(n)],
                "customer_type": np.where(person, "", np.where(rng.random(n) < 0.8, "b2b", "b2c")),
                "year_founded": [None if person[i] else int(founded[i]) for i in range(n)],
                "birthday": [
                    (today - timedelta(days=int(birth_days[i]))).isoformat() if person[i] else None
                    for i in range(n)
                ],
                "parent_id": parent,
                "account_manager_id": [
                    None if unassigned[i] else int(owner_col[i]) for i in range(n)
                ],
                "target_segment_id": seg_col,
                "source": np.array(SOURCES)[source_idx],
                "address_form": [paddress[i] if person[i] else "" for i in range(n)],
                "email": [
                    f"{translit(pfirst[i])}.{i % 1000}@mail.ru"
                    if person[i]
                    else f"info@{domains[i]}"
                    for i in range(n)
                ],
                "phone": phones,
                "phone_digits": phone_digits,
                "city": np.array(CITIES)[city_idx],
                "notes": "",
                "abc_class": None,
                "xyz_class": None,
                "lifecycle": None,
                "last_contact_at": _ts_or_none(last_contact),
                "next_step_date": next_date,
                "next_step_goal": next_goal,
                "next_step_product_id": next_product,
            },
        )
        result.clients = n
        tagged = rng.random(n) < 0.25
        t_client = np.flatnonzero(tagged)
        t_tag = np.array(catalogue.tag_ids)[rng.integers(0, len(catalogue.tag_ids), t_client.size)]
        bulk_insert(
            Client.tags.through._meta.db_table,
            {"client_id": client_ids[t_client], "tag_id": t_tag},
        )
        bulk_insert(
            ContactPerson._meta.db_table,
            {
                "id": contact_ids,
                "created_at": client_created[c_client],
                "updated_at": _ts_column([now_text] * nc),
                "client_id": client_ids[c_client],
                "full_name": c_name,
                "position": c_position,
                "email": c_email,
                "phone": c_phones,
                "phone_digits": c_digits,
                "birthday": [
                    (today - timedelta(days=int(c_birth[j]))).isoformat() if has_birth[j] else None
                    for j in range(nc)
                ],
                "address_form": c_address,
                "greeting_consent": consent,
                "is_primary": primary,
                "survey_opt_out": opt_out,
                "external_id": None,
            },
        )
        result.contacts = nc
        step("clients and contacts loaded")
        if m_total and connection.vendor == "postgresql":
            _copy_settlements_postgres(
                first_day=month_starts[-1],
                client_id=client_ids[s_client],
                product_id=s_product,
                day=day,
                amount=amount,
                margin=margin,
            )
        elif m_total:
            bulk_insert(
                Settlement._meta.db_table,
                {
                    "created_at": created_text[day],
                    "updated_at": created_text[day],
                    "client_id": client_ids[s_client],
                    "product_id": s_product,
                    "date": day_text[day],
                    "amount": money(amount),
                    "margin": money(margin),
                    "document_number": [f"РН-{i:08d}" for i in range(1, m_total + 1)],
                    "external_id": None,
                },
            )
        result.settlements = m_total
        step("settlements loaded")
        bulk_insert(
            Interaction._meta.db_table,
            {
                "created_at": _ts_column(occurred),
                "updated_at": _ts_column(occurred),
                "client_id": client_ids[i_client],
                "kind": np.array(kinds)[i_kind],
                "direction": np.where(i_dir, "out", "in"),
                "occurred_at": _ts_column(occurred),
                "author_id": owner_of,
                "contact_id": contact_of_interaction,
                "touchpoint": np.array(touch)[i_touch],
                "summary": np.array(SUMMARIES)[i_summary],
                "outcome": np.array(OUTCOMES)[i_outcome],
                "promise": [PROMISES[i_promise[j]] if has_promise[j] else "" for j in range(k)],
                "promise_due": promise_due,
                "promise_done_at": _ts_or_none(promise_done_at),
                "next_step_date": step_date,
                "next_step_goal": [STEP_GOALS[i_goal[j]] if has_step[j] else "" for j in range(k)],
                "next_step_product_id": [
                    int(step_product[j]) if has_step[j] else None for j in range(k)
                ],
            },
        )
        result.interactions = k
        step("interactions loaded")
        _reset_sequences()
    step("indexes and constraints")
    if connection.vendor == "postgresql":
        # planner statistics now; outside a transaction also the visibility map (index-only
        # scans, e.g. the list's COUNT) that autovacuum would set later
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for model in (Client, Client.tags.through, ContactPerson, Settlement, Interaction):
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        step(command.lower())
    result.seconds = time.perf_counter() - started
    return result


SETTLEMENTS_FROM_STAGE = """
INSERT INTO clients_settlement (created_at, updated_at, client_id, product_id, date, amount,
                                margin, document_number, external_id)
SELECT ts, ts, client_id, product_id, d, amount_cents / 100.0, margin_cents / 100.0,
       'РН-' || lpad(seq::text, 8, '0'), NULL
FROM (SELECT s.*, %(first)s::date + s.day::int AS d,
             ((%(first)s::date + s.day::int) + time '12:00') AT TIME ZONE %(tz)s AS ts
      FROM demo_settlement_stage s) staged
"""


def _copy_settlements_postgres(*, first_day: date, client_id, product_id, day, amount, margin):
    """2M settlements in seconds: integer columns go by binary COPY into a temporary table,
    PostgreSQL turns them into dates, money, timestamps and document numbers itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE demo_settlement_stage (seq int8, client_id int8, "
            "product_id int8, day int8, amount_cents int8, margin_cents int8) ON COMMIT DROP"
        )
        copy_binary_int8(
            "demo_settlement_stage",
            {
                "seq": np.arange(1, len(day) + 1, dtype=np.int64),
                "client_id": client_id,
                "product_id": product_id,
                "day": day,
                "amount_cents": np.round(amount * 100).astype(np.int64),
                "margin_cents": np.round(margin * 100).astype(np.int64),
            },
        )
        cursor.execute(
            SETTLEMENTS_FROM_STAGE, {"first": first_day, "tz": timezone.get_current_timezone_name()}
        )
        cursor.execute("DROP TABLE demo_settlement_stage")


def _ts_or_none(values: list[str | None]) -> list[str | None]:
    suffix = "+00" if connection.vendor == "postgresql" else ""
    return [None if v is None else v + suffix for v in values]


def _reset_sequences() -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), [Client, ContactPerson])
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def reset() -> None:
    """Wipe the client base (clients and everything hanging off them). Users, the catalogue
    and tags stay. On PostgreSQL this is a TRUNCATE … CASCADE: tables of other apps that
    refer to clients are emptied too."""
    if connection.vendor == "postgresql":
        tables = [
            m._meta.db_table
            for m in (Interaction, Settlement, ContactPerson, Client.tags.through, Client)
        ]
        with connection.cursor() as cursor:
            # pending deferred FK checks (inside an outer transaction) block TRUNCATE
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE"
            )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    with transaction.atomic():
        Interaction.objects.all().delete()
        Settlement.objects.all().delete()
        Client.objects.update(parent=None)
        Client.objects.all().delete()
