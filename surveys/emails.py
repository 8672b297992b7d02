"""The survey emails: the invitation and the reminder, in the invitation's language.

Templates ``templates/surveys/email/invitation_<lang>.txt`` (ru, en); the first line is the
subject. Every email is signed by the company head (survey settings), says the survey takes 1–2
minutes, says so when the campaign is anonymous, and carries the answer link, an opt-out link
and the ``List-Unsubscribe`` headers (one-click, RFC 8058).
"""

from datetime import timedelta
from email.utils import formatdate, make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.message import DNS_NAME, sanitize_address
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from feedback.emails import LANGS
from surveys.models import Invitation, SurveySettings


def answer_url(token: str) -> str:
    return settings.SITE_URL + reverse("surveys:answer", kwargs={"token": token})


def opt_out_url(token: str) -> str:
    return settings.SITE_URL + reverse("surveys:opt_out", kwargs={"token": token})


# Markers the text is rendered with once per kind of email, then replaced per invitation.
_URL, _OPT_OUT, _NAME = "\x00url\x00", "\x00opt-out\x00", "\x00name\x00"
# and in the wire form of a whole message (``MessageBuilder.wire``)
_TO, _DATE, _ID = "\x00to\x00", "\x00date\x00", "\x00message-id\x00"


class _Marked:
    """A contact stand-in whose name fields are markers (the template's greeting)."""

    def __init__(self, address_form: bool):
        self.address_form = _NAME if address_form else ""
        self.full_name = _NAME


class MessageBuilder:
    """Builds the emails of one batch. The text is rendered once per language, campaign,
    greeting form and expiry date, with markers in place of the link, the opt-out link and the
    contact's name, which each email then fills in: a template render per email cost more than
    the SMTP exchange itself (docs/benchmarks.md, "Survey delivery")."""

    def __init__(self, *, reminder: bool, prefs: SurveySettings, connection=None):
        self.reminder, self.prefs, self.connection = reminder, prefs, connection
        self.now = timezone.now()
        self._texts: dict[tuple, Any] = {}  # (subject, body), or the wire template

    def _expires_at(self, invitation: Invitation):
        # a first email's link runs from now (delivery stamps the same on acceptance)
        if self.reminder:
            return invitation.expires_at
        return self.now + timedelta(days=invitation.campaign.expiry_days)

    def _key(self, invitation: Invitation) -> tuple:
        contact = invitation.contact
        expires_at = self._expires_at(invitation)
        return (invitation.campaign_id, bool(contact.address_form), expires_at.date())

    def _text(self, invitation: Invitation, lang: str) -> tuple[str, str]:
        campaign = invitation.campaign
        contact = invitation.contact
        expires_at = self._expires_at(invitation)
        key = (lang, *self._key(invitation))
        if key not in self._texts:
            prefs = self.prefs
            with translation.override(lang):
                text = render_to_string(
                    f"surveys/email/invitation_{lang}.txt",
                    {
                        "contact": _Marked(bool(contact.address_form)),
                        "questionnaire": campaign.questionnaire,
                        "title": campaign.questionnaire.text("title"),
                        "anonymous": campaign.anonymous,
                        "reminder": self.reminder,
                        "url": _URL,
                        "opt_out_url": _OPT_OUT,
                        "expires_at": expires_at,
                        "head_name": prefs.company_head_name,
                        "head_title": prefs.company_head_title_ru
                        if lang == "ru"
                        else prefs.company_head_title_en,
                    },
                )
            subject, _sep, body = text.lstrip().partition("\n")
            self._texts[key] = (subject.strip(), body.strip() + "\n")
        return self._texts[key]

    def _message(self, subject: str, body: str, to: str, unsubscribe: str, **headers):
        return EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
            connection=self.connection,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
                **headers,
            },
        )

    def build(self, invitation: Invitation, token: str) -> EmailMessage:
        lang = invitation.language if invitation.language in LANGS else "en"
        subject, body = self._text(invitation, lang)
        contact = invitation.contact
        unsubscribe = opt_out_url(token)
        # the links first, the name last: a name that looks like a marker stays as typed
        body = body.replace(_URL, answer_url(token)).replace(_OPT_OUT, unsubscribe)
        name = contact.address_form or contact.full_name
        return self._message(
            subject.replace(_NAME, name), body.replace(_NAME, name), invitation.email, unsubscribe
        )

    def wire(self, invitation: Invitation, token: str) -> tuple[str, str, bytes] | None:
        """(sender, recipient, the message as sent over SMTP) of ``invitation``, or None when
        ``build`` must be used. Django's MIME building cost about 1 ms an email, more than the
        SMTP exchange: the message is built once per kind (``_text``'s key) with markers, as
        bytes, and each email replaces the markers — the body is 8-bit UTF-8 and the markers'
        headers are plain, so the bytes are those ``build`` would give, but for the Date and
        Message-ID, made anew for each email all the same."""
        lang = invitation.language if invitation.language in LANGS else "en"
        if not invitation.email.isascii() or "\n" in invitation.email or "\r" in invitation.email:
            return None
        key = ("wire", lang, *self._key(invitation))
        if key not in self._texts:
            subject, body = self._text(invitation, lang)
            template = None
            if _NAME not in subject:
                message = self._message(
                    subject, body, _TO, _OPT_OUT, **{"Date": _DATE, "Message-ID": _ID}
                )
                data = message.message().as_bytes(linesep="\r\n")
                markers = (_URL, _OPT_OUT, _NAME, _TO, _DATE, _ID)
                if all(m.encode() in data for m in markers if m != _NAME or _NAME in body):
                    template = data
            self._texts[key] = template
        template = self._texts[key]
        if template is None:
            return None
        contact = invitation.contact
        name = (contact.address_form or contact.full_name).replace("\r", " ").replace("\n", " ")
        data = (
            template.replace(_URL.encode(), answer_url(token).encode())
            .replace(_OPT_OUT.encode(), opt_out_url(token).encode())
            .replace(_TO.encode(), invitation.email.encode())
            .replace(_DATE.encode(), formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode())
            .replace(_ID.encode(), make_msgid(domain=DNS_NAME).encode())
            .replace(_NAME.encode(), name.encode("utf-8"))
        )
        sender = sanitize_address(settings.DEFAULT_FROM_EMAIL, settings.DEFAULT_CHARSET)
        return sender, invitation.email, data
