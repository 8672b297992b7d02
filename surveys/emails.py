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

from surveys.models import Invitation, SurveySettings

LANGS = {code for code, _name in settings.LANGUAGES}


def answer_url(token: str) -> str:
    return settings.SITE_URL + reverse("surveys:answer", kwargs={"token": token})


def opt_out_url(token: str) -> str:
    return settings.SITE_URL + reverse("surveys:opt_out", kwargs={"token": token})


def build_message(
    invitation: Invitation,
    token: str,
    *,
    reminder: bool,
    prefs: SurveySettings,
    connection=None,
) -> EmailMessage:
    lang = invitation.language if invitation.language in LANGS else "en"
    campaign = invitation.campaign
    # a first email's link runs from now (delivery stamps the same on acceptance)
    expires_at = (
        invitation.expires_at if reminder else timezone.now() + timedelta(days=campaign.expiry_days)
    )
    with translation.override(lang):
        text = render_to_string(
            f"surveys/email/invitation_{lang}.txt",
            {
                "contact": invitation.contact,
                "questionnaire": campaign.questionnaire,
                "title": campaign.questionnaire.text("title"),
                "anonymous": campaign.anonymous,
                "reminder": reminder,
                "url": answer_url(token),
                "opt_out_url": opt_out_url(token),
                "expires_at": expires_at,
                "head_name": prefs.company_head_name,
                "head_title": prefs.company_head_title_ru
                if lang == "ru"
                else prefs.company_head_title_en,
            },
        )
    subject, _sep, body = text.lstrip().partition("\n")
    unsubscribe = opt_out_url(token)
    return EmailMessage(
        subject=subject.strip(),
        body=body.strip() + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
