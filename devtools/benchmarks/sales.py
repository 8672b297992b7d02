"""Sales pipeline benchmark (``make bench-sales``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm python -m devtools.benchmarks.sales \
        [--clients 100000] [--deals 200000] [--open 20000] [--database crm_bench_sales] \
        [--requests 100] [--no-docs]

Refuses to run unless DATABASE_URL is PostgreSQL. Works in its own database (created and
migrated if missing). ``seed_deals`` makes the data every sales case shares: 20 account
managers, ``--clients`` clients with current ABC classes, three product lines of products and
``--deals`` deals (``--open`` of them open, spread over the seeded pipeline's open stages,
entered 0–60 days ago, a third without a next step, some with a passed invoice date; the rest
closed over the last two years, half won and half lost with a refusal), one line each and a
stage log (created, and won/lost for the closed ones). Deals are written with
``INSERT … SELECT`` over ``generate_series``; the data are reused when the counts match.

Sections of its own per area (each owner adds theirs to ``CASES`` and to the docs section
"## Sales pipeline" of docs/benchmarks.md):

- **board and moves** (``board_cases``): the board as a manager (every open deal) and as an
  account manager, with filters, a deep page of a column (htmx), and a move (htmx POST to the
  board's move endpoint, then back) timed one by one.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "benchmarks.md"
AMS = 20
SECTION = "## Sales pipeline"
BOARD_HEADING = "### Board and moves"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Sales pipeline benchmark")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--open", type=int, default=20_000)
    parser.add_argument("--database", default="crm_bench_sales")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--no-docs", action="store_true")
    return parser.parse_args(argv)


# --- the data -------------------------------------------------------------------------------


def _users_and_clients(n_clients: int) -> list[int]:
    import random

    from django.db import transaction

    from clients.models import Client, Product, ProductLine
    from crm.models import User
    from segmentation.models import ClientMetrics

    manager = User.objects.get(username="manager")
    with transaction.atomic():
        for i in range(1, AMS + 1):
            User.objects.get_or_create(
                username=f"bench_am{i:02d}",
                defaults={
                    "role": User.Role.ACCOUNT_MANAGER,
                    "head": manager,
                    "email": f"bench_am{i:02d}@bench.example",
                },
            )
        ams = list(
            User.objects.filter(username__startswith="bench_am")
            .order_by("username")
            .values_list("id", flat=True)
        )
        have = Client.objects.count()
        if have < n_clients:
            rng = random.Random(7)
            start = have
            for chunk in range(start, n_clients, 10_000):
                rows = [
                    Client(
                        name=f"Bench client {i:06d}",
                        inn=f"77{i:08d}",
                        account_manager_id=ams[i % len(ams)],
                    )
                    for i in range(chunk, min(chunk + 10_000, n_clients))
                ]
                Client.objects.bulk_create(rows, batch_size=5000)
            ids = Client.objects.filter(metrics__isnull=True).values_list("id", flat=True)
            ClientMetrics.objects.bulk_create(
                [
                    ClientMetrics(
                        client_id=c,
                        abc_class=rng.choices("ABC", weights=[1, 3, 6])[0],
                        lifecycle="regular",
                    )
                    for c in ids.iterator()
                ],
                batch_size=5000,
            )
        for i in range(3):
            line = ProductLine.objects.get_or_create(name=f"Bench line {i}")[0]
            for j in range(3):
                Product.objects.get_or_create(
                    name=f"Bench product {i}.{j}", defaults={"line": line, "price": 1000}
                )
    return ams


def seed_deals(*, clients: int, deals: int, open_deals: int) -> float | None:
    """Make the sales benchmark's data (see the module docstring); None when they exist."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from clients.models import Product
    from sales.models import Deal, Pipeline, RefusalCategory

    call_command("migrate", interactive=False, verbosity=0)
    from devtools.benchmarks.common import collectstatic

    collectstatic()
    call_command("create_demo_users", verbosity=0)
    if Deal.objects.count() == deals and Deal.objects.filter(state="open").count() == open_deals:
        return None
    started = time.perf_counter()
    _users_and_clients(clients)
    pipeline = Pipeline.objects.get(code="sales")
    stages = list(pipeline.stages.order_by("order", "id"))
    opened = [s.pk for s in stages if s.kind == "open"]
    won = next(s.pk for s in stages if s.kind == "won")
    lost = next(s.pk for s in stages if s.kind == "lost")
    refusals = list(RefusalCategory.objects.values_list("id", flat=True))
    products = list(
        Product.objects.filter(name__startswith="Bench product").values_list("id", flat=True)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE sales_stagelog, sales_dealline, sales_deal CASCADE")
        cursor.execute(
            "CREATE TEMP TABLE bench_c ON COMMIT DROP AS "
            "SELECT row_number() OVER (ORDER BY id) AS rn, id, account_manager_id "
            "FROM clients_client WHERE account_manager_id IS NOT NULL"
        )
        cursor.execute("SELECT count(*) FROM bench_c")
        n_clients = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO sales_deal (
                created_at, updated_at, client_id, owner_id, title, pipeline_id, stage_id,
                state, stage_entered_at, amount, sale_type, sale_type_derived, probability,
                expected_close, next_step_date, next_step_goal, invoice_due, closed_at,
                lost_at_stage_id, refusal_id, refusal_note, version)
            SELECT
                now() - make_interval(days => 60 + g %% 700),
                now(),
                c.id, c.account_manager_id, 'Bench deal ' || g, %(pipeline)s,
                CASE WHEN g <= %(open)s THEN (%(opened)s::int[])[1 + g %% %(n_open)s]
                     WHEN g %% 2 = 0 THEN %(won)s ELSE %(lost)s END,
                CASE WHEN g <= %(open)s THEN 'open' WHEN g %% 2 = 0 THEN 'won' ELSE 'lost' END,
                CASE WHEN g <= %(open)s
                     THEN now() - make_interval(days => g %% 60, hours => g %% 24)
                     ELSE now() - make_interval(days => g %% 730) END,
                1000 + (g * 7919) %% 500000,
                (ARRAY['first', 'repeat', 'new_line'])[1 + g %% 3],
                (ARRAY['first', 'repeat', 'new_line'])[1 + g %% 3],
                CASE WHEN g %% 10 = 0 THEN 50 END,
                current_date + (g %% 120),
                CASE WHEN g %% 3 = 0 THEN NULL
                     WHEN g %% 3 = 1 THEN current_date + (g %% 14)
                     ELSE current_date - (g %% 14) END,
                CASE WHEN g %% 3 = 0 THEN '' ELSE 'Call' END,
                CASE WHEN g %% 7 = 0 THEN current_date - (g %% 20) END,
                CASE WHEN g > %(open)s THEN now() - make_interval(days => g %% 730) END,
                CASE WHEN g > %(open)s AND g %% 2 = 1
                     THEN (%(opened)s::int[])[1 + g %% %(n_open)s] END,
                CASE WHEN g > %(open)s AND g %% 2 = 1
                     THEN (%(refusals)s::int[])[1 + g %% %(n_ref)s] END,
                CASE WHEN g > %(open)s AND g %% 2 = 1 THEN 'bench' ELSE '' END,
                1
            FROM generate_series(1, %(deals)s) AS g
            JOIN bench_c c ON c.rn = 1 + (g::bigint * 7919) %% %(n_clients)s
            """,
            {
                "pipeline": pipeline.pk,
                "open": open_deals,
                "opened": opened,
                "n_open": len(opened),
                "won": won,
                "lost": lost,
                "refusals": refusals,
                "n_ref": len(refusals),
                "deals": deals,
                "n_clients": n_clients,
            },
        )
        cursor.execute(
            """
            INSERT INTO sales_dealline (deal_id, product_id, quantity, price, amount)
            SELECT d.id, (%(products)s::int[])[1 + d.id %% %(n)s], 1, d.amount, d.amount
            FROM sales_deal d
            """,
            {"products": products, "n": len(products)},
        )
        cursor.execute(
            """
            INSERT INTO sales_stagelog (deal_id, event, from_stage_id, to_stage_id, at,
                                        actor_id, seconds_in_previous, refusal_id, note)
            SELECT d.id, 'created', NULL::bigint, COALESCE(d.lost_at_stage_id, d.stage_id),
                   d.created_at, NULL::bigint, NULL::bigint, NULL::bigint, ''
            FROM sales_deal d
            UNION ALL
            SELECT d.id, d.state, d.lost_at_stage_id, d.stage_id, d.closed_at, NULL::bigint,
                   extract(epoch FROM d.closed_at - d.created_at)::bigint, d.refusal_id, ''
            FROM sales_deal d WHERE d.state <> 'open'
            """
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


# --- board and moves (owner kanban) ---------------------------------------------------------


def _stats(samples: list[float]) -> tuple[float, float, float]:
    from devtools.benchmarks.common import p95

    return statistics.median(samples), p95(samples), max(samples)


def time_moves(user, n: int) -> tuple[list[float], int]:
    """Move one open deal of ``user``'s between two stages ``n`` times through the endpoint
    (htmx POST); the version is read before each request, outside the timing."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from devtools.benchmarks.common import client_for
    from sales.models import Deal, Stage

    http = client_for(user)
    deal = Deal.objects.filter(state="open", client__account_manager=user).first()
    stages = list(Stage.objects.filter(pipeline=deal.pipeline, kind="open").order_by("order")[:2])
    url = reverse("sales:board_move", args=[deal.pk])
    samples, queries = [], 0
    for i in range(n + 3):
        version = Deal.objects.values_list("version", flat=True).get(pk=deal.pk)
        data = {"stage": stages[i % 2].pk, "version": version, "filters": ""}
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = http.post(url, data, HTTP_HX_REQUEST="true")
            elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"move answered {response.status_code}: {response.content[:300]}")
        if i >= 3:  # warm-up
            samples.append(elapsed)
            queries = len(ctx.captured_queries)
    return samples, queries


