"""What segmentation adds to the client list and to My day (clients.extensions): the ABC, XYZ
and lifecycle filters, the ABC order, each row's classes, the count and the page of the whole
base read from the class table, and the contact cadence per ABC class."""

from datetime import datetime, timedelta

import django_filters
from django.core.paginator import Page, Paginator
from django.db.models import DateTimeField, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from clients.extensions import ClientListExtension, ContactCadence, ListScope, ListSort
from clients.selectors import page_ids
from segmentation.models import AbcClass, ClientMetrics, Lifecycle, XyzClass
from segmentation.selectors import cadence_days_by_class

NONE = "none"  # the filter value for "no class yet"

# client.metrics: no row (a client added since the last run) means no class too
COLUMNS = {"abc": "abc_class", "xyz": "xyz_class", "lifecycle": "lifecycle"}

# ABC order is the rank order (A, B, C; the largest client first in each class), served by the
# class table's rank index (segmetrics_rank_idx)
ABC_ORDER = (F("metrics__abc_rank").asc(nulls_last=True), "id")


def _with_none(choices):
    return [*choices, (NONE, "—")]


def current_class(column: str) -> Subquery:
    """The client's ``column`` of its class row (NULL without a row, as through the join),
    as a correlated subquery: one primary-key lookup per client of the list."""
    return Subquery(ClientMetrics.objects.filter(client=OuterRef("pk")).values(column))


def class_filter(queryset: QuerySet, name: str, value, scope: ListScope) -> QuerySet:
    """One account manager's clients read their class rows by key (``current_class``);
    PostgreSQL would hash the whole class table for the join. The whole base joins it."""
    column = COLUMNS[name]
    field = f"metrics__{column}"
    if scope.own_clients:
        field = f"current_{column}"
        queryset = queryset.alias(**{field: current_class(column)})
    return queryset.filter(**{f"{field}__isnull": True} if value == NONE else {field: value})


def abc_sort(queryset: QuerySet, scope: ListScope) -> QuerySet:
    if scope.own_clients:  # same order as ABC_ORDER, by key lookups
        return queryset.order_by(current_class("abc_rank").asc(nulls_last=True), "id")
    return queryset.order_by(*ABC_ORDER)


def total_from_classes(used: dict) -> int | None:
    """The size of a manager's list of all clients with only class filters in use, counted on
    the narrow class table alone: every class row belongs to an existing client (a run writes
    rows of existing clients only and removes rows of clients it no longer sees; Django deletes
    a client's row with it), so the count needs no join with the wide client table. None when
    another filter or a "none" class applies."""
    if not used or set(used) - set(COLUMNS) or NONE in used.values():
        return None
    return ClientMetrics.objects.filter(**{COLUMNS[k]: v for k, v in used.items()}).count()


def paginate_by_abc_rank(queryset: QuerySet, number, per_page: int) -> Page:
    """A page of all clients in ABC order (rank: the largest client first, then the clients
    without a rank by id) in two index reads instead of sorting a left join of every client:
    the ranked part comes from the class table's rank index, the rest (no class row or no
    rank) by id through an anti-join. Same order as ``ABC_ORDER``. A page of the first half
    that the ranked rows fill needs no count of them (a COUNT of up to every class row); a
    page of the second half is read backwards (``clients.selectors.page_ids``)."""
    ranked = ClientMetrics.objects.filter(abc_rank__isnull=False)
    total = queryset.count()
    paginator = Paginator(range(total), per_page)
    page = paginator.get_page(number)
    start, stop = page.start_index() - 1, page.end_index()
    ordered = ranked.order_by("abc_rank", "client_id").values_list("client_id", flat=True)
    ids = []
    if start < total - stop:  # the first half: read forward, count the ranked rows only if short
        ids = list(ordered[max(start, 0) : stop])
    if len(ids) < stop - max(start, 0):
        ranked_total = ranked.count()
        ids = page_ids(ordered, start, min(stop, ranked_total), ranked_total)
        if stop > ranked_total:
            rest = (
                queryset.filter(~Exists(ranked.filter(client=OuterRef("pk"))))
                .order_by("id")
                .values_list("id", flat=True)
            )
            ids += page_ids(
                rest, max(0, start - ranked_total), stop - ranked_total, total - ranked_total
            )
    rows = queryset.order_by().in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def whole_base_page(queryset: QuerySet, used: dict, sort: str, number, per_page: int):
    """All clients (a manager, no filter) sorted by ABC: paged from the rank index instead of
    sorting a left join of every client. A class filter joins the class table anyway (its rank
    index serves the sort then); other filters narrow the list enough to sort it whole."""
    if used or sort != "abc":
        return None
    return paginate_by_abc_rank(queryset, number, per_page)


def overdue_for_contact(queryset: QuerySet, now: datetime) -> QuerySet:
    """Clients whose time without contact exceeds their ABC class's cadence. A client never
    contacted counts from the day it was added to the CRM."""
    condition = Q()
    for abc, days in cadence_days_by_class().items():
        cls = Q(metrics__abc_class__isnull=True) if abc is None else Q(metrics__abc_class=abc)
        condition |= cls & Q(contact_since__lt=now - timedelta(days=days))
    return queryset.annotate(
        contact_since=Coalesce("last_contact_at", "created_at", output_field=DateTimeField())
    ).filter(condition)


CLIENT_LIST = ClientListExtension(
    filters={
        "abc": lambda: django_filters.ChoiceFilter(
            label=_("ABC"), choices=_with_none(AbcClass.choices)
        ),
        "xyz": lambda: django_filters.ChoiceFilter(
            label=_("XYZ"), choices=_with_none(XyzClass.choices)
        ),
        "lifecycle": lambda: django_filters.ChoiceFilter(
            label=_("Lifecycle"), choices=_with_none(Lifecycle.choices)
        ),
    },
    apply_filter=class_filter,
    sorts={"abc": ListSort(label=_("ABC class, largest first"), apply=abc_sort)},
    row_related=("metrics",),
    row_fields=("metrics__abc_class", "metrics__xyz_class", "metrics__lifecycle"),
    # null until a run has classified the client
    api_fields={
        name: (
            lambda column=column: serializers.CharField(
                source=f"metrics.{column}", read_only=True, default=None, allow_null=True
            )
        )
        for name, column in (
            ("abc_class", "abc_class"),
            ("xyz_class", "xyz_class"),
            ("lifecycle", "lifecycle"),
        )
    },
    total=total_from_classes,
    paginate=whole_base_page,
)

# the most valuable class first, then the longest without contact
CONTACT_CADENCE = ContactCadence(
    overdue=overdue_for_contact,
    order=(F("metrics__abc_class").asc(nulls_last=True), "contact_since", "id"),
)
