"""Services of the client base: rules, audit, development degree worked by hand."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from clients import selectors, services
from clients.models import Client, ContactPerson, Interaction, Settlement
from crm.models import AuditEntry
from crm.periods import Period, months_through
from crm.selectors import audit_for_object
from tests.factories import (
    ClientFactory,
    ContactFactory,
    InteractionFactory,
    SettlementFactory,
)

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


def test_db_refuses_empty_name_accepts_zero_amount(own_client):
    with pytest.raises(IntegrityError), transaction.atomic():
        Client.objects.create(name="")
    free = Settlement.objects.create(client=own_client, date=date(2026, 1, 1), amount=0)
    assert free.amount == 0


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


def test_settlement_zero_and_refund_allowed(owner, own_client):
    free = services.settlement_record(
        actor=owner, client=own_client, product=None, date=date(2026, 1, 1), amount=Decimal(0)
    )
    assert free.amount == Decimal(0)
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


def test_card_months_include_today_and_clamp_to_month_end():
    assert months_through(date(2026, 3, 30), 1) == Period(date(2026, 2, 28), date(2026, 3, 31))
    assert months_through(date(2026, 1, 15), 12) == Period(date(2025, 1, 16), date(2026, 1, 16))
    assert months_through(date(2024, 2, 28), 12) == Period(date(2023, 2, 28), date(2024, 2, 29))


@time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=MSK), tick=False)
def test_client_card_contents_worked_by_hand(owner, portfolio):
    _, p = portfolio
    today = date(2026, 11, 23)
    client = ClientFactory(account_manager=owner, next_step_date=date(2026, 11, 22))
    call = InteractionFactory(
        client=client,
        occurred_at=datetime(2026, 11, 20, 9, 0, tzinfo=MSK),
        summary="Звонок",
        promise="КП",
        promise_due=date(2026, 11, 25),
    )
    meeting = InteractionFactory(
        client=client,
        occurred_at=datetime(2026, 11, 10, 15, 0, tzinfo=MSK),
        summary="Встреча",
        promise="Счёт",
        promise_due=date(2026, 11, 12),
        promise_done_at=datetime(2026, 11, 11, 10, 0, tzinfo=MSK),
    )
    email = InteractionFactory(
        client=client,
        occurred_at=datetime(2026, 11, 1, 11, 0, tzinfo=MSK),
        summary="Письмо",
        promise="Образцы",
        promise_due=date(2026, 11, 24),
    )
    # settlements sit on the timeline at noon of their day
    late = SettlementFactory(client=client, product=p["drill"], date=date(2026, 11, 20), amount=100)
    mid = SettlementFactory(client=client, product=p["saw"], date=date(2026, 11, 15), amount=30)
    SettlementFactory(client=client, product=p["drill"], date=date(2026, 6, 1), amount=50)
    # bought 13 months ago: on the timeline, but not among the products of 12 months
    old = SettlementFactory(client=client, product=p["gloves"], date=date(2025, 10, 23), amount=7)

    card = selectors.client_card(client, owner, today=today)

    # newest first: the 20th's settlement (12:00) before the 20th's call (09:00), ...
    assert [(item.kind, item.at) for item in card.timeline] == [
        ("settlement", datetime(2026, 11, 20, 12, 0, tzinfo=MSK)),
        ("interaction", call.occurred_at),
        ("settlement", datetime(2026, 11, 15, 12, 0, tzinfo=MSK)),
        ("interaction", meeting.occurred_at),
        ("interaction", email.occurred_at),
        ("settlement", datetime(2026, 6, 1, 12, 0, tzinfo=MSK)),
        ("settlement", datetime(2025, 10, 23, 12, 0, tzinfo=MSK)),
    ]
    assert card.timeline[1].text == "Звонок" and card.timeline[1].badge == gettext("promise open")
    assert card.timeline[3].badge == gettext("promise kept")
    assert card.timeline[0].text.startswith("Дрель") and late.date == date(2026, 11, 20)
    assert card.timeline[2].text.startswith("Пила") and mid.date == date(2026, 11, 15)
    assert card.timeline[-1].text.startswith("Перчатки") and old.date == date(2025, 10, 23)
    # drill 100 + 50 in two settlements, saw 30; the gloves (13 months ago) are left out
    assert [(r["product__name"], r["total"], r["n"]) for r in card.products_12m] == [
        ("Дрель", Decimal("150"), 2),
        ("Пила", Decimal("30"), 1),
    ]
    assert card.turnover_12m == Decimal("180") and card.settlements_12m == 3
    # open promises by due date; the kept one (meeting) is not among them
    assert card.open_promises == [email, call]
    # the next step was due yesterday
    assert card.next_step_overdue is True


@time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=MSK), tick=False)
def test_client_card_next_step_today_or_none_is_not_overdue(owner):
    today = date(2026, 11, 23)
    due_today = ClientFactory(account_manager=owner, next_step_date=today)
    no_step = ClientFactory(account_manager=owner, next_step_date=None)
    assert selectors.client_card(due_today, owner, today=today).next_step_overdue is False
    assert selectors.client_card(no_step, owner, today=today).next_step_overdue is False


def test_interaction_log_is_audited(owner, own_client, contact):
    interaction = services.interaction_log(
        actor=owner,
        client=own_client,
        data={
            "occurred_at": datetime(2026, 1, 10, 10, 0, tzinfo=MSK),
            "contact": contact,
            "summary": "Обсудили заказ",
            "promise": "Выслать КП",
            "promise_due": date(2026, 1, 12),
        },
    )
    entry = audit_for_object(interaction).get()
    assert entry.action == AuditEntry.Action.CREATE and entry.actor == owner
    assert entry.changes["summary"] == [None, "Обсудили заказ"]
    assert entry.changes["promise"] == [None, "Выслать КП"]
    assert entry.changes["contact"] == [None, str(contact)]


def test_contact_save_is_audited_on_create_update_and_primary_handover(owner, own_client):
    first = services.contact_save(
        actor=owner, client=own_client, data={"full_name": "Анна", "is_primary": True}
    )
    created = audit_for_object(first).get()
    assert created.action == AuditEntry.Action.CREATE and created.actor == owner
    assert created.changes["full_name"] == [None, "Анна"]

    services.contact_save(
        actor=owner, client=own_client, contact=first, data={"position": "Директор"}
    )
    updated = audit_for_object(first).filter(action=AuditEntry.Action.UPDATE).get()
    assert updated.actor == owner and updated.changes == {"position": ["", "Директор"]}

    # a new primary contact un-marks the old one, and that change is audited too
    second = services.contact_save(
        actor=owner, client=own_client, data={"full_name": "Борис", "is_primary": True}
    )
    assert audit_for_object(second).get().action == AuditEntry.Action.CREATE
    handover = audit_for_object(first).filter(action=AuditEntry.Action.UPDATE).order_by("id")
    assert [e.changes for e in handover] == [
        {"position": ["", "Директор"]},
        {"is_primary": [True, False]},
    ]

    # saving without a change writes no entry
    services.contact_save(
        actor=owner, client=own_client, contact=second, data={"full_name": "Борис"}
    )
    assert audit_for_object(second).count() == 1
