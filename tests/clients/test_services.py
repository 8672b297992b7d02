"""Services of the client base: rules, audit, development degree worked by hand."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from clients import selectors, services
from clients.models import Client, ContactPerson, Interaction, Settlement
from crm.models import AuditEntry
from crm.selectors import audit_for_object
from tests.factories import ClientFactory, SettlementFactory

MSK = ZoneInfo("Europe/Moscow")


def test_phone_digits():
    assert services.phone_digits("+7 (495) 123-45-67") == "74951234567"
    assert services.phone_digits("8 495 123 45 67") == "74951234567"
    assert services.phone_digits("") == ""


def test_account_manager_owns_what_they_create(owner, outsider):
    client = services.client_create(
        actor=owner, data={"name": "Альфа", "inn": "7707083893", "account_manager": outsider}
    )
    assert client.account_manager == owner
    entry = audit_for_object(client).get()
    assert entry.action == AuditEntry.Action.CREATE and entry.actor == owner
    assert entry.changes["name"] == [None, "Альфа"]


def test_account_manager_cannot_reassign(owner, outsider, own_client):
    with pytest.raises(ValidationError) as exc:
        services.client_update(actor=owner, client=own_client, data={"account_manager": outsider})
    assert "account_manager" in exc.value.message_dict
    own_client.refresh_from_db()
    assert own_client.account_manager == owner


def test_manager_reassigns_and_audit_records_old_and_new(manager, owner, outsider, own_client):
    services.client_update(actor=manager, client=own_client, data={"account_manager": outsider})
    entry = audit_for_object(own_client).get()
    assert entry.changes == {"account_manager": [str(owner), str(outsider)]}


@pytest.mark.parametrize("inn", ["123", "77012345678", "77O1234567"])
def test_bad_inn_is_refused_and_nothing_saved(owner, inn):
    with pytest.raises(ValidationError):
        services.client_create(actor=owner, data={"name": "X", "inn": inn})
    assert not Client.objects.exists()


def test_client_cannot_be_its_own_parent(manager, own_client):
    with pytest.raises(ValidationError):
        services.client_update(actor=manager, client=own_client, data={"parent": own_client})


def test_db_refuses_empty_name_and_zero_amount(own_client):
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(name="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Settlement.objects.create(client=own_client, date=date(2026, 1, 1), amount=0)


def test_one_primary_contact(owner, own_client):
    first = services.contact_save(
        actor=owner,
        client=own_client,
        data={"full_name": "А", "is_primary": True, "phone": "8 900 123-45-67"},
    )
    second = services.contact_save(
        actor=owner, client=own_client, data={"full_name": "Б", "is_primary": True}
    )
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    assert first.phone_digits == "79001234567"
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactPerson.objects.filter(pk=first.pk).update(is_primary=True)


def test_settlement_zero_refused_refund_allowed(owner, own_client):
    with pytest.raises(ValidationError):
        services.settlement_record(
            actor=owner, client=own_client, product=None, date=date(2026, 1, 1), amount=Decimal(0)
        )
    refund = services.settlement_record(
        actor=owner,
        client=own_client,
        product=None,
        date=date(2026, 1, 1),
        amount=Decimal("-150.50"),
    )
    assert refund.amount == Decimal("-150.50")
    assert audit_for_object(refund).count() == 1


@time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=MSK), tick=False)
def test_interaction_sets_last_contact_and_next_step(owner, own_client, contact, portfolio):
    _, products = portfolio
    when = datetime(2026, 11, 23, 9, 30, tzinfo=MSK)
    interaction = services.interaction_log(
        actor=owner,
        client=own_client,
        data={
            "kind": "call",
            "occurred_at": when,
            "contact": contact,
            "summary": "Обсудили заказ",
            "promise": "Выслать КП",
            "promise_due": date(2026, 11, 25),
            "next_step_date": date(2026, 11, 26),
            "next_step_goal": "Встреча",
            "next_step_product": products["saw"],
        },
    )
    own_client.refresh_from_db()
    assert interaction.author == owner
    assert own_client.last_contact_at == when
    assert (own_client.next_step_date, own_client.next_step_goal, own_client.next_step_product) == (
        date(2026, 11, 26),
        "Встреча",
        products["saw"],
    )
    # an older contact logged later changes neither the last contact nor (no step) the plan
    services.interaction_log(
        actor=owner,
        client=own_client,
        data={"occurred_at": datetime(2026, 11, 1, 12, 0, tzinfo=MSK), "summary": "Старый звонок"},
    )
    own_client.refresh_from_db()
    assert own_client.last_contact_at == when
    assert own_client.next_step_date == date(2026, 11, 26)


def test_interaction_rules(owner, own_client, foreign_client):
    from tests.factories import ContactFactory

    stranger = ContactFactory(client=foreign_client)
    with pytest.raises(ValidationError):
        services.interaction_log(
            actor=owner, client=own_client, data={"summary": "x", "contact": stranger}
        )
    with pytest.raises(ValidationError):
        services.interaction_log(
            actor=owner, client=own_client, data={"summary": "x", "promise_due": date(2026, 1, 1)}
        )
    with pytest.raises(ValidationError):
        services.interaction_log(
            actor=owner, client=own_client, data={"summary": "x", "next_step_goal": "call"}
        )
    assert not Interaction.objects.exists()


def test_promise_kept_and_next_step_done(owner, own_client):
    i = services.interaction_log(
        actor=owner,
        client=own_client,
        data={
            "summary": "x",
            "promise": "Позвонить",
            "promise_due": date(2026, 1, 1),
            "next_step_date": date(2026, 1, 2),
        },
    )
    services.interaction_promise_kept(actor=owner, interaction=i)
    assert i.promise_done_at is not None
    services.client_next_step_done(actor=owner, client=own_client)
    own_client.refresh_from_db()
    assert own_client.next_step_date is None and own_client.next_step_goal == ""


def test_catalogue_writes_are_for_managers(owner, manager):
    with pytest.raises(PermissionDenied):
        services.product_line_save(actor=owner, data={"name": "L"})
    line = services.product_line_save(actor=manager, data={"name": "L"})
    product = services.product_save(actor=manager, data={"line": line, "name": "P", "code": ""})
    assert product.code is None  # blank codes do not collide on the unique index


@time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=MSK), tick=False)
def test_development_degree_worked_by_hand(owner, portfolio):
    segment, p = portfolio
    client = ClientFactory(account_manager=owner, target_segment=segment)
    today = date(2026, 11, 23)
    # bought in the window (2025-11-23, 2026-11-23]: drill, repair, gloves (not a target)
    SettlementFactory(client=client, product=p["drill"], date=date(2026, 5, 1), amount=100)
    SettlementFactory(client=client, product=p["repair"], date=date(2025, 11, 24), amount=50)
    SettlementFactory(client=client, product=p["gloves"], date=date(2026, 6, 1), amount=10)
    # outside the window or refunds do not count: saw on the window's first excluded day,
    # training only refunded
    SettlementFactory(client=client, product=p["saw"], date=date(2025, 11, 23), amount=70)
    SettlementFactory(client=client, product=p["training"], date=date(2026, 7, 1), amount=-30)
    dev = selectors.development(client, today=today)
    # target products: drill, saw, repair, training = 4; bought of them: drill, repair = 2
    assert dev.degree == Decimal("0.5000") and dev.percent == 50
    assert [x.name for x in dev.gap] == ["Обучение", "Пила"]
    card = selectors.client_card(client, owner, today=today)
    # turnover in window: 100 + 50 + 10 - 30 = 130 (the 70 is outside)
    assert card.turnover_12m == Decimal("130")
    assert card.settlements_12m == 4


def test_development_without_segment_is_none(owner, own_client):
    assert selectors.development(own_client).degree is None


def test_months_ago_clamps_to_month_end():
    assert selectors.months_ago(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert selectors.months_ago(date(2026, 1, 15), 12) == date(2025, 1, 15)
    assert selectors.months_ago(date(2024, 2, 29), 12) == date(2023, 2, 28)
