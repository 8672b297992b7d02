"""The survey API's responses validate against its OpenAPI schema (schemathesis, in process),
with anonymous answers and a hidden small cell among them."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from crm.wsgi import application
from feedback.models import Theme
from surveys.models import Answer, Invitation
from tests.factories import ContactFactory
from tests.surveys.conftest import invite, msk

NOW = msk(2026, 11, 20, 12)


@pytest.fixture
def wsgi(db, settings, time_machine):
    time_machine.move_to(NOW, tick=False)
    cache.clear()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(schema, user, path):
    token = Token.objects.get_or_create(user=user)[0].key
    case = schema[path]["GET"].Case(headers={"Authorization": f"Token {token}"})
    response = case.call()
    assert response.status_code == 200, response.content
    schema[path]["GET"].validate_response(response)
    return response.json()


def test_survey_api_responses_match_the_schema(wsgi, make_campaign, own_client, manager):
    named = make_campaign(name="Named")
    anon = make_campaign(name="Anonymous", anonymous=True)
    for i, campaign in enumerate([named, named, anon]):
        at = msk(2026, 11, 3 + i, 10)
        contact = ContactFactory(client=own_client, email=f"s{i}@x.example")
        inv = invite(campaign, contact, at=at, status=Invitation.Status.ANSWERED, sent_at=at)
        answer = Answer.objects.create(invitation=inv, nps=9 - i, submitted_at=at)
        answer.themes.set(Theme.objects.filter(is_active=True)[: i + 1])  # tagged: in the schema
    body = call(wsgi, manager, "/api/survey-analytics/")
    assert body["totals"]["hidden"] is True and body["totals"]["nps"] is None
    assert call(wsgi, manager, "/api/survey-answers/")["count"] == 2  # the 1 anonymous left out
    assert call(wsgi, manager, "/api/survey-invitations/")["count"] == 3
    assert call(wsgi, manager, "/api/survey-campaigns/")["count"] == 2
    assert call(wsgi, manager, "/api/survey-questionnaires/")["count"] >= 1
