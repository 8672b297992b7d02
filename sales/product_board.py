"""Client × product board (docs/domain.md, "Sales reports"): the "what else to sell" map.

Rows are the clients that have a target segment, grouped by segment (by its name) and in each
segment ordered by ABC class (A, B, C, then no class) and name. The columns of a segment are
the products of its ideal portrait (``TargetSegment.products``) or, with ``by_lines``, the
product lines of those products. Each cell is one state, by this precedence:

1. **in a deal** — an open deal of the client has the product (a line of that product line)
   among its lines: the deal's stage and next step date (the deal with the nearest next step
   when there are several);
2. **bought** — a settlement of the product (of any product of the line) with a non-negative
   amount in the last 12 months up to and including today (``months_through(today, 12)``, the
   client card's window); the cell shows the net turnover of the product in that window;
3. **refused** — a lost deal had the product: the refusal category and the date it was lost
   (the latest such deal);
4. **not offered** — none of these.

A cell "in a deal" also shows the 12-month turnover when the client bought the product too.
A page reads a fixed number of queries whatever the number of clients: the page of clients,
the count, the portraits, then one query each for the settlements, the open deals and the lost
deals of the page's clients.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import groupby

from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from clients.models import Client, Settlement, TargetSegment
from crm.access import scope_for_user
from crm.models import active_language
from crm.periods import months_through
from sales.models import DealLine, StageKind
from segmentation.selectors import segment_class_counts

PAGE_SIZE = 50
NO_CLASS = "none"
ABC_CHOICES = ("A", "B", "C", NO_CLASS)

IN_DEAL = "deal"
BOUGHT = "bought"
REFUSED = "refused"
NOT_OFFERED = "none"
STATES = (IN_DEAL, BOUGHT, REFUSED, NOT_OFFERED)

ABC_ORDER = Case(
    When(metrics__abc_class="A", then=Value(0)),
    When(metrics__abc_class="B", then=Value(1)),
    When(metrics__abc_class="C", then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


@dataclass(frozen=True)
class Column:
    id: int
    name: str
    line: str = ""


@dataclass
class Cell:
    state: str = NOT_OFFERED
    turnover: Decimal | None = None  # net 12-month turnover when bought
    deal_id: int | None = None
    stage: str = ""
    next_step: date | None = None
    open_deals: int = 0
    refusal: str = ""
    refused_on: date | None = None

    @property
    def bought(self) -> bool:
        return self.turnover is not None


@dataclass
class Row:
    client: Client
    abc: str | None
    cells: list[Cell]


@dataclass
class Group:
    segment: TargetSegment
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)


def board_base(user) -> QuerySet[Client]:
    """The clients of the board the user may see: those with a target segment."""
    return scope_for_user(Client.objects.filter(target_segment__isnull=False), user)


def filter_abc(qs: QuerySet[Client], abc: str | None) -> QuerySet[Client]:
    return qs.filter(_abc_q(abc)) if abc else qs


def board_order(qs: QuerySet[Client]) -> QuerySet[Client]:
    """Segment (by name), ABC class (A, B, C, none), name."""
    return qs.annotate(abc_order=ABC_ORDER).order_by(
        "target_segment__name", "target_segment_id", "abc_order", "name", "id"
    )


def portrait_columns(segment_ids, *, by_lines: bool) -> dict[int, list[Column]]:
    """The columns of each segment: its portrait's products (by line, then name) or lines."""
    through = TargetSegment.products.through
    rows = (
        through.objects.filter(targetsegment_id__in=segment_ids)
        .values_list(
            "targetsegment_id",
            "product_id",
            "product__name",
            "product__line_id",
            "product__line__name",
        )
        .order_by("targetsegment_id", "product__line__name", "product__name", "product_id")
    )
    columns: dict[int, list[Column]] = {pk: [] for pk in segment_ids}
    for segment_id, product_id, name, line_id, line_name in rows:
        if by_lines:
            column = Column(line_id, line_name)
            if column not in columns[segment_id]:
                columns[segment_id].append(column)
        else:
            columns[segment_id].append(Column(product_id, name, line_name))
    return columns


