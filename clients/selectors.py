"""Reads of the client base: scoped by user, bounded in queries."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Count,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.extensions import (
    TimelineItem,
    client_list_extensions,
    contact_cadence,
    my_day_sections,
    timeline_items,
)
from clients.models import (
    Client,
    ClientTally,
    ContactPerson,
    Interaction,
    Product,
    Settlement,
    TargetSegment,
)
from crm.access import scope_for_user
from crm.periods import months_through
from crm.selectors import first_with_total

TIMELINE_LIMIT = 30


def clients_for(user) -> QuerySet[Client]:
    return scope_for_user(Client.objects.all(), user)


TALLY_FOLD_ROWS = 1000  # the tally's rows are folded into one when a read finds more


def client_total() -> int:
    """The exact number of clients. PostgreSQL: the sum of the client tally kept by triggers
    (``ClientTally``; a few rows instead of a COUNT of up to a million index entries, which
    every page of a manager's unfiltered list paid). Other databases: COUNT(*)."""
    if connection.vendor != "postgresql":
        return Client.objects.count()
    tally = ClientTally.objects.aggregate(total=Sum("delta"), rows=Count("id"))
    if tally["rows"] > TALLY_FOLD_ROWS:
        ClientTally.fold()  # a write, once per that many client-writing statements
    return tally["total"] or 0


def client_list(user) -> QuerySet[Client]:
    """The client list's base queryset: what the table shows, with the rows the extensions'
    columns need (segmentation: the classes) in the same query."""
    related = [r for ext in client_list_extensions() for r in ext.row_related]
    fields = [f for ext in client_list_extensions() for f in ext.row_fields]
    return (
        clients_for(user)
        .select_related("account_manager", "target_segment", *related)
        .only(
            "id",
            "name",
            "kind",
            "inn",
            "city",
            *fields,
            "last_contact_at",
            "next_step_date",
            "next_step_goal",
            "account_manager__id",
            "account_manager__username",
            "account_manager__first_name",
            "account_manager__last_name",
            "target_segment__id",
            "target_segment__name",
        )
    )


def paginate_clients(
    queryset: QuerySet[Client],
    number,
    per_page: int,
    *,
    total: int | None = None,
    cap: int | None = None,
) -> Page:
    """A page of the list by a deferred join: the page's ids come from the sort's index (an
    index-only scan), then only those rows are loaded with their joins. A plain OFFSET over
    the joined rows sorts the whole table to skip them. A page in the second half of the list
    is read in the reverse order from the end (``page_ids``), so the last pages of a million
    clients skip a few rows, not a million index entries.
    ``total``: the list's exact size when the caller knows it more cheaply than COUNT(*).
    ``cap``: count at most this many rows (a name search over a million clients matches tens
    of thousands, and counting them all reads each one); when the list holds more, the
    paginator's ``capped`` is true, its count is ``cap`` and only the first ``cap`` rows are
    paged (read forwards: the true end is unknown)."""
    ids_queryset = queryset.values_list("id", flat=True)
    paginator = Paginator(ids_queryset, per_page)
    paginator.capped = False
    if total is None and cap is not None:
        found = queryset.order_by().values("id")[: cap + 1].count()
        paginator.capped = found > cap
        total = min(found, cap)
    if total is not None:
        paginator.count = total  # a cached_property: the instance value replaces the query
    page = paginator.get_page(number)
    start, stop = page.start_index() - 1, page.end_index()
    if paginator.capped:
        ids = list(ids_queryset[start:stop])
    else:
        ids = page_ids(ids_queryset, start, stop, paginator.count)
    rows = queryset.order_by().in_bulk(ids)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def page_ids(ordered: QuerySet, start: int, stop: int, total: int) -> list:
    """Rows ``start``..``stop`` (0-based, half-open) of ``ordered`` (a values_list of a
    totally ordered queryset: the order ends with a unique key) of ``total`` rows. Nearer the
    end the rows are read in the exact reverse order (``QuerySet.reverse()`` flips every term,
    NULLS FIRST/LAST included) skipping ``total - stop`` rows, then put back in order: the
    database walks at most half of the list's index whichever page is asked."""
    start = max(start, 0)  # an empty list's page starts at "index 0"
    if stop <= start:
        return []
    if total - stop < start:
        rows = list(ordered.reverse()[total - stop : total - start])
        rows.reverse()
        return rows
    return list(ordered[start:stop])


@dataclass
class Development:
    """Development degree = target products bought in 12 months ÷ target products."""

    target: list[Product]
    bought: list[Product]
    gap: list[Product]

    @property
    def degree(self) -> Decimal | None:
        if not self.target:
            return None
        return (Decimal(len(self.bought)) / Decimal(len(self.target))).quantize(Decimal("0.0001"))

    @property
    def percent(self) -> int | None:
        return None if self.degree is None else round(self.degree * 100)


def development(client: Client, *, today: date | None = None) -> Development:
    today = today or timezone.localdate()
    if client.target_segment_id is None:
        return Development([], [], [])
    target = list(client.target_segment.products.select_related("line").order_by("name"))
    bought_ids = set(
        Settlement.objects.filter(
            months_through(today, 12).q("date"),
            client=client,
            amount__gte=0,  # a free (zero-amount) delivery is a product the client uses
            product__isnull=False,
        )
        .values_list("product_id", flat=True)
        .distinct()
    )
    bought = [p for p in target if p.pk in bought_ids]
    gap = [p for p in target if p.pk not in bought_ids]
    return Development(target, bought, gap)


@dataclass
class ClientCard:
    client: Client
    contacts: list[ContactPerson]
    turnover_12m: Decimal
    settlements_12m: int
    products_12m: list[dict]
    development: Development
    timeline: list[TimelineItem]
    open_promises: list[Interaction]
    next_step_overdue: bool
    subdivisions: list[Client]


@dataclass
class ClientLog:
    """The card's contact-log panel: what the htmx reply after logging a contact re-renders."""

    timeline: list[TimelineItem]
    open_promises: list[Interaction]


def client_log(client: Client, user) -> ClientLog:
    """Timeline (interactions, settlements and the extensions' items, newest first) and open
    promises of a client."""
    interactions = list(
        client.interactions.select_related("author", "contact", "next_step_product").order_by(
            "-occurred_at", "-id"
        )[:TIMELINE_LIMIT]
    )
    settlements = list(
        client.settlements.select_related("product").order_by("-date", "-id")[:TIMELINE_LIMIT]
    )
    timeline = [_interaction_item(i) for i in interactions]
    timeline += [_settlement_item(s) for s in settlements]
    timeline += timeline_items(client, user, TIMELINE_LIMIT)
    timeline.sort(key=lambda item: item.at, reverse=True)
    open_promises = list(
        client.interactions.filter(promise_done_at__isnull=True)
        .exclude(promise="")
        .order_by("promise_due", "id")[:20]
    )
    return ClientLog(timeline=timeline[:TIMELINE_LIMIT], open_promises=open_promises)


def client_card(client: Client, user, *, today: date | None = None) -> ClientCard:
    today = today or timezone.localdate()
    recent = Settlement.objects.filter(months_through(today, 12).q("date"), client=client)
    totals = recent.aggregate(total=Coalesce(Sum("amount"), Decimal(0)), n=Count("id"))
    products = list(
        recent.filter(product__isnull=False)
        .values("product__id", "product__name")
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("-total")[:20]
    )
    log = client_log(client, user)
    return ClientCard(
        client=client,
        contacts=list(client.contacts.all()),
        turnover_12m=totals["total"],
        settlements_12m=totals["n"],
        products_12m=products,
        development=development(client, today=today),
        timeline=log.timeline,
        open_promises=log.open_promises,
        next_step_overdue=bool(client.next_step_date and client.next_step_date < today),
        subdivisions=list(client.subdivisions.only("id", "name")[:50]),
    )


def _as_datetime(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12, 0))  # noqa: DTZ001


