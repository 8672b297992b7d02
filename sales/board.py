"""Reads of the pipeline board (``/sales/board/``): its columns with their figures and pages of
cards. Scoped to the viewing user (an account manager sees their clients' deals only).

A column per open stage of the pipeline, then its "won" and "lost" stages showing the deals
closed in the last ``CLOSED_DAYS`` days. Each column's count, sum and weighted sum (amount ×
effective probability) cover every deal of the column that matches the filters (one grouped
query for all columns); its cards come a page at a time (``PAGE_SIZE``, one query a column):
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


def board_deals(user, pipeline: Pipeline, *, now: datetime | None = None) -> QuerySet[Deal]:
    """The deals the board may show: the user's scope, this pipeline, open or closed lately."""
    now = now or timezone.now()
    since = now - timedelta(days=CLOSED_DAYS)
    deals = Deal.objects.filter(pipeline=pipeline).filter(
        Q(state=StageKind.OPEN) | Q(closed_at__gte=since)
    )
    return scope_for_user(deals, user)


def _figures(queryset: QuerySet[Deal]) -> dict[int, tuple[int, Decimal, Decimal]]:
    weighted = ExpressionWrapper(
        F("amount") * Coalesce("probability", "stage__probability"),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )
    rows = (
        queryset.order_by()
        .values("stage_id")
        .annotate(
            n=Count("id"),
            total=Coalesce(Sum("amount"), Value(ZERO), output_field=DecimalField()),
            weighted=Coalesce(Sum(weighted), Value(ZERO), output_field=DecimalField()),
        )
    )
    step = Decimal("0.01")
    return {
        r["stage_id"]: (
            r["n"],
            Decimal(r["total"]).quantize(step),
            (Decimal(r["weighted"]) / 100).quantize(step),
        )
        for r in rows
    }


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
) -> list[Card]:
    """One page of a column's cards (one query: the deal, its client and class)."""
    start = (page - 1) * PAGE_SIZE
    deals = (
        queryset.filter(stage=stage)
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
        .order_by(*_order(stage))[start : start + PAGE_SIZE]
    )
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
    """The columns' figures without cards (one query): what a move refreshes."""
    figures = _figures(queryset)
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
    figures = _figures(queryset)
    columns = []
    for stage in stages:
        n, total, weighted = figures.get(stage.pk, (0, ZERO, ZERO))
        column = Column(stage=stage, count=n, total=total, weighted=weighted)
        if n:
            column.cards = cards_page(queryset, stage, 1, today=today, settings=settings)
        columns.append(column)
    return columns
