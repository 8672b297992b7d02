"""Sales pipeline benchmarks (PostgreSQL): the deals generator and each page's cases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \
        .venv/bin/python -m devtools.benchmarks.sales_reports

Runs on the clients benchmark's database (``make bench`` seeds it: 100 000 clients, 2 000 000
settlements); adds ``seed_deals`` deals when there are fewer. Sections below are per page;
``BENCH_REQUESTS`` (default 50) sets the requests per case.
"""

import os
import sys
import time
from datetime import timedelta

from django.utils import timezone

DEALS = 200_000
OPEN_SHARE = 0.10
LOST_SHARE = 0.30


def seed_deals(total: int = DEALS, *, open_share: float = OPEN_SHARE) -> int:
    """``total`` deals over the existing clients (PostgreSQL, one INSERT … SELECT each for the
    deals and their lines): ``open_share`` open ones spread over the open stages with a next
    step, 30 % lost with a refusal category, the rest won; one line each, a product of the
    client's target segment portrait (any product without a segment). Returns the number
    added (none when the table already holds ``total``)."""
    from django.db import connection

    from clients.models import Client, Product, TargetSegment
    from sales.models import Deal, Pipeline, RefusalCategory, StageKind

    existing = Deal.objects.count()
    if existing >= total:
        return 0
    n = total - existing
    pipeline = Pipeline.objects.get(code="sales")
    open_stages = list(pipeline.stages.filter(kind=StageKind.OPEN).values_list("id", flat=True))
    won = pipeline.stages.filter(kind=StageKind.WON).values_list("id", flat=True).first()
    lost = pipeline.stages.filter(kind=StageKind.LOST).values_list("id", flat=True).first()
    refusals = list(RefusalCategory.objects.values_list("id", flat=True))
    products = list(Product.objects.values_list("id", flat=True))
    through = TargetSegment.products.through
    open_cut = int(open_share * 1000)
    lost_cut = open_cut + int(LOST_SHARE * 1000)
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH cl AS (
                SELECT id, account_manager_id, row_number() OVER (ORDER BY id) AS rn
                FROM clients_client WHERE account_manager_id IS NOT NULL
            ), g AS (
                SELECT i, (i * 7919) %% 1000 AS k,
                       1 + (i::bigint * 104729) %% %(clients)s AS rn
                FROM generate_series(1, %(n)s) AS i
            )
            INSERT INTO sales_deal (
                created_at, updated_at, title, state, stage_entered_at, amount, sale_type,
                sale_type_derived, next_step_date, next_step_goal, closed_at, refusal_note,
                version, client_id, owner_id, pipeline_id, stage_id, refusal_id, lost_at_stage_id
            )
            SELECT now() - (g.i %% 700) * interval '1 day', now(), '',
                   CASE WHEN g.k < %(open_cut)s THEN 'open'
                        WHEN g.k < %(lost_cut)s THEN 'lost' ELSE 'won' END,
                   now() - (g.i %% 60) * interval '1 day', 10000 + (g.i %% 90) * 1000,
                   'repeat', 'repeat',
                   CASE WHEN g.k < %(open_cut)s AND g.i %% 5 > 0
                        THEN %(today)s::date + (g.i %% 40 - 10) END,
                   '',
                   CASE WHEN g.k >= %(open_cut)s THEN now() - (g.i %% 300) * interval '1 day' END,
                   '', 1, cl.id, cl.account_manager_id, %(pipeline)s,
                   CASE WHEN g.k < %(open_cut)s
                        THEN (%(open_stages)s::bigint[])[1 + g.i %% %(n_open)s]
                        WHEN g.k < %(lost_cut)s THEN %(lost)s ELSE %(won)s END,
                   CASE WHEN g.k >= %(open_cut)s AND g.k < %(lost_cut)s
                        THEN (%(refusals)s::bigint[])[1 + g.i %% %(n_refusals)s] END,
                   CASE WHEN g.k >= %(open_cut)s AND g.k < %(lost_cut)s
                        THEN (%(open_stages)s::bigint[])[1 + g.i %% %(n_open)s] END
            FROM g JOIN cl ON cl.rn = g.rn
            """,
            {
                "n": n,
                "clients": Client.objects.filter(account_manager__isnull=False).count(),
                "open_cut": open_cut,
                "lost_cut": lost_cut,
                "today": today,
                "pipeline": pipeline.pk,
                "open_stages": open_stages,
                "n_open": len(open_stages),
                "lost": lost,
                "won": won,
                "refusals": refusals,
                "n_refusals": len(refusals),
            },
        )
        cursor.execute(
            f"""
            WITH portrait AS (
                SELECT targetsegment_id AS segment_id,
                       array_agg(product_id ORDER BY product_id) AS products
                FROM {through._meta.db_table} GROUP BY targetsegment_id
            )
            INSERT INTO sales_dealline (deal_id, product_id, quantity, price, amount)
            SELECT d.id,
                   COALESCE(p.products[1 + d.id %% cardinality(p.products)],
                            (%(products)s::bigint[])[1 + d.id %% %(n_products)s]),
                   1, d.amount, d.amount
            FROM sales_deal d
            JOIN clients_client c ON c.id = d.client_id
            LEFT JOIN portrait p ON p.segment_id = c.target_segment_id
            WHERE NOT EXISTS (SELECT 1 FROM sales_dealline l WHERE l.deal_id = d.id)
            """,  # noqa: S608 - the table name from the model
            {"products": products, "n_products": len(products)},
        )
        cursor.execute("VACUUM ANALYZE sales_deal")
        cursor.execute("VACUUM ANALYZE sales_dealline")
    return n


def seed_lifecycle_history(months: int = 6) -> int:
    """Lifecycle changes for the period report: the clients benchmark runs the segmentation
    once, so its class history holds first classifications only. Writes one run per month
    end over the last ``months`` months and moves a share of the clients between regular,
    lost and restored (PostgreSQL, INSERT … SELECT). Returns the rows added (none when runs
    of this generator exist)."""
    from django.db import connection

    from segmentation.models import ClassChange, SegmentationRun

    if SegmentationRun.objects.filter(trigger="manual", parameters__bench=True).exists():
        return 0
    from crm.periods import add_months

    added = 0
    this_month = timezone.localdate().replace(day=1)
    for back in range(months, 0, -1):
        day = add_months(this_month, -back) + timedelta(days=27)
        run = SegmentationRun.objects.create(
            status="success", trigger="manual", as_of=day, parameters={"bench": True}
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {ClassChange._meta.db_table}
                    (client_id, run_id, date, lifecycle_old, lifecycle_new, abc_move)
                SELECT id, %s, %s,
                       CASE WHEN (id + %s) %% 3 = 0 THEN 'regular' ELSE 'lost' END,
                       CASE WHEN (id + %s) %% 3 = 0 THEN 'lost'
                            WHEN (id + %s) %% 3 = 1 THEN 'restored' ELSE 'regular' END,
                       ''
                FROM clients_client WHERE id %% 20 = %s
                """,  # noqa: S608 - the table name from the model
                [run.pk, day, back, back, back, back % 20],
            )
            added += cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ClassChange._meta.db_table}")
    return added


