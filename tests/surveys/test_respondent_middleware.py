"""The respondent's pages skip the staff middleware (surveys.middleware) and still get every
security header, the host check, the request's language and no cookie."""

import pytest
from django.test import Client as Browser

from surveys.models import Invitation
from tests.surveys.test_answer_page import link, page  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_headers_of_the_answer_page_and_no_cookie(link, manager):  # noqa: F811
    _inv, url, _mail = link()
    browser = Browser()
    browser.force_login(manager)  # a staff session in the same browser changes nothing
    browser.cookies["csrftoken"] = "x" * 32
    for response in (browser.get(url), browser.get("/s/not-a-token/")):
        assert response["X-Frame-Options"] == "DENY"
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cache-Control"] == "no-store"
        assert int(response["Content-Length"]) == len(response.content)
        assert "Accept-Language" in response["Vary"]
        assert not response.cookies  # no session, CSRF or language cookie is set or renewed
        assert manager.username not in page(response)


def test_a_host_not_allowed_is_refused_and_nothing_changes(link):  # noqa: F811
    invitation, url, _mail = link()
    response = Browser(HTTP_HOST="evil.example").get(url)
    assert response.status_code == 400
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.SENT


def test_the_language_of_a_bad_link_comes_from_the_browser():
    english = Browser(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").get("/s/not-a-token/")
    russian = Browser(HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").get("/s/not-a-token/")
    assert english.status_code == russian.status_code == 404
    assert english["Content-Language"] == "en" and 'lang="en"' in page(english)
    assert russian["Content-Language"] == "ru" and 'lang="ru"' in page(russian)


def test_other_paths_go_through_the_whole_chain(client):
    assert client.get("/s/not-a-token").status_code == 301  # APPEND_SLASH, as before
    response = client.get("/accounts/login/")
    assert response.status_code == 200 and "csrftoken" in response.cookies
