"""Deals for the board, ageing and digest tests (made through the services, as a user would)."""

import importlib
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sales import services
from sales.models import Deal, Pipeline, RefusalCategory, Stage
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


class Book:
    """Creates and moves deals at given moments (the clock frozen there for created_at)."""

    def __init__(self, time_machine, pipeline, stages, actor):
        self.tm, self.pipeline, self.stages, self.actor = time_machine, pipeline, stages, actor

    def create(self, client, when, stage="S1", amount=None, **data):
        self.tm.move_to(when, tick=False)
        deal = services.deal_create(
            actor=self.actor,
            client=client,
            pipeline=self.pipeline,
            stage=self.stages[stage],
            data=data,
            now=when,
        )
        if amount is not None:
            Deal.objects.filter(pk=deal.pk).update(amount=Decimal(amount))
            deal.refresh_from_db()
        return deal

    def move(self, deal, when, stage):
        self.tm.move_to(when, tick=False)
        return services.deal_move(actor=self.actor, deal=deal, stage=self.stages[stage], now=when)

    def win(self, deal, when):
        self.tm.move_to(when, tick=False)
        return services.deal_win(actor=self.actor, deal=deal, now=when)

    def lose(self, deal, when, code):
        self.tm.move_to(when, tick=False)
        refusal = RefusalCategory.objects.get(code=code)
        return services.deal_lose(actor=self.actor, deal=deal, refusal=refusal, note="no", now=when)

    def reopen(self, deal, when, stage):
        self.tm.move_to(when, tick=False)
        return services.deal_reopen(actor=self.actor, deal=deal, stage=self.stages[stage], now=when)
