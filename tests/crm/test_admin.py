"""Every admin list renders for a superuser (plain and searched), with data in it."""

from datetime import date

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import ClientFactory, UserFactory
from tests.segmentation.conftest import recompute, sale

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name) for model in admin.site._registry
)


@pytest.fixture
def superuser_client(client, db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize(("app", "model"), REGISTERED, ids=[f"{a}.{m}" for a, m in REGISTERED])
def test_admin_changelist_renders(superuser_client, app, model):
    client_row = ClientFactory(name="Admin client")
    sale(client_row, date(2025, 6, 1), 100)
    recompute()
    response = superuser_client.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == 200
    response = superuser_client.get(reverse(f"admin:{app}_{model}_changelist"), {"q": "x"})
    assert response.status_code == 200


def test_admin_is_closed_to_a_manager_without_staff_rights(manager_client):
    response = manager_client.get(reverse("admin:segmentation_clientmetrics_changelist"))
    assert response.status_code == 302 and "/login/" in response["Location"]
