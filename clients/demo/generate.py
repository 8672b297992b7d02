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

from clients.demo import plan
from clients.demo.bulk import bulk_insert, bulk_load_mode, copy_binary_int8, money
from clients.demo.vocabulary import CATALOGUE, EXTRA_AMS, LINE_DESCRIPTIONS, SEGMENTS, TAGS
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
# size name -> (clients, settlements, extra account managers)
SIZES: dict[str, tuple[int, int, int]] = {
    "small": (300, 6_000, 0),
    "bench": (100_000, 2_000_000, 18),
}


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
    rng_clients, rng_settlements, rng_contacts, rng_log = np.random.default_rng(seed).spawn(4)
    with transaction.atomic():
        catalogue = ensure_catalogue()
        am_ids = np.array(ensure_account_managers(extra_account_managers, stdout=stdout))
        base_client = (Client.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        base_contact = (
            ContactPerson.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ) + 1
    result.account_managers = len(am_ids)
    step("catalogue")

    cp = plan.plan_clients(
        rng_clients,
        cal,
        n=clients,
        settlements=settlements,
        base_id=base_client,
        am_ids=am_ids,
        segment_ids=catalogue.segment_ids,
        segment_targets=catalogue.segment_targets,
        product_ids=catalogue.product_ids,
    )
    tagged = np.flatnonzero(rng_clients.random(clients) < 0.25)
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
    )
    sales = plan.plan_settlements(rng_settlements, cal, cp)
    step("planned")

    m = len(sales["day"])
    bulk_models = (Client, Client.tags.through, ContactPerson, Settlement, Interaction)
    with transaction.atomic(), bulk_load_mode(bulk_models, enabled=clients + m >= 200_000):
        result.clients = bulk_insert(Client._meta.db_table, cp.columns | denormalised)
        bulk_insert(Client.tags.through._meta.db_table, tags)
        result.contacts = bulk_insert(ContactPerson._meta.db_table, contacts)
        step("clients and contacts loaded")
        if m and postgres:
            _copy_settlements_postgres(first_day=cal.first_day, **sales)
        elif m:
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
                    "document_number": [f"РН-{i:08d}" for i in range(1, m + 1)],
                    "external_id": None,
                },
            )
        result.settlements = m
        step("settlements loaded")
        result.interactions = bulk_insert(Interaction._meta.db_table, interactions)
        step("contact log loaded")
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
