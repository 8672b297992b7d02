"""The Content-Security-Policy header is on every page, and no template needs it relaxed:
no inline script, no inline event handler, no <style> element."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import ClientFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent.parent
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-elem": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy_of(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, role="admin")


def test_the_policy_is_strict(client, db):
    assert policy_of(client.get(reverse("login"))) == POLICY


def test_every_page_carries_the_header(manager, owner, admin_user, client):
    own = ClientFactory(account_manager=owner)
    pages = {
        manager: [
            "/",
            "/clients/",
            f"/clients/{own.pk}/",
            "/clients/catalogue/",
            "/segments/",
            "/feedback/complaints/",
            "/feedback/complaints/analytics/",
            "/calendar/",
            "/profile/",
            "/accounts/password/",
            "/api/docs/",
            "/api/",
        ],
        admin_user: ["/admin/", "/admin/crm/auditentry/", "/admin/crm/user/"],
    }
    checked = 0
    for user, urls in pages.items():
        http = client_for(user)
        for url in urls:
            response = http.get(url)
            assert response.status_code == 200, url
            assert policy_of(response) == POLICY, url
            checked += 1
    # anonymous: the login page, a 404 and the health check too
    assert policy_of(client.get("/nowhere/")) == POLICY
    assert policy_of(client.get("/healthz")) == POLICY
    assert checked == 15


def test_browsable_api_has_no_inline_style_element(manager):
    html = client_for(manager).get("/api/clients/", HTTP_ACCEPT="text/html").content.decode()
    assert "bootstrap-tweaks.css" in html  # DRF's page, styled from files
    assert "<style" not in html
    assert [a for a in re.findall(r"<script([^>]*)>", html) if "src=" not in a] == [
        ' type="application/json" id="drf_csrf"'
    ]


def test_api_docs_page_has_no_inline_script_or_style(manager):
    html = client_for(manager).get("/api/docs/").content.decode()
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>", html)
    assert len(scripts) == 3 and all("src=" in attrs for attrs in scripts)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER = re.compile(r"\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)


def test_no_template_has_inline_script_handlers_or_style_elements():
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, HANDLER, re.compile(r"<style", re.I)):
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
        assert "javascript:" not in text, path
    assert found == []
