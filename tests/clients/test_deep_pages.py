"""Deep pages of the client list: a page in the second half is read in the reverse order
from the end (a few rows skipped instead of most of the index) and must show exactly the rows
of the plain ordered query, for every sort, filter scope and page, including the last."""

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from clients import selectors
from clients.filters import SORTS, ClientFilter
from clients.models import Client
from segmentation.client_list import ABC_ORDER
from segmentation.models import ClientMetrics
from tests.factories import ClientFactory

PER_PAGE = 3


@pytest.fixture
def clients_with_ties(owner, outsider):
    """23 clients: repeated names, NULL and repeated contact dates and next steps, some
    without a class row or rank (every sort has ties, broken by id, and NULLs)."""
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    made = []
    for i in range(23):
        client = ClientFactory(
            name=f"Client {i % 7}",
            account_manager=owner if i % 3 else outsider,
            last_contact_at=None if i % 4 == 0 else now - timedelta(days=i % 5),
            next_step_date=None if i % 5 == 0 else date(2026, 3, 1 + i % 3),
        )
        made.append(client)
        if i % 6:  # some clients have no class row yet
            ClientMetrics.objects.create(
                client=client,
                abc_class="ABC"[i % 3],
                lifecycle="regular",
                abc_rank=None if i % 4 == 1 else 100 - i // 2,  # ties in rank too
            )
    return made


def _pages(queryset, per_page=PER_PAGE):
    total = queryset.count()
    for number in range(1, max(1, math.ceil(total / per_page)) + 1):
        yield number, selectors.paginate_clients(queryset, number, per_page)


ORDERS = {**SORTS, "abc": ABC_ORDER}  # the list's own sorts and segmentation's


@pytest.mark.parametrize("sort", sorted(ORDERS))
def test_every_page_equals_the_plain_ordered_query(clients_with_ties, sort):
    ordered = Client.objects.order_by(*ORDERS[sort])
    expected = list(ordered.values_list("id", flat=True))
    seen = []
    for number, page in _pages(ordered):
        rows = [c.pk for c in page.object_list]
        start = (number - 1) * PER_PAGE
        assert rows == expected[start : start + PER_PAGE], (sort, number)
        seen += rows
    assert seen == expected


@pytest.mark.parametrize("sort", ["name", "-last_contact", "abc"])
def test_an_account_managers_filtered_deep_pages_equal_the_plain_query(
    clients_with_ties, owner, sort
):
    filterset = ClientFilter(
        {"sort": sort, "abc": "B"}, queryset=selectors.client_list(owner), user=owner
    )
    queryset = filterset.qs
    expected = list(queryset.values_list("id", flat=True))
    assert expected  # the filter leaves a few pages
    got = [c.pk for _number, page in _pages(queryset, per_page=2) for c in page.object_list]
    assert got == expected


def test_a_page_past_the_end_shows_the_last_page(clients_with_ties):
    ordered = Client.objects.order_by(*SORTS["name"])
    page = selectors.paginate_clients(ordered, 999, PER_PAGE)
    expected = list(ordered.values_list("id", flat=True))
    assert page.number == math.ceil(23 / PER_PAGE)
    assert [c.pk for c in page.object_list] == expected[(page.number - 1) * PER_PAGE :]


def test_a_second_half_page_reads_backwards_with_a_small_offset(clients_with_ties):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ordered = Client.objects.order_by(*SORTS["name"])
    with CaptureQueriesContext(connection) as ctx:
        selectors.paginate_clients(ordered, 8, PER_PAGE)  # the last page: rows 21-22
    page_query = [q["sql"] for q in ctx.captured_queries if "LIMIT" in q["sql"]][0]
    assert "DESC" in page_query
    assert "OFFSET" not in page_query  # nothing to skip from the end
