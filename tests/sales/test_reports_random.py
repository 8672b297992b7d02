"""The period report's first sales, repeat sales, potential clients, conversion and new product
lines, read from ``clients.ClientLineFirst``, equal the definitions (docs/domain.md, "Sales
reports") computed naively from the settlements, on random settlements — written through
single inserts, bulk inserts, edits of date, product and client, deletions and a product moved
to another line."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from clients.models import Client, Product, Settlement
from crm.periods import Period
from sales import reports
from tests.factories import ClientFactory, ProductFactory, ProductLineFactory

pytestmark = pytest.mark.django_db

FIGURES = (
    reports.POTENTIAL,
    reports.FIRST,
    reports.REPEAT,
    reports.NEW_LINE,
    reports.CONVERTED,
)


@pytest.fixture(autouse=True)
def _no_cache(settings):
    settings.SALES_REPORT_CACHE_SECONDS = 0


def reference(period: Period, clients) -> dict[str, dict[int, Decimal | None]]:
    """The definitions, client by client, from every settlement (the reference)."""
    started = datetime.combine(period.start, datetime.min.time(), tzinfo=UTC)
    sets = {m: {} for m in FIGURES}
    line_of = dict(Product.objects.values_list("pk", "line_id"))
    for client in clients:
        mine = list(Settlement.objects.filter(client=client))
        first = min((s.date for s in mine), default=None)
        inside = [s for s in mine if period.start <= s.date < period.end]
        if client.created_at < started and (first is None or first >= period.start):
            sets[reports.POTENTIAL][client.pk] = None
            if first is not None and first < period.end:
                sets[reports.CONVERTED][client.pk] = None
        if not inside:
            continue
        total = sum((s.amount for s in inside), Decimal(0))
        if first >= period.start:
            sets[reports.FIRST][client.pk] = total
            continue
        sets[reports.REPEAT][client.pk] = total
        new = [
            s
            for s in inside
            if s.product_id is not None
            and not any(
                b.product_id is not None
                and line_of[b.product_id] == line_of[s.product_id]
                and b.date < s.date
                for b in mine
            )
        ]
        if new:
            sets[reports.NEW_LINE][client.pk] = sum((s.amount for s in new), Decimal(0))
    return sets


def _random_day(rng) -> date:
    return date(2025, 10, 1) + timedelta(days=rng.randrange(0, 400))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_figures_equal_the_definitions_on_random_settlements(seed, manager, owner, outsider):
    rng = random.Random(seed)
    lines = [ProductLineFactory(name=f"Line {i}") for i in range(3)]
    products = [ProductFactory(line=lines[i % 3], name=f"P{i}") for i in range(7)]
    managers = [owner, outsider, None]
    clients = []
    for i in range(25):
        client = ClientFactory(name=f"C{i}", account_manager=rng.choice(managers))
        created = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 450))
        Client.objects.filter(pk=client.pk).update(created_at=created)
        clients.append(client)

    def settlement(client=None):
        return Settlement(
            client=client or rng.choice(clients),
            product=rng.choice([*products, None]),
            date=_random_day(rng),
            amount=Decimal(rng.choice([-50, 0, 10, 120, 300])),
        )

    for _ in range(40):  # one by one
        settlement().save()
    Settlement.objects.bulk_create([settlement() for _ in range(120)])  # an import's batch
    ids = list(Settlement.objects.values_list("pk", flat=True))
    for pk in rng.sample(ids, 15):  # edits of date, product, client
        s = Settlement.objects.get(pk=pk)
        s.date, s.product = _random_day(rng), rng.choice([*products, None])
        if rng.random() < 0.3:
            s.client = rng.choice(clients)
        s.save()
    Settlement.objects.filter(pk__in=rng.sample(ids, 15)).delete()
    Product.objects.filter(pk=products[0].pk).update(line=lines[2])  # moved to another line

    clients = list(Client.objects.all())
    seen = set()
    for period in (
        Period(date(2026, 1, 1), date(2026, 4, 1)),
        Period(date(2026, 4, 1), date(2026, 7, 1)),
        Period(date(2026, 5, 1), date(2026, 6, 1)),
    ):
        expected = reference(period, clients)
        seen.update(m for m in FIGURES if expected[m])
        facts = reports.period_facts(manager, period)
        for metric in FIGURES:
            assert facts.sets[metric] == expected[metric], (seed, period, metric)
        mine = reports.period_facts(owner, period)  # an account manager: their clients only
        own = {c.pk for c in clients if c.account_manager_id == owner.pk}
        for metric in FIGURES:
            assert mine.sets[metric] == {c: v for c, v in expected[metric].items() if c in own}, (
                seed,
                period,
                metric,
            )
    assert seen == set(FIGURES)  # the random data reaches every figure
