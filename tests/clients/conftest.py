import pytest

from tests.factories import (
    ClientFactory,
    ContactFactory,
    ProductFactory,
    ProductLineFactory,
    TargetSegmentFactory,
)


@pytest.fixture
def own_client(owner):
    return ClientFactory(name="ООО «Северный ветер»", account_manager=owner, inn="7701234567")


@pytest.fixture
def foreign_client(outsider):
    return ClientFactory(name="Nordwind GmbH", account_manager=outsider)


@pytest.fixture
def portfolio(db):
    """A target segment with four target products in two lines, plus one non-target product."""
    tools = ProductLineFactory(name="Инструмент")
    service = ProductLineFactory(name="Сервис")
    products = {
        "drill": ProductFactory(line=tools, name="Дрель"),
        "saw": ProductFactory(line=tools, name="Пила"),
        "repair": ProductFactory(line=service, name="Ремонт"),
        "training": ProductFactory(line=service, name="Обучение"),
        "gloves": ProductFactory(line=tools, name="Перчатки"),
    }
    segment = TargetSegmentFactory(name="Строители")
    segment.products.set([products[k] for k in ("drill", "saw", "repair", "training")])
    return segment, products


@pytest.fixture
def contact(own_client):
    return ContactFactory(
        client=own_client,
        full_name="Иван Петров",
        email="ivan@veter.ru",
        phone="+7 (495) 123-45-67",
    )
