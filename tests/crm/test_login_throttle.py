"""Login throttling (django-axes): by user name and by address, on the web login, the admin
login and the API token endpoint, with a clear message in both languages and a cool-off."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client as DjangoClient
from django.utils import timezone

from tests.factories import UserFactory

PASSWORD = "secret-pass-123"
LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def am(db):
    return UserFactory(username="am1", is_staff=True)


def web_login(http, username, password, address="10.0.0.1", **extra):
    return http.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def fail_many(http, username, address="10.0.0.1", times=LIMIT):
    for _ in range(times):
        response = web_login(http, username, "wrong-password", address)
        assert response.status_code in (200, 429)
    return response


def test_the_limit_is_ten_failures_for_fifteen_minutes():
    assert (settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME * 60) == (10, 15)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def test_right_password_works_before_the_limit(am):
    http = DjangoClient()
    fail_many(http, "am1", times=LIMIT - 1)
    response = web_login(http, "am1", PASSWORD)
    assert response.status_code == 302
    assert response.url == "/"


def test_after_the_limit_the_right_password_is_refused_with_the_message(am):
    http = DjangoClient()
    last = fail_many(http, "am1")
    assert last.status_code == 429  # the limit-th failure already locks
    response = web_login(http, "am1", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    html = response.content.decode()
    assert "Too many failed login attempts. Try again in 15 minutes." in html
    assert "_auth_user_id" not in http.session
    # the same page in Russian
    http.cookies["django_language"] = "ru"
    response = web_login(http, "am1", PASSWORD)
    assert response.status_code == 429
    assert "Слишком много неудачных попыток входа. Попробуйте снова через 15 минут." in (
        response.content.decode()
    )


def test_locked_user_is_refused_from_another_address_too(am):
    fail_many(DjangoClient(), "am1", address="10.0.0.1")
    response = web_login(DjangoClient(), "am1", PASSWORD, address="10.9.9.9")
    assert response.status_code == 429


def test_another_user_from_another_address_is_unaffected(am):
    UserFactory(username="am2")
    fail_many(DjangoClient(), "am1", address="10.0.0.1")
    response = web_login(DjangoClient(), "am2", PASSWORD, address="10.0.0.2")
    assert response.status_code == 302


def test_an_address_trying_many_users_is_locked_for_every_user(am):
    UserFactory(username="am2")
    http = DjangoClient()
    for n in range(LIMIT):
        web_login(http, f"nobody{n}", "wrong-password", address="10.6.6.6")
    assert web_login(DjangoClient(), "am2", PASSWORD, address="10.6.6.6").status_code == 429
    assert web_login(DjangoClient(), "am2", PASSWORD, address="10.0.0.2").status_code == 302


def test_after_the_cool_off_the_right_password_works(am):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail_many(DjangoClient(), "am1")
        assert web_login(DjangoClient(), "am1", PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert web_login(DjangoClient(), "am1", PASSWORD).status_code == 302


def test_admin_login_is_throttled(am):
    http = DjangoClient()
    for _ in range(LIMIT):
        http.post(
            "/admin/login/?next=/admin/",
            {"username": "am1", "password": "wrong-password"},
            REMOTE_ADDR="10.0.0.1",
        )
    response = http.post(
        "/admin/login/?next=/admin/",
        {"username": "am1", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in http.session


def test_token_endpoint_is_throttled_with_a_json_message(am):
    http = DjangoClient()
    for _ in range(LIMIT - 1):
        r = http.post(
            "/api/auth/token/", {"username": "am1", "password": "x"}, REMOTE_ADDR="10.0.0.1"
        )
        assert r.status_code == 400
    # the limit-th failure is answered with the lockout
    r = http.post("/api/auth/token/", {"username": "am1", "password": "x"}, REMOTE_ADDR="10.0.0.1")
    assert r.status_code == 429
    response = http.post(
        "/api/auth/token/",
        {"username": "am1", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many failed login attempts. Try again in 15 minutes."}
    assert "token" not in response.json()


def test_failures_on_the_token_endpoint_lock_the_web_login_too(am):
    http = DjangoClient()
    for _ in range(LIMIT):
        http.post("/api/auth/token/", {"username": "am1", "password": "x"}, REMOTE_ADDR="10.0.0.1")
    assert web_login(DjangoClient(), "am1", PASSWORD, address="10.0.0.5").status_code == 429


def test_failures_are_forgotten_a_cool_off_after_the_last_one(am):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail_many(DjangoClient(), "am1", times=LIMIT - 1)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        fail_many(DjangoClient(), "am1", times=LIMIT - 1)
        assert web_login(DjangoClient(), "am1", PASSWORD).status_code == 302


def test_an_insider_cannot_reset_the_count_by_logging_in_as_themselves(am):
    UserFactory(username="insider")
    http = DjangoClient()
    fail_many(http, "am1", address="10.0.0.7", times=LIMIT // 2)
    assert web_login(DjangoClient(), "insider", PASSWORD, address="10.0.0.7").status_code == 302
    fail_many(http, "am1", address="10.0.0.7", times=LIMIT - LIMIT // 2)
    # the victim's count was not reset by the insider's logins: am1 is locked
    assert web_login(DjangoClient(), "am1", PASSWORD, address="10.1.1.1").status_code == 429
