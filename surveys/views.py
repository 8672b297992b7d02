"""The respondent's pages (no login; the token in the URL is the only key).

- unknown or tampered token: 404 "this link is not valid";
- expired, or the contact opted out: 410 with a clear page;
- already answered: 200, the thank-you page;
- else the form; opening it marks the invitation opened.

The page is in the invitation's language, switchable with ``?lang=``; it shows no staff data
(no account manager, no navigation, no admin links) and is never cached by browsers or indexed.

Speed (docs/decisions/surveys.md, "Answer page"): the link is the only key, so the form carries
no CSRF token (there is no cookie-borne authority to forge: whoever can post to the URL holds
the token anyway). The blank form's HTML is the same for every invitation of a questionnaire
version, language and anonymity, so this process keeps it for a minute (``_PAGES``): a GET
costs one statement, the token lookup that also marks a sent invitation opened (two on
SQLite).
"""

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.template.loader import render_to_string
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


PAGE_SECONDS = 60  # a blank form is kept this long (the staff list of "best employee" in it)
_PAGES: dict[tuple, tuple[float, str]] = {}


def forget_pages() -> None:
    """Drop the kept pages and items of this process (tests: each starts from a new database)."""
    _PAGES.clear()
    selectors.forget_items()


def _headers(response: HttpResponse, lang: str) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Content-Language"] = lang
    return response


def _page(request, template: str, context: dict, lang: str, status: int = 200):
    # no request context: these pages read no user, session or messages (and skip that
    # middleware, surveys.middleware)
    context = {"lang": lang, "languages": LANGS, **context}
    with translation.override(lang):
        response = HttpResponse(render_to_string(template, context), status=status)
    return _headers(response, lang)


def _kept_page(key: tuple, build) -> str:
    """The HTML of ``key`` made by ``build()``, kept in this process for PAGE_SECONDS."""
    now = time.monotonic()
    kept = _PAGES.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    if len(_PAGES) > 512:
        _PAGES.clear()
    html = build()
    _PAGES[key] = (now + PAGE_SECONDS, html)
    return html


def _static_page(request, template: str, lang: str, status: int, **context):
    """A page that depends on nothing but its language (invalid, expired, thank you)."""
    key = (template, lang, tuple(sorted(context.items())))

    def build() -> str:
        with translation.override(lang):
            return render_to_string(template, {"lang": lang, "languages": LANGS, **context})

    html = _kept_page(key, build)
    return _headers(HttpResponse(html, status=status), lang)


def _blank_form(invitation, items, lang: str) -> str:
    campaign = invitation.campaign
    questionnaire = campaign.questionnaire
    key = (
        "form",
        questionnaire.pk,
        questionnaire.updated_at,
        invitation.product_line_id,
        campaign.anonymous,
        lang,
    )

    def build() -> str:
        with translation.override(lang):
            form = AnswerForm(
                questionnaire=questionnaire, items=items, anonymous=campaign.anonymous
            )
            context = {
                "lang": lang,
                "languages": LANGS,
                "form": form,
                "questionnaire": questionnaire,
                "anonymous": campaign.anonymous,
            }
            return render_to_string("surveys/answer.html", context)

    return _kept_page(key, build)


@csrf_exempt  # the token in the path is the key; no cookie carries authority here
@require_http_methods(["GET", "POST"])
def answer(request, token: str):
    if request.method == "GET":  # the read marks a sent invitation opened (one statement)
        invitation = services.invitation_open_by_token(token)
    else:
        invitation = selectors.invitation_for_token(token)
    lang = _language(request, invitation)
    if invitation is None:
        return _static_page(request, "surveys/link_invalid.html", lang, 404)
    state = services.answer_state(invitation)
    if state != services.AnswerState.OPEN:
        return _static_page(request, f"surveys/link_{state}.html", lang, STATUS[state])
    items = selectors.invitation_items(invitation)
    if request.method == "GET":
        return _headers(HttpResponse(_blank_form(invitation, items, lang)), lang)
    campaign = invitation.campaign
    questionnaire = campaign.questionnaire
    with translation.override(lang):
        # the service checks every value; the form is built only to show what it refused
        data = AnswerForm.posted(
            request.POST, questionnaire=questionnaire, items=items, anonymous=campaign.anonymous
        )
        try:
            services.answer_submit(invitation=invitation, data=data, items=items)
        except ValidationError as exc:
            form = AnswerForm(
                request.POST, questionnaire=questionnaire, items=items, anonymous=campaign.anonymous
            )
            if form.is_valid():  # the form's own messages first, as a page shows them
                add_service_errors(form, exc)
        else:
            return _static_page(request, "surveys/link_answered.html", lang, 200, fresh=True)
    context = {
        "form": form,
        "questionnaire": campaign.questionnaire,
        "anonymous": campaign.anonymous,
    }
    return _page(request, "surveys/answer.html", context, lang, status=400)


@csrf_exempt  # the token is the key; mail clients' one-click unsubscribe POSTs without a form
@require_http_methods(["GET", "POST"])
def opt_out(request, token: str):
    invitation = selectors.invitation_for_token(token)
    lang = _language(request, invitation)
    if invitation is None:
        return _static_page(request, "surveys/link_invalid.html", lang, 404)
    if request.method == "POST":
        services.contact_opt_out(invitation=invitation)
        return _page(request, "surveys/opt_out.html", {"done": True}, lang)
    done = invitation.contact.survey_opt_out
    return _page(request, "surveys/opt_out.html", {"done": done, "token": token}, lang)
