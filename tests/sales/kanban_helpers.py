"""Deals for the board, ageing and digest tests (made through the services, as a user would)."""

import importlib
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sales import services
from sales.models import Deal, Pipeline, Stage
from tests.factories import ClientFactory, ProductFactory

MSK = ZoneInfo("Europe/Moscow")


def at(text: str) -> datetime:
    """A Moscow wall-clock time: "2026-03-10 09:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=MSK)


def pipeline() -> Pipeline:
    """The seeded pipeline; seeded again when a transactional test before this one flushed the
    tables (the migration's own function, as the browser tests do)."""
    found = Pipeline.objects.filter(code="sales").first()
    if found is None:
        from django.apps import apps

        importlib.import_module("sales.migrations.0002_seed_pipeline_refusals").seed(apps, None)
        found = Pipeline.objects.get(code="sales")
    return found


def stage(order: int) -> Stage:
    """The seeded pipeline's stage by its order (10 needs … 60 evaluation, 70 won, 80 lost)."""
    return pipeline().stages.get(order=order)


def make_deal(
    user,
    *,
    client=None,
    stage_order: int = 10,
    entered: str = "2026-03-01 10:00",
    amount: str = "1000",
    abc: str | None = None,
    product=None,
    **data,
) -> Deal:
    client = client or ClientFactory(account_manager=user, abc_class=abc)
    product = product or ProductFactory()
    return services.deal_create(
        actor=user,
        client=client,
        pipeline=pipeline(),
        stage=stage(stage_order),
        lines=[services.LineInput(product=product, quantity=Decimal("1"), price=Decimal(amount))],
        data=data,
        now=at(entered),
    )
