"""API tokens expire (API_TOKEN_TTL_HOURS) and are revoked on every kind of password change;
profile and password changes are audited; the audit log cannot be edited in the admin."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client as DjangoClient
from django.utils import timezone
from rest_framework.authtoken.models import Token

from crm.models import AuditEntry, User
from crm.services import user_api_token
from tests.conftest import client_for
from tests.factories import UserFactory

PASSWORD = "secret-pass-123"
NEW = "another-Pass-456"


def api_me(token):
    return DjangoClient().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token.key}")


# --- expiry ---------------------------------------------------------------------------------
def test_token_works_until_the_ttl_then_is_refused_and_deleted(owner, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    issued = timezone.now()
    with time_machine.travel(issued, tick=False):
        token = user_api_token(user=owner)
    with time_machine.travel(issued + timedelta(hours=23, minutes=59), tick=False):
        assert api_me(token).status_code == 200
    with time_machine.travel(issued + timedelta(hours=24), tick=False):
        response = DjangoClient().get(
            "/api/me/", HTTP_AUTHORIZATION=f"Token {token.key}", HTTP_ACCEPT_LANGUAGE="en"
        )
    assert response.status_code == 401
    assert response.json() == {
        "detail": "The token has expired. Request a new one from /api/auth/token/."
    }
    assert not Token.objects.filter(user=owner).exists()


def test_ttl_zero_means_tokens_never_expire(owner, settings):
    settings.API_TOKEN_TTL_HOURS = 0
    token = user_api_token(user=owner)
    with time_machine.travel(timezone.now() + timedelta(days=3650)):
        assert api_me(token).status_code == 200


def test_token_endpoint_replaces_an_expired_token(owner, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    issued = timezone.now()
    with time_machine.travel(issued, tick=False):
        old = user_api_token(user=owner)
    with time_machine.travel(issued + timedelta(hours=1), tick=False):
        # still valid: the same token is handed out again
        r = DjangoClient().post("/api/auth/token/", {"username": "owner", "password": PASSWORD})
        assert r.json() == {"token": old.key}
    with time_machine.travel(issued + timedelta(hours=25), tick=False):
        r = DjangoClient().post("/api/auth/token/", {"username": "owner", "password": PASSWORD})
        assert r.status_code == 200
        new_key = r.json()["token"]
        assert new_key != old.key
        assert list(Token.objects.filter(user=owner).values_list("key", flat=True)) == [new_key]
        assert (
            DjangoClient().get("/api/me/", HTTP_AUTHORIZATION=f"Token {new_key}").json()["username"]
            == "owner"
        )


# --- revocation on password change ----------------------------------------------------------
def test_password_page_revokes_tokens_and_audits(owner):
    token = user_api_token(user=owner)
    http = client_for(owner)
    response = http.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert api_me(token).status_code == 401
    assert not Token.objects.filter(user=owner).exists()
    entry = AuditEntry.objects.get(object_id=str(owner.pk), changes__has_key="password")
    assert entry.actor == owner
    assert entry.changes == {"password": ["***", "***"]}
    assert NEW not in str(entry.changes) and NEW not in entry.note


def test_wrong_old_password_changes_nothing(owner):
    token = user_api_token(user=owner)
    response = client_for(owner).post(
        "/accounts/password/",
        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 200
    assert api_me(token).status_code == 200
    assert not AuditEntry.objects.filter(object_id=str(owner.pk)).exists()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, role=User.Role.ADMIN)


def test_admin_password_change_revokes_tokens_and_audits_who(owner, admin_user):
    token = user_api_token(user=owner)
    response = client_for(admin_user).post(
        f"/admin/crm/user/{owner.pk}/password/",
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    owner.refresh_from_db()
    assert owner.check_password(NEW)
    assert api_me(token).status_code == 401
    entry = AuditEntry.objects.get(object_id=str(owner.pk), changes__has_key="password")
    assert entry.actor == admin_user


def test_changepassword_command_and_set_password_in_code_revoke_tokens(owner, monkeypatch):
    token = user_api_token(user=owner)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW)
    call_command("changepassword", "owner", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not Token.objects.filter(pk=token.pk).exists()
    token = user_api_token(user=owner)
    owner.set_password("third-Pass-789")
    owner.save()
    assert not Token.objects.filter(pk=token.pk).exists()


def test_saving_a_user_without_a_new_password_keeps_the_tokens(owner):
    token = user_api_token(user=owner)
    owner.first_name = "Renamed"
    owner.save()
    assert Token.objects.filter(pk=token.pk).exists()


# --- audit of profile changes ---------------------------------------------------------------
def test_profile_change_is_audited(owner):
    response = client_for(owner).post(
        "/profile/",
        {
            "first_name": "Olga",
            "last_name": "Ivanova",
            "email": "olga@example.com",
            "language": "en",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(object_id=str(owner.pk), action="update")
    assert entry.actor == owner
    assert entry.changes["first_name"][1] == "Olga"
    assert entry.changes["email"][1] == "olga@example.com"
    assert entry.changes["language"] == ["", "en"]


def test_profile_with_a_bad_email_changes_nothing(owner):
    before = (owner.email, owner.first_name)
    response = client_for(owner).post(
        "/profile/",
        {"first_name": "X", "last_name": "Y", "email": "not an email", "language": "en"},
    )
    assert response.status_code == 200
    owner.refresh_from_db()
    assert (owner.email, owner.first_name) == before
    assert not AuditEntry.objects.filter(object_id=str(owner.pk)).exists()


def test_admin_user_change_is_audited(owner, admin_user):
    http = client_for(admin_user)
    page = http.get(f"/admin/crm/user/{owner.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        {
            "username": "owner",
            "role": "manager",
            "email": "owner@example.com",
            "date_joined_0": owner.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": owner.date_joined.strftime("%H:%M:%S"),
            "is_active": "on",
        }
    )
    data.pop("password", None)
    data.pop("last_login", None)
    data.pop("date_joined", None)
    response = http.post(f"/admin/crm/user/{owner.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get(object_id=str(owner.pk), action="update")
    assert entry.actor == admin_user
    assert entry.changes["role"] == ["account_manager", "manager"]


# --- the audit log in the admin is read-only --------------------------------------------------
def test_audit_entries_cannot_be_added_changed_or_deleted_in_the_admin(owner, admin_user):
    client_for(owner).post(
        "/profile/", {"first_name": "A", "last_name": "", "email": "", "language": "ru"}
    )
    entry = AuditEntry.objects.get()
    http = client_for(admin_user)
    assert http.get("/admin/crm/auditentry/").status_code == 200
    assert http.get(f"/admin/crm/auditentry/{entry.pk}/change/").status_code == 200  # view only
    assert http.get("/admin/crm/auditentry/add/").status_code == 403
    assert http.post(f"/admin/crm/auditentry/{entry.pk}/change/", {"note": "x"}).status_code == 403
    assert (
        http.post(f"/admin/crm/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    response = http.post(
        "/admin/crm/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert AuditEntry.objects.filter(pk=entry.pk, note="").exists()
    assert response.status_code in (200, 302)
