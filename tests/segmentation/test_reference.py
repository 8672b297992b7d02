"""The whole run against an independent, deliberately naive reference written from the rules in
docs/domain.md: plain Python over every settlement, no month buckets, no numpy. Dates are drawn
around every boundary of several run dates (the 1st of a month, mid-month, the end of a month,
a leap day), amounts include zero (free goods) and refunds."""

import random
import statistics
from datetime import date, timedelta
from decimal import Decimal

import pytest

from clients.models import Client, Settlement
from crm.periods import add_months
from segmentation.models import ClientMetrics
from tests.segmentation.conftest import recompute

pytestmark = pytest.mark.django_db

W, N = 3, 12  # default lifecycle months and analysis window
RUN_DATES = [date(2025, 7, 1), date(2025, 7, 15), date(2025, 5, 31), date(2024, 2, 29)]


def month_key(day: date) -> tuple[int, int]:
    return (day.year, day.month)


def reference(rows: list[tuple[int, date, Decimal]], client_ids: list[int], as_of: date):
    """{client id: (abc, xyz, lifecycle)} by the rules, the slow and obvious way."""
    seen = [(c, d, a) for c, d, a in rows if d < as_of]  # a run sees what is dated before D
    p0_start, p1_start = add_months(as_of, -W), add_months(as_of, -2 * W)
    window_end = as_of.replace(day=1)
    window_start = add_months(window_end, -N)
    out = {}
    turnover, in_window = {}, set()
    for client in client_ids:
        dates = [d for c, d, _a in seen if c == client]
        if not dates:
            out[client] = [None, None, "potential"]
            continue
        first = min(dates)
        in_p0 = any(p0_start <= d < as_of for d in dates)
        in_p1 = any(p1_start <= d < p0_start for d in dates)
        before_p1 = any(d < p1_start for d in dates)
        if first >= p0_start:
            status = "new"
        elif in_p0 and in_p1:
            status = "regular"
        elif in_p0 and before_p1:
            status = "restored"
        else:
            status = "lost"
        out[client] = [None, None, status]
        window_rows = [(d, a) for c, d, a in seen if c == client and window_start <= d < window_end]
        if window_rows:
            in_window.add(client)
            turnover[client] = sum((a for _d, a in window_rows), Decimal(0))
            # XYZ: monthly sums from the first month ever (or the window start) to the end
            months, day = [], max(first.replace(day=1), window_start)
            while day < window_end:
                months.append(month_key(day))
                day = add_months(day, 1)
            sums = {m: Decimal(0) for m in months}
            for d, a in window_rows:
                sums[month_key(d)] += a
            values = [float(sums[m]) for m in months]
            mean = statistics.fmean(values) if values else 0.0
            if len(values) < 3 or status == "new":
                xyz = None
            elif mean <= 0:
                xyz = "Z"
            else:
                cv = statistics.pstdev(values) / mean
                xyz = "X" if cv <= 0.10 + 1e-9 else "Y" if cv <= 0.25 + 1e-9 else "Z"
            out[client][1] = xyz
    ranked = sorted(in_window, key=lambda c: (-turnover[c], c))
    total = sum((t for t in turnover.values() if t > 0), Decimal(0))
    before = Decimal(0)
    for client in ranked:
        t = turnover[client]
        if t <= 0:
            abc = "C"
        elif before / total < Decimal("0.5"):
            abc = "A"
        elif before / total < Decimal("0.8"):
            abc = "B"
        else:
            abc = "C"
        out[client][0] = abc
        before += max(t, Decimal(0))
    return {c: tuple(v) for c, v in out.items()}


def boundary_days(as_of: date) -> list[date]:
    edges = [as_of, add_months(as_of, -W), add_months(as_of, -2 * W), as_of.replace(day=1)]
    edges.append(add_months(as_of.replace(day=1), -N))
    return [e + timedelta(days=k) for e in edges for k in (-1, 0, 1)]


def test_engine_agrees_with_the_reference_at_every_boundary():
    rng = random.Random(20261130)
    candidates = sorted({d for as_of in RUN_DATES for d in boundary_days(as_of)})
    # systematic: each boundary day alone, after an old purchase, and before a mid-P0 one
    patterns = [[], [date(2023, 1, 10)], [date(2023, 1, 10), date(2024, 12, 20)]]
    planned = [[*extra, day] for day in candidates for extra in patterns]
    clients = Client.objects.bulk_create([Client(name=f"R{i}") for i in range(160 + len(planned))])
    ids = [c.pk for c in clients]
    rows = [
        (client, day, Decimal("10.00"))
        for client, days in zip(ids[160:], planned, strict=True)
        for day in days
    ]
    for client in ids[:150]:  # ids 150–159 never buy: potential
        for _ in range(rng.randint(1, 7)):
            if rng.random() < 0.6:
                day = rng.choice(candidates)
            else:
                day = date(2023, 6, 1) + timedelta(days=rng.randint(0, 800))
            amount = rng.choice(
                [Decimal(0), Decimal("-35.50"), Decimal(rng.randint(1, 500_000)) / 100]
            )
            rows.append((client, day, amount))
        if rng.random() < 0.2:  # a steady buyer: several months in a row
            start = date(2024, rng.randint(1, 12), 10)
            for k in range(rng.randint(3, 14)):
                rows.append((client, add_months(start, k), Decimal("100.00")))
    Settlement.objects.bulk_create([Settlement(client_id=c, date=d, amount=a) for c, d, a in rows])
    for as_of in RUN_DATES:
        recompute(as_of=as_of)
        got = {
            pk: (abc, xyz, lifecycle)
            for pk, abc, xyz, lifecycle in ClientMetrics.objects.values_list(
                "client_id", "abc_class", "xyz_class", "lifecycle"
            )
        }
        expected = reference(rows, ids, as_of)
        wrong = {c: (got[c], expected[c]) for c in ids if got[c] != expected[c]}
        assert not wrong, f"run date {as_of}: {len(wrong)} clients differ, e.g. {wrong}"
        statuses = {v[2] for v in expected.values()}
        assert statuses == {"potential", "new", "regular", "restored", "lost"}, as_of
