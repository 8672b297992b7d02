"""Survey analytics benchmark (`make bench-surveys`).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm python -m devtools.benchmarks.surveys \
        [--answers 1000000] [--database crm_bench_surveys] [--requests 100] [--no-docs]

Refuses to run unless DATABASE_URL is PostgreSQL. Works in its own database (created and
migrated if missing): 20 account managers, 20 000 clients with current classes and segments,
one contact each (in a base of several contacts a client, its first is invited), 10 campaigns
(2 anonymous) and ``--answers`` answers over the last 12 months (plus a quarter as many
invitations delivered and not answered), each answer with two general CSAT items and, one in
three, an item of a product line. The random values are drawn with numpy, sent with
PostgreSQL's binary COPY (``crm.pgcopy``) into a staging table and turned into the real rows by
``INSERT … SELECT``; the data are reused when the count matches.

Timed:
1. each breakdown's SQL aggregate, uncached (``surveys.analytics.breakdown``; p50/p95 of
   ``--requests // 5`` runs), for a manager over the last 12 months and for one account
   manager;
   The same breakdowns read from the rollups (``surveys.rollup``; what the report reads),
   and the whole report uncached;
2. the page, the API and the answers list through Django's test client (p50/p95 of
   ``--requests``), the page's report served from the cache as it is between answer writes,
   and the first request after a real answer write (the whole report recomputed);
3. the upkeep of the rollups: an answer write, one client transferred, the full rebuild.
   The answers the benchmark wrote are deleted at the end (their invitations sent again), so
   the next run reuses the data.

Prints a markdown table and writes it to the "## Survey analytics" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AMS = 20
CLIENTS = 20_000
CAMPAIGNS = 10
ANONYMOUS = 2
BUDGET_MS = 150
NOTE = (
    'The issue\'s target is "every breakdown p95 < 150 ms" at 1 000 000 answers, without '
    "the cache. The report now reads the monthly rollups (surveys/rollup.py, "
    'docs/decisions/survey-analytics.md, "Rollups"): every breakdown read from them meets '
    "it by far, for a manager over all answers and for an account manager, and so does the "
    "whole set of figures the report reads (totals, every breakdown, the trend). The raw "
    "aggregates above are kept for comparison (and for a period that is not whole months). "
    "What the first page after an answer write still pays is the response rate, an "
    "aggregate of the invitations sent in the period (not rolled up). Timings on this "
    "shared 2-core machine follow its load: the same raw aggregates took 2-5 times less at "
    "load 0.4-2 (the previous run: abc 215 ms, product line 487 ms, GROUPING SETS 835 ms, "
    "response rate 140 ms p95)."
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Survey analytics benchmark")
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--database", default="crm_bench_surveys")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--seed-only", action="store_true", help="Generate the data (and rollups), time nothing."
    )
    return parser.parse_args(argv)


def _clients_and_campaigns():
    """Users, clients with classes, one contact each, product lines, campaigns."""
    import numpy as np
    from django.db import transaction

    from clients.models import Client, ContactPerson, ProductLine, TargetSegment
    from crm.models import User
    from segmentation.models import ClientMetrics
    from surveys.models import Campaign, Questionnaire, QuestionnaireItem

    manager = User.objects.get(username="manager")
    with transaction.atomic():
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
            rng = np.random.default_rng(7)
            segments = [
                TargetSegment.objects.get_or_create(name=f"Bench segment {i}")[0].pk
                for i in range(5)
            ]
            Client.objects.bulk_create(
                [
                    Client(
                        name=f"Bench client {i:05d}",
                        account_manager_id=ams[i % len(ams)],
                        target_segment_id=segments[i % 5] if i % 7 else None,
                    )
                    for i in range(CLIENTS)
                ],
                batch_size=5000,
            )
            ids = list(Client.objects.order_by("id").values_list("id", flat=True))
            abc = rng.choice(["A", "B", "C"], len(ids), p=[0.1, 0.3, 0.6])
            xyz = rng.choice(["X", "Y", "Z"], len(ids))
            life = rng.choice(["new", "regular", "restored", "lost"], len(ids))
            ClientMetrics.objects.bulk_create(
                [
                    ClientMetrics(client_id=c, abc_class=a, xyz_class=x, lifecycle=lc)
                    for c, a, x, lc in zip(ids, abc, xyz, life, strict=True)
                ],
                batch_size=5000,
            )
            ContactPerson.objects.bulk_create(
                [
                    ContactPerson(
                        client_id=c, full_name=f"Contact {c}", email=f"c{c}@bench.example"
                    )
                    for c in ids
                ],
                batch_size=5000,
            )
        q = Questionnaire.objects.get(code="product-csat")
        lines = [ProductLine.objects.get_or_create(name=f"Bench line {i}")[0] for i in range(3)]
        general = list(q.items.filter(product_line__isnull=True).order_by("id")[:2])
        line_items = []
        for line in lines:
            item = q.items.filter(product_line=line).first() or QuestionnaireItem.objects.create(
                questionnaire=q,
                text_ru=f"Линия {line.pk}",
                text_en=f"Line {line.pk}",
                product_line=line,
            )
            line_items.append(item.pk)
        campaigns = list(Campaign.objects.filter(name__startswith="Bench campaign").order_by("id"))
        for i in range(len(campaigns), CAMPAIGNS):
            campaigns.append(
                Campaign.objects.create(
                    name=f"Bench campaign {i}",
                    questionnaire=q,
                    status=Campaign.Status.ACTIVE,
                    anonymous=i < ANONYMOUS,
                )
            )
    return ams, [c.pk for c in campaigns], [g.pk for g in general], line_items


def seed(n: int) -> float | None:
    import numpy as np
    from django.core.management import call_command
    from django.db import connection, transaction

    from crm.pgcopy import binary_copy
    from surveys.models import Answer

    call_command("migrate", interactive=False, verbosity=0)
    from devtools.benchmarks.common import collectstatic

    collectstatic()
    call_command("create_demo_users", verbosity=0)
    if Answer.objects.count() == n:
        return None
    started = time.perf_counter()
    ams, campaigns, general, line_items = _clients_and_campaigns()
    from clients.models import Client

    client_ids = np.array(
        Client.objects.order_by("id").values_list("id", flat=True), dtype=np.int64
    )
    total = n + n // 4  # a quarter more delivered and not answered
    rng = np.random.default_rng(12)
    data = {
        "i": np.arange(1, total + 1, dtype=np.int64),
        "client": rng.choice(client_ids, total),
        "campaign": rng.choice(np.array(campaigns, dtype=np.int64), total),
        "secs": rng.integers(0, 365 * 86400, total, dtype=np.int64),
        # NPS: a skewed mix (about 45 % promoters, 30 % passives, 25 % detractors)
        "nps": rng.choice(
            np.arange(11),
            total,
            p=[0.02, 0.02, 0.02, 0.03, 0.03, 0.05, 0.08, 0.12, 0.18, 0.2, 0.25],
        ),
        "s1": rng.integers(1, 6, total, dtype=np.int64),
        "s2": rng.integers(1, 6, total, dtype=np.int64),
        "line_item": np.where(
            rng.random(total) < 1 / 3, rng.choice(np.array(line_items, dtype=np.int64), total), 0
        ),
        "best": np.where(
            rng.random(total) < 0.1, rng.choice(np.array(ams, dtype=np.int64), total), 0
        ),
        "answered": (np.arange(total) < n).astype(np.int64),
    }
    data["nps"] = data["nps"].astype(np.int64)
    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE surveys_answeritem, surveys_answer_themes, surveys_answer, "
            "surveys_invitationtoken, surveys_invitation"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_stage (i bigint, client bigint, campaign bigint, secs bigint,"
            " nps bigint, s1 bigint, s2 bigint, line_item bigint, best bigint, answered bigint)"
            " ON COMMIT DROP"
        )
        names = list(data)
        cursor.cursor.copy_expert(
            f"COPY bench_stage ({', '.join(names)}) FROM STDIN WITH (FORMAT binary)",
            binary_copy(data, [(c, "bigint") for c in names]),
        )
        cursor.execute(
            """INSERT INTO surveys_invitation (id, campaign_id, client_id, contact_id, email,
                 language, status, created_at, sent_at, answered_at, expires_at,
                 reminders_sent, error)
               SELECT s.i, s.campaign, s.client, c.id, c.email, 'ru',
                 CASE WHEN s.answered = 1 THEN 'answered' ELSE 'sent' END,
                 now() - s.secs * interval '1 second' - interval '1 hour',
                 now() - s.secs * interval '1 second' - interval '1 hour',
                 CASE WHEN s.answered = 1 THEN now() - s.secs * interval '1 second' END,
                 now() - s.secs * interval '1 second' + interval '14 days', 0, ''
               FROM bench_stage s JOIN (
                 SELECT DISTINCT ON (client_id) id, client_id, email
                 FROM clients_contactperson ORDER BY client_id, id
               ) c ON c.client_id = s.client"""
        )
        cursor.execute(
            """INSERT INTO surveys_answer (id, invitation_id, campaign_id, client_id, anonymous,
                 nps, comment, liked, best_employee_id, may_contact, unhappy, submitted_at,
                 item_scores, item_sum, item_satisfied)
               SELECT s.i, s.i, s.campaign, s.client, c.anonymous, s.nps, '', '',
                 NULLIF(s.best, 0), false, s.nps <= 6 OR s.s1 <= 3 OR s.s2 <= 3,
                 now() - s.secs * interval '1 second',
                 CASE WHEN s.line_item <> 0 THEN 3 ELSE 2 END,
                 s.s1 + s.s2 + CASE WHEN s.line_item <> 0 THEN s.s1 ELSE 0 END,
                 (s.s1 >= 4)::int * CASE WHEN s.line_item <> 0 THEN 2 ELSE 1 END
                   + (s.s2 >= 4)::int
               FROM bench_stage s JOIN surveys_campaign c ON c.id = s.campaign
               WHERE s.answered = 1"""
        )
        cursor.execute(
            """INSERT INTO surveys_answeritem (answer_id, item_id, score)
               SELECT i, %s, s1 FROM bench_stage WHERE answered = 1
               UNION ALL SELECT i, %s, s2 FROM bench_stage WHERE answered = 1
               UNION ALL SELECT i, line_item, s1 FROM bench_stage
                 WHERE answered = 1 AND line_item <> 0""",
            [general[0], general[1]],
        )
        for table in ("surveys_invitation", "surveys_answer", "surveys_answeritem"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {qn(table)}))"
            )
    with connection.cursor() as cursor:
        for table in (
            "surveys_invitation",
            "surveys_answer",
            "surveys_answeritem",
            "clients_client",
            "segmentation_clientmetrics",
        ):
            cursor.execute(f"VACUUM ANALYZE {qn(table)}")
    # the answers were written in bulk, as a load would: the analytics' rollups summed again
    from surveys import rollup

    rollup.rebuild()
    with connection.cursor() as cursor:
        for table in ("surveys_answerrollup", "surveys_rollupclient"):
            cursor.execute(f"VACUUM ANALYZE {qn(table)}")
    return time.perf_counter() - started


def _stats(samples: list[float]) -> tuple[float, float, float]:
    from devtools.benchmarks.common import p95

    return statistics.median(samples), p95(samples), max(samples)


ROLLUP_NAMES = (
    "abc",
    "xyz",
    "lifecycle",
    "segment",
    "account_manager",
    "product_line",
    "campaign",
    "best_employee",
    "month",
)


def _trend(period):
    from crm.periods import Period, add_months, month_start

    end = add_months(month_start(period.last_day), 1)
    return Period(add_months(end, -12), end)


def _rollup_breakdown(user, period, name):
    """One breakdown read from the rollups alone (the report reads them all at once)."""
    from surveys import analytics

    rows = analytics.rollups_for(user).filter(month__gte=period.start, month__lt=period.end)
    if name == "month":
        rows = rows.filter(dimension="total").values("month")
    elif name == "account_manager":
        rows = rows.filter(dimension="total").values("account_manager")
    else:
        rows = rows.filter(dimension=name).values("value")
    return list(rows.annotate(**analytics.ROLLUP_SUMS).order_by())


WRITTEN: list[int] = []  # the answers the benchmark wrote, deleted at the end


def forget_written() -> None:
    from surveys.models import Answer, Invitation

    invitations = list(
        Answer.objects.filter(pk__in=WRITTEN).values_list("invitation_id", flat=True)
    )
    Answer.objects.filter(pk__in=WRITTEN).delete()  # the rollups subtract them (signal)
    Invitation.objects.filter(pk__in=invitations).update(status="sent", answered_at=None)
    WRITTEN.clear()


def time_upkeep() -> list[str]:
    """What keeps the rollups exact: an answer write (the rollup upsert in it), one client
    moved to another account manager, and the rebuild from every raw answer."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from clients.models import Client
    from crm.models import User
    from surveys import rollup
    from surveys.models import Invitation
    from surveys.services.answers import answer_submit

    rows = []
    open_ = Invitation.objects.filter(status="sent", answer__isnull=True).order_by("id")
    samples = []
    for inv in list(open_[:20]):
        Invitation.objects.filter(pk=inv.pk).update(expires_at=timezone.now() + timedelta(days=1))
        inv.refresh_from_db()
        t0 = time.perf_counter()
        WRITTEN.append(answer_submit(invitation=inv, data={"nps": 9, "items": {}}).pk)
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p95_, mx = _stats(samples)
    rows.append(
        f"| an answer write (answer_submit, the rollup upsert in it) | 20 | {p50:.1f} | "
        f"{p95_:.1f} | {mx:.1f} |"
    )
    client = Client.objects.filter(name__startswith="Bench client").order_by("id").first()
    am1 = User.objects.get(username="bench_am01")
    am2 = User.objects.get(username="bench_am02")
    samples = []
    for i in range(10):
        with transaction.atomic():
            Client.objects.filter(pk=client.pk).update(account_manager=am2 if i % 2 == 0 else am1)
            t0 = time.perf_counter()
            rollup.sync([client.pk])
            samples.append((time.perf_counter() - t0) * 1000)
    p50, p95_, mx = _stats(samples)
    rows.append(
        f"| one client transferred: its answers moved (rollup.sync) | 10 | {p50:.1f} | "
        f"{p95_:.1f} | {mx:.1f} |"
    )
    samples = []
    for _ in range(2):
        t0 = time.perf_counter()
        rollup.rebuild()
        samples.append((time.perf_counter() - t0) * 1000)
    p50, p95_, mx = _stats(samples)
    rows.append(
        f"| the rebuild from every raw answer (rebuild_survey_rollups) | 2 | {p50:.0f} | "
        f"{p95_:.0f} | {mx:.0f} |"
    )
    rows.append(
        f"| (rollup rows after the rebuild: {rollup.AnswerRollup.objects.count()}) | | | | |"
    )
    return rows


