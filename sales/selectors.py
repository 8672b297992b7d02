"""Reads of the sales app, scoped by the user's role (``crm.access.scope_for_user``): an account
manager sees the deals of their own clients, a manager every deal; another account manager's
deal is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from crm.access import get_for_user, scope_for_user
from sales.models import (
    Deal,
    Pipeline,
    RefusalCategory,
    Stage,
    StageKind,
    StageLog,
)


def deals_for(user) -> QuerySet[Deal]:
    """Every deal ``user`` may see, with what a row shows joined in (no query per row)."""
    return scope_for_user(Deal.objects.all(), user).select_related(
        "client", "client__metrics", "owner", "pipeline", "stage"
    )


def deal_list(user) -> QuerySet[Deal]:
    """The deal list: scoped, newest first. Its filters: ``sales.filters.DealFilterSet``."""
    return deals_for(user).order_by("-created_at", "-id")


def effective_probability():
    """The deal's probability in SQL: its own, or its stage's default while it has none."""
    return Coalesce(F("probability"), F("stage__probability"), output_field=IntegerField())


@dataclass(frozen=True)
class Totals:
    count: int
    amount: Decimal
    weighted: Decimal


def deal_totals(queryset: QuerySet[Deal]) -> Totals:
    """Count, sum and weighted sum (amount × probability) of a (scoped, filtered) list: one
    query."""
    money = DecimalField(max_digits=20, decimal_places=2)
    row = queryset.order_by().aggregate(
        total_n=Count("id"),
        total_amount=Coalesce(Sum("amount"), Value(Decimal("0")), output_field=money),
        total_weighted=Coalesce(
            Sum(ExpressionWrapper(F("amount") * effective_probability(), output_field=money)),
            Value(Decimal("0")),
            output_field=money,
        ),
    )
    weighted = (Decimal(row["total_weighted"]) / 100).quantize(Decimal("0.01"))
    return Totals(row["total_n"], Decimal(row["total_amount"]).quantize(Decimal("0.01")), weighted)


def deal_detail(user, pk: int) -> Deal:
    """One deal the user may see (404 otherwise), with its client, contact and stage."""
    return get_for_user(
        Deal.objects.select_related(
            "client",
            "client__metrics",
            "contact",
            "owner",
            "pipeline",
            "stage",
            "lost_at_stage",
            "refusal",
        ),
        user,
        pk=pk,
    )


def stage_log(deal: Deal) -> list[StageLog]:
    return list(
        deal.stage_log.select_related("from_stage", "to_stage", "actor", "refusal").order_by(
            "at", "id"
        )
    )


def stage_log_for(user) -> QuerySet[StageLog]:
    return scope_for_user(StageLog.objects.all(), user).select_related(
        "from_stage", "to_stage", "actor", "refusal"
    )


def active_pipelines() -> QuerySet[Pipeline]:
    return Pipeline.objects.filter(is_active=True).order_by("order", "id")


def open_stages(pipeline: Pipeline) -> list[Stage]:
    return list(pipeline.stages.filter(kind=StageKind.OPEN, is_active=True).order_by("order", "id"))


def active_refusals() -> QuerySet[RefusalCategory]:
    return RefusalCategory.objects.filter(is_active=True).order_by("order", "id")


def client_deals(client, *, limit: int = 40) -> tuple[list[Deal], list[Deal]]:
    """The client card's panel, in one query: the latest open deals, and the latest lost
    deals with their reasons (``limit`` of both together, newest first)."""
    rows = list(
        Deal.objects.filter(client=client, state__in=[StageKind.OPEN, StageKind.LOST])
        .select_related("stage", "owner", "refusal", "lost_at_stage")
        .order_by("-created_at", "-id")[:limit]
    )
    return (
        [d for d in rows if d.state == StageKind.OPEN],
        [d for d in rows if d.state == StageKind.LOST],
    )


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end
