"""Reads of the pipeline board (``/sales/board/``): its columns with their figures and pages of
cards. Scoped to the viewing user (an account manager sees their clients' deals only).

A column per open stage of the pipeline, then its "won" and "lost" stages showing the deals
closed in the last ``CLOSED_DAYS`` days. Each column's count, sum and weighted sum (amount ×
effective probability) cover every deal of the column that matches the filters (two grouped
queries for all columns: open, recently closed); its cards come a page at a time
(``PAGE_SIZE``, two queries a column: the page's ids, then those rows with client and class;
indexes: sales/migrations/0006_kanban_board_indexes):
open columns longest in the stage first, closed ones the latest closed first. The number of
queries does not grow with the number of deals.
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
    deal: Deal
    days: int
    ageing: str | None
    abc_class: str | None
    # filled by the page (its links and the move select's options, built once per request)
    links: dict = field(default_factory=dict)
    options: str = ""


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


def _figures(queryset: QuerySet[Deal], since: datetime, stages: list[Stage]) -> dict:
    """Count, sum and weighted sum per stage: the open deals, and the deals closed since
    ``since`` (two grouped reads, each on its partial index, without joining the stages: a
    deal without its own probability takes its stage's, added here)."""
    default = {stage.pk: stage.probability for stage in stages}
    money = DecimalField(max_digits=20, decimal_places=2)
    step = Decimal("0.01")
    result = {}
    closed = [stage.pk for stage in stages if stage.kind != StageKind.OPEN]
    for part in (
        queryset.filter(state=StageKind.OPEN),
        # by stage and close time: a range of the closed deals' index per closed stage
        queryset.filter(stage_id__in=closed, closed_at__gte=since).exclude(state=StageKind.OPEN),
    ):
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


def cards_page(
    queryset: QuerySet[Deal],
    stage: Stage,
    page: int,
    *,
    today: date,
    settings: SalesSettings,
    since: datetime | None = None,
) -> list[Card]:
    """One page of a column's cards (two queries: the ids, then the deals with client and
    class)."""
    start = (page - 1) * PAGE_SIZE
    since = since or closed_since()
    # the page's ids first, from the deals alone (the filters may match thousands of a
    # column's deals: sorting them narrow is cheap, joining each to its client first is not),
    # then those rows with their client and class
    ids = list(
        column_deals(queryset, stage, since)
        .order_by(*_order(stage))
        .values_list("id", flat=True)[start : start + PAGE_SIZE]
    )
    if not ids:
        return []
    rows = (
        Deal.objects.filter(pk__in=ids)
        .select_related("client__metrics")
        .only(
            "id",
            "title",
            "amount",
            "probability",
            "state",
            "stage_entered_at",
            "closed_at",
            "next_step_date",
            "next_step_goal",
            "version",
            "stage_id",
            "client__id",
            "client__name",
            "client__metrics__abc_class",
        )
        .in_bulk()
    )
    deals = [rows[pk] for pk in ids if pk in rows]
    cards = []
    for deal in deals:
        deal.stage = stage  # the column's stage: no copy of it per card
        metrics = getattr(deal.client, "metrics", None)
        abc = metrics.abc_class if metrics is not None else None
        cards.append(
            Card(
                deal=deal,
                days=ageing.days_in_stage(deal, today),
                ageing=ageing.deal_ageing(deal, today=today, settings=settings, abc_class=abc),
                abc_class=abc,
            )
        )
    return cards


def column_figures(queryset: QuerySet[Deal], stages: list[Stage]) -> list[Column]:
    """The columns' figures without cards (two queries): what a move refreshes."""
    figures = _figures(queryset, closed_since(), stages)
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
        column = Column(stage=stage, count=n, total=total, weighted=weighted)
        if n:
            column.cards = cards_page(
                queryset, stage, 1, today=today, settings=settings, since=since
            )
        columns.append(column)
    return columns
