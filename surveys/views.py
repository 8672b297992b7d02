"""The respondent's pages (no login; the token in the URL is the only key).

- unknown or tampered token: 404 "this link is not valid";
- expired, or the contact opted out: 410 with a clear page;
- already answered: 200, the thank-you page;
- else the form; opening it marks the invitation opened.

The page is in the invitation's language, switchable with ``?lang=``; it shows no staff data
(no account manager, no navigation, no admin links) and is never cached or indexed.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.forms import add_service_errors
from surveys import selectors, services
from surveys.forms import AnswerForm

LANGS = [code for code, _name in settings.LANGUAGES]
STATUS = {
    services.AnswerState.ANSWERED: 200,
    services.AnswerState.EXPIRED: 410,
    services.AnswerState.OPTED_OUT: 410,
}


def _language(request, invitation=None) -> str:
    asked = (request.POST.get("lang") or request.GET.get("lang") or "")[:2]
    if asked in LANGS:
        return asked
    if invitation is not None and invitation.language in LANGS:
        return invitation.language
    return (getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE)[:2]


def _page(request, template: str, context: dict, lang: str, status: int = 200):
    context = {"lang": lang, "languages": LANGS, **context}
    with translation.override(lang):
        response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Language"] = lang
    return response


@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    invitation = selectors.invitation_for_token(token)
    lang = _language(request, invitation)
    if invitation is None:
        return _page(request, "surveys/link_invalid.html", {}, lang, status=404)
    state = services.answer_state(invitation)
    if state != services.AnswerState.OPEN:
        return _page(request, f"surveys/link_{state}.html", {}, lang, status=STATUS[state])
    campaign = invitation.campaign
    with translation.override(lang):
        form = AnswerForm(
            request.POST if request.method == "POST" else None,
            questionnaire=campaign.questionnaire,
            items=invitation.items(),
            anonymous=campaign.anonymous,
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.answer_submit(invitation=invitation, data=form.service_data())
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _page(request, "surveys/link_answered.html", {"fresh": True}, lang)
    if request.method == "GET":
        services.invitation_open(invitation=invitation)
    context = {
        "form": form,
        "questionnaire": campaign.questionnaire,
        "anonymous": campaign.anonymous,
        "token": token,
    }
    status = 400 if request.method == "POST" else 200
    return _page(request, "surveys/answer.html", context, lang, status=status)


@csrf_exempt  # the token is the key; mail clients' one-click unsubscribe POSTs without a form
@require_http_methods(["GET", "POST"])
def opt_out(request, token: str):
    invitation = selectors.invitation_for_token(token)
    lang = _language(request, invitation)
    if invitation is None:
        return _page(request, "surveys/link_invalid.html", {}, lang, status=404)
    if request.method == "POST":
        services.contact_opt_out(invitation=invitation)
        return _page(request, "surveys/opt_out.html", {"done": True}, lang)
    done = invitation.contact.survey_opt_out
    return _page(request, "surveys/opt_out.html", {"done": done, "token": token}, lang)