def board_cases(requests: int) -> list[str]:
    from django.urls import reverse

    from clients.models import ProductLine
    from crm.models import User
    from devtools.benchmarks.common import client_for, time_get
    from sales.models import Pipeline, Stage

    manager = User.objects.get(username="manager")
    am = User.objects.get(username="bench_am01")
    pipeline = Pipeline.objects.get(code="sales")
    first = Stage.objects.filter(pipeline=pipeline, kind="open").order_by("order").first()
    line = ProductLine.objects.get(name="Bench line 1")
    board = reverse("sales:board")
    column = reverse("sales:board_column", args=[pipeline.pk, first.pk])
    cases = [
        (manager, board, "board, manager (every open deal)"),
        (manager, board + "?ageing=any", "board, manager, ageing = yellow or red"),
        (manager, board + "?abc=A", "board, manager, class A"),
        (manager, board + f"?product_line={line.pk}", "board, manager, a product line"),
        (am, board, "board, one account manager"),
        (am, board + "?ageing=red", "board, one account manager, red"),
    ]
    rows = []
    for user, url, label in cases:
        rows.append(time_get(client_for(user), url, label, n=requests).row())
    deep = time_get(client_for(manager), column + "?page=50", "column page 50 (htmx)", n=requests)
    rows.append(deep.row())
    samples, queries = time_moves(am, requests)
    p50, p95_, top = _stats(samples)
    rows.append(
        f"| a move (htmx POST, card + column figures back) | {len(samples)} | {p50:.1f} | "
        f"{p95_:.1f} | {top:.1f} | {queries} |"
    )
    return rows


