"""No 500 on any input: dates outside 1900–2100 are refused with one clear message wherever they
come in (model fields and with them forms and serializers, page period forms, API filters)."""

from datetime import date, datetime

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from clients.models import Settlement
from crm.validators import DATE_MAX, DATE_MIN, validate_date_range
from tests.conftest import client_for
from tests.factories import ClientFactory, SettlementFactory

DJANGO_OWN = {"last_login", "date_joined"}
PROJECT_APPS = {"crm", "clients", "segmentation", "feedback", "surveys", "loyalty", "sales"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (date(1900, 1, 1), True),
        (date(2100, 12, 31), True),
        (datetime(2026, 11, 30, 12, 0), True),
        (date(1899, 12, 31), False),
        (date(2101, 1, 1), False),
        (date(9999, 12, 31), False),
        (datetime(1, 1, 1, 0, 0), False),
        (None, True),
    ],
)
def test_validator_bounds(value, ok):
    assert (date(1900, 1, 1), date(2100, 12, 31)) == (DATE_MIN, DATE_MAX)
    if ok:
        validate_date_range(value)
    else:
        with pytest.raises(ValidationError) as error:
            validate_date_range(value)
        assert error.value.code == "date_out_of_range"


def test_every_editable_date_field_of_the_project_has_the_range():
    """The mechanism, for the apps to come too: a new date field without the range fails here."""
    missing = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
        for field in model._meta.get_fields()
        if isinstance(field, models.DateField)  # DateTimeField is a DateField
        and field.editable
        and field.name not in DJANGO_OWN  # written by Django's auth itself
        and validate_date_range not in field.validators
    ]
    assert missing == []


def test_api_refuses_a_year_9999_settlement_and_saves_nothing(owner_client, owner):
    client = ClientFactory(account_manager=owner)
    response = owner_client.post(
        "/api/settlements/",
        {"client": client.pk, "date": "9999-12-31", "amount": "100.00"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json() == {"date": ["Enter a date between 01/01/1900 and 12/31/2100."]}
    assert not Settlement.objects.exists()
    ok = owner_client.post(
        "/api/settlements/",
        {"client": client.pk, "date": "2100-12-31", "amount": "100.00"},
        content_type="application/json",
    )
    assert ok.status_code == 201, ok.content
    assert Settlement.objects.get().date == date(2100, 12, 31)


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/settlements/", "date__gte"),
        ("/api/interactions/", "next_step_date__lte"),
        ("/api/segmentation/history/", "date"),
    ],
)
def test_api_date_filters_refuse_dates_out_of_range(manager_client, url, param):
    SettlementFactory(date=date(2026, 5, 1))
    for bad in ("9999-12-31", "0001-01-01"):
        response = manager_client.get(url, {param: bad})
        assert response.status_code == 400, (param, bad, response.content)
        assert param in response.json()
    assert manager_client.get(url, {param: "2026-01-01"}).status_code == 200


def test_complaint_analytics_with_year_9999_shows_an_error_not_a_500(manager):
    http = client_for(manager, "en")
    response = http.get(
        reverse("feedback:analytics"), {"date_from": "2026-01-01", "date_to": "9999-12-31"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-error="date_to"' in html
    assert "Enter a date between 01/01/1900 and 12/31/2100." in html


@pytest.mark.parametrize("name", ["segmentation:lifecycle", "segmentation:changes"])
def test_segmentation_periods_with_year_9999_fall_back_to_the_default(manager_client, name):
    response = manager_client.get(reverse(name), {"start": "0001-01-01", "end": "9999-12-31"})
    assert response.status_code == 200
    assert response.context["end"] <= DATE_MAX
