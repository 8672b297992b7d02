"""An account manager's matrix, lifecycle counts and class-filtered or ABC-sorted list read
their own clients' class rows by primary key, never the class table joined whole: the cost
follows their clients, not the size of the base (PostgreSQL hashed the join of all class
rows at 1 000 000 clients). The answers stay those of the join."""

import re

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients import selectors as client_selectors
from clients.filters import SORTS, ClientFilter
from clients.models import Client
from segmentation import selectors
from segmentation.client_list import ABC_ORDER
from segmentation.models import ClientMetrics
from tests.factories import ClientFactory
from tests.segmentation.conftest import recompute

pytestmark = pytest.mark.django_db

METRICS = ClientMetrics._meta.db_table
JOIN = re.compile(rf'JOIN "?{METRICS}"?', re.IGNORECASE)


def _metrics_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if METRICS in q["sql"]]


def test_account_managers_matrix_reads_class_rows_of_own_clients_only(
    owner_client, owner, base, django_assert_max_num_queries
):
    recompute()
    ClientFactory(name="Added since the run", account_manager=owner)  # no class row yet
    with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(8):
        response = owner_client.get(reverse("segmentation:matrix"))
    assert response.status_code == 200
    counts = {c.key: c.clients for row in response.context["rows"] for c in row if c.clients}
    assert counts == {"AX": 1, "CZ": 2, "C-": 1}  # the outsider's client is not counted
    lifecycle = response.context["lifecycle"]
    assert lifecycle == {"potential": 1, "new": 1, "regular": 1, "restored": 1, "lost": 1} | {
        "none": 1
    }
    sql = _metrics_queries(ctx.captured_queries)
    assert len(sql) == 1
    assert not JOIN.search(sql[0])  # the class rows are looked up by their client ids
    if connection.vendor == "postgresql":
        assert "= ANY(ARRAY(SELECT" in sql[0]
    assert '"account_manager_id" = ' in sql[0]


def test_lifecycle_counts_of_an_account_manager_equal_the_join(owner, base):
    recompute()
    ClientFactory(name="Added since the run", account_manager=owner)
    joined = {
        row["metrics__lifecycle"] or "none": row["n"]
        for row in Client.objects.filter(account_manager=owner)
        .values("metrics__lifecycle")
        .annotate(n=Count("id"))
        .order_by()
    }
    counts = {k: v for k, v in selectors.lifecycle_counts(owner).items() if v}
    assert counts == joined


@pytest.mark.parametrize(
    "params",
    [{"abc": "C"}, {"lifecycle": "regular"}, {"abc": "none"}, {"sort": "abc"}, {"xyz": "Z"}],
)
def test_account_managers_class_filters_do_not_join_the_class_table(owner, base, params):
    recompute()
    ClientFactory(name="Added since the run", account_manager=owner)
    filterset = ClientFilter(params, queryset=client_selectors.client_list(owner), user=owner)
    assert filterset.by_own_clients()
    with CaptureQueriesContext(connection) as ctx:
        page = client_selectors.paginate_clients(filterset.qs, 1, 50)
    count_and_ids = [
        q["sql"] for q in ctx.captured_queries if "LIMIT" in q["sql"] or "COUNT" in q["sql"]
    ]
    assert count_and_ids
    for sql in count_and_ids:
        assert not JOIN.search(sql), sql
        assert '"account_manager_id" = ' in sql
    # same rows, same order as the join the list used before
    field = {"abc": "abc_class", "lifecycle": "lifecycle", "xyz": "xyz_class"}
    joined = Client.objects.filter(account_manager=owner)
    for name, value in params.items():
        if name == "sort":
            joined = joined.order_by(*{**SORTS, "abc": ABC_ORDER}[value])
        elif value == "none":
            joined = joined.filter(**{f"metrics__{field[name]}__isnull": True})
        else:
            joined = joined.filter(**{f"metrics__{field[name]}": value})
    expected = list(joined.values_list("id", flat=True))
    assert [c.pk for c in page.object_list] == expected
    assert page.paginator.count == len(expected)


def test_managers_list_of_all_clients_keeps_the_join(manager, base):
    recompute()
    filterset = ClientFilter(
        {"abc": "C"}, queryset=client_selectors.client_list(manager), user=manager
    )
    assert not filterset.by_own_clients()
    filtered = ClientFilter(
        {"abc": "C", "am": base["new"].account_manager_id},
        queryset=client_selectors.client_list(manager),
        user=manager,
    )
    assert filtered.by_own_clients()  # one account manager's clients: looked up by key
    assert {c.pk for c in filtered.qs} == {
        c.pk for c in filterset.qs if c.account_manager_id == base["new"].account_manager_id
    }
