"""seed(): catalogue and users, then the planned tables loaded in bulk; reset()."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

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
from devtools.demo import plan
from devtools.demo.bulk import bulk_insert, bulk_load_mode, copy_binary_int8, money
from devtools.demo.vocabulary import CATALOGUE, EXTRA_AMS, LINE_DESCRIPTIONS, SEGMENTS, TAGS

DEFAULT_SEED = 20240601
# size name -> (clients, settlements, extra account managers)
SIZES: dict[str, tuple[int, int, int]] = {
    "small": (300, 6_000, 0),
    "bench": (100_000, 2_000_000, 18),
    "million": (1_000_000, 20_000_000, 198),
}
# clients planned and loaded at a time: the planning arrays and Python lists of one block are
# freed before the next, so memory stays flat whatever the size (1 000 000 clients and
# 20 000 000 settlements in under 4 GB); a size up to one block is generated exactly as before
CHUNK_CLIENTS = 100_000


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
    for i, (first, last) in enumerate(extra_am_names(extra), start=3):
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


def extra_am_names(extra: int) -> list[tuple[str, str]]:
    """``extra`` (first, last) names: EXTRA_AMS, then its first names with the last names of
    other entries of the same gender (the list alternates), up to 10 × len(EXTRA_AMS)."""
    k = len(EXTRA_AMS)
    return [(EXTRA_AMS[i % k][0], EXTRA_AMS[(i % k + 2 * (i // k)) % k][1]) for i in range(extra)]


MAX_EXTRA_AMS = 10 * len(EXTRA_AMS)


def chunk_sizes(clients: int, settlements: int, chunk: int | None = None) -> list[tuple[int, int]]:
    """(clients, settlements) per block: settlements shared in proportion to the clients."""
    chunk = chunk or CHUNK_CLIENTS
    if clients <= chunk:
        return [(clients, settlements)]
    out, done_c, done_s = [], 0, 0
    while done_c < clients:
        n = min(chunk, clients - done_c)
        m = settlements * (done_c + n) // clients - done_s
        out.append((n, m))
        done_c, done_s = done_c + n, done_s + m
    return out


# --- generation helpers -----------------------------------------------------------------------
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
    mark = [started]

    def step(name: str) -> None:
        now = time.perf_counter()
        result.timings[name], mark[0] = now - mark[0], now
        if log:
            log(f"  {name}: {result.timings[name]:.1f} s")

    postgres = connection.vendor == "postgresql"
    cal = plan.Calendar(timezone.localdate(), timezone.get_current_timezone(), postgres)
    with transaction.atomic():
        catalogue = ensure_catalogue()
        am_ids = np.array(ensure_account_managers(extra_account_managers, stdout=stdout))
        base_client = (Client.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        base_contact = (
            ContactPerson.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ) + 1
    result.account_managers = len(am_ids)
    step("catalogue")

    bulk_models = (Client, Client.tags.through, ContactPerson, Settlement, Interaction)
    blocks = chunk_sizes(clients, settlements)
    with (
        transaction.atomic(),
        bulk_load_mode(bulk_models, enabled=clients + settlements >= 200_000),
    ):
        if postgres:
            _create_settlement_stage()
        for k, (n, m) in enumerate(blocks):
            # block 0 draws from the same generators as an unchunked run (same data up to
            # CHUNK_CLIENTS clients); later blocks from their own, deterministic too
            rngs = np.random.default_rng(seed if k == 0 else [seed, k]).spawn(4)
            loaded = _seed_block(
                rngs,
                cal,
                catalogue,
                n=n,
                settlements=m,
                base_client=base_client,
                base_contact=base_contact,
                base_settlement=result.settlements,
                am_ids=am_ids,
                interaction_share=interaction_share,
                my_day=k == 0,
                postgres=postgres,
            )
            result.clients += loaded[0]
            result.contacts += loaded[1]
            result.settlements += loaded[2]
            result.interactions += loaded[3]
            base_client += loaded[0]
            base_contact += loaded[1]
            step(f"block {k + 1}/{len(blocks)} planned and loaded")
        if postgres and result.settlements:
            _settlements_from_stage(cal.first_day)
            step("settlements from stage")
        _reset_sequences()
    step("indexes and constraints")
    if postgres:
        # planner statistics now; outside a transaction also the visibility map (index-only
        # scans, e.g. the list's COUNT) that autovacuum would set later
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for model in bulk_models:
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        step(command.lower())
    result.seconds = time.perf_counter() - started
    return result


def _seed_block(
    rngs,
    cal: plan.Calendar,
    catalogue: Catalogue,
    *,
    n: int,
    settlements: int,
    base_client: int,
    base_contact: int,
    base_settlement: int,
    am_ids: np.ndarray,
    interaction_share: float,
    my_day: bool,
    postgres: bool,
) -> tuple[int, int, int, int]:
    """Plan and load one block of clients with their tags, contacts, contact log and
    settlements (on PostgreSQL into the settlement stage). Returns the four row counts."""
    rng_clients, rng_settlements, rng_contacts, rng_log = rngs
    cp = plan.plan_clients(
        rng_clients,
        cal,
        n=n,
        settlements=settlements,
        base_id=base_client,
        am_ids=am_ids,
        segment_ids=catalogue.segment_ids,
        segment_targets=catalogue.segment_targets,
        product_ids=catalogue.product_ids,
    )
    tagged = np.flatnonzero(rng_clients.random(n) < 0.25)
    tags = {
        "client_id": cp.ids[tagged],
        "tag_id": np.array(catalogue.tag_ids)[
            rng_clients.integers(0, len(catalogue.tag_ids), tagged.size)
        ],
    }
    contacts, primary_contact = plan.plan_contacts(rng_contacts, cal, cp, base_id=base_contact)
    interactions, denormalised = plan.plan_interactions(
        rng_log,
        cal,
        cp,
        primary_contact=primary_contact,
        am_ids=am_ids,
        share=interaction_share,
        my_day=my_day,
    )
    sales = plan.plan_settlements(rng_settlements, cal, cp)
    m = len(sales["day"])
    clients = bulk_insert(Client._meta.db_table, cp.columns | denormalised)
    del cp, denormalised
    bulk_insert(Client.tags.through._meta.db_table, tags)
    n_contacts = bulk_insert(ContactPerson._meta.db_table, contacts)
    del contacts
    if m and postgres:
        _copy_settlement_stage(first_seq=base_settlement + 1, **sales)
    elif m:
        first = base_settlement + 1
        bulk_insert(
            Settlement._meta.db_table,
            {
                "created_at": cal.noon_text[sales["day"]],
                "updated_at": cal.noon_text[sales["day"]],
                "client_id": sales["client_id"],
                "product_id": sales["product_id"],
                "date": cal.day_text[sales["day"]],
                "amount": money(sales["amount"]),
                "margin": money(sales["margin"]),
                "document_number": [f"РН-{i:08d}" for i in range(first, first + m)],
                "external_id": None,
            },
        )
    del sales
    n_interactions = bulk_insert(Interaction._meta.db_table, interactions)
    return clients, n_contacts, m, n_interactions


# numbered in date order over all blocks (each block's rows are in date order already, so a
# single block keeps its numbers); inserted in that order, the realistic physical order
SETTLEMENTS_FROM_STAGE = """
INSERT INTO clients_settlement (created_at, updated_at, client_id, product_id, date, amount,
                                margin, document_number, external_id)