def time_breakdowns(runs: int) -> list[str]:
    from django.utils import timezone

    from crm.models import User
    from surveys import analytics
    from surveys.filters import LAST_12, parse_period

    period = parse_period(LAST_12, timezone.localdate())
    rows = []
    for who in ("manager", "bench_am01"):
        user = User.objects.get(username=who)
        answers = analytics.in_period(analytics.answers_for(user), period)
        label = "manager, all" if who == "manager" else "account manager, own clients"
        cases = [
            (
                "all of them in one scan (the report: GROUPING SETS)",
                lambda a=answers: analytics.grouped(a, analytics.SET_DIMENSIONS),
            ),
            ("totals", lambda a=answers: analytics.totals(a)),
        ]
        cases += [
            (name, lambda a=answers, n=name: analytics.breakdown(a, n))
            for name in (*analytics.BREAKDOWNS, "best_employee", "month")
        ]
        start, end = analytics.bounds(period)
        invitations = analytics.invitations_for(user).filter(sent_at__gte=start, sent_at__lt=end)
        cases.append(
            ("response rate by campaign", lambda i=invitations: analytics.response_rates(i))
        )
        trend = _trend(period)
        cases.append(
            (
                "from the rollups: totals, every breakdown and the trend (what the report reads)",
                lambda u=user, t=trend: analytics.rollup_figures(u, period, t, None),
            )
        )
        cases.append(
            (
                "the whole report uncached (rollups + response rate: the page after a write)",
                lambda u=user, t=trend: analytics.report(u, period=period, trend_period=t),
            )
        )
        cases += [
            (f"from the rollups: {name}", lambda u=user, n=name: _rollup_breakdown(u, period, n))
            for name in ROLLUP_NAMES
        ]
        for name, fn in cases:
            with analytics.without_jit():  # as report() runs them
                fn()  # warm-up
                samples = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    fn()
                    samples.append((time.perf_counter() - t0) * 1000)
            p50, p95_, mx = _stats(samples)
            rows.append(f"| {name} ({label}) | {runs} | {p50:.1f} | {p95_:.1f} | {mx:.1f} |")
    return rows


