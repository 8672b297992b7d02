"""seed_demo: deterministic, idempotent with --if-empty, every purchase pattern present, in a
bounded number of queries and memory (its wall time is measured by ``make bench-seed``)."""

import io
import statistics
import tracemalloc
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Min, Q, Sum
from django.test.utils import CaptureQueriesContext

from clients.models import Client, ContactPerson, Interaction, Settlement, TargetSegment
from crm.models import User
from crm.periods import add_months
from devtools.demo import plan_counts

TODAY = date(2026, 3, 18)
FROZEN = datetime(2026, 3, 18, 10, 30, tzinfo=ZoneInfo("Europe/Moscow"))


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, no_segmentation=True, **options)
    return out.getvalue()


def snapshot() -> dict:
    return {
        "names": list(Client.objects.order_by("id").values_list("name", flat=True)),
        "contacts": list(ContactPerson.objects.order_by("id").values_list("full_name", flat=True)),
        "totals": Settlement.objects.aggregate(n=Count("id"), total=Sum("amount")),
        "dates": Settlement.objects.aggregate(first=Min("date"), last=Max("date")),
        "steps": list(Client.objects.order_by("id").values_list("next_step_date", flat=True)),
        "interactions": Interaction.objects.count(),
    }


@pytest.fixture
def frozen():
    with time_machine.travel(FROZEN, tick=False):
        yield


@pytest.fixture
def small(db, frozen):
    seed(size="small")


def test_small_seed_size_in_bounded_queries_and_memory(db, frozen):
    """Bulk writes, not a query per row (6 000 settlements, 300 clients and their contacts in
    ~220 queries), and the plan built in numpy without a Python object per row."""
    tracemalloc.start()
    try:
        with CaptureQueriesContext(connection) as queries:
            seed(size="small")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Client.objects.count() == 300
    assert Settlement.objects.count() == 6000
    assert ContactPerson.objects.count() >= 300
    assert Interaction.objects.exists()
    assert len(queries) < 400, f"{len(queries)} queries"
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB traced"


def test_small_seed_is_deterministic(db, frozen):
    seed(size="small", seed=7)
    first = snapshot()
    seed(size="small", seed=7, reset=True)
    assert snapshot() == first
    seed(size="small", seed=8, reset=True)
    assert snapshot()["names"] != first["names"]


def test_if_empty_does_nothing_when_clients_exist(small):
    before = snapshot()
    out = seed(size="small", if_empty=True)
    assert "nothing to do" in out
    assert snapshot() == before


def test_every_purchase_pattern_appears(small):
    p0_start = add_months(TODAY, -3)  # lifecycle window W = 3 months
    p1_start = add_months(TODAY, -6)
    clients = Client.objects.annotate(
        n=Count("settlements"),
        first=Min("settlements__date"),
        last=Max("settlements__date"),
        in_p0=Count("settlements", filter=Q(settlements__date__gt=p0_start)),
        in_p1=Count(
            "settlements",
            filter=Q(settlements__date__gt=p1_start, settlements__date__lte=p0_start),
        ),
        before_p1=Count("settlements", filter=Q(settlements__date__lte=p1_start)),
    )
    # potential: never bought
    assert clients.filter(n=0).count() >= 10
    # lost: the last settlement is more than 3 months ago
    assert clients.filter(n__gt=0, last__lte=p0_start).count() >= 10
    # new: the first settlement ever is within the last 3 months
    assert clients.filter(first__gt=p0_start).count() >= 5
    # restored: bought before, a gap over the previous window, bought again recently
    assert clients.filter(in_p0__gt=0, in_p1=0, before_p1__gt=0).count() >= 5
    # regular: bought in both windows
    assert clients.filter(in_p0__gt=0, in_p1__gt=0).count() >= 50
    # refunds
    assert Settlement.objects.filter(amount__lt=0).exists()
    # 24 months of history, nothing in the future
    span = Settlement.objects.aggregate(first=Min("date"), last=Max("date"))
    assert span["last"] <= TODAY
    assert add_months(TODAY, -24) <= span["first"] <= add_months(TODAY, -23)


