"""Shared benchmark helpers: server time of pages through Django's test client.

Server time = the time Django takes to answer a request in-process (middleware, view, queries,
template), measured over N requests; p50/p95/max in milliseconds plus the query count of one
request. Run benchmarks against PostgreSQL (DATABASE_URL) with generated data of the stated size.
"""

import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext


@dataclass
class Timing:
    label: str
    n: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    queries: int
    status: int
    # CPU time of this process (view + template, not waiting for a CPU or the database) and
    # the SQL time of one request: a contended machine inflates p50/p95, not these
    cpu_p50_ms: float = 0.0
    db_ms: float = 0.0

    def row(self) -> str:
        return (
            f"| {self.label} | {self.n} | {self.p50_ms:.1f} | {self.p95_ms:.1f} | "
            f"{self.max_ms:.1f} | {self.queries} |"
        )

    def row_detailed(self) -> str:
        return self.row() + f" {self.cpu_p50_ms:.1f} | {self.db_ms:.1f} |"


HEADER = "| what | requests | p50 ms | p95 ms | max ms | queries |\n|---|---|---|---|---|---|"
HEADER_DETAILED = (
    "| what | requests | p50 ms | p95 ms | max ms | queries | app CPU p50 ms | SQL ms |\n"
    "|---|---|---|---|---|---|---|---|"
)


def client_for(user) -> Client:
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    return client


def p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[94]
        if len(values) > 1
        else values[0]
    )


def time_get(
    client: Client, url: str, label: str, n: int = 200, warmup: int = 3, before=None
) -> Timing:
    """p50/p95/max of ``n`` GETs of ``url``, with the query count and database time of one;
    ``before()``, if given, runs before each request outside the timing (a cache made cold)."""
    for _ in range(warmup):
        response = client.get(url)
    if before is not None:
        before()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    queries = len(ctx.captured_queries)
    db_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
    samples, cpu = [], []
    for _ in range(n):
        if before is not None:
            before()
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        reset_queries()
    return Timing(
        label,
        n,
        statistics.median(samples),
        p95(samples),
        max(samples),
        queries,
        response.status_code,
        cpu_p50_ms=statistics.median(cpu),
        db_ms=db_ms,
    )


def time_call(fn, label: str, n: int = 1) -> tuple[float, object]:
    """Wall time in seconds of fn() (best of n) and its last result."""
    best, result = float("inf"), None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def collectstatic() -> None:
    """DEBUG off uses the manifest static storage: pages need the manifest to render."""
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    if settings.DEBUG or (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        return
    print("collectstatic (once)…")
    call_command("collectstatic", interactive=False, verbosity=0)


def prepare_environment(database: str, what: str) -> str:
    """Point DATABASE_URL (must be PostgreSQL) at the benchmark's own ``database`` (created if
    missing) and set the environment of a production-like run (DEBUG off, HTTP allowed)."""
    import os
    import sys
    from urllib.parse import urlparse, urlunparse

    import psycopg2

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"The {what} benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    parsed = urlparse(url)
    admin = psycopg2.connect(urlunparse(parsed._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{database}"')
    admin.close()
    os.environ["DATABASE_URL"] = urlunparse(parsed._replace(path=f"/{database}"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        os.environ.setdefault(name, "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("DEBUG", None)
    return os.environ["DATABASE_URL"]


def rerun_alone(module: str, argv=None) -> bool:
    """From `make bench` (Django already set up on another database): run ``module`` again in
    a fresh process, so it sets up on its own database, and say so (True); else False."""
    from django.apps import apps

    if not apps.ready:
        return False
    subprocess.run(
        [sys.executable, "-m", module, *(argv or [])],
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    return True


DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"


def publish(lines: list[str], heading: str, *, docs: bool = True) -> str:
    """A benchmark's section: printed, and written to docs/benchmarks.md under ``heading``
    unless ``docs`` is False (``--no-docs``); returned."""
    section = "\n".join(lines)
    print("\n" + section)
    if docs:
        write_docs_section(section, heading)
    return section


def write_docs_section(section: str, heading: str) -> None:
    """Put ``section`` in docs/benchmarks.md in place of the one under ``heading`` (up to the
    next ``## `` heading), or at the end when there is none yet."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    start = text.find("\n" + heading)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section + ("" if end == -1 else "\n" + text[end + 1 :])
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(text)