# --- the docs -------------------------------------------------------------------------------


def write_docs(subsection: str) -> None:
    """Put ``subsection`` (starting with BOARD_HEADING) into "## Sales pipeline", replacing
    its previous text and leaving the other owners' subsections alone."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    start = text.find("\n" + SECTION + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + SECTION + "\n\n" + subsection
        DOCS.write_text(text.rstrip("\n") + "\n")
        return
    section_end = text.find("\n## ", start + 1)
    section_end = len(text) if section_end == -1 else section_end
    body = text[start:section_end]
    sub = body.find("\n" + BOARD_HEADING)
    if sub == -1:
        body = body.rstrip("\n") + "\n\n" + subsection
    else:
        sub_end = body.find("\n### ", sub + 1)
        rest = "" if sub_end == -1 else body[sub_end:]
        body = body[: sub + 1] + subsection.rstrip("\n") + "\n" + rest
    text = text[:start] + body.rstrip("\n") + "\n" + text[section_end:]
    DOCS.write_text(text)


def run(args) -> str:
    from devtools.benchmarks.common import prepare_environment

    prepare_environment(args.database, "sales pipeline")
    import django

    django.setup()
    from django.db import connection

    seconds = seed_deals(clients=args.clients, deals=args.deals, open_deals=args.open)
    print(
        "Reusing the deals already generated."
        if seconds is None
        else f"Generated the data in {seconds:.1f} s.",
        flush=True,
    )
    from devtools.benchmarks.common import HEADER

    load_before = os.getloadavg()
    rows = board_cases(args.requests)
    load_after = os.getloadavg()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM clients_client")
        n_clients = cursor.fetchone()[0]
    lines = [
        BOARD_HEADING,
        "",
        "Command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm python -m "
        f"devtools.benchmarks.sales --clients {args.clients} --deals {args.deals} --open "
        f"{args.open}` (`make bench-sales`). Own database `{args.database}`: {n_clients:,} "
        f"clients of {AMS} account managers, {args.deals:,} deals ({args.open:,} open over "
        "the six open stages of one pipeline, the rest closed over two years), one line and "
        "a stage log each; no settlements (the board and the moves do not read them). "
        f"PostgreSQL {version}, {os.cpu_count()} CPU cores, Python {platform.python_version()}; "
        f"load average before/after: {load_before[0]:.2f}/{load_after[0]:.2f} (a machine "
        "shared with other work). Server time through Django's test client, DEBUG off; "
        f"{args.requests} requests a case.",
        "",
        HEADER,
        *rows,
        "",
        "Targets: board p95 < 150 ms, a move < 50 ms.",
        "",
    ]
    subsection = "\n".join(lines)
    print("\n" + subsection)
    if not args.no_docs:
        write_docs(subsection)
    return subsection


def main(argv=None) -> None:
    from django.apps import apps

    if apps.ready:
        subprocess.run(
            [sys.executable, "-m", "devtools.benchmarks.sales", *(argv or [])],
            cwd=ROOT,
            check=True,
        )
        return
    run(parse_args(argv))


if __name__ == "__main__":
    main()
