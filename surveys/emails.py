"""The survey emails: the invitation and the reminder, in the invitation's language.

Templates ``templates/surveys/email/invitation_<lang>.txt`` (ru, en); the first line is the
subject. Every email is signed by the company head (survey settings), says the survey takes 1–2
minutes, says so when the campaign is anonymous, and carries the answer link, an opt-out link
and the ``List-Unsubscribe`` headers (one-click, RFC 8058).
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
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
        self._texts: dict[tuple, tuple[str, str]] = {}

    def _text(self, invitation: Invitation, lang: str) -> tuple[str, str]:
        campaign = invitation.campaign
        contact = invitation.contact
        # a first email's link runs from now (delivery stamps the same on acceptance)
        expires_at = (
            invitation.expires_at
            if self.reminder
            else self.now + timedelta(days=campaign.expiry_days)
        )
        key = (lang, campaign.pk, bool(contact.address_form), expires_at.date())
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

    def build(self, invitation: Invitation, token: str) -> EmailMessage:
        lang = invitation.language if invitation.language in LANGS else "en"
        subject, body = self._text(invitation, lang)
        contact = invitation.contact
        unsubscribe = opt_out_url(token)
        # the links first, the name last: a name that looks like a marker stays as typed
        body = body.replace(_URL, answer_url(token)).replace(_OPT_OUT, unsubscribe)
        name = contact.address_form or contact.full_name
        return EmailMessage(
            subject=subject.replace(_NAME, name),
            body=body.replace(_NAME, name),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[invitation.email],
            connection=self.connection,
            headers={
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Auto-Submitted": "auto-generated",
            },
        )
