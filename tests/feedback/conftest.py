"""Fixtures of the complaint tests: a client of the owner, its contact, a theme, and a helper
that registers complaints through the service at a frozen instant."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from feedback import services
from feedback.models import Theme
from tests.factories import ClientFactory, ContactFactory

MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.fixture
def theme(db):
    return Theme.objects.get(code="missed-deadlines")


@pytest.fixture
def own_client(owner):
    return ClientFactory(name="Acme Ltd", account_manager=owner)


@pytest.fixture
def contact(own_client):
    return ContactFactory(client=own_client, full_name="Ivan Petrov", email="ivan@acme.example")


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
