"""Reads of the pipeline board (``/sales/board/``): its columns with their figures and pages of
cards. Scoped to the viewing user (an account manager sees their clients' deals only).

A column per open stage of the pipeline, then its "won" and "lost" stages showing the deals
closed in the last ``CLOSED_DAYS`` days. Each column's count, sum and weighted sum (amount ×
effective probability) cover every deal of the column that matches the filters (two grouped
queries for all columns: open, recently closed); its cards come a page at a time
(``PAGE_SIZE``; one query for the first page of every column: each column's page of ids, then
those rows with client and class; indexes: sales/migrations/0006_kanban_board_indexes):
open columns longest in the stage first, closed ones the latest closed first. The number of
queries does not grow with the number of deals or of columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.access import scope_for_user
from sales import ageing
from sales.models import Deal, Pipeline, SalesSettings, Stage, StageKind

PAGE_SIZE = 20
CLOSED_DAYS = 30
ZERO = Decimal("0")


@dataclass
class Card:
    """A deal as its card shows it: the columns read for it (no model instance) and its
    ageing, worked out in Python from the column's stage."""

    pk: int
    title: str
    client_id: int
    client_name: str
    abc_class: str | None
    amount: Decimal
    state: str
    stage_id: int
    version: int
    next_step_date: date | None
    next_step_goal: str
    closed_at: datetime | None
    days: int
    ageing: str | None
    # filled by the page (its links, the move select's options and the texts shown, built
    # once per request: a board shows up to ~160 cards)
    links: dict = field(default_factory=dict)
    options: str = ""
    text: dict = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.state == StageKind.OPEN


@dataclass
class Column:
    stage: Stage
    count: int = 0
    total: Decimal = ZERO
    weighted: Decimal = ZERO
    cards: list[Card] = field(default_factory=list)
    page: int = 1

    @property
    def has_more(self) -> bool:
        return self.page * PAGE_SIZE < self.count

    @property
    def next_page(self) -> int:
        return self.page + 1


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True).order_by("order", "id").first()


def board_stages(pipeline: Pipeline) -> list[Stage]:
    """The board's columns: the active open stages in order, then won, then lost."""
    stages = [s for s in pipeline.stages.all() if s.is_active or s.kind != StageKind.OPEN]
    rank = {StageKind.OPEN: 0, StageKind.WON: 1, StageKind.LOST: 2}
    return sorted(stages, key=lambda s: (rank[s.kind], s.order, s.pk))


def board_deals(user, pipeline: Pipeline) -> QuerySet[Deal]:
    """The deals of this pipeline the user may see (the filters apply to it; ``column_deals``
    and ``_figures`` split it into what each column shows)."""
    return scope_for_user(Deal.objects.filter(pipeline=pipeline), user)


def closed_since(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=CLOSED_DAYS)


def column_deals(queryset: QuerySet[Deal], stage: Stage, since: datetime) -> QuerySet[Deal]:
    """What one column shows of ``queryset``: the open deals of an open stage, or the deals
    closed in the stage since ``since`` (each served by its partial index)."""
    if stage.kind == StageKind.OPEN:
        return queryset.filter(state=StageKind.OPEN, stage=stage)
    return queryset.filter(stage=stage, closed_at__gte=since).exclude(state=StageKind.OPEN)


def _figures(
    queryset: QuerySet[Deal], since: datetime, stages: list[Stage], only: bool = False
) -> dict:
    """Count, sum and weighted sum per stage: the open deals, and the deals closed since
    ``since`` (two grouped reads, each on its partial index, without joining the stages: a
    deal without its own probability takes its stage's, added here). ``only``: ``stages``
    are some of the columns, read only those (a read of each kind the columns need)."""
    default = {stage.pk: stage.probability for stage in stages}
    money = DecimalField(max_digits=20, decimal_places=2)
    step = Decimal("0.01")
    result = {}
    closed = [stage.pk for stage in stages if stage.kind != StageKind.OPEN]
    opened = [stage.pk for stage in stages if stage.kind == StageKind.OPEN]
    parts = []
    if opened:
        open_deals = queryset.filter(state=StageKind.OPEN)
        parts.append(open_deals.filter(stage_id__in=opened) if only else open_deals)
    if closed:
        # by stage and close time: a range of the closed deals' index per closed stage
        parts.append(
            queryset.filter(stage_id__in=closed, closed_at__gte=since).exclude(state=StageKind.OPEN)
        )
    for part in parts:
        rows = (
            part.order_by()
            .values("stage_id")
            .annotate(
                n=Count("id"),
                total=Coalesce(Sum("amount"), Value(ZERO), output_field=money),
                # deals with a probability of their own: amount × probability
                own=Coalesce(
                    Sum(ExpressionWrapper(F("amount") * F("probability"), output_field=money)),
                    Value(ZERO),
                    output_field=money,
                ),
                # deals on the stage's default: their amounts
                plain=Coalesce(
                    Sum("amount", filter=Q(probability__isnull=True)),
                    Value(ZERO),
                    output_field=money,
                ),
            )
        )
        for r in rows:
            weighted = Decimal(r["own"]) + Decimal(r["plain"]) * default.get(r["stage_id"], 0)
            result[r["stage_id"]] = (
                r["n"],
                Decimal(r["total"]).quantize(step),
                (weighted / 100).quantize(step),
            )
    return result


