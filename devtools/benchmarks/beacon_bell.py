"""The navigation's unread beacon notices (the bell on every page): the query timed on a
table of 200 000 notices (20 managers, 10 000 events each; one in 20 unread: 500 unread each,
past the cap of 99), with its plan. Run against PostgreSQL:

    DATABASE_URL=postgres://… python -m devtools.benchmarks.beacon_bell

Needs a migrated database of its own (the notices it writes stay there for the next run)."""

import os
import statistics
import time

N_USERS, N_EVENTS, REQUESTS = 20, 10_000, 1000


def seed() -> None:
    from django.db import connection
    from django.utils import timezone

    from crm.models import BeaconEvent, BeaconNotice, BeaconRule, User

    if BeaconNotice.objects.exists():
        return
    users = [
        User.objects.create(username=f"bell{i}", role=User.Role.MANAGER) for i in range(N_USERS)
    ]
    rule = BeaconRule.objects.create(
        name="bell", metric="promise_overdue", operator=">", threshold=0
    )
    now = timezone.now()
    events = BeaconEvent.objects.bulk_create(
        [
            BeaconEvent(rule=rule, at=now, from_state="normal", to_state="firing", threshold=0)
            for _ in range(N_EVENTS)
        ],
        batch_size=5000,
    )
    BeaconNotice.objects.bulk_create(
        [
            BeaconNotice(recipient=u, event=e, created_at=now, read_at=None if k % 20 == 0 else now)
            for k, e in enumerate(events)
            for u in users
        ],
        batch_size=10_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_beaconnotice")


def main() -> None:
    from devtools.benchmarks import run

    run.setup()
    from django.core.management import call_command
    from django.db import connection

    from crm.models import BeaconNotice, User
    from crm.selectors import unread_beacon_notices

    call_command("migrate", interactive=False, verbosity=0)
    seed()
    user = User.objects.get(username="bell3")
    unread = BeaconNotice.objects.filter(recipient=user, read_at__isnull=True)
    print(f"notices {BeaconNotice.objects.count()}, unread of the user {unread.count()}")
    print(f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        unread_beacon_notices(user)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"bell query, {REQUESTS} runs: p50 {statistics.median(times):.3f} ms, p95 {p95:.3f} ms")
    sql, params = unread.order_by()[:100].values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE SELECT COUNT(*) FROM ({sql}) s", params)
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
