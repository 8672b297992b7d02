"""Survey delivery: sending invitations through the worker against a bare smtplib loop, and
the answer page under concurrent respondents.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm REDIS_URL=redis://127.0.0.1:6379/6 \\
        python -m devtools.benchmarks.surveys_delivery [--invitations 10000] [--respondents 20]

(`make bench-surveys-delivery`). Own database ``crm_bench_survey_delivery``, re-created each
run. Both parts talk to real servers on localhost:

1. **Sending.** An SMTP sink (aiosmtpd, counting what it accepts) runs in this process. First a
   bare loop sends the same rendered invitation to N recipients over one ``smtplib``
   connection: the fastest this machine and this server can take mail. Then a campaign of N
   invitations is launched and a real Celery worker (Redis broker, 2 processes) sends them
   through the product's path: the outbox, batches of 200 over one connection each, a row
   claimed under its lock before the send and marked sent after the server accepted. The
   worker's rate is timed from the launch (creating the invitations included) to the last
   invitation marked sent; the target is at least 50 % of the bare rate.
2. **Answer page.** gunicorn as the Dockerfile runs it (DEBUG off, collected static files,
   3 sync workers) serves the answer page; ``--respondents`` threads each open their own
   invitations' links (GET) and answer them (POST), at once, without a pause, each over its own
   connection. The same load runs first over ``WARM_UP`` links each, not counted, so that
   every worker has loaded its templates and connected before the timing. p50/p95/max per
   method, the throughput, and the CPU per request of the server (gunicorn's workers), of the
   database server and of these respondents (this process); the target is p95 < 50 ms.
   ``--gunicorn "…"`` replaces the Dockerfile's options, to compare.
"""

import argparse
import http.client
import os
import random
import secrets
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from devtools.benchmarks.common import p95, prepare_environment

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "crm_bench_survey_delivery"
WARM_UP = 10  # invitations each respondent answers before the timing starts