def _order(stage: Stage) -> list:
    if stage.kind == StageKind.OPEN:
        return ["stage_entered_at", "id"]
    return ["-closed_at", "-id"]


# what a card reads: the deal's own columns, its client's name and class
CARD_FIELDS = (
    "id",
    "title",
    "amount",
    "state",
    "stage_id",
    "stage_entered_at",
    "closed_at",
    "next_step_date",
    "next_step_goal",
    "version",
    "client_id",
    "client__name",
    "client__metrics__abc_class",
)


def _page_ids(queryset: QuerySet[Deal], stage: Stage, page: int, since: datetime):
    """SQL of one page of a column's ids, read from the deals alone (the filters may match
    thousands of a column's deals: sorting them narrow is cheap, joining each to its client
    first is not)."""
    start = (page - 1) * PAGE_SIZE
    ids = (
        column_deals(queryset, stage, since)
        .order_by(*_order(stage))
        .values("id")[start : start + PAGE_SIZE]
    )
    return ids.query.sql_with_params()


def cards_pages(
    queryset: QuerySet[Deal],
    pages: list[tuple[Stage, int]],
    *,
    today: date,
    settings: SalesSettings,
    since: datetime | None = None,
) -> dict[int, list[Card]]:
    """The cards of a page of each of several columns, by stage id, in one query: the pages'
    ids (a ``UNION ALL`` of each column's ordered, limited ids, each on its index), then those
    rows with client and class; each page is put in its column's order here."""
    if not pages:
        return {}
    since = since or closed_since()
    parts, params = [], []
    for i, (stage, page) in enumerate(pages):
        sql, part_params = _page_ids(queryset, stage, page, since)
        # each page in a subquery of its own: SQLite refuses a LIMIT in a compound's parts
        parts.append(f"SELECT id FROM ({sql}) AS page{i}")  # noqa: S608 - Django's SQL
        params.extend(part_params)
    rows = (
        # Django's own SQL of each page and its parameters, nothing from the request
        Deal.objects.filter(pk__in=RawSQL(" UNION ALL ".join(parts), params))  # noqa: S611
        .order_by()
        .values_list(*CARD_FIELDS)
    )
    by_stage: dict[int, Stage] = {stage.pk: stage for stage, _page in pages}
    cards: dict[int, list[Card]] = {stage.pk: [] for stage, _page in pages}
    keys: dict[int, tuple] = {}
    for (
        pk,
        title,
        amount,
        state,
        stage_id,
        entered,
        closed_at,
        next_date,
        next_goal,
        version,
        client_id,
        client_name,
        abc,
    ) in rows:
        stage = by_stage.get(stage_id)
        if stage is None:
            continue
        cards[stage_id].append(
            Card(
                pk=pk,
                title=title,
                client_id=client_id,
                client_name=client_name,
                abc_class=abc,
                amount=amount,
                state=state,
                stage_id=stage_id,
                version=version,
                next_step_date=next_date,
                next_step_goal=next_goal,
                closed_at=closed_at,
                days=ageing.days_between(entered, today),
                ageing=ageing.colour(
                    state=state,
                    stage=stage,
                    entered=entered,
                    next_step_date=next_date,
                    abc_class=abc,
                    today=today,
                    settings=settings,
                ),
            )
        )
        # the column's order: longest in the stage first, or the latest closed first
        keys[pk] = (entered, pk) if stage.kind == StageKind.OPEN else (closed_at, pk)
    for stage_id, column in cards.items():
        column.sort(key=lambda c: keys[c.pk], reverse=by_stage[stage_id].kind != StageKind.OPEN)
    return cards


def cards_page(
    queryset: QuerySet[Deal],
    stage: Stage,
    page: int,
    *,
    today: date,
    settings: SalesSettings,
    since: datetime | None = None,
) -> list[Card]:
    """One page of a column's cards (one query)."""
    return cards_pages(queryset, [(stage, page)], today=today, settings=settings, since=since)[
        stage.pk
    ]


def column_figures(queryset: QuerySet[Deal], stages: list[Stage]) -> list[Column]:
    """The figures of some columns without cards (one or two queries): what a move refreshes,
    the column the deal left and the one it entered."""
    figures = _figures(queryset, closed_since(), stages, only=True)
    return [Column(stage, *figures.get(stage.pk, (0, ZERO, ZERO))) for stage in stages]


def board(
    queryset: QuerySet[Deal],
    stages: list[Stage],
    *,
    today: date | None = None,
    settings: SalesSettings | None = None,
) -> list[Column]:
    """The columns of the (scoped, filtered) ``queryset`` with their figures and first pages."""
    today = today or timezone.localdate()
    settings = settings or SalesSettings.load()
    since = closed_since()
    figures = _figures(queryset, since, stages)
    columns = []
    for stage in stages:
        n, total, weighted = figures.get(stage.pk, (0, ZERO, ZERO))
        columns.append(Column(stage=stage, count=n, total=total, weighted=weighted))
    pages = cards_pages(
        queryset,
        [(column.stage, 1) for column in columns if column.count],
        today=today,
        settings=settings,
        since=since,
    )
    for column in columns:
        column.cards = pages.get(column.stage.pk, [])
    return columns
