"""The OpenAPI schema tells the truth: real responses of the drifted endpoints validate against
it (schemathesis' response check, in process through the WSGI app), and the schema itself is
valid for drf-spectacular with no warning."""

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from crm.wsgi import application
from feedback import services as complaint_services
from feedback.models import Theme
from segmentation.models import ClientMetrics
from tests.factories import ClientFactory


@pytest.fixture
def wsgi(db, settings):
    """The WSGI app inside the test's transaction (as Django's test client does: a request
    must not close the connection that holds the transaction)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # the WSGI client's host
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(schema, user, method, path, **kwargs):
    """Call the operation of ``path`` as ``user`` and validate the response (raises on drift)."""
    token = Token.objects.get_or_create(user=user)[0].key
    operation = schema[kwargs.pop("template", path)][method]
    case = operation.Case(
        path_parameters=kwargs.pop("path_parameters", None),
        headers={"Authorization": f"Token {token}"},
    )
    response = case.call()
    assert response.status_code == 200, response.content
    operation.validate_response(response)
    return response.json()


def test_me_with_no_language_preference(wsgi, owner):
    assert owner.language == ""
    assert call(wsgi, owner, "GET", "/api/me/")["language"] == ""


def test_clients_without_classes_yet(wsgi, owner):
    client = ClientFactory(account_manager=owner)
    assert not ClientMetrics.objects.filter(client=client).exists()
    data = call(wsgi, owner, "GET", "/api/clients/")
    row = data["results"][0]
    assert (row["abc_class"], row["xyz_class"], row["lifecycle"]) == (None, None, None)
    detail = call(
        wsgi,
        owner,
        "GET",
        f"/api/clients/{client.pk}/",
        template="/api/clients/{id}/",
        path_parameters={"id": client.pk},
    )
    assert detail["abc_class"] is None


def test_a_complaint_not_yet_answered(wsgi, owner):
    client = ClientFactory(account_manager=owner)
    complaint_services.complaint_register(
        actor=owner,
        client=client,
        theme=Theme.objects.create(code="late", name_en="Late", name_ru="Опоздание"),
        description="Late again",
        priority="normal",
    )
    row = call(wsgi, owner, "GET", "/api/complaints/")["results"][0]
    assert row["client_informed_via"] == ""


@pytest.mark.parametrize("persona", ["owner", "manager"])
def test_the_matrix_is_one_object(wsgi, request, persona):
    user = request.getfixturevalue(persona)
    data = call(wsgi, user, "GET", "/api/segmentation/matrix/")
    assert isinstance(data, dict)
    assert data["total_turnover"] == "0.00"
    assert len(data["cells"]) == 12  # A, B, C × X, Y, Z, none
    assert {cell["share"] for cell in data["cells"]} == {None}  # nothing sold: no share


def test_schema_is_valid_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert "    Matrix:\n      type: object\n" in (tmp_path / "schema.yaml").read_text()
