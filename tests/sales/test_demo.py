"""The demo deals (``manage.py seed_deals``, run by ``make demo``)."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from sales.ageing import ANY, ageing_q
from sales.models import Deal, StageKind
from tests.factories import ClientFactory, ContactFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_seed_deals_covers_every_stage_won_lost_and_ageing(owner, pipeline, refusal):
    for _n in range(6):
        client = ClientFactory(account_manager=owner)
        ContactFactory(client=client)
    ProductFactory(price=Decimal("100"))
    ProductFactory(price=None)
    call_command("seed_deals", count=60)
    open_stages = pipeline.stages.filter(kind=StageKind.OPEN)
    for stage in open_stages:
        assert Deal.objects.filter(stage=stage, state=StageKind.OPEN).exists(), stage
    assert Deal.objects.filter(state=StageKind.WON).exists()
    lost = Deal.objects.filter(state=StageKind.LOST)
    assert lost.exists()
    assert all(d.refusal_id and d.refusal_note and d.lost_at_stage_id for d in lost)
    assert Deal.objects.filter(stage_log__event="reopened").exists()
    now = timezone.now()
    aged = Deal.objects.filter(ageing_q(ANY, today=timezone.localdate(now)))
    assert aged.exists()
    before = Deal.objects.count()
    call_command("seed_deals", count=60)  # idempotent
    assert Deal.objects.count() == before
