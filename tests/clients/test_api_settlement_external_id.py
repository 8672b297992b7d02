"""A settlement posted through the API keeps its external id (re-imports match on it)."""

from clients.models import Settlement
from tests.factories import ClientFactory


def test_settlement_external_id_is_stored_and_unique(owner_client, owner):
    client = ClientFactory(account_manager=owner)
    row = {"client": client.pk, "date": "2026-11-02", "amount": "150.00", "external_id": "1C-77"}
    created = owner_client.post("/api/settlements/", row, content_type="application/json")
    assert created.status_code == 201, created.content
    assert Settlement.objects.get(pk=created.json()["id"]).external_id == "1C-77"
    again = owner_client.post("/api/settlements/", row, content_type="application/json")
    assert again.status_code == 400 and Settlement.objects.count() == 1
    bare = {k: v for k, v in row.items() if k != "external_id"}
    for _ in range(2):  # no external id: stored as NULL, so any number of them
        assert (
            owner_client.post(
                "/api/settlements/", bare, content_type="application/json"
            ).status_code
            == 201
        )
    assert Settlement.objects.filter(external_id__isnull=True).count() == 2