def time_pages(requests: int) -> tuple[list, list[float]]:
    from django.urls import reverse

    from crm.models import User
    from devtools.benchmarks.common import client_for, time_get

    manager = User.objects.get(username="manager")
    am = User.objects.get(username="bench_am01")
    m, a = client_for(manager), client_for(am)
    url = reverse("survey_analytics:analytics")
    answers = reverse("survey_analytics:answers")
    timings = [
        time_get(m, url, "analytics page, last 12 months (manager, cached report)", requests),
        time_get(a, url, "analytics page (account manager, cached report)", requests),
        time_get(m, "/api/survey-analytics/", "analytics API (manager, cached report)", requests),
        time_get(m, answers, "answers list, page 1 (manager, all)", requests),
        time_get(
            m, answers + "?band=detractor&abc=A", "answers list, detractors of class A", requests
        ),
    ]
    cold = []
    from datetime import timedelta

    from django.utils import timezone

    from surveys.models import Invitation
    from surveys.services.answers import answer_submit

    open_ = Invitation.objects.filter(status="sent", answer__isnull=True).order_by("-id")
    for inv in list(open_[:5]):
        # a real answer write: it bumps the data version, so the next page recomputes
        Invitation.objects.filter(pk=inv.pk).update(expires_at=timezone.now() + timedelta(days=1))
        inv.refresh_from_db()
        WRITTEN.append(answer_submit(invitation=inv, data={"nps": 9, "items": {}}).pk)
        t0 = time.perf_counter()
        m.get(url)
        cold.append((time.perf_counter() - t0) * 1000)
    return timings, cold