def test_turnover_is_heavy_tailed_and_some_clients_are_steady(small):
    totals = sorted(
        (
            t
            for t in Client.objects.annotate(t=Sum("settlements__amount")).values_list(
                "t", flat=True
            )
            if t
        ),
        reverse=True,
    )
    top = totals[: len(totals) // 10]
    assert sum(top) > Decimal("0.4") * sum(totals), "a few big clients make class A"
    # XYZ over the last 12 complete months: some steady (CV <= 10 %), some volatile (> 25 %)
    month_start = TODAY.replace(day=1)
    window = add_months(month_start, -12)
    monthly: dict[int, dict[tuple[int, int], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for client_id, day, amount in Settlement.objects.filter(
        date__gte=window, date__lt=month_start
    ).values_list("client_id", "date", "amount"):
        monthly[client_id][(day.year, day.month)] += amount
    cvs = []
    for by_month in monthly.values():
        if len(by_month) == 12:
            values = [float(v) for v in by_month.values()]
            cvs.append(statistics.pstdev(values) / statistics.mean(values))
    assert sum(cv <= 0.10 for cv in cvs) >= 10
    assert sum(0.10 < cv <= 0.25 for cv in cvs) >= 1
    assert sum(cv > 0.25 for cv in cvs) >= 10


def test_catalogue_segments_and_bilingual_names(small):
    segments = TargetSegment.objects.annotate(n=Count("products"))
    assert 3 <= segments.count() <= 4
    assert all(3 <= s.n <= 5 for s in segments)
    names = list(Client.objects.values_list("name", flat=True))
    cyrillic = [n for n in names if any("а" <= ch.lower() <= "я" for ch in n)]
    latin_only = [n for n in names if n.isascii()]
    assert len(cyrillic) > len(names) * 0.7
    assert latin_only, "some English/Latin company names"
    assert any(n.startswith("ООО «") for n in names)
    assert Client.objects.filter(kind=Client.Kind.PERSON).exists()
    assert not Client.objects.filter(name="").exists()


def test_my_day_has_content_for_each_account_manager(small):
    for username in ("am1", "am2"):
        am = User.objects.get(username=username)
        mine = Client.objects.filter(account_manager=am)
        assert mine.count() > 50
        assert mine.filter(next_step_date=TODAY).exists()
        assert mine.filter(next_step_date__lt=TODAY).exists()
        open_promises = Interaction.objects.filter(
            client__account_manager=am, promise_done_at__isnull=True
        ).exclude(promise="")
        assert open_promises.filter(promise_due__lte=TODAY).exists()
    # the denormalised next step matches a logged interaction
    client = Client.objects.filter(next_step_date__isnull=False).first()
    assert client.interactions.filter(next_step_date=client.next_step_date).exists()
    assert client.last_contact_at is not None


@pytest.mark.django_db
def test_explicit_sizes_are_exact(frozen):
    seed(clients=120, settlements=1500, account_managers=3)
    assert Client.objects.count() == 120
    assert Settlement.objects.count() == 1500
    assert User.objects.filter(role=User.Role.ACCOUNT_MANAGER).count() == 5
    assert Client.objects.filter(account_manager__username="am1").exists()
    assert Client.objects.filter(account_manager__username="am03").exists()
    # fewer settlements than the patterns plan: still exactly as many as asked
    seed(clients=40, settlements=25, reset=True)
    assert Client.objects.count() == 40
    assert Settlement.objects.count() == 25


def test_plan_counts_hits_the_bench_total_without_the_database():
    import numpy as np

    pattern, size, counts = plan_counts(np.random.default_rng(1), 100_000, 2_000_000)
    assert counts.sum() == 2_000_000
    assert counts.shape == (100_000, 24)
    assert (counts[pattern == 7].sum(axis=1) == 0).all()  # never bought
    assert counts.sum(axis=1).max() > 200  # a client with many settlements for the card


def test_the_current_month_holds_the_elapsed_share_of_a_month():
    """Run on the 1st of a 31-day month, the month to date holds about 1/31 of a month's
    settlements, not a whole month's on one day; the total stays exact."""
    import numpy as np

    _p, _s, whole = plan_counts(np.random.default_rng(1), 100_000, 2_000_000)
    _p, _s, first = plan_counts(np.random.default_rng(1), 100_000, 2_000_000, current_share=1 / 31)
    assert first.sum() == whole.sum() == 2_000_000
    a_month = whole[:, 1:13].sum() / 12
    assert whole[:, 0].sum() > 0.5 * a_month
    # what remains this month: the purchases a pattern needs in it (new, returning, irregular)
    assert first[:, 0].sum() < 0.3 * whole[:, 0].sum()


def test_client_next_step_is_its_latest_logged_step(small):
    checked = 0
    for client in Client.objects.filter(last_contact_at__isnull=False).prefetch_related(
        "interactions"
    )[:60]:
        latest = max(client.interactions.all(), key=lambda i: i.occurred_at)
        assert client.last_contact_at == latest.occurred_at
        assert client.next_step_date == latest.next_step_date
        checked += 1
    assert checked > 0  # the demo data has contacted clients: the loop checked something


@pytest.mark.django_db(transaction=True)
def test_a_chunked_run_loads_blocks_with_consistent_keys(frozen, monkeypatch):
    """Big sizes are planned and loaded a block of clients at a time (flat memory): the
    blocks add up to the exact sizes, keys point at existing rows and the settlements are
    numbered in date order across blocks; the first block equals an unchunked run."""
    from devtools.demo import generate

    assert generate.chunk_sizes(250, 5000, chunk=100) == [(100, 2000), (100, 2000), (50, 1000)]
    seed(clients=100, settlements=2000)
    first_block = snapshot()["names"]
    monkeypatch.setattr(generate, "CHUNK_CLIENTS", 100)
    seed(clients=250, settlements=5000, reset=True)
    assert Client.objects.count() == 250
    assert Settlement.objects.count() == 5000
    ids = list(Client.objects.order_by("id").values_list("id", flat=True))
    assert ids == list(range(ids[0], ids[0] + 250))
    assert list(Client.objects.order_by("id").values_list("name", flat=True))[:100] == first_block
    assert Client.objects.filter(id__gte=ids[0] + 200).exists()
    assert ContactPerson.objects.values("client").distinct().count() == 250
    assert not Interaction.objects.exclude(client__in=Client.objects.all()).exists()
    assert Settlement.objects.filter(client__id__gte=ids[0] + 200).exists()
    if connection.vendor == "postgresql":  # numbered by PostgreSQL over all blocks
        rows = list(Settlement.objects.order_by("document_number").values_list("date", flat=True))
        assert rows == sorted(rows)
    assert Settlement.objects.values("document_number").distinct().count() == 5000
    assert len(generate.extra_am_names(198)) == len(set(generate.extra_am_names(198))) == 198
