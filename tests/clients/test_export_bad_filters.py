"""An export with an invalid filter is refused with the reason, never half-filtered."""

from django.urls import reverse

from tests.factories import ClientFactory


def test_export_refuses_invalid_filters(manager_client, owner):
    ClientFactory(name="Anything", account_manager=owner)
    response = manager_client.get(reverse("clients:export"), {"abc": "Q", "format": "csv"})
    assert response.status_code == 400
    assert "abc" in response.content.decode()
    ok = manager_client.get(reverse("clients:export"), {"abc": "A", "format": "csv"})
    assert ok.status_code == 200
