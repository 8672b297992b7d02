"""The embedded default against PostgreSQL: one segmentation recompute on the same data.

    python -m devtools.benchmarks.embedded [--size bench] \
        [--sqlite-dir var/bench-sqlite] \
        [--postgres postgres://postgres@127.0.0.1:5432/crm_bench_embedded]

For each database (SQLite in ``--sqlite-dir``, i.e. the ``make run`` configuration with
``VAR_DIR`` pointed there; PostgreSQL at ``--postgres``) a child process migrates, seeds
``seed_demo --size SIZE --no-segmentation`` when the database holds fewer clients (the
generator is deterministic: both get the same clients and settlements), empties the classes and
runs ``services.recompute`` twice: the *first run* from blank classes (every client written)
and the *nightly* run (nothing changed). Prints one row per database and the SQLite/PostgreSQL
ratios; figures go into docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="bench")
    parser.add_argument("--sqlite-dir", default=str(ROOT / "var" / "bench-sqlite"))
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432/crm_bench_embedded"
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def worker(size: str) -> dict:
    """In the child: Django set up for one database; seed if needed, then time two runs."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from clients.models import Client, Settlement
    from devtools import demo
    from segmentation import services
    from segmentation.models import ClassChange, ClientMetrics, SegmentationRun

    call_command("migrate", verbosity=0)
    wanted = demo.SIZES[size][0]
    seed_s = None
    if Client.objects.count() < wanted:
        started = time.perf_counter()
        call_command("seed_demo", size=size, no_segmentation=True, verbosity=0)
        seed_s = time.perf_counter() - started
    ClassChange.objects.all()._raw_delete(ClassChange.objects.db)
    ClientMetrics.objects.all()._raw_delete(ClientMetrics.objects.db)
    SegmentationRun.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    timings = {}
    for name in ("first", "nightly"):
        started = time.perf_counter()
        run = services.recompute(trigger=SegmentationRun.Trigger.COMMAND)
        timings[name] = time.perf_counter() - started
        if run.status != SegmentationRun.Status.SUCCESS:
            raise SystemExit(f"run failed: {run.error}")
        timings[f"{name}_changes"] = run.changes
    return {
        "vendor": connection.vendor,
        "clients": Client.objects.count(),
        "settlements": Settlement.objects.count(),
        "seed_s": seed_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        **timings,
    }


def child(vendor: str, args) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DEBUG"] = "1"  # a command in a checkout (no SECRET_KEY needed); no request is served
    if vendor == "sqlite":
        Path(args.sqlite_dir).mkdir(parents=True, exist_ok=True)
        env["VAR_DIR"] = args.sqlite_dir
    else:
        from devtools.benchmarks.run import _create_database

        _create_database(args.postgres)
        env["DATABASE_URL"] = args.postgres
    env.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    out = subprocess.run(
        [sys.executable, "-m", "devtools.benchmarks.embedded", "--worker", "--size", args.size],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{vendor} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.size)))
        return
    vendors = [args.only] if args.only else ["postgresql", "sqlite"]
    results = {v: child(v, args) for v in vendors}
    print("| database | clients | settlements | seed s | first run s | nightly s | peak MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results.values():
        seed = f"{r['seed_s']:.1f}" if r["seed_s"] else "reused"
        print(
            f"| {r['vendor']} | {r['clients']:,} | {r['settlements']:,} | {seed} | "
            f"{r['first']:.2f} | {r['nightly']:.2f} | {r['peak_mb']} |"
        )
    if len(results) == 2:
        pg, lite = results["postgresql"], results["sqlite"]
        print(
            f"\nSQLite / PostgreSQL: first run {lite['first'] / pg['first']:.2f}×, "
            f"nightly {lite['nightly'] / pg['nightly']:.2f}× (target ≤ 5×)"
        )


if __name__ == "__main__":
    main()