def _cells(
    client_ids: list[int], keys: set[int], *, by_lines: bool, today: date
) -> dict[tuple[int, int], Cell]:
    """(client id, product or line id) → cell, for the given clients and columns: three
    queries (settlements, open deals, lost deals)."""
    cells: dict[tuple[int, int], Cell] = {}
    if not client_ids or not keys:
        return cells
    product_key = "product__line_id" if by_lines else "product_id"
    bought = (
        Settlement.objects.filter(
            months_through(today, 12).q("date"),
            client_id__in=client_ids,
            **{f"{product_key}__in": keys},
        )
        .values_list("client_id", product_key)
        .annotate(total=Sum("amount"), purchases=Count("id", filter=Q(amount__gte=0)))
        .order_by()
    )
    for client_id, key, total, purchases in bought:
        if purchases:
            cells[client_id, key] = Cell(state=BOUGHT, turnover=total)
    lang = active_language()
    deal_key = f"{product_key}"
    open_lines = (
        DealLine.objects.filter(
            deal__client_id__in=client_ids,
            deal__state=StageKind.OPEN,
            **{f"{deal_key}__in": keys},
        )
        .values_list(
            "deal__client_id",
            deal_key,
            "deal_id",
            "deal__stage__name_ru",
            "deal__stage__name_en",
            "deal__next_step_date",
        )
        .order_by("deal__client_id", deal_key, "deal__next_step_date", "-deal_id")
    )
    # nulls sort first on SQLite and last on PostgreSQL: pick the nearest dated step in Python
    for (client_id, key), lines in groupby(open_lines, key=lambda r: (r[0], r[1])):
        lines = list(lines)
        deals = {line[2] for line in lines}
        dated = [line for line in lines if line[5] is not None]
        best = min(dated, key=lambda r: (r[5], -r[2])) if dated else max(lines, key=lambda r: r[2])
        cell = cells.setdefault((client_id, key), Cell())
        cell.state = IN_DEAL
        cell.deal_id = best[2]
        cell.stage = (best[3] or best[4]) if lang == "ru" else (best[4] or best[3])
        cell.next_step = best[5]
        cell.open_deals = len(deals)
    lost_lines = (
        DealLine.objects.filter(
            deal__client_id__in=client_ids,
            deal__state=StageKind.LOST,
            **{f"{deal_key}__in": keys},
        )
        .values_list(
            "deal__client_id",
            deal_key,
            "deal_id",
            "deal__refusal__name_ru",
            "deal__refusal__name_en",
            "deal__closed_at",
        )
        .order_by("deal__client_id", deal_key, "-deal__closed_at", "-deal_id")
    )
    for (client_id, key), lines in groupby(lost_lines, key=lambda r: (r[0], r[1])):
        lines = list(lines)
        latest = max(lines, key=lambda r: (r[5] is not None, r[5], r[2]))
        cell = cells.setdefault((client_id, key), Cell())
        cell.refusal = (latest[3] or latest[4]) if lang == "ru" else (latest[4] or latest[3])
        cell.refused_on = timezone.localdate(latest[5]) if latest[5] else None
        if cell.state == NOT_OFFERED:
            cell.state = REFUSED
    return cells


def build_groups(clients: list[Client], *, by_lines: bool, today: date) -> list[Group]:
    """The clients (in board order) grouped by segment, with the cells of each row."""
    segment_ids = list(dict.fromkeys(c.target_segment_id for c in clients))
    columns = portrait_columns(segment_ids, by_lines=by_lines)
    keys = {column.id for cols in columns.values() for column in cols}
    cells = _cells([c.pk for c in clients], keys, by_lines=by_lines, today=today)
    groups: list[Group] = []
    for segment_id, members in groupby(clients, key=lambda c: c.target_segment_id):
        members = list(members)
        group = Group(segment=members[0].target_segment, columns=columns.get(segment_id, []))
        for client in members:
            metrics = getattr(client, "metrics", None)
            group.rows.append(
                Row(
                    client=client,
                    abc=metrics.abc_class if metrics else None,
                    cells=[cells.get((client.pk, col.id), Cell()) for col in group.columns],
                )
            )
        groups.append(group)
    return groups


def _with_joins(qs: QuerySet[Client]) -> QuerySet[Client]:
    return qs.select_related("target_segment", "metrics", "account_manager").only(
        "id",
        "name",
        "target_segment__id",
        "target_segment__name",
        "metrics__client_id",
        "metrics__abc_class",
        "account_manager__id",
        "account_manager__username",
        "account_manager__first_name",
        "account_manager__last_name",
    )


ABC_OF_ORDER = {0: "A", 1: "B", 2: "C", 3: NO_CLASS}
ABC_ORDER_OF = {"A": 0, "B": 1, "C": 2}  # anything else: no class (3)


