"""The record picker's endpoints (clients/pickers.py) on the benchmark base: server time of
one page of clients, contacts, products and users, as a manager (every client) and as an
account manager (their own), for the first page, the deepest page served, and searches by a
part of the name, a tax id prefix, an email and a phone end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench \\
        .venv/bin/python -m devtools.benchmarks.pickers

Uses the data ``make bench`` seeds (or any base of that shape); BENCH_REQUESTS requests per
case (default 100).
"""

import os
from urllib.parse import urlencode

from devtools.benchmarks.run import setup

SEARCH_TEXT = "строй"  # a common part of generated company names


def main() -> None:
    setup()
    from django.db.models import Count

    from clients.models import Client, ContactPerson
    from crm.models import User
    from crm.pickers import MAX_PAGE
    from devtools.benchmarks.common import HEADER_DETAILED, client_for, time_get

    n = int(os.environ.get("BENCH_REQUESTS", "100"))
    manager = User.objects.filter(role=User.Role.MANAGER, is_active=True).order_by("id").first()
    am = (
        User.objects.filter(role=User.Role.ACCOUNT_MANAGER, is_active=True)
        .annotate(n=Count("clients"))
        .order_by("-n", "id")
        .first()
    )
    print(
        f"{Client.objects.count()} clients, {ContactPerson.objects.count()} contacts; "
        f"{am.username} has {am.n} clients; {n} requests per case\n"
    )
    print(HEADER_DETAILED)
    for user in (manager, am):
        http = client_for(user)
        client = Client.objects.filter(account_manager=am).order_by("id").first()
        sample = Client.objects.filter(account_manager=am).exclude(inn="").order_by("-id").first()
        contact = ContactPerson.objects.filter(client__account_manager=am).exclude(email="")
        contact = contact.order_by("id").first()
        cases = [
            ("clients", {}),
            ("clients", {"page": MAX_PAGE}),
            ("clients", {"q": SEARCH_TEXT}),
            ("clients", {"q": SEARCH_TEXT, "page": 5}),
            ("clients", {"q": sample.inn[:6]}),
            ("clients", {"q": contact.email if contact else "nobody@example.com"}),
            ("clients", {"q": "+7 999 000-00-00"}),
            ("clients", {"q": "zzzz-no-such-client"}),
            ("contacts", {"client": client.pk}),
            ("products", {"q": "a"}),
            ("users", {"role": "responsible", "client": client.pk}),
        ]
        for kind, params in cases:
            url = f"/lookup/{kind}/?{urlencode(params)}"
            timing = time_get(http, url, f"{user.username}: {url}", n=n)
            if timing.status != 200:
                raise SystemExit(f"{url} answered {timing.status}")
            print(timing.row_detailed(), flush=True)


if __name__ == "__main__":
    main()
