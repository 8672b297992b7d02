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


@pytest.fixture
def import_settlements(manager, settings, tmp_path):
    """Upload a settlements CSV through the import page as the manager (all or nothing),
    running the work queued for after the commit."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import TestCase
    from django.urls import reverse

    from tests.conftest import client_for

    settings.MEDIA_ROOT = tmp_path / "media"

    def upload(text: str) -> None:
        file = SimpleUploadedFile("s.csv", text.encode())
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = client_for(manager).post(
                reverse("clients:import"),
                {"kind": "settlements", "mode": "all_or_nothing", "file": file},
            )
        assert response.status_code == 302

    return upload
