"""Fixtures of the sales tests: the seeded pipeline (recreated after a transactional test
flushed the tables), the owner's client with a contact, products and a deal factory that goes
through the service."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sales import services
from sales.models import Pipeline, RefusalCategory, Stage, StageKind
from tests.factories import ClientFactory, ContactFactory, ProductFactory, ProductLineFactory

MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.fixture
def pipeline(db):
    pipeline, created = Pipeline.objects.get_or_create(
        code="sales", defaults={"name_en": "Sales", "name_ru": "Продажи", "order": 10}
    )
    if created or not pipeline.stages.exists():
        for order, kind, probability, days, name in (
            (10, "open", 10, 14, "Needs"),
            (20, "open", 30, 10, "Proposal"),
            (30, "open", 50, 10, "Contract"),
            (70, "won", 100, 0, "Won"),
            (80, "lost", 0, 0, "Lost"),
        ):
            Stage.objects.create(
                pipeline=pipeline,
                order=order,
                kind=kind,
                probability=probability,
                expected_days=days,
                name_en=name,
                name_ru=name + " (ru)",
            )
    return pipeline


def stage(pipeline, order: int) -> Stage:
    return pipeline.stages.get(order=order)


@pytest.fixture
def stages(pipeline):
    """The pipeline's stages in order: the open ones, then won and lost."""
    return list(pipeline.stages.order_by("order"))


@pytest.fixture
def refusal(db):
    return RefusalCategory.objects.get_or_create(
        code="price", defaults={"name_en": "Price too high", "name_ru": "Высокая цена"}
    )[0]


@pytest.fixture
def line(db):
    return ProductLineFactory(name="Furniture")


@pytest.fixture
def product(line):
    return ProductFactory(line=line, name="Desk", price=Decimal("1000.00"))


@pytest.fixture
def own_client(owner):
    return ClientFactory(name="Acme", account_manager=owner, abc_class="A")


@pytest.fixture
def contact(own_client):
    return ContactFactory(client=own_client, full_name="Ivan Petrov")


@pytest.fixture
def make_deal(owner, pipeline, product):
    def make(client, *, actor=None, quantity="2", price=None, now=None, **data):
        return services.deal_create(
            actor=actor or owner,
            client=client,
            pipeline=pipeline,
            lines=[services.LineInput(product, Decimal(quantity), price)],
            now=now,
            data=data or None,
        )

    return make


@pytest.fixture
def deal(make_deal, own_client):
    return make_deal(own_client, title="Desks for the office")


OPEN = StageKind.OPEN
