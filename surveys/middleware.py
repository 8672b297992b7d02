"""The respondent's pages skip the staff pages' middleware.

``/s/<token>/`` and ``/s/<token>/opt-out/`` need no session, user, messages, CSRF check or login
lockout: the token in the path is the only key and the pages set no cookie
(docs/decisions/surveys.md, "The answer page"). Those middleware cost about half of a
respondent's request, so this one — placed after the security, static-file, frame and CSP
middleware, whose checks and headers still apply — answers these two paths itself and leaves
every other path to the rest of the chain. It does what the skipped ones did that these pages
need: the Host header is checked against ``ALLOWED_HOSTS`` (as ``CommonMiddleware`` does), the
language is read from the request (as ``LocaleMiddleware`` does, for a link without a valid
token) and the response gets its length.
"""

from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from surveys import views

PAGES = {"surveys:answer": views.answer, "surveys:opt_out": views.opt_out}


class RespondentPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._prefix: str | None = None

    def prefix(self) -> str:
        """Where the respondent's pages are mounted (``/s/``), read from the URLconf once."""
        if self._prefix is None:
            self._prefix = reverse("surveys:answer", args=["-"]).removesuffix("-/")
        return self._prefix

    def __call__(self, request):
        if not request.path_info.startswith(self.prefix()):
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        view = PAGES.get(match.view_name)
        if view is None:
            return self.get_response(request)
        request.get_host()  # DisallowedHost (400) unless the host is allowed
        request.resolver_match = match
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = view(request, *match.args, **match.kwargs)
        patch_vary_headers(response, ("Accept-Language",))
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response