def run(args) -> str:
    from devtools.benchmarks.common import prepare_environment, publish

    prepare_environment(args.database, "survey analytics")
    import django

    django.setup()
    from django.db import connection

    seconds = seed(args.answers)
    print(
        "Reusing the answers already generated."
        if seconds is None
        else f"Generated {args.answers} answers in {seconds:.1f} s.",
        flush=True,
    )
    if args.seed_only:
        return ""
    from devtools.benchmarks.common import HEADER

    load_before = os.getloadavg()
    breakdowns = time_breakdowns(max(5, args.requests // 5))
    rollups = [r for r in breakdowns if "from the rollups" in r]
    raw = [r for r in breakdowns if "from the rollups" not in r and "whole report" not in r]
    timings, cold = time_pages(args.requests)
    cold_p50, cold_p95, cold_max = _stats(cold)
    upkeep = time_upkeep()
    forget_written()
    load_after = os.getloadavg()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    lines = [
        "## Survey analytics",
        "",
        "Command: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm python -m "
        f"devtools.benchmarks.surveys --answers {args.answers}` (`make bench-surveys`). Own "
        f"database `{args.database}`: {args.answers:,} answers (and {args.answers // 4:,} "
        f"invitations delivered, not answered) over 12 months, {CLIENTS:,} clients of {AMS} "
        f"account managers, {CAMPAIGNS} campaigns ({ANONYMOUS} anonymous), two CSAT items per "
        "answer and a product-line item in one answer of three. "
        f"PostgreSQL {version}, {os.cpu_count()} CPU cores, Python {platform.python_version()}; "
        f"load average before/after: {load_before[0]:.2f}/{load_after[0]:.2f} (a machine "
        "shared with other work).",
        "",
        "Each breakdown's SQL aggregate, uncached (ms):",
        "",
        "| breakdown | runs | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
        *breakdowns,
        "",
        "Pages through Django's test client, DEBUG off:",
        "",
        HEADER,
        *[t.row() for t in timings],
        "",
        "The first analytics page after an answer write (a real `answer_submit`, then the "
        "manager's page: the whole report recomputed from the rollups, the response rate "
        f"from the invitations), 5 writes: p50 {cold_p50:.0f} ms, p95 {cold_p95:.0f} ms, max "
        f"{cold_max:.0f} ms.",
        "",
        "Keeping the rollups exact (ms):",
        "",
        "| what | runs | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
        *upkeep,
        "",
        f"Budget p95 < {BUDGET_MS} ms: pages and API "
        f"{'met' if all(t.p95_ms < BUDGET_MS for t in timings[:3]) else 'NOT met'} (cached "
        "report); uncached reads of the rollups under it: "
        f"{sum(1 for r in rollups if float(r.split('|')[4]) < BUDGET_MS)} of {len(rollups)}; "
        "raw aggregates under it: "
        f"{sum(1 for r in raw if float(r.split('|')[4]) < BUDGET_MS)} of {len(raw)}.",
        "",
        NOTE,
        "",
    ]
    return publish(lines, "## Survey analytics", docs=not args.no_docs)


def main(argv=None) -> None:
    """Entry point (`make bench` runs it in a process of its own: common.rerun_alone)."""
    from devtools.benchmarks.common import rerun_alone

    if not rerun_alone("devtools.benchmarks.surveys", argv):
        run(parse_args(argv))


if __name__ == "__main__":
    main()
