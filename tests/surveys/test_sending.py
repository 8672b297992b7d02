"""Sending (locmem backend, eager tasks): the email's content in both languages, the hashed
tokens, at most once per invitation under a redelivered task, pacing; reminders (N, D, expiry,
answer, opt-out, bounce) and the expiry sweep with frozen time."""

import hashlib
from datetime import timedelta

import pytest
from django.core import mail

from surveys import services, tasks
from surveys.models import EmailBounce, Invitation, InvitationToken
from tests.factories import ContactFactory
from tests.surveys.conftest import invite, msk, tokens_in_outbox

T0 = msk(2026, 11, 2, 10)


@pytest.fixture
def launch(manager, django_capture_on_commit_callbacks):
    def run(campaign):
        with django_capture_on_commit_callbacks(execute=True):
            return services.campaign_launch(actor=manager, campaign=campaign)

    return run


def test_invitation_email_in_russian(make_campaign, contact, launch, time_machine, settings):
    time_machine.move_to(T0, tick=False)
    assert launch(make_campaign()) == 1
    [message] = mail.outbox
    invitation = Invitation.objects.get()
    [token] = tokens_in_outbox()
    assert message.to == ["anna@acme.example"]
    assert message.subject == "Оценка нашей работы — ваше мнение важно для нас"
    assert "Здравствуйте, Anna Ivanova!" in message.body
    assert "Опрос займёт 1–2 минуты" in message.body
    assert f"{settings.SITE_URL}/s/{token}/\n" in message.body
    assert f"{settings.SITE_URL}/s/{token}/opt-out/" in message.body
    assert message.body.rstrip().endswith(f"по ссылке: {settings.SITE_URL}/s/{token}/opt-out/")
    assert "Ivan Sidorov\nГенеральный директор" in message.body
    assert "Ссылка действует до 16 ноября 2026" in message.body
    assert "анонимный" not in message.body
    assert message.extra_headers["List-Unsubscribe"] == f"<{settings.SITE_URL}/s/{token}/opt-out/>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (invitation.status, invitation.sent_at, invitation.in_flight_since) == ("sent", T0, None)
    assert invitation.expires_at == T0 + timedelta(days=14)


def test_invitation_email_in_english_and_anonymous(make_campaign, own_client, launch):
    ContactFactory(client=own_client, full_name="John Smith", language="en")
    launch(make_campaign(anonymous=True))
    [message] = mail.outbox
    assert message.subject == "How are we doing? — your opinion matters to us"
    assert "Dear John Smith," in message.body
    assert "The survey takes 1–2 minutes" in message.body
    assert "The survey is anonymous: your answers are never shown with your name." in message.body
    assert "Kind regards,\nIvan Sidorov\nChief Executive Officer" in message.body


def test_only_the_hash_of_the_token_is_stored(make_campaign, contact, launch):
    launch(make_campaign())
    [token] = tokens_in_outbox()
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    row = InvitationToken.objects.get()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in InvitationToken.objects.values_list().get()]
    stored += [str(v) for v in Invitation.objects.values_list().get()]
    assert not any(token in value for value in stored)


def test_a_redelivered_task_sends_nothing_twice(make_campaign, own_client, launch):
    for i in range(3):
        ContactFactory(client=own_client, full_name=f"c{i}")
    launch(make_campaign())
    assert len(mail.outbox) == 3
    ids = list(Invitation.objects.values_list("id", flat=True))
    # the broker delivers the same message again, and once more in flight
    assert tasks.send_invitations.apply(args=[ids]).get() == 0
    Invitation.objects.filter(pk=ids[0]).update(status="queued", in_flight_since=T0)
    assert tasks.send_invitations.apply(args=[ids]).get() == 0  # claimed by another: skipped
    assert len(mail.outbox) == 3


def test_pacing_follows_the_rate_setting(make_campaign, own_client, prefs):
    prefs.send_rate_per_minute = 120  # one every 0.5 s
    prefs.save()
    for _i in range(3):
        invite(make_campaign(), ContactFactory(client=own_client))
    waits = []
    services.send_batch(list(Invitation.objects.values_list("id", flat=True)), sleep=waits.append)
    assert len(waits) == 3 and waits[0] == 0
    assert waits[1] == pytest.approx(0.5, abs=0.2) and waits[2] == pytest.approx(1.0, abs=0.2)


# --- reminders and expiry -------------------------------------------------------------------
@pytest.fixture
def sent_invitation(make_campaign, contact, time_machine):
    """One invitation sent at T0 (Monday 2 November, 10:00)."""

    def make(**campaign_fields):
        time_machine.move_to(T0, tick=False)
        invitation = invite(make_campaign(**campaign_fields), contact, at=T0)
        assert services.send_batch([invitation.pk]) == 1
        mail.outbox.clear()
        invitation.refresh_from_db()
        return invitation

    return make


@pytest.fixture
def remind_at(time_machine, django_capture_on_commit_callbacks):
    """Run the beat's reminder task at ``when``; the emails sent so far."""

    def run(_tm, when) -> int:
        time_machine.move_to(when, tick=False)
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_reminders.apply()
        return len(mail.outbox)

    return run


