"""Fixtures of the complaint tests: a client of the owner, its contact, a theme, and a helper
that registers complaints through the service at a frozen instant."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from clients.models import Client, ContactPerson
from feedback import services
from feedback.models import Theme
from tests.factories import ClientFactory, ContactFactory

MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


def make_client(**kwargs) -> Client:
    """A client (``tests.factories.ClientFactory``; ``abc_class=`` etc. give it classes)."""
    return ClientFactory(**kwargs)


def make_contact(client=None, **kwargs) -> ContactPerson:
    """A contact person of ``client`` (a new client if none): ``ContactFactory``."""
    if client is not None:
        kwargs["client"] = client
    return ContactFactory(**kwargs)


@pytest.fixture
def theme(db):
    # seeded by migration 0002; recreated after a transactional test flushed the tables
    return Theme.objects.get_or_create(
        code="missed-deadlines",
        defaults={"name_en": "Missed deadlines", "name_ru": "Нарушение сроков", "order": 10},
    )[0]


@pytest.fixture
def own_client(owner):
    return make_client(name="Acme Ltd", account_manager=owner)


@pytest.fixture
def contact(own_client):
    return make_contact(own_client, full_name="Ivan Petrov", email="ivan@acme.example")


@pytest.fixture
def register(owner, own_client, theme):
    def _register(*, at=None, client=None, priority="normal", actor=None, **kwargs):
        return services.complaint_register(
            actor=actor or owner,
            client=client or own_client,
            theme=theme,
            description=kwargs.pop("description", "The delivery was late"),
            priority=priority,
            now=at or msk(2026, 11, 23, 10, 0),  # Monday 10:00
            **kwargs,
        )

    return _register


@pytest.fixture(autouse=True)
def fresh_cache():
    """The analytics page caches its summary; no test sees another test's figures."""
    cache.clear()
    yield
    cache.clear()