def _interaction_item(i: Interaction) -> TimelineItem:
    text = i.summary
    if i.outcome:
        text += f" — {i.outcome}"
    badge = ""
    if i.promise:
        badge = _("promise kept") if i.promise_done_at else _("promise open")
    return TimelineItem(
        at=i.occurred_at,
        kind="interaction",
        title=f"{i.get_kind_display()} · {i.get_direction_display()}"
        + (f" · {i.contact}" if i.contact else "")
        + (f" · {i.author}" if i.author else ""),
        text=text,
        icon="chat-left-text",
        badge=badge,
    )


def _settlement_item(s: Settlement) -> TimelineItem:
    return TimelineItem(
        at=_as_datetime(s.date),
        kind="settlement",
        title=_("Settlement %(doc)s") % {"doc": s.document_number or ""},
        text=str(s.product or "—"),
        amount=s.amount,
        icon="cash-coin",
        badge=_("refund") if s.amount < 0 else "",
    )


@dataclass
class MyDay:
    today: date
    steps_overdue: list[Client]
    steps_today: list[Client]
    promises_due: list[Interaction]
    contact_overdue: list[Client]
    contact_overdue_total: int
    # each list holds at most ``limit`` rows; the totals count them all
    steps_overdue_total: int = 0
    steps_today_total: int = 0
    promises_due_total: int = 0
    limit: int = 50
    # blocks other apps add (clients.extensions.register_my_day_section)
    sections: list = field(default_factory=list)


