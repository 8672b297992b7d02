"""The closed loop: an unhappy answer opens a case for the account manager; a closed complaint
sends a short survey whose unhappy answer opens a new case linked to the old one; anonymous
campaigns; and the triggers (first purchase in a product line, deal won). No detractor falls
through: every path ends in a case or in the anonymous count."""

from datetime import date, timedelta

import pytest
from django.core import mail

from clients.services import settlement_record
from feedback import services as complaints
from feedback.models import Complaint, Notice
from surveys import services
from surveys.models import Answer, Campaign, Invitation
from surveys.selectors import anonymous_unhappy
from tests.factories import ClientFactory, ContactFactory, ProductFactory, SettlementFactory
from tests.feedback.test_services import advance
from tests.surveys.conftest import invite, msk

T0 = msk(2026, 11, 23, 10)  # a Monday


@pytest.fixture(autouse=True)
def at_t0(time_machine, survey_theme):
    time_machine.move_to(T0, tick=False)


def answer(invitation, **data):
    return services.answer_submit(invitation=invitation, data=data)


@pytest.mark.parametrize(
    ("nps", "item", "unhappy"),
    [(6, None, True), (0, None, True), (7, None, False), (10, 3, True), (10, 4, False)],
)
def test_unhappy_answer_opens_a_case_for_the_account_manager(
    make_campaign,
    csat_questionnaire,
    contact,
    owner,
    nps,
    item,
    unhappy,
    django_capture_on_commit_callbacks,
):
    campaign = make_campaign(questionnaire=csat_questionnaire)
    invitation = invite(campaign, contact, at=T0)
    first = csat_questionnaire.items.order_by("order", "id").first()
    items = {first.pk: item} if item else {}
    with django_capture_on_commit_callbacks(execute=True):
        result = answer(invitation, nps=nps, items=items, comment="Курьер опоздал")
    assert result.unhappy is unhappy
    if not unhappy:
        assert result.complaint is None and Complaint.objects.count() == 0
        return
    case = Complaint.objects.get()
    assert result.complaint == case
    assert (case.channel, case.responsible, case.contact, case.client) == (
        "survey",
        owner,
        contact,
        contact.client,
    )
    assert case.theme.code == "survey-feedback"
    assert case.registered_by is None  # registered by the survey itself
    assert f"Готовность рекомендовать: {nps} из 10." in case.description
    assert "Комментарий: Курьер опоздал" in case.description
    # normal SLA from the answer's instant; the account manager is told (notice + email)
    assert (case.priority, case.registered_at) == ("normal", T0)
    assert Notice.objects.get().recipient == owner
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_a_client_without_account_manager_goes_to_a_manager(make_campaign, manager):
    orphan = ContactFactory(client=ClientFactory(account_manager=None))
    result = answer(invite(make_campaign(), orphan, at=T0), nps=2)
    assert result.complaint.responsible == manager


def test_anonymous_without_consent_opens_no_case_but_is_counted(make_campaign, contact):
    campaign = make_campaign(anonymous=True)
    result = answer(invite(campaign, contact, at=T0), nps=3)
    assert result.unhappy and result.complaint is None
    assert Complaint.objects.count() == 0
    assert anonymous_unhappy(campaign=campaign) == anonymous_unhappy() == 1


def test_anonymous_with_consent_opens_a_case_naming_them(make_campaign, contact, owner):
    campaign = make_campaign(anonymous=True)
    result = answer(invite(campaign, contact, at=T0), nps=3, may_contact=True)
    assert result.may_contact and result.complaint.contact == contact
    assert anonymous_unhappy() == 0


def test_consent_is_ignored_for_a_named_campaign(make_campaign, contact):
    result = answer(invite(make_campaign(), contact, at=T0), nps=9, may_contact=True)
    assert result.may_contact is False


def close_complaint(owner, complaint, at):
    return advance(complaint, owner, ["review", "resolve", "fix_process", "inform", "close"], at)


def test_closed_complaint_sends_a_survey_and_an_unhappy_answer_opens_a_linked_case(
    make_campaign,
    csat_questionnaire,
    contact,
    owner,
    django_capture_on_commit_callbacks,
    time_machine,
):
    followup = make_campaign(
        name="After a complaint", questionnaire=csat_questionnaire, trigger="complaint_closed"
    )
    asked = invite(make_campaign(), contact, at=T0 - timedelta(days=100), expires_at=T0)
    time_machine.move_to(T0 - timedelta(days=99), tick=False)
    first = answer(asked, nps=2)
    time_machine.move_to(T0, tick=False)
    case = first.complaint
    with django_capture_on_commit_callbacks(execute=True):
        case = close_complaint(owner, case, T0 + timedelta(days=1))
    assert case.status == "closed"
    invitation = Invitation.objects.get(campaign=followup)
    assert (invitation.contact, invitation.source_complaint) == (contact, case)
    assert invitation.status == "sent"  # eager: queued, then sent
    assert mail.outbox[-1].to == [contact.email]
    assert mail.outbox[-1].subject.startswith("Оценка покупки")
    second = answer(invitation, nps=8, items={csat_questionnaire.items.first().pk: 2})
    new_case = second.complaint
    assert new_case is not None and new_case != case
    # the chain: new case <- answer <- invitation -> the old case
    assert Answer.objects.get(complaint=new_case).invitation.source_complaint == case
    assert f"Опрос после закрытой жалобы №{case.pk}." in new_case.description