class Sink:
    """An SMTP server that accepts everything and counts it."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += len(envelope.rcpt_tos)
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(url: str) -> None:
    from urllib.parse import urlparse, urlunparse

    import psycopg2

    admin = psycopg2.connect(urlunparse(urlparse(url)._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin.close()


def seed(n: int):
    """N clients with one contact each (distinct addresses), a manager, a campaign of all."""
    from clients.models import Client, ContactPerson
    from crm.models import User
    from surveys.models import Campaign, Questionnaire, SurveySettings

    manager = User.objects.create_user("bench-manager", role=User.Role.MANAGER)
    Client.objects.bulk_create(
        [Client(name=f"Client {i:06d}", account_manager=manager) for i in range(n)],
        batch_size=5000,
    )
    ContactPerson.objects.bulk_create(
        [
            ContactPerson(client=c, full_name=f"Contact {c.pk}", email=f"c{c.pk}@example.com")
            for c in Client.objects.only("id")
        ],
        batch_size=5000,
    )
    SurveySettings.objects.update(send_rate_per_minute=0, company_head_name="Head of company")
    questionnaire = Questionnaire.objects.filter(is_active=True, ask_nps=True).first()
    return manager, Campaign.objects.create(name="Benchmark", questionnaire=questionnaire)


def bare_rate(port: int, n: int, message: bytes, sink: Sink) -> float:
    start_count = sink.count
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(n):
            smtp.sendmail("surveys@example.com", [f"bare{i}@example.com"], message)
    elapsed = time.perf_counter() - started
    if sink.count - start_count != n:
        sys.exit(f"the sink took {sink.count - start_count} of {n} messages")
    return n / elapsed


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    argv = [sys.executable, "-m", "celery", "-A", "crm", "worker", "-c", "2", "--loglevel=INFO"]
    argv += ["--without-heartbeat", "--without-mingle", "--without-gossip", "-n", "bench@%h"]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "ready." in log.read_text():
            return proc
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    sys.exit("the worker did not start:\n" + log.read_text()[-2000:])


def worker_rate(manager, campaign, n: int, env: dict, work: Path) -> tuple[float, float]:
    from surveys import services
    from surveys.models import Invitation

    worker = start_worker(env, work / "worker.log")
    try:
        started = time.perf_counter()
        services.campaign_launch(actor=manager, campaign=campaign)
        launched = time.perf_counter()
        first = None
        while True:
            sent = Invitation.objects.filter(status=Invitation.Status.SENT).count()
            if sent and first is None:
                first = time.perf_counter()
            if sent >= n:
                break
            if time.perf_counter() - started > 1800:
                sys.exit(f"only {sent} of {n} sent after 30 minutes")
            time.sleep(0.05)
        done = time.perf_counter()
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(30)
    print(f"launch (creating {n} invitations, queueing the batches): {launched - started:.2f} s")
    return n / (done - started), n / (done - launched)


def cpu_seconds(parent: int | None = None, name: str | None = None) -> float:
    """User + system CPU time, from /proc, of ``parent``'s child processes (gunicorn's workers)
    or of the processes called ``name`` (the database server's)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        if (parent is not None and int(fields[1]) == parent) or (
            name is not None and head.split("(", 1)[1] == name
        ):
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def answer_page(
    n_respondents: int,
    per_respondent: int,
    env: dict,
    work: Path,
    pause: float = 0.0,
    gunicorn_args: list[str] | None = None,
) -> dict:
    from surveys.models import Invitation, InvitationToken, token_hash

    invitations = list(
        Invitation.objects.filter(status=Invitation.Status.SENT).order_by("id")[
            : n_respondents * (per_respondent + WARM_UP)
        ]
    )
    tokens = [secrets.token_urlsafe(32) for _ in invitations]
    from django.utils import timezone

    InvitationToken.objects.bulk_create(
        [
            InvitationToken(invitation=inv, token_hash=token_hash(t), created_at=timezone.now())
            for inv, t in zip(invitations, tokens, strict=True)
        ]
    )
    port = free_port()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "crm.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--log-level", "warning"]
        + (gunicorn_args or ["--workers", "3"]),  # as the Dockerfile runs it
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)  # noqa: S310 - localhost
            break
        except OSError:
            time.sleep(0.2)
    times: dict[str, list[float]] = {"GET": [], "POST": []}
    errors: list[str] = []
    barrier = threading.Barrier(n_respondents)
    host, port_number = "127.0.0.1", port

    def fetch(connection, method: str, path: str, body: bytes | None = None) -> tuple[int, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()

    asked = n_respondents * per_respondent
    if len(tokens) < n_respondents * (per_respondent + WARM_UP):
        sys.exit(f"--invitations must be at least {n_respondents * (per_respondent + WARM_UP)}")

    def respondent(mine: list[str], times: dict[str, list[float]]) -> None:
        # one keep-alive connection per respondent, like a phone's browser
        connection = http.client.HTTPConnection(host, port_number, timeout=30)
        barrier.wait()
        for token in mine:
            path = f"/s/{token}/"
            t0 = time.perf_counter()
            status, page = fetch(connection, "GET", path)
            times["GET"].append((time.perf_counter() - t0) * 1000)
            if status != 200 or 'name="nps"' not in page:
                errors.append(f"GET {status}: no form on {path}")
                continue
            if pause:  # reading the question and choosing a score
                time.sleep(random.uniform(0.5, 1.5) * pause)
            body = urllib.parse.urlencode({"nps": "9", "comment": "Fine."}).encode()
            t0 = time.perf_counter()
            status, _page = fetch(connection, "POST", path, body)
            times["POST"].append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors.append(f"POST {status}")
            if pause:  # the next respondent of this "phone"
                time.sleep(random.uniform(0.5, 1.5) * pause)
        connection.close()

    def respondents(first: int, each: int, times: dict[str, list[float]]) -> None:
        threads = [
            threading.Thread(
                target=respondent,
                args=(tokens[first + i * each : first + (i + 1) * each], times),
            )
            for i in range(n_respondents)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    try:
        # warm-up, not counted: the same load, so that every worker has loaded its templates,
        # connected to the database and kept the blank form before the timing starts
        respondents(asked, WARM_UP, {"GET": [], "POST": []})
        cpu_before, started = cpu_seconds(gunicorn.pid), time.perf_counter()
        db_before, own_before = cpu_seconds(name="postgres"), time.process_time()
        print(f"respondents start (gunicorn pid {gunicorn.pid})", flush=True)
        respondents(0, per_respondent, times)
        cpu_used, elapsed = cpu_seconds(gunicorn.pid) - cpu_before, time.perf_counter() - started
        db_used = cpu_seconds(name="postgres") - db_before
        own_used = time.process_time() - own_before
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(30)
    from surveys.models import Answer

    answered = Answer.objects.filter(invitation__in=invitations[:asked]).count()
    requests = len(times["GET"]) + len(times["POST"])
    return {
        "times": times,
        "errors": errors,
        "answered": answered,
        "asked": asked,
        "server_cpu_ms": cpu_used * 1000 / max(requests, 1),
        "database_cpu_ms": db_used * 1000 / max(requests, 1),
        "client_cpu_ms": own_used * 1000 / max(requests, 1),
        "throughput": requests / elapsed,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invitations", type=int, default=10_000)
    parser.add_argument("--respondents", type=int, default=20)
    parser.add_argument("--answers-each", type=int, default=25)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="seconds a respondent takes to read and answer (±50 %%); 0: no pause (a stress test)",
    )
    parser.add_argument(
        "--part",
        choices=("both", "sending", "answer-page"),
        default="both",
        help="answer-page: no sending; the invitations are marked sent directly",
    )
    parser.add_argument(
        "--gunicorn",
        default="",
        help="gunicorn's options for the answer page instead of the Dockerfile's (to compare)",
    )
    args = parser.parse_args(argv)
    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url.startswith("redis://"):
        sys.exit("The survey delivery benchmark needs Redis for the worker: set REDIS_URL")
    recreate_database(os.environ.get("DATABASE_URL", ""))
    prepare_environment(DATABASE, "survey delivery")
    from aiosmtpd.controller import Controller

    sink = Sink()
    smtp_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    work = Path(tempfile.mkdtemp(prefix="bench-surveys-"))
    os.environ.update(
        {
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "VAR_DIR": str(work),
            "STATIC_ROOT": str(work / "static"),
            "DEBUG": "0",  # production shape (manage.py would default it on)
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    manager, campaign = seed(args.invitations)
    env = dict(os.environ)

    # the same message the worker sends, rendered once, for the bare loop
    from clients.models import ContactPerson
    from surveys import emails
    from surveys.models import Invitation
    from surveys.selectors import survey_settings

    contact = ContactPerson.objects.select_related("client").first()
    sample = Invitation(campaign=campaign, client=contact.client, contact=contact, language="ru")
    sample.email = contact.email
    message = (
        emails.MessageBuilder(reminder=False, prefs=survey_settings())
        .build(sample, secrets.token_urlsafe(32))
        .message()
        .as_bytes(linesep="\r\n")  # as Django's SMTP backend sends it
    )

    if args.part != "answer-page":
        load = os.getloadavg()
        bare = bare_rate(smtp_port, args.invitations, message, sink)
        with_launch, after_launch = worker_rate(manager, campaign, args.invitations, env, work)
        print(f"load average at start: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
        print(f"bare smtplib loop, one connection: {bare:,.0f} emails/s")
        print(f"through the worker, from the launch: {with_launch:,.0f} emails/s")
        print(f"through the worker, after the launch returned: {after_launch:,.0f} emails/s")
        print(f"ratio (from the launch): {with_launch / bare:.0%} (target at least 50 %)")
    if args.part == "sending":
        controller.stop()
        return
    if args.part == "answer-page":
        from surveys import services

        services.campaign_launch(actor=manager, campaign=campaign)
        Invitation.objects.update(status=Invitation.Status.SENT)
    print(f"load average before the answer page: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    result = answer_page(
        args.respondents,
        args.answers_each,
        env,
        work,
        pause=args.pause,
        gunicorn_args=args.gunicorn.split() or None,
    )
    for method, values in result["times"].items():
        print(
            f"answer page {method}: {len(values)} requests, p50 {statistics.median(values):.1f}"
            f" / p95 {p95(values):.1f} / max {max(values):.1f} ms"
            f" ({args.respondents} concurrent respondents, pause {args.pause:g} s)"
        )
    print(
        f"answers stored: {result['answered']} of {result['asked']}; errors: {result['errors'][:3]}"
    )
    print(
        f"server CPU per request (gunicorn workers): {result['server_cpu_ms']:.1f} ms;"
        f" throughput {result['throughput']:.0f} requests/s"
    )
    print(
        f"other CPU per request: database server {result['database_cpu_ms']:.1f} ms,"
        f" these respondents (this process) {result['client_cpu_ms']:.1f} ms"
    )
    print(f"load average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    controller.stop()


if __name__ == "__main__":
    main()
