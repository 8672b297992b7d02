"""Complaints benchmark (part of `make bench`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm python -m devtools.benchmarks.complaints \
        [--complaints 200000] [--database crm_bench_complaints] [--requests 200] [--no-docs]

Refuses to run unless DATABASE_URL is PostgreSQL. Works in its own database (created and
migrated if missing) with its own minimal users and clients; generates the complaints with
bulk inserts (``seed_complaints.generate_bulk``) and reuses them when the count matches.

1. Server time (p50/p95, 200 requests) of the complaint list (page 1; filtered; an account
   manager's scoped list) and of the analytics page (manager: all 200 000; account manager).
2. The escalation scan over 200 000 OPEN complaints: all complaints are made open with
   deadlines spread around now (1 % already past), then ``sla.sla_escalate_breaches`` is
   timed on the first run (inserts the new breaches and notices) and on a repeat run (nothing
   new: the steady state of the 5-minute beat). Emails are enqueued in chunks by the real code;
   here the enqueue is counted instead of sent to a broker.

Prints a markdown table and writes it to the "## Complaints" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
AMS = 20
CLIENTS = 5000
BUDGET_PAGE_MS = 150
BUDGET_SCAN_S = 2.0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Complaints benchmark")
    parser.add_argument("--complaints", type=int, default=200_000)
    parser.add_argument("--database", default="crm_bench_complaints")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-docs", action="store_true")
    return parser.parse_args(argv)


def seed(n: int) -> float | None:
    """Users, clients and ``n`` complaints; None when the data of that size is reused."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from clients.models import Client
    from crm.models import User
    from devtools.management.commands.seed_complaints import generate_bulk
    from feedback.models import Complaint, Notice, SlaBreach, Theme
    from segmentation.models import ClientMetrics

    call_command("migrate", interactive=False, verbosity=0)
    from devtools.benchmarks.common import collectstatic

    collectstatic()
    call_command("create_demo_users", verbosity=0)
    if Complaint.objects.count() == n:
        return None
    started = time.perf_counter()
    manager = User.objects.get(username="manager")
    with transaction.atomic():
        Notice.objects.all().delete()
        SlaBreach.objects.all().delete()
        Complaint.objects.all().delete()
        for i in range(1, AMS + 1):
            User.objects.get_or_create(
                username=f"bench_am{i:02d}",
                defaults={"role": User.Role.ACCOUNT_MANAGER, "head": manager},
            )
        ams = list(
            User.objects.filter(username__startswith="bench_am")
            .order_by("username")
            .values_list("id", flat=True)
        )
        if Client.objects.count() < CLIENTS:
            Client.objects.all().delete()
            Client.objects.bulk_create(
                [
                    Client(name=f"Bench client {i:05d}", account_manager_id=ams[i % len(ams)])
                    for i in range(CLIENTS)
                ],
                batch_size=5000,
            )
            # one client in ten is class A (normally written by the segmentation run)
            ids = list(Client.objects.order_by("id").values_list("id", flat=True))
            ClientMetrics.objects.bulk_create(
                [ClientMetrics(client_id=i, abc_class="A", lifecycle="regular") for i in ids[::10]],
                batch_size=5000,
            )
        rows = list(
            Client.objects.order_by("id").values_list(
                "id", "account_manager_id", "metrics__abc_class"
            )
        )
        themes = list(Theme.objects.values_list("id", flat=True))
        generate_bulk(
            n,
            rng=random.Random(12),  # noqa: S311
            client_rows=rows,
            users=ams,
            themes=themes,
            now=timezone.now(),
        )
    with connection.cursor() as cursor:
        for model in (Complaint, Client):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return time.perf_counter() - started


def time_pages(requests: int) -> list:
    from django.urls import reverse

    from crm.models import User
    from devtools.benchmarks.common import client_for, time_get

    manager = User.objects.get(username="manager")
    am = User.objects.get(username="bench_am01")
    m, a = client_for(manager), client_for(am)
    for c in (m, a):
        c.cookies["django_language"] = "en"
    url_list = reverse("feedback:complaints")
    url_an = reverse("feedback:analytics")
    return [
        time_get(m, url_list, "complaint list, page 1 (manager, all)", requests),
        time_get(
            m,
            url_list + "?status=under_review&priority=urgent",
            "complaint list, filtered status + priority",
            requests,
        ),
        time_get(m, url_list + "?overdue=on", "complaint list, overdue only", requests),
        time_get(a, url_list, "complaint list (account manager, own clients)", requests),
        time_get(m, url_an, "analytics, last 12 months (manager, all)", requests),
        time_get(a, url_an, "analytics (account manager)", requests),
    ]


