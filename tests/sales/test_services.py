"""The deal services: sale type derivation, the rules of create / move / win / lose / reopen,
stale moves, probability, the stage log with its times, audit entries, the surveys trigger."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from crm.models import AuditEntry
from sales import services
from sales.models import Pipeline, SaleType, Stage, StageKind, StageLog
from surveys.models import Campaign, Invitation, Questionnaire
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ProductFactory,
    ProductLineFactory,
    SettlementFactory,
)
from tests.sales.conftest import msk, stage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- sale type ---------------------------------------------------------------------------------
def test_derive_sale_type_on_hand_made_settlements(owner):
    furniture, lighting = ProductLineFactory(name="Furniture"), ProductLineFactory(name="Light")
    desk = ProductFactory(line=furniture, name="Desk")
    chair = ProductFactory(line=furniture, name="Chair")
    lamp = ProductFactory(line=lighting, name="Lamp")
    client = ClientFactory(account_manager=owner)
    # never bought anything: a first sale, whatever the products
    assert services.derive_sale_type(client, [desk]) == SaleType.FIRST
    assert services.derive_sale_type(client, []) == SaleType.FIRST
    # a zero-amount settlement (free goods) is a purchase
    SettlementFactory(client=client, product=desk, amount=0, date=date(2026, 1, 10))
    # another product of a line already bought: a repeat sale
    assert services.derive_sale_type(client, [chair]) == SaleType.REPEAT
    assert services.derive_sale_type(client, [desk]) == SaleType.REPEAT
    # a product of a line never bought: a new product line (even beside a known line)
    assert services.derive_sale_type(client, [lamp]) == SaleType.NEW_LINE
    assert services.derive_sale_type(client, [desk, lamp]) == SaleType.NEW_LINE
    # a deal without products after purchases: repeat
    assert services.derive_sale_type(client, []) == SaleType.REPEAT
    # a settlement without a product counts as a purchase but not as a line bought
    other = ClientFactory(account_manager=owner)
    SettlementFactory(client=other, product=None, amount=500)
    assert services.derive_sale_type(other, [desk]) == SaleType.NEW_LINE
    # another client's purchases do not count
    assert services.derive_sale_type(ClientFactory(), [desk]) == SaleType.FIRST


def test_create_derives_and_keeps_override(owner, own_client, pipeline, product):
    SettlementFactory(client=own_client, product=product, amount=10)
    deal = services.deal_create(
        actor=owner,
        client=own_client,
        pipeline=pipeline,
        lines=[services.LineInput(product, Decimal("1.5"), Decimal("99.99"))],
        data={"sale_type": SaleType.NEW_LINE},
    )
    assert (deal.sale_type, deal.sale_type_derived) == (SaleType.NEW_LINE, SaleType.REPEAT)
    assert deal.amount == Decimal("149.99")  # 1.5 × 99.99 = 149.985 → to the kopeck
    assert deal.owner == owner and deal.stage == stage(pipeline, 10) and deal.version == 1


# --- rules -------------------------------------------------------------------------------------
def test_create_refusals_save_nothing(owner, outsider, own_client, pipeline, product):
    other_pipeline = Pipeline.objects.create(code="svc", name_ru="С", name_en="S")
    foreign = Stage.objects.create(pipeline=other_pipeline, name_ru="x", name_en="x")
    cases = [
        {"stage": foreign},  # a stage of another pipeline
        {"stage": stage(pipeline, 70)},  # a closed stage
        {"owner": outsider},  # an owner who cannot see the client
        {"contact": ContactFactory()},  # another client's contact
    ]
    for kwargs in cases:
        with pytest.raises(ValidationError):
            services.deal_create(actor=owner, client=own_client, pipeline=pipeline, **kwargs)
    with pytest.raises(ValidationError):
        services.deal_create(
            actor=owner,
            client=own_client,
            pipeline=pipeline,
            lines=[services.LineInput(ProductFactory(price=None), Decimal("1"))],
        )
    assert not own_client.deals.exists()
    assert not StageLog.objects.exists()


def test_move_rules(owner, deal, refusal):
    pipeline = deal.pipeline
    other_pipeline = Pipeline.objects.create(code="svc", name_ru="С", name_en="S")
    foreign = Stage.objects.create(pipeline=other_pipeline, name_ru="x", name_en="x")
    with pytest.raises(ValidationError, match="another pipeline"):
        services.deal_move(actor=owner, deal=deal, stage=foreign)
    with pytest.raises(ValidationError, match="refusal category"):
        services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 80))
    deal.refresh_from_db()
    assert (deal.stage, deal.version) == (stage(pipeline, 10), 1)
    # backwards is allowed
    deal = services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 30))
    deal = services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 20))
    assert deal.stage == stage(pipeline, 20) and deal.version == 3
    # a "won" stage through move wins the deal
    deal = services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 70))
    assert deal.state == StageKind.WON
    with pytest.raises(ValidationError, match="reopen"):
        services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 10))
    with pytest.raises(ValidationError):
        services.deal_win(actor=owner, deal=deal)
    with pytest.raises(ValidationError):
        services.deal_lose(actor=owner, deal=deal, refusal=refusal, note="x")


def test_lost_without_category_or_note_is_refused(owner, deal, refusal):
    with pytest.raises(ValidationError) as exc:
        services.deal_lose(actor=owner, deal=deal, refusal=None, note="too dear")
    assert "refusal" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.deal_lose(actor=owner, deal=deal, refusal=refusal, note="   ")
    assert "refusal_note" in exc.value.message_dict
    refusal.is_active = False
    refusal.save()
    with pytest.raises(ValidationError):
        services.deal_lose(actor=owner, deal=deal, refusal=refusal, note="x")
    deal.refresh_from_db()
    assert deal.state == StageKind.OPEN and deal.version == 1
    assert deal.stage_log.count() == 1


def test_lose_keeps_the_stage_and_reopen_returns_to_it(owner, deal, refusal):
    pipeline = deal.pipeline
    deal = services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 20))
    deal = services.deal_lose(actor=owner, deal=deal, refusal=refusal, note=" dear ")
    assert (deal.state, deal.stage, deal.lost_at_stage) == (
        StageKind.LOST,
        stage(pipeline, 80),
        stage(pipeline, 20),
    )
    assert deal.refusal_note == "dear" and deal.closed_at is not None
    with pytest.raises(ValidationError):
        services.deal_reopen(actor=owner, deal=deal, stage=stage(pipeline, 70))
    deal = services.deal_reopen(actor=owner, deal=deal)
    assert (deal.state, deal.stage, deal.refusal, deal.lost_at_stage, deal.closed_at) == (
        StageKind.OPEN,
        stage(pipeline, 20),
        None,
        None,
        None,
    )
    lost_entry = deal.stage_log.get(event="lost")
    assert lost_entry.refusal == refusal and lost_entry.note == " dear "[:500]
    with pytest.raises(ValidationError, match="open already"):
        services.deal_reopen(actor=owner, deal=deal)


def test_stale_concurrent_move_is_refused(owner, manager, deal):
    pipeline = deal.pipeline
    # two people opened the page at version 1
    seen_by_owner = seen_by_manager = deal.version
    services.deal_move(
        actor=manager, deal=deal, stage=stage(pipeline, 20), expected_version=seen_by_manager
    )
    with pytest.raises(ValidationError) as exc:
        services.deal_move(
            actor=owner, deal=deal, stage=stage(pipeline, 30), expected_version=seen_by_owner
        )
    assert exc.value.error_list[0].code == services.STALE
    assert "Reload the page" in exc.value.messages[0]
    deal.refresh_from_db()
    assert deal.stage == stage(pipeline, 20) and deal.version == 2
    assert list(deal.stage_log.values_list("event", flat=True)) == ["created", "moved"]
    with pytest.raises(ValidationError):
        services.deal_update(actor=owner, deal=deal, data={"title": "x"}, expected_version=1)
    services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 30), expected_version=2)


def test_probability_is_never_overwritten_once_set(owner, deal):
    pipeline = deal.pipeline
    assert deal.effective_probability == 10
    deal = services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 20))
    assert deal.probability is None and deal.effective_probability == 30
    deal = services.deal_update(actor=owner, deal=deal, data={"probability": 65})
    for order in (30, 10, 70):
        deal = services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, order))
        assert deal.probability == 65 and deal.effective_probability == 65
    assert deal.weighted_amount == Decimal("1300.00")


def test_stage_log_rows_and_time_in_previous_stage(owner, own_client, pipeline, make_deal, refusal):
    start = msk(2026, 3, 2, 9, 0)
    with time_machine.travel(start, tick=False):
        deal = make_deal(own_client)
    with time_machine.travel(start + timedelta(days=3, hours=2), tick=False):
        deal = services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 20))
    with time_machine.travel(start + timedelta(days=5), tick=False):
        deal = services.deal_lose(actor=owner, deal=deal, refusal=refusal, note="budget cut")
    with time_machine.travel(start + timedelta(days=6), tick=False):
        deal = services.deal_reopen(actor=owner, deal=deal)
    with time_machine.travel(start + timedelta(days=6, minutes=30), tick=False):
        deal = services.deal_win(actor=owner, deal=deal)
    rows = list(
        deal.stage_log.order_by("at", "id").values_list(
            "event", "from_stage__order", "to_stage__order", "seconds_in_previous", "actor"
        )
    )
    assert rows == [
        ("created", None, 10, None, owner.pk),
        ("moved", 10, 20, (3 * 24 + 2) * 3600, owner.pk),
        ("lost", 20, 80, (24 + 22) * 3600, owner.pk),
        ("reopened", 80, 20, 24 * 3600, owner.pk),
        ("won", 20, 70, 30 * 60, owner.pk),
    ]
    assert deal.stage_entered_at == start + timedelta(days=6, minutes=30)
    assert deal.closed_at == start + timedelta(days=6, minutes=30)


def test_audit_entries_of_the_deal(owner, deal, refusal):
    pipeline = deal.pipeline
    deal = services.deal_move(actor=owner, deal=deal, stage=stage(pipeline, 20))
    deal = services.deal_update(actor=owner, deal=deal, data={"title": "Renamed"})
    services.deal_lose(actor=owner, deal=deal, refusal=refusal, note="no")
    entries = list(
        AuditEntry.objects.filter(object_id=str(deal.pk))
        .order_by("at", "id")
        .values_list("action", "changes", "actor")
    )
    actions = [a for a, _c, _u in entries]
    assert actions == ["create", "transition", "update", "transition"]
    assert all(u == owner.pk for _a, _c, u in entries)
    moved = entries[1][1]
    assert (
        moved["stage"] == [str(stage(pipeline, 10)), str(stage(pipeline, 20))] or "stage" in moved
    )
    assert entries[2][1]["title"] == ["Desks for the office", "Renamed"]
    assert entries[3][1]["state"] == ["open", "lost"]


def test_deal_won_fires_the_surveys_trigger(
    owner, manager, deal, django_capture_on_commit_callbacks
):
    questionnaire, _created = Questionnaire.objects.get_or_create(
        code="relationship-nps", defaults={"title_ru": "Оценка", "title_en": "How are we doing?"}
    )
    campaign = Campaign.objects.create(
        name="After a won deal",
        questionnaire=questionnaire,
        created_by=manager,
        trigger="deal_won",
        kind=Campaign.Kind.TRANSACTIONAL,
        status=Campaign.Status.ACTIVE,
    )
    contact = ContactFactory(client=deal.client, email="anna@acme.example")
    deal = services.deal_update(actor=owner, deal=deal, data={"contact": contact})
    with django_capture_on_commit_callbacks(execute=True):
        services.deal_win(actor=owner, deal=deal)
    [invitation] = Invitation.objects.all()
    assert (invitation.campaign, invitation.client, invitation.contact) == (
        campaign,
        deal.client,
        contact,
    )


def test_losing_does_not_fire_the_trigger(owner, deal, refusal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.deal_lose(actor=owner, deal=deal, refusal=refusal, note="no")
    assert not Invitation.objects.exists()


def test_an_amount_beyond_the_column_is_refused(owner, own_client, pipeline, product):
    big = services.LineInput(product, Decimal("999999999"), Decimal("999999999999.99"))
    with pytest.raises(ValidationError):
        services.deal_create(actor=owner, client=own_client, pipeline=pipeline, lines=[big])
    half = services.LineInput(product, Decimal("1"), Decimal("600000000000"))
    with pytest.raises(ValidationError, match="too large"):
        services.deal_create(actor=owner, client=own_client, pipeline=pipeline, lines=[half, half])
    assert not own_client.deals.exists()
