"""With a real SMTP server on localhost (aiosmtpd): the delivered invitation's link is opened and
answered; a server failing in the middle of a batch is retried without sending anyone twice; a
refused recipient marks the invitation bounced and the address refused."""

import email
import re
import threading
from email import policy

import pytest
from django.test import Client as Browser

from surveys import tasks
from surveys.models import Answer, EmailBounce, Invitation
from tests.factories import ContactFactory
from tests.surveys.conftest import invite


class Smtp:
    """Accepts everything except: recipients in ``refuse_rcpt`` (550), and the messages whose
    ordinal (1-based, counting attempts) is in ``fail_data`` (451, try again later)."""

    def __init__(self, refuse_rcpt=(), fail_data=()):
        self.refuse_rcpt, self.fail_data = set(refuse_rcpt), set(fail_data)
        self.attempts = 0
        self.accepted: list = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            if self.attempts in self.fail_data:
                return "451 4.3.0 Try again later"
            self.accepted.append(envelope)
        return "250 OK"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.accepted]


@pytest.fixture
def smtp(smtp_server):
    return lambda **kwargs: smtp_server(Smtp(**kwargs))


def test_delivered_link_is_opened_and_answered(smtp, make_campaign, contact, settings):
    server = smtp()
    invitation = invite(make_campaign(), contact)
    assert tasks.send_invitations.apply(args=[[invitation.pk]]).get() == 1
    [message] = server.messages()
    assert message["To"] == "anna@acme.example"
    assert message["List-Unsubscribe"].strip().startswith(f"<{settings.SITE_URL}/s/")
    body = message.get_content()
    link = re.search(rf"{re.escape(settings.SITE_URL)}(/s/[\w-]+/)\r?\n", body).group(1)
    browser = Browser()
    page = browser.get(link)
    assert page.status_code == 200
    assert "Насколько вероятно" in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "opened"
    done = browser.post(link, {"nps": "9", "comment": "Всё отлично"})
    assert done.status_code == 200 and "Спасибо!" in done.content.decode()
    answer = Answer.objects.get()
    assert (answer.invitation_id, answer.nps, answer.comment) == (invitation.pk, 9, "Всё отлично")
    assert browser.get(link).status_code == 200  # the thank-you page again, no new answer
    assert Answer.objects.count() == 1


def test_a_failure_mid_batch_is_retried_and_nobody_gets_two(
    smtp, make_campaign, own_client, retries_run_eagerly
):
    server = smtp(fail_data={3})  # the third message is refused once ("try again later")
    campaign = make_campaign()
    people = [ContactFactory(client=own_client, email=f"p{i}@acme.example") for i in range(5)]
    ids = [invite(campaign, p).pk for p in people]
    result = tasks.send_invitations.apply(args=[ids])
    assert result.successful()
    assert result.get() == 3  # the retry's own count: messages 3, 4, 5
    assert server.attempts == 6  # 2 accepted, 1 refused, then 3 accepted by the retry
    delivered = sorted(rcpt for e in server.accepted for rcpt in e.rcpt_tos)
    assert delivered == sorted(p.email for p in people)  # each exactly once
    assert set(Invitation.objects.values_list("status", flat=True)) == {"sent"}
    # the message delivered again by the broker: nothing more
    assert tasks.send_invitations.apply(args=[ids]).get() == 0
    assert server.attempts == 6


def test_a_refused_recipient_is_bounced_and_the_rest_sent(smtp, make_campaign, own_client):
    server = smtp(refuse_rcpt={"gone@acme.example"})
    campaign = make_campaign()
    gone = invite(campaign, ContactFactory(client=own_client, email="Gone@acme.example"))
    ok = invite(campaign, ContactFactory(client=own_client, email="ok@acme.example"))
    # aiosmtpd sees the address as sent; the refusal list matches it case-insensitively
    server.refuse_rcpt.add("Gone@acme.example")
    assert tasks.send_invitations.apply(args=[[gone.pk, ok.pk]]).get() == 1
    gone.refresh_from_db()
    ok.refresh_from_db()
    assert (gone.status, ok.status) == ("bounced", "sent")
    assert "SMTPRecipientsRefused" in gone.error
    assert EmailBounce.objects.get().email == "gone@acme.example"
    assert [e.rcpt_tos for e in server.accepted] == [["ok@acme.example"]]


def _parsed(data: bytes) -> tuple[dict, str]:
    """Headers (unfolded, but Date and Message-ID) and the body of a message as sent."""
    message = email.message_from_bytes(data, policy=policy.default)
    headers = {
        k: " ".join(str(v).split()) for k, v in message.items() if k not in ("Date", "Message-ID")
    }
    return headers, message.get_content()


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("reminder", [False, True])
@pytest.mark.parametrize("address_form", ["", "Уважаемая Анна Петровна"])
def test_the_wire_form_is_the_built_message(
    make_campaign, own_client, language, reminder, address_form, time_machine
):
    """Over SMTP an email is filled in from bytes built once per kind: the same message Django
    builds for it (headers in another order, the long List-Unsubscribe not folded), with a
    Date and Message-ID of its own."""
    from surveys import emails
    from surveys.selectors import survey_settings

    time_machine.move_to("2026-11-02T10:00:00+03:00", tick=False)
    contact = ContactFactory(
        client=own_client, full_name="Анна Иванова", address_form=address_form, email="a@x.example"
    )
    invitation = invite(make_campaign(), contact, language=language)
    invitation.expires_at = invitation.created_at
    builder = emails.MessageBuilder(reminder=reminder, prefs=survey_settings())
    token = "T" * 43
    sender, recipient, data = builder.wire(invitation, token)
    built = builder.build(invitation, token)
    assert (sender, recipient) == (built.from_email, "a@x.example")
    expected = built.message().as_bytes(linesep="\r\n")
    assert _parsed(data) == _parsed(expected)
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert data.count(b"\r\nMessage-ID: <") == 1 and data.count(b"\r\nDate: ") == 1
    other = builder.wire(invitation, "U" * 43)[2]
    assert re.search(rb"Message-ID: (\S+)", other)[1] != re.search(rb"Message-ID: (\S+)", data)[1]
    assert f"/s/{'U' * 43}/".encode() in other and b"T" * 43 not in other


def test_an_address_the_wire_form_cannot_carry_is_built(make_campaign, own_client):
    from surveys import emails
    from surveys.selectors import survey_settings

    contact = ContactFactory(client=own_client, email="анна@пример.рф")
    invitation = invite(make_campaign(), contact)
    builder = emails.MessageBuilder(reminder=False, prefs=survey_settings())
    assert builder.wire(invitation, "T" * 43) is None
