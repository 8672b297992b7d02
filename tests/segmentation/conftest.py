from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from segmentation import services
from segmentation.models import SegmentationRun
from tests.factories import ClientFactory, SettlementFactory

AS_OF = date(2026, 1, 15)  # window 2025-01-01 … 2025-12-31; P0 = [2025-10-15, 2026-01-15)


@pytest.fixture(autouse=True)
def english(settings):
    """Messages are asserted in English (the default UI language is Russian)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def sale(client, day: date, amount) -> None:
    SettlementFactory(client=client, date=day, amount=Decimal(str(amount)))


def monthly(client, year: int, months, amount, day: int = 10) -> None:
    for month in months:
        sale(client, date(year, month, day), amount)


def recompute(as_of: date = AS_OF) -> SegmentationRun:
    run = services.recompute(trigger=SegmentationRun.Trigger.COMMAND, as_of=as_of)
    assert run.status == SegmentationRun.Status.SUCCESS, run.error
    return run


@pytest.fixture
def base(db, owner, outsider):
    """A small base with one client per lifecycle status (owner's) plus an outsider's."""
    clients = {
        "potential": ClientFactory(name="Potential", account_manager=owner),
        "new": ClientFactory(name="New", account_manager=owner),
        "regular": ClientFactory(name="Regular", account_manager=owner),
        "restored": ClientFactory(name="Restored", account_manager=owner),
        "lost": ClientFactory(name="Lost", account_manager=owner),
        "other": ClientFactory(name="Other", account_manager=outsider),
    }
    sale(clients["new"], date(2025, 11, 20), 300)
    sale(clients["new"], date(2025, 12, 20), 300)
    monthly(clients["regular"], 2025, range(1, 13), 500)
    sale(clients["restored"], date(2025, 2, 10), 500)
    sale(clients["restored"], date(2025, 12, 1), 500)
    sale(clients["lost"], date(2025, 3, 1), 200)
    monthly(clients["other"], 2025, range(1, 13), 100)
    return clients