# --- reports (client × product board, period report) ---------------------------------------
def reports_cases(manager, account_manager) -> list[tuple[object, str, str]]:
    from segmentation.models import ClassChange

    last = ClassChange.objects.order_by("-date").values_list("date", flat=True).first()
    on = (last or timezone.localdate()).isoformat()
    quarter = f"period=quarter&on={on}"
    return [
        (manager, "manager: clients × products, page 1", "/sales/products/"),
        (manager, "manager: clients × products, page 1000", "/sales/products/?page=1000"),
        (manager, "manager: clients × products, lines, ABC A", "/sales/products/?lines=on&abc=A"),
        (account_manager, "account manager: clients × products, page 1", "/sales/products/"),
        (
            account_manager,
            "account manager: clients × products, page 50",
            "/sales/products/?page=50",
        ),
        (manager, f"manager: period report, quarter of {on}", f"/sales/report/?{quarter}"),
        (
            manager,
            "manager: period report, clients behind repeat sales (total)",
            f"/sales/report/clients/?{quarter}&metric=repeat&row=",
        ),
        (
            account_manager,
            f"account manager: period report, quarter of {on}",
            f"/sales/report/?{quarter}",
        ),
    ]


def reports_main(requests: int) -> None:
    """Each case; the period report's cases twice: computed on every request (cache off) and
    as a repeated view serves them (the cached figures, ``reports.cached_facts``)."""
    from django.test import override_settings

    from crm.models import User
    from devtools.benchmarks.common import HEADER_DETAILED, client_for, time_get

    manager = User.objects.get(username="manager")
    account_manager = User.objects.get(username="am1")
    print("\n### Sales reports\n")
    print(HEADER_DETAILED)
    for user, label, url in reports_cases(manager, account_manager):
        if "/report/" in url:
            with override_settings(SALES_REPORT_CACHE_SECONDS=0):
                n = max(5, requests // 2)
                timing = time_get(client_for(user), url, f"{label} (computed)", n=n, warmup=1)
            print(timing.row_detailed(), flush=True)
            label = f"{label} (cached)"
        timing = time_get(client_for(user), url, label, n=requests)
        print(timing.row_detailed(), flush=True)


def main() -> None:
    from devtools.benchmarks import run

    run.setup()
    run.prepare()
    started = time.perf_counter()
    added = seed_deals()
    if added:
        print(f"seed_deals: {added} deals in {time.perf_counter() - started:.1f} s")
    changes = seed_lifecycle_history()
    if changes:
        print(f"lifecycle history: {changes} changes")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average {load}; Python {sys.version.split()[0]}")
    reports_main(int(os.environ.get("BENCH_REQUESTS", 50)))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nload average at the end {load}")


if __name__ == "__main__":
    main()
