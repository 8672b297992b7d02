"""``make bench-seed``: wall time of the demo data ``make run`` loads.

    python -m devtools.benchmarks.seed [--size small] [--repeat 3] [--database-url URL]

Each repeat is a child process that migrates a fresh SQLite database in a temporary directory
(the ``make run`` configuration: ``VAR_DIR`` pointed there), or the database at
``--database-url`` (emptied by ``seed_demo --reset``), then times ``seed_demo --size SIZE
--no-segmentation``. Prints the best and the worst wall time and the child's peak memory;
exits with status 1 when the best time misses the target (a new machine's first ``make run``
waits for it: under 20 s for the small size). The tests bound the seed's queries and memory,
not its time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = {"small": 20.0}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reset", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def worker(size: str, reset: bool) -> dict:
    """In the child: migrate, then time one seed."""
    import django

    django.setup()
    from django.core.management import call_command

    from clients.models import Client, Settlement

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", size=size, no_segmentation=True, reset=reset, verbosity=0)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "clients": Client.objects.count(),
        "settlements": Settlement.objects.count(),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def child(args, var_dir: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DEBUG"] = "1"  # a command in a checkout (no SECRET_KEY needed); no request is served
    env["VAR_DIR"] = var_dir
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    env.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    command = [sys.executable, "-m", "devtools.benchmarks.seed", "--worker", "--size", args.size]
    if args.database_url:
        command.append("--reset")  # a database of one's own may hold data: start empty
    out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"seed_demo failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.size, reset=args.reset)))
        return
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="crm-bench-seed-") as var_dir:
            runs.append(child(args, var_dir))
    best = min(r["seconds"] for r in runs)
    worst = max(r["seconds"] for r in runs)
    last = runs[-1]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"seed_demo --size {args.size}: {last['clients']:,} clients, "
        f"{last['settlements']:,} settlements; best {best:.1f} s, worst {worst:.1f} s "
        f"of {len(runs)}; peak {max(r['peak_mb'] for r in runs)} MB; "
        f"{os.cpu_count()} CPU cores, load average {load}"
    )
    target = TARGET_S.get(args.size)
    if target is not None:
        verdict = "within" if best < target else "MISSES"
        print(f"{verdict} the target of {target:.0f} s")
        if best >= target:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
