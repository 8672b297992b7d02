"""Client list, client card, segment matrix and My day: server time as a manager and as an
account manager.

Run through ``make bench`` (devtools/benchmarks/run.py prepares PostgreSQL and the data).
Each case is N requests through Django's test client (middleware, view, queries, template);
the table shows p50/p95/max in ms and the number of queries of one request.
"""

import math
import os
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count
from django.urls import reverse

from clients.models import Client, Settlement, TargetSegment
from crm.models import User
from devtools.benchmarks.common import HEADER_DETAILED, Timing, client_for, time_get

TARGET_P95_MS = 150.0
SEARCH_TEXT = "строй"  # a common part of generated company names
DEEP_PAGE = 1500


def _requests() -> int:
    return int(os.environ.get("BENCH_REQUESTS", "200"))


def _page_size() -> int:
    from clients.views import PAGE_SIZE

    return PAGE_SIZE


def _list_url(**params) -> str:
    url = reverse("clients:list")
    return f"{url}?{urlencode(params)}" if params else url


def busiest_client(user: User) -> tuple[int, int]:
    """(client id, settlements) of the user's client with the most settlements."""
    settlements = Settlement.objects.all()
    if not user.sees_everything:
        settlements = settlements.filter(client__account_manager=user)
    row = (
        settlements.values("client_id")
        .annotate(n=Count("id"))
        .order_by("-n", "client_id")
        .values_list("client_id", "n")
        .first()
    )
    if row is None:
        raise SystemExit("No settlements: seed the benchmark data first (make bench does).")
    return row


def cases(user: User) -> list[tuple[str, str]]:
    """(label, url) of what is timed for one user: every list case (first, deep and last
    page, search, class filters and sorts), the card, the matrix, and My day for an account
    manager (the pages whose cost must follow the user's own clients, not the base)."""
    visible = Client.objects.count() if user.sees_everything else user.clients.count()
    last_page = max(1, math.ceil(visible / _page_size()))
    deep = min(DEEP_PAGE, last_page)
    segment = TargetSegment.objects.order_by("name").first()
    client_id, settlements = busiest_client(user)
    out = [
        ("list, page 1 (default sort by name)", _list_url()),
        (f"list, search «{SEARCH_TEXT}»", _list_url(q=SEARCH_TEXT)),
        (
            f"list, segment + search «{SEARCH_TEXT}»",
            _list_url(segment=segment.pk, q=SEARCH_TEXT) if segment else _list_url(q=SEARCH_TEXT),
        ),
        ("list, sorted by latest contact", _list_url(sort="-last_contact")),
        ("list, ABC A", _list_url(abc="A")),
        ("list, lifecycle lost", _list_url(lifecycle="lost")),
        ("list, ABC A + lifecycle regular", _list_url(abc="A", lifecycle="regular")),
        ("list, sorted by ABC", _list_url(sort="abc")),
        (f"list, deep page {deep} of {last_page}", _list_url(page=deep)),
    ]
    middle = math.ceil(last_page * 3 / 4)
    if middle not in (deep, last_page):
        out.append((f"list, deep page {middle} of {last_page}", _list_url(page=middle)))
    if last_page != deep:
        out.append((f"list, last page {last_page}", _list_url(page=last_page)))
    out += [
        (
            f"client card ({settlements} settlements)",
            reverse("clients:detail", kwargs={"pk": client_id}),
        ),
        ("segment matrix", reverse("segmentation:matrix")),
    ]
    if not user.sees_everything:
        out.append(("My day", reverse("clients:my_day")))
    return out


def explain(url_label: str, sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(f"\nEXPLAIN ANALYZE of the slowest query of «{url_label}»:\n{plan}\n")


def slowest_query(client, url: str) -> tuple[float, str]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
    return float(slowest["time"]) * 1000, slowest["sql"]


def main(seed_seconds: float | None = None) -> list[Timing]:
    n = _requests()
    users = [
        ("manager", User.objects.get(username="manager")),
        ("account manager", User.objects.get(username="am1")),
    ]
    print(
        f"\n## Clients — {Client.objects.count()} clients, {Settlement.objects.count()} "
        f"settlements, {n} requests per case; {users[1][1].username} has "
        f"{users[1][1].clients.count()} clients\n"
    )
    if seed_seconds is not None:
        print(f"Seeding (seed_demo): {seed_seconds:.1f} s\n")
    timings: list[Timing] = []
    slow: list[tuple[str, object, str]] = []
    print(HEADER_DETAILED)
    for role, user in users:
        client = client_for(user)
        for label, url in cases(user):
            timing = time_get(client, url, f"{role}: {label}", n=n)
            timings.append(timing)
            print(timing.row_detailed(), flush=True)
            if timing.status != 200:
                print(f"  !! {url} answered {timing.status}")
            if timing.p95_ms >= TARGET_P95_MS:
                slow.append((timing.label, client, url))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nLoad average at the end of the timings: {load}")
    failed = [t for t in timings if t.status != 200 or t.p95_ms >= TARGET_P95_MS]
    print(
        f"\nTarget: p95 < {TARGET_P95_MS:.0f} ms — "
        + ("all met." if not failed else f"missed by {len(failed)} case(s).")
    )
    for label, client, url in slow:
        ms, sql = slowest_query(client, url)
        print(f"Slowest query of «{label}»: {ms:.1f} ms")
        explain(label, sql)
    return timings


if __name__ == "__main__":  # pragma: no cover - use `make bench`
    from devtools.benchmarks.run import setup

    setup()
    main()
