"""The API root, token auth, schema and docs (offline assets)."""

import re

from django.urls import reverse
from rest_framework.authtoken.models import Token


def test_api_needs_authentication(client, db):
    assert client.get("/api/me/").status_code == 401


def test_token_auth(client, manager):
    response = client.post(
        reverse("api-token"), {"username": "boss", "password": "secret-pass-123"}
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=manager).key == token
    me = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["role"] == "manager"


def test_bad_token_is_refused(client, db):
    assert client.get("/api/me/", HTTP_AUTHORIZATION="Token nope").status_code == 401


def test_schema_and_docs_are_served_offline(manager_client):
    schema = manager_client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi" in schema.content
    docs = manager_client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    # nothing loaded from another host (a random CSRF token may contain any letters)
    assert not re.search(r"""(src|href|url)\s*[=:(]\s*["']?(https?:)?//""", html)
    assert "/static/drf_spectacular_sidecar/" in html