def overdue_for_contact(
    queryset: QuerySet[Client], *, now: datetime | None = None
) -> QuerySet[Client]:
    """Clients overdue for contact by the registered cadence (segmentation: days per ABC
    class), annotated with ``contact_since``; none without a cadence."""
    cadence = contact_cadence()
    if cadence is None:
        return queryset.none()
    return cadence.overdue(queryset, now or timezone.now())


def overdue_promises(today: date) -> QuerySet[Interaction]:
    """Promises not kept whose due day has passed (due before ``today``)."""
    return Interaction.objects.filter(promise_done_at__isnull=True, promise_due__lt=today).exclude(
        promise=""
    )


def overdue_promise_clients(today: date) -> QuerySet:
    """The ids of clients with an overdue promise (a subquery)."""
    return overdue_promises(today).values("client_id")


def settlement_list(user) -> QuerySet[Settlement]:
    """The settlements list: scoped, newest first, with the client shown on each row."""
    return (
        scope_for_user(Settlement.objects.all(), user)
        .select_related("client", "product")
        .order_by("-date", "-id")
    )


def card_related() -> list[str]:
    """What the client card's header shows of other apps (segmentation: the classes)."""
    return [r for ext in client_list_extensions() for r in ext.row_related]


def my_day(user, *, today: date | None = None, limit: int = 50) -> MyDay:
    """An account manager's day: next steps due, promises due, clients overdue for contact.

    Each list is read once with its full size beside its first ``limit`` rows (a window count),
    so a short list on the home and the whole page tell the same totals. Managers see their own
    clients here too (the clients they are account manager of).
    """
    today = today or timezone.localdate()
    mine = Client.objects.filter(account_manager=user)
    steps = mine.select_related("next_step_product").order_by("next_step_date", "name", "pk")
    # two reads: a long overdue list must not push today's steps out of one shared slice
    steps_overdue, steps_overdue_total = first_with_total(
        steps.filter(next_step_date__lt=today), limit
    )
    steps_today, steps_today_total = first_with_total(steps.filter(next_step_date=today), limit)
    promises, promises_total = first_with_total(
        Interaction.objects.filter(
            client__account_manager=user,
            promise_done_at__isnull=True,
            promise_due__lte=today + timedelta(days=2),
        )
        .exclude(promise="")
        .select_related("client", "contact")
        .order_by("promise_due", "pk"),
        limit,
    )
    # in the cadence's order (segmentation: the most valuable class first, then the longest
    # without contact)
    cadence = contact_cadence()
    overdue = overdue_for_contact(mine).select_related(*card_related())
    if cadence is not None:
        overdue = overdue.order_by(*cadence.order)
    shown, shown_total = first_with_total(overdue, limit)
    return MyDay(
        today=today,
        steps_overdue=steps_overdue,
        steps_overdue_total=steps_overdue_total,
        steps_today=steps_today,
        steps_today_total=steps_today_total,
        promises_due=promises,
        promises_due_total=promises_total,
        contact_overdue=shown,
        contact_overdue_total=shown_total,
        limit=limit,
        sections=my_day_sections(user, today, limit),
    )


def target_segments_with_counts(user) -> QuerySet[TargetSegment]:
    """The target segments with ``n_clients``: how many of the clients ``user`` may see are in
    each (an account manager counts their own clients, a manager all of them)."""
    counts = (
        scope_for_user(Client.objects.all(), user)
        .filter(target_segment=OuterRef("pk"))
        .order_by()
        .values("target_segment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        TargetSegment.objects.annotate(n_clients=Coalesce(Subquery(counts), 0))
        .prefetch_related("products")
        .order_by("name")
    )