def test_one_reminder_after_three_days_by_default(sent_invitation, time_machine, remind_at):
    invitation = sent_invitation()
    assert remind_at(time_machine, T0 + timedelta(days=3) - timedelta(minutes=1)) == 0
    assert remind_at(time_machine, T0 + timedelta(days=3)) == 1
    assert mail.outbox[0].subject.startswith("Напоминание: ")
    assert "Несколько дней назад" in mail.outbox[0].body
    invitation.refresh_from_db()
    assert (invitation.reminders_sent, invitation.last_reminder_at) == (1, T0 + timedelta(days=3))
    assert remind_at(time_machine, T0 + timedelta(days=10)) == 1  # N = 1: no second one
    # the reminder's link works as well as the first one's
    assert InvitationToken.objects.filter(invitation=invitation).count() == 2


def test_n_reminders_at_least_d_days_apart(sent_invitation, time_machine, remind_at):
    sent_invitation(reminders_max=2, reminder_gap_days=4)
    assert remind_at(time_machine, T0 + timedelta(days=4)) == 1
    assert remind_at(time_machine, T0 + timedelta(days=7)) == 1  # 3 days after: too early
    assert remind_at(time_machine, T0 + timedelta(days=8)) == 2
    assert remind_at(time_machine, T0 + timedelta(days=13)) == 2  # N reached


def test_no_reminder_after_expiry_and_the_sweep_expires(sent_invitation, time_machine, remind_at):
    invitation = sent_invitation(expiry_days=5, reminder_gap_days=5)
    assert remind_at(time_machine, T0 + timedelta(days=5)) == 0  # expires at that instant
    assert tasks.expire_invitations.apply().get() == 1
    invitation.refresh_from_db()
    assert (invitation.status, invitation.closed_at) == ("expired", T0 + timedelta(days=5))


def test_no_reminder_after_answer_opt_out_or_bounce(
    sent_invitation, contact, time_machine, remind_at
):
    invitation = sent_invitation()
    Invitation.objects.filter(pk=invitation.pk).update(status="answered")
    assert remind_at(time_machine, T0 + timedelta(days=3)) == 0
    Invitation.objects.filter(pk=invitation.pk).update(status="opened")
    contact.survey_opt_out = True
    contact.save()
    assert remind_at(time_machine, T0 + timedelta(days=3)) == 0
    contact.survey_opt_out = False
    contact.save()
    EmailBounce.objects.create(email=contact.email, bounced_at=T0)
    assert remind_at(time_machine, T0 + timedelta(days=3)) == 0
    EmailBounce.objects.all().delete()
    assert remind_at(time_machine, T0 + timedelta(days=3)) == 1  # opened, otherwise due


def test_an_opened_invitation_is_reminded_and_still_expires(
    sent_invitation, time_machine, remind_at
):
    invitation = sent_invitation()
    services.invitation_open(invitation=invitation, now=T0 + timedelta(hours=1))
    assert remind_at(time_machine, T0 + timedelta(days=3)) == 1
    time_machine.move_to(T0 + timedelta(days=14), tick=False)
    assert services.expire_invitations() == 1


def test_recurring_campaign_is_launched_when_due(make_campaign, contact, time_machine):
    from datetime import date

    time_machine.move_to(msk(2026, 12, 1, 6), tick=False)
    campaign = make_campaign(recur_months=3, status="active", next_run_on=date(2026, 12, 1))
    make_campaign(name="later", recur_months=3, status="active", next_run_on=date(2026, 12, 2))
    assert tasks.run_due_campaigns.apply().get() == 1
    campaign.refresh_from_db()
    assert campaign.next_run_on == date(2027, 3, 1)
    assert Invitation.objects.get().campaign == campaign
    assert tasks.run_due_campaigns.apply().get() == 0


def test_the_sweep_leaves_a_row_a_live_sender_holds(make_campaign, contact, time_machine):
    time_machine.move_to(T0, tick=False)
    invitation = invite(make_campaign(expiry_days=1), contact, at=T0)
    later = T0 + timedelta(days=2)
    Invitation.objects.filter(pk=invitation.pk).update(in_flight_since=later - timedelta(minutes=5))
    assert services.expire_invitations(now=later) == 0
    assert services.expire_invitations(now=later + timedelta(hours=1)) == 1


def test_campaign_progress_and_response_rate(make_campaign, own_client):
    from surveys.selectors import campaign_progress

    campaign = make_campaign()
    statuses = ["queued", "sent", "sent", "opened", "answered", "expired", "bounced"]
    for status in statuses:
        invite(campaign, ContactFactory(client=own_client), status=status)
    progress = campaign_progress(campaign)
    assert progress["total"] == 7
    assert (progress["counts"]["sent"], progress["counts"]["opted_out"]) == (2, 0)
    # answered 1 of delivered 5 (2 sent, 1 opened, 1 answered, 1 expired) = 20.0 %
    assert str(progress["response_rate"]) == "20.0"
    assert campaign_progress(make_campaign(name="empty"))["response_rate"] is None