class BoardClients:
    """The board's clients as a paginator reads them, without sorting the whole base for a
    page: one query counts the clients of each (segment, ABC class) group; a page then reads
    only the groups it covers, in board order, with the offset inside the first of them. The
    cost of a page follows the size of the groups it touches, not the depth of the page."""

    def __init__(self, qs: QuerySet[Client], *, tally: dict | None = None):
        self.qs = qs
        # a manager's board filtered by segment and/or class only: the group sizes are the
        # (segment, class) tally the database keeps (segmentation.selectors)
        self.tally = tally
        self._groups: list[tuple[int, int, int]] | None = None  # (segment, abc order, clients)

    def _tally_counts(self) -> list[tuple[int, int, int]]:
        abc = self.tally.get("abc")
        wanted = ABC_ORDER_OF.get(abc, 3) if abc else None
        sizes: dict[tuple[int, int], int] = {}
        for segment_id, abc_class, n in segment_class_counts(
            segment_id=self.tally.get("segment_id")
        ):
            order = ABC_ORDER_OF.get(abc_class, 3)
            if wanted is None or order == wanted:
                sizes[(segment_id, order)] = sizes.get((segment_id, order), 0) + n
        return [(seg, order, n) for (seg, order), n in sizes.items() if n > 0]

    @property
    def groups(self) -> list[tuple[int, int, int]]:
        if self._groups is None:
            if self.tally is not None:
                counts = self._tally_counts()
            else:
                counts = list(
                    self.qs.annotate(abc_order=ABC_ORDER)
                    .values_list("target_segment_id", "abc_order")
                    .annotate(n=Count("id"))
                    .order_by()
                )
            names = dict(
                TargetSegment.objects.filter(pk__in={c[0] for c in counts}).values_list(
                    "pk", "name"
                )
            )
            counts.sort(key=lambda c: (names.get(c[0], ""), c[0], c[1]))
            self._groups = counts
        return self._groups

    def count(self) -> int:
        return sum(n for _s, _a, n in self.groups)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[Client]:
        start, stop = item.start or 0, item.stop
        covered, first_at, at = [], None, 0
        for segment_id, abc_order, n in self.groups:
            if at + n > start and at < stop:
                covered.append((segment_id, abc_order))
                if first_at is None:
                    first_at = at
            at += n
        if not covered:
            return []
        condition = Q()
        for segment_id, abc_order in covered:
            condition |= Q(target_segment_id=segment_id) & _abc_q(ABC_OF_ORDER[abc_order])
        rows = _with_joins(board_order(self.qs.filter(condition)))
        return list(rows[start - first_at : stop - first_at])


def _abc_q(abc: str) -> Q:
    if abc == NO_CLASS:
        return Q(metrics__isnull=True) | Q(metrics__abc_class__isnull=True)
    return Q(metrics__abc_class=abc)


def board_page(
    qs: QuerySet[Client],
    *,
    number=1,
    by_lines: bool = False,
    today: date | None = None,
    per_page=PAGE_SIZE,
    tally: dict | None = None,
):
    """One page of the board's (filtered) clients: ``(page, groups)``. ``tally``
    (``{"segment_id": …, "abc": …}``, from ``BoardFilter.tally``): the page's clients are all
    the clients with a segment, of that segment and class, whose group sizes the database
    keeps."""
    today = today or timezone.localdate()
    paginator = Paginator(BoardClients(qs, tally=tally), per_page)
    page = paginator.get_page(number)
    clients = list(page.object_list)
    page.object_list = clients
    return page, build_groups(clients, by_lines=by_lines, today=today)


EXPORT_CHUNK = 1000
EXPORT_LIMIT = 100_000


def state_label(cell: Cell) -> str:
    from django.utils.translation import gettext as _

    return {
        IN_DEAL: _("in a deal"),
        BOUGHT: _("bought"),
        REFUSED: _("refused"),
        NOT_OFFERED: _("not offered"),
    }[cell.state]


def cell_text(cell: Cell) -> str:
    """One cell as text (the export): state, then its details."""
    from django.utils.translation import gettext as _

    parts = [state_label(cell)]
    if cell.state == IN_DEAL:
        parts.append(cell.stage)
        if cell.next_step:
            parts.append(_("next step %(date)s") % {"date": cell.next_step.isoformat()})
    if cell.state == REFUSED:
        parts.append(cell.refusal)
        if cell.refused_on:
            parts.append(cell.refused_on.isoformat())
    if cell.turnover is not None and cell.state == IN_DEAL:
        parts.append(_("bought %(amount)s") % {"amount": cell.turnover})
    return "; ".join(p for p in parts if p)


def export_rows(
    qs: QuerySet[Client], *, by_lines: bool = False, today: date | None = None
) -> Iterator[list]:
    """The board as rows for a workbook, up to ``EXPORT_LIMIT`` clients, read in chunks (one
    header row per segment: its columns differ). Each product gives two cells: the state
    (with its details) and the 12-month turnover."""
    from django.utils.translation import gettext as _

    today = today or timezone.localdate()
    qs = _with_joins(board_order(qs))[:EXPORT_LIMIT]
    current_segment = None
    chunk: list[Client] = []

    def flush(chunk):
        nonlocal current_segment
        for group in build_groups(chunk, by_lines=by_lines, today=today):
            if group.segment.pk != current_segment:
                current_segment = group.segment.pk
                header = [_("Target segment"), _("Client"), _("Account manager"), "ABC"]
                for column in group.columns:
                    header += [
                        column.name,
                        _("%(name)s: 12-month turnover") % {"name": column.name},
                    ]
                yield header
            for row in group.rows:
                values = [
                    group.segment.name,
                    row.client.name,
                    str(row.client.account_manager or ""),
                    row.abc or "",
                ]
                for cell in row.cells:
                    values += [cell_text(cell), cell.turnover]
                yield values

    for client in qs.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(client)
        if len(chunk) >= EXPORT_CHUNK:
            yield from flush(chunk)
            chunk = []
    if chunk:
        yield from flush(chunk)
