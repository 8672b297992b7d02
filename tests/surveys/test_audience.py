"""Who a campaign invites: its filters, then the throttle (email, opt-out, refused address,
quiet period per ABC class), the yearly relationship rule; the launch itself."""

from datetime import timedelta

import pytest

from crm.models import OutboxMessage
from surveys import services
from surveys.models import EmailBounce, Invitation
from surveys.selectors import audience
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ProductFactory,
    SettlementFactory,
    TargetSegmentFactory,
    UserFactory,
)
from tests.surveys.conftest import invite, msk

NOW = msk(2026, 11, 30, 12)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def names(campaign) -> list[str]:
    return sorted(c.full_name for c in audience(campaign, now=NOW))


def test_filters_abc_xyz_lifecycle_segment_manager_product(make_campaign, owner, outsider):
    seg = TargetSegmentFactory(name="Retail")
    product = ProductFactory()
    a = ClientFactory(abc_class="A", xyz_class="X", lifecycle="regular", account_manager=owner)
    a.target_segment = seg
    a.save()
    b = ClientFactory(abc_class="B", xyz_class="Z", lifecycle="new", account_manager=outsider)
    none = ClientFactory()  # no classes yet
    ContactFactory(client=a, full_name="a1")
    ContactFactory(client=b, full_name="b1")
    ContactFactory(client=none, full_name="n1")
    SettlementFactory(client=b, product=product)
    cases = {
        "abc": (["A"], ["a1"]),
        "xyz": (["Z", "none"], ["b1", "n1"]),
        "lifecycle": (["new"], ["b1"]),
        "segment": ([seg.pk], ["a1"]),
        "account_manager": ([outsider.pk], ["b1"]),
        "product_line": ([product.line_id], ["b1"]),
    }
    assert names(make_campaign()) == ["a1", "b1", "n1"]
    for key, (value, expected) in cases.items():
        assert names(make_campaign(filters={key: value})) == expected, key


def test_throttle_exclusions(make_campaign, own_client):
    campaign = make_campaign()
    ContactFactory(client=own_client, full_name="ok")
    ContactFactory(client=own_client, full_name="no email", email="")
    ContactFactory(client=own_client, full_name="opted out", survey_opt_out=True)
    ContactFactory(client=own_client, full_name="bounced", email="Gone@Example.com")
    EmailBounce.objects.create(email="gone@example.com", bounced_at=NOW)
    assert names(campaign) == ["ok"]


@pytest.mark.parametrize(
    ("abc", "days_ago", "invited"),
    [
        (None, 89, False),  # default quiet period 90 days
        (None, 91, True),
        ("B", 89, False),
        ("A", 59, False),  # class A: 60 days (settings override)
        ("A", 61, True),
    ],
)
def test_quiet_period_per_class(make_campaign, abc, days_ago, invited):
    client = ClientFactory(abc_class=abc) if abc else ClientFactory()
    person = ContactFactory(client=client, full_name="p")
    earlier = make_campaign(name="earlier")
    invite(earlier, person, at=NOW - timedelta(days=days_ago))
    assert names(make_campaign()) == (["p"] if invited else [])


def test_quiet_period_counts_any_earlier_invitation_of_the_contact(make_campaign, contact):
    # answered, expired or still queued: the contact was asked
    for status in ("answered", "expired", "queued"):
        Invitation.objects.all().delete()
        invite(make_campaign(), contact, at=NOW - timedelta(days=10), status=status)
        assert names(make_campaign()) == [], status


def test_relationship_yearly_rule_and_order(make_campaign, prefs):
    fresh = ContactFactory(client=ClientFactory(name="never"), full_name="never surveyed")
    old = ContactFactory(client=ClientFactory(name="old"), full_name="surveyed 13 months ago")
    recent = ContactFactory(client=ClientFactory(name="recent"), full_name="colleague asked")
    invite(make_campaign(), old, at=NOW - timedelta(days=400))
    other = ContactFactory(client=recent.client, full_name="other")
    invite(make_campaign(), other, at=NOW - timedelta(days=200))
    yearly = make_campaign(filters={"not_surveyed_months": 12})
    assert [c.full_name for c in audience(yearly, now=NOW)] == [fresh.full_name, old.full_name]
    # without the rule the recently surveyed client comes last (both its contacts: the one
    # asked 200 days ago is past the 90-day quiet period)
    every = [c.full_name for c in audience(make_campaign(), now=NOW)]
    assert every == [fresh.full_name, old.full_name, recent.full_name, other.full_name]


def test_launch_creates_one_invitation_per_contact_and_queues_sending(
    make_campaign, manager, own_client, django_capture_on_commit_callbacks
):
    people = [ContactFactory(client=own_client, full_name=f"c{i}") for i in range(3)]
    ContactFactory(client=own_client, full_name="no email", email="")
    campaign = make_campaign(recur_months=3)
    with django_capture_on_commit_callbacks(execute=False):
        assert services.campaign_launch(actor=manager, campaign=campaign) == 3
    rows = Invitation.objects.filter(campaign=campaign)
    assert sorted(r.contact_id for r in rows) == sorted(p.pk for p in people)
    assert {r.status for r in rows} == {"queued"}
    assert {r.expires_at for r in rows} == {NOW + timedelta(days=14)}
    message = OutboxMessage.objects.get()
    assert message.task == "surveys.send_invitations"
    assert sorted(message.args[0]) == sorted(r.pk for r in rows)
    campaign.refresh_from_db()
    assert (campaign.status, str(campaign.next_run_on)) == ("active", "2027-02-28")
    # launched again at once: everyone is in the quiet period now
    with django_capture_on_commit_callbacks(execute=False):
        assert services.campaign_launch(actor=manager, campaign=campaign) == 0


def test_language_is_the_contacts_then_the_managers_then_the_sites(
    make_campaign, own_client, owner, settings
):
    from surveys.selectors import language_for

    person = ContactFactory(client=own_client, language="en")
    assert language_for(person) == "en"
    person.language = ""
    owner.language = "en"
    owner.save()
    person.client.account_manager = owner
    assert language_for(person) == "en"
    owner.language = ""
    assert language_for(person) == settings.LANGUAGE_CODE[:2] == "ru"
    assert UserFactory  # the factory module is the one the other tests use