def test_closed_complaint_respects_opt_out_and_quiet_period(
    make_campaign, contact, owner, register_case, django_capture_on_commit_callbacks
):
    followup = make_campaign(trigger="complaint_closed")
    contact.survey_opt_out = True
    contact.save()
    with django_capture_on_commit_callbacks(execute=True):
        close_complaint(owner, register_case(contact), T0 + timedelta(days=1))
    assert not Invitation.objects.filter(campaign=followup).exists()
    contact.survey_opt_out = False
    contact.save()
    invite(make_campaign(), contact, at=T0 - timedelta(days=30))  # asked a month ago
    with django_capture_on_commit_callbacks(execute=True):
        close_complaint(owner, register_case(contact), T0 + timedelta(days=2))
    assert not Invitation.objects.filter(campaign=followup).exists()


@pytest.fixture
def register_case(owner, survey_theme):
    def make(contact):
        return complaints.complaint_register(
            actor=owner,
            client=contact.client,
            contact=contact,
            theme=survey_theme,
            description="Late delivery",
            now=T0,
        )

    return make


def test_first_purchase_in_a_product_line_triggers_once(
    make_campaign, csat_questionnaire, contact, owner, django_capture_on_commit_callbacks
):
    campaign = make_campaign(questionnaire=csat_questionnaire, trigger="first_purchase")
    bought, new_line = ProductFactory(), ProductFactory()
    SettlementFactory(client=contact.client, product=bought, date=date(2026, 1, 10))
    with django_capture_on_commit_callbacks(execute=True):
        settlement_record(
            actor=owner,
            client=contact.client,
            product=bought,
            date=date(2026, 11, 20),
            amount=100,
        )
    assert Invitation.objects.count() == 0  # the line was bought before
    with django_capture_on_commit_callbacks(execute=True):
        settlement_record(
            actor=owner,
            client=contact.client,
            product=new_line,
            date=date(2026, 11, 21),
            amount=100,
        )
    invitation = Invitation.objects.get()
    assert (invitation.campaign, invitation.contact, invitation.status) == (
        campaign,
        contact,
        "sent",
    )


def test_first_purchase_campaign_limited_to_a_line(make_campaign, contact, owner):
    wanted, other = ProductFactory(), ProductFactory()
    make_campaign(trigger="first_purchase", filters={"product_line": [wanted.line_id]})
    new = SettlementFactory(client=contact.client, product=other, date=date(2026, 11, 1))
    assert services.first_purchases_fire(settlement_ids=[new.pk]) == 0
    new = SettlementFactory(client=contact.client, product=wanted, date=date(2026, 11, 2))
    assert services.first_purchases_fire(settlement_ids=[new.pk]) == 1


def test_deal_won_hook_invites_the_primary_contact(make_campaign, own_client, contact):
    primary = ContactFactory(client=own_client, is_primary=True, email="boss@acme.example")
    campaign = make_campaign(trigger="deal_won")
    [invitation] = services.trigger_deal_won(client=own_client)
    assert (invitation.campaign, invitation.contact) == (campaign, primary)
    assert services.trigger_deal_won(client=own_client) == []  # quiet period now
    assert Campaign.objects.get().status == "active"


def test_imported_settlements_fire_the_first_purchase_trigger(
    make_campaign, contact, manager_client
):
    from tests.clients.test_import_views import last_job, upload

    make_campaign(trigger="first_purchase")
    contact.client.inn = "7701234567"
    contact.client.save()
    ProductFactory(code="P-1")
    data = "client_inn,date,amount,product_code\n7701234567,20.11.2026,100,P-1\n"
    upload(manager_client, data, kind="settlements")
    assert last_job().status == "done", last_job().message
    invitation = Invitation.objects.get()
    assert (invitation.contact, invitation.status) == (contact, "sent")


def test_the_survey_theme_is_made_again_if_it_was_deleted(make_campaign, contact, survey_theme):
    survey_theme.delete()
    result = answer(invite(make_campaign(), contact, at=T0), nps=1)
    assert result.complaint.theme.code == "survey-feedback"


def test_first_purchase_survey_asks_the_items_of_that_line_only(
    make_campaign, csat_questionnaire, contact
):
    from django.test import Client as Browser

    from tests.surveys.conftest import tokens_in_outbox

    line, other = ProductFactory().line, ProductFactory().line
    general = csat_questionnaire.items.first()
    mine = csat_questionnaire.items.create(
        text_ru="Упаковка", text_en="Packaging", product_line=line
    )
    csat_questionnaire.items.create(text_ru="Монтаж", text_en="Installation", product_line=other)
    make_campaign(questionnaire=csat_questionnaire, trigger="first_purchase")
    [invitation] = services.trigger_fire(
        trigger="first_purchase", client=contact.client, product_line_id=line.pk
    )
    assert set(invitation.items()) >= {general, mine}
    assert "Installation" not in {i.text_en for i in invitation.items()}
    services.send_batch([invitation.pk])
    html = Browser().get(f"/s/{tokens_in_outbox()[-1]}/").content.decode()
    assert "Упаковка" in html and "Монтаж" not in html
