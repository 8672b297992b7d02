"""``make bench``: speed figures on PostgreSQL with the benchmark data set.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench make bench

Creates the database if it is missing, migrates, seeds ``seed_demo --size bench`` (100 000
clients, 2 000 000 settlements) when it holds fewer clients than that — so re-runs reuse the
data — recomputes the segmentation, then runs benchmarks.clients, benchmarks.complaints,
benchmarks.sales and benchmarks.dashboard (the last three each in its own database). Figures go
into docs/benchmarks.md by hand, with the command, the data size and the machine.

The pages at 1 000 000 clients / 20 000 000 settlements (200 account managers, so an account
manager still has ~4 800 clients; the complaints benchmark, whose size does not change, is
skipped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench1m make bench-million

Environment: BENCH_SIZE (a seed_demo size: bench, the default, or million), BENCH_CLIENTS /
BENCH_SETTLEMENTS (data size, overriding the size), BENCH_REQUESTS (requests per case,
default 200).
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
EXAMPLE = "DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench make bench"


def _require_postgres() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        print(
            "Benchmarks run on PostgreSQL only (DATABASE_URL is "
            f"{'not set' if not url else 'not PostgreSQL'}). For example:\n\n    {EXAMPLE}\n",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return url


def _create_database(url: str) -> None:
    """CREATE DATABASE when it does not exist yet (connecting to the `postgres` database)."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    cfg = dj_database_url.parse(url)
    conn = psycopg2.connect(
        dbname="postgres",
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
            if cursor.fetchone() is None:
                print(f"Creating database {cfg['NAME']}…")
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
    finally:
        conn.close()


def setup() -> None:
    """Production-like settings (DEBUG off) that Django's test client can talk to."""
    url = _require_postgres()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    # the test client speaks plain HTTP
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ.setdefault(name, "0")
    _create_database(url)
    import django

    django.setup()


def prepare() -> float | None:
    """Migrate and seed when needed; returns the seeding wall time, None when data was reused."""
    from django.core.management import call_command

    from clients.models import Client
    from devtools.demo import SIZES

    default_clients, default_settlements, _ = SIZES[_size()]
    clients = int(os.environ.get("BENCH_CLIENTS", default_clients))
    settlements = int(os.environ.get("BENCH_SETTLEMENTS", default_settlements))
    call_command("migrate", interactive=False, verbosity=0)
    from devtools.benchmarks.common import collectstatic

    collectstatic()
    call_command("create_demo_users", verbosity=0)
    existing = Client.objects.count()
    if existing >= clients:
        print(f"Reusing the data already in the database ({existing} clients).")
        if Client.objects.filter(metrics__isnull=False).exists():
            vacuum()
        else:
            _recompute()  # vacuums too
        return None
    print(f"Seeding {clients} clients and {settlements} settlements…", flush=True)
    started = time.perf_counter()
    call_command(
        "seed_demo",
        size="bench",
        clients=clients,
        settlements=settlements,
        reset=existing > 0,
        no_segmentation=True,
    )
    seconds = time.perf_counter() - started
    print(f"seed_demo took {seconds:.1f} s")
    _recompute()
    return seconds


def _size() -> str:
    return os.environ.get("BENCH_SIZE", "bench")


def _recompute() -> None:
    """Classes on the list (ABC/lifecycle filters) come from a segmentation run."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("recompute_segments")
    print(f"recompute_segments took {time.perf_counter() - started:.1f} s")
    vacuum()


def vacuum() -> None:
    """The steady state autovacuum reaches after a bulk load or a segmentation run (which
    writes every client's class row): visibility map set, statistics fresh."""
    from django.db import connection

    from clients.models import (
        Client,
        ClientLineFirst,
        ClientYear,
        ContactPerson,
        Interaction,
        Settlement,
        SettlementMonth,
    )
    from segmentation.models import ClientMetrics

    # the tables the settlement triggers fill too: without statistics (autovacuum off, or not
    # yet run) their joins are planned for a few hundred rows
    kept = (ClientYear, SettlementMonth, ClientLineFirst)
    with connection.cursor() as cursor:
        for model in (Client, ContactPerson, Settlement, Interaction, ClientMetrics, *kept):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _memory_gb() -> str:
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(meminfo.readline().split()[1])
    except (OSError, ValueError, IndexError):
        return "?"
    return f"{kb / 1024 / 1024:.0f}"


def main() -> None:
    setup()
    from django.db import connection

    seed_seconds = prepare()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"PostgreSQL {version}, {os.cpu_count()} CPU cores, {_memory_gb()} GB RAM, "
        f"Python {sys.version.split()[0]}, load average {load}"
    )

    from devtools.benchmarks import clients

    clients.main(seed_seconds=seed_seconds)
    if _size() == "bench":
        from devtools.benchmarks import complaints

        complaints.main()
        # the sales pipeline's pages (its own database; devtools/benchmarks/sales.py)
        from devtools.benchmarks import sales

        sales.main([])
        # the manager dashboard over every data set at once (its own database;
        # devtools/benchmarks/dashboard.py)
        from devtools.benchmarks import dashboard

        dashboard.main([])


if __name__ == "__main__":
    main()