SELECT ts, ts, client_id, product_id, d, amount_cents / 100.0, margin_cents / 100.0,
       'РН-' || lpad(n::text, 8, '0'), NULL
FROM (SELECT s.*, row_number() OVER (ORDER BY s.day, s.seq) AS n,
             %(first)s::date + s.day::int AS d,
             ((%(first)s::date + s.day::int) + time '12:00') AT TIME ZONE %(tz)s AS ts
      FROM demo_settlement_stage s) staged
ORDER BY day, seq
"""


def _create_settlement_stage() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE demo_settlement_stage (seq int8, client_id int8, "
            "product_id int8, day int8, amount_cents int8, margin_cents int8) ON COMMIT DROP"
        )


def _copy_settlement_stage(*, first_seq: int, client_id, product_id, day, amount, margin):
    """Integer columns by binary COPY into the temporary stage (no Python object per row)."""
    copy_binary_int8(
        "demo_settlement_stage",
        {
            "seq": np.arange(first_seq, first_seq + len(day), dtype=np.int64),
            "client_id": client_id,
            "product_id": product_id,
            "day": day,
            "amount_cents": np.round(amount * 100).astype(np.int64),
            "margin_cents": np.round(margin * 100).astype(np.int64),
        },
    )


def _settlements_from_stage(first_day: date) -> None:
    """PostgreSQL turns the staged integers into dates, money, timestamps and document numbers
    itself: 20 000 000 settlements without a Python object per row."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(
            SETTLEMENTS_FROM_STAGE, {"first": first_day, "tz": timezone.get_current_timezone_name()}
        )
        cursor.execute("DROP TABLE demo_settlement_stage")


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