def time_scan() -> tuple[int, float, int, float, int]:
    """Make every complaint open with deadlines around now (1 % past), time the scan, then roll
    everything back so the data set stays as generated for the next run."""
    from django.db import connection, transaction

    from devtools.benchmarks.common import time_call
    from feedback import sla
    from feedback.models import Complaint, Notice, SlaBreach

    qn = connection.ops.quote_name
    table = qn(Complaint._meta.db_table)
    enqueued: list = []
    real_enqueue = sla.enqueue
    sla.enqueue = lambda task, *args, **kwargs: enqueued.append(args)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {qn(Notice._meta.db_table)}")
                cursor.execute(f"DELETE FROM {qn(SlaBreach._meta.db_table)}")
                cursor.execute(
                    f"""UPDATE {table} SET
                      status = (ARRAY['registered', 'under_review', 'waiting'])[1 + id % 3],
                      acknowledged_at = NULL, resolved_at = NULL, closed_at = NULL,
                      rejected_at = NULL, process_fixed_at = NULL,
                      resolution = '', rejection_reason = '',
                      ack_due_at = now() + ((id % 1000) - 10) * interval '1 hour',
                      resolve_due_at = now() + ((id % 1000) - 10) * interval '1 hour'
                                             + interval '8 hours'"""
                )
                cursor.execute(f"ANALYZE {table}")
            open_count = Complaint.objects.filter(status__in=Complaint.OPEN_STATUSES).count()
            first_s, created = time_call(sla.sla_escalate_breaches, "first scan")
            repeat_s, again = time_call(sla.sla_escalate_breaches, "repeat scan", n=3)
            if again or SlaBreach.objects.count() != len(created):
                raise SystemExit("a repeat scan must find nothing new")
            transaction.set_rollback(True)
    finally:
        sla.enqueue = real_enqueue
    return open_count, first_s, len(created), repeat_s, len(enqueued)


def run(args) -> str:
    from devtools.benchmarks.common import prepare_environment, publish

    prepare_environment(args.database, "complaints")
    import django

    django.setup()
    from django.db import connection

    seconds = seed(args.complaints)
    print(
        "Reusing the complaints already generated."
        if seconds is None
        else f"Generated {args.complaints} complaints in {seconds:.1f} s.",
        flush=True,
    )
    from devtools.benchmarks.common import HEADER

    timings = time_pages(args.requests)
    from devtools.benchmarks.common import time_call
    from feedback.analytics import complaint_summary
    from feedback.models import Complaint

    cold_s, _summary = time_call(lambda: complaint_summary(Complaint.objects.all()), "cold", n=3)
    open_count, first_s, created, repeat_s, batches = time_scan()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    ok_pages = all(t.p95_ms < BUDGET_PAGE_MS and t.status == 200 for t in timings)
    ok_scan = max(first_s, repeat_s) < BUDGET_SCAN_S
    lines = [
        "## Complaints",
        "",
        "Command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm python -m "
        "devtools.benchmarks.complaints` (also run by `make bench`). Own database "
        f"`{args.database}`: {args.complaints:,} complaints over one year on {CLIENTS:,} "
        f"clients of {AMS} account managers (10 % class A). PostgreSQL {version}, "
        f"{os.cpu_count()} CPU cores, Python {platform.python_version()}. Server time in "
        f"Django's test client, {args.requests} requests per row, DEBUG off.",
        "",
        HEADER,
        *[t.row() for t in timings],
        "",
        "| escalation scan | open complaints | new breaches | seconds |",
        "|---|---|---|---|",
        f"| first run (1 % past a deadline) | {open_count:,} | {created:,} | {first_s:.3f} |",
        f"| repeat run (nothing new, best of 3) | {open_count:,} | 0 | {repeat_s:.3f} |",
        "",
        f"Budgets: pages p95 < {BUDGET_PAGE_MS} ms — {'met' if ok_pages else 'NOT met'}; "
        f"scan < {BUDGET_SCAN_S:.0f} s — {'met' if ok_scan else 'NOT met'}. "
        f"The first run enqueued {batches} email task(s) of up to 500 breaches each.",
        "",
        "The analytics page and the list's total are served from the cache (per scope, "
        "period/filter and data version; any complaint write invalidates them after commit, "
        "5 minutes at most otherwise, 1 minute for the overdue filter). The first request "
        "after a write recomputes: the analytics aggregate over all "
        f"{args.complaints:,} complaints took {cold_s * 1000:.0f} ms (best of 3) in this run; "
        "the list then pays one COUNT.",
        "",
    ]
    return publish(lines, "## Complaints", docs=not args.no_docs)


def main(argv=None) -> None:
    """Entry point; from `make bench` (Django already set up on another database) it runs
    itself in a fresh process so it gets its own database."""
    from django.apps import apps

    if apps.ready:
        env = dict(os.environ)
        cfg = __import__("django.conf", fromlist=["settings"]).settings.DATABASES["default"]
        if "DATABASE_URL" not in env and cfg.get("ENGINE", "").endswith("postgresql"):
            env["DATABASE_URL"] = (
                f"postgres://{cfg.get('USER') or 'postgres'}@{cfg.get('HOST') or '127.0.0.1'}:"
                f"{cfg.get('PORT') or 5432}/{cfg['NAME']}"
            )
        subprocess.run(
            [sys.executable, "-m", "devtools.benchmarks.complaints", *(argv or [])],
            cwd=ROOT,
            env=env,
            check=True,
        )
        return
    run(parse_args(argv))


if __name__ == "__main__":
    main()
