"""The client API: role scoping, validation through services, outsider 404/400."""

from django.urls import reverse

from clients.models import Client, Interaction, Settlement
from tests.factories import (
    ClientFactory,
    ContactFactory,
    InteractionFactory,
    SettlementFactory,
)


def test_list_is_scoped(owner_client, own_client, foreign_client):
    data = owner_client.get("/api/clients/").json()
    assert [c["id"] for c in data["results"]] == [own_client.pk]


def test_manager_lists_all_with_filter(manager_client, own_client, foreign_client):
    data = manager_client.get("/api/clients/", {"q": "Nordwind"}).json()
    assert [c["name"] for c in data["results"]] == ["Nordwind GmbH"]
    assert data["count"] == 1


def test_outsider_gets_404_on_detail_and_update(outsider_client, own_client):
    url = f"/api/clients/{own_client.pk}/"
    assert outsider_client.get(url).status_code == 404
    assert (
        outsider_client.patch(url, {"name": "x"}, content_type="application/json").status_code
        == 404
    )
    own_client.refresh_from_db()
    assert own_client.name != "x"


def test_create_client_via_api_is_owned_and_audited(owner_client, owner):
    response = owner_client.post(
        "/api/clients/",
        {"name": "API Co", "inn": "7707083893", "tags": []},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    client = Client.objects.get(name="API Co")
    assert client.account_manager == owner


def test_bad_input_is_400_and_changes_nothing(owner_client):
    response = owner_client.post(
        "/api/clients/", {"name": "X", "inn": "12"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "inn" in response.json()
    assert not Client.objects.exists()


def test_cannot_attach_records_to_foreign_client(owner_client, foreign_client):
    for url, payload in [
        ("/api/settlements/", {"client": foreign_client.pk, "date": "2026-01-01", "amount": "10"}),
        (
            "/api/interactions/",
            {"client": foreign_client.pk, "summary": "x", "occurred_at": "2026-01-01T10:00:00Z"},
        ),
        ("/api/contacts/", {"client": foreign_client.pk, "full_name": "x"}),
    ]:
        response = owner_client.post(url, payload, content_type="application/json")
        assert response.status_code == 400, url
        assert "client" in response.json()
    assert not Settlement.objects.exists() and not Interaction.objects.exists()


def test_settlement_and_interaction_via_api(owner_client, own_client):
    response = owner_client.post(
        "/api/settlements/",
        {"client": own_client.pk, "date": "2026-01-01", "amount": "0"},
        content_type="application/json",
    )
    assert response.status_code == 201  # free or promotional goods: a purchase of 0
    assert Settlement.objects.get(client=own_client).amount == 0
    response = owner_client.post(
        "/api/settlements/",
        {"client": own_client.pk, "date": "2026-01-01", "amount": "zero"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "amount" in response.json()
    response = owner_client.post(
        "/api/interactions/",
        {
            "client": own_client.pk,
            "summary": "call",
            "occurred_at": "2026-01-01T10:00:00Z",
            "next_step_date": "2026-01-05",
            "next_step_goal": "meet",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    own_client.refresh_from_db()
    assert own_client.next_step_goal == "meet"


def test_catalogue_api_read_all_write_managers(owner_client, manager_client):
    assert (
        owner_client.post(
            "/api/product-lines/", {"name": "L"}, content_type="application/json"
        ).status_code
        == 403
    )
    response = manager_client.post(
        "/api/product-lines/", {"name": "L"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert owner_client.get("/api/product-lines/").json()["count"] == 1


def test_pagination(manager_client):
    for _ in range(55):
        ClientFactory()
    data = manager_client.get("/api/clients/").json()
    assert data["count"] == 55 and len(data["results"]) == 50 and data["next"]


def test_schema_lists_client_endpoints(manager_client):
    schema = manager_client.get(reverse("api-schema")).content.decode()
    for path in [
        "/api/clients/",
        "/api/contacts/",
        "/api/settlements/",
        "/api/interactions/",
        "/api/products/",
        "/api/target-segments/",
    ]:
        assert path in schema


def test_delete_rules_and_audit(owner_client, manager_client, outsider_client, own_client):
    from clients.models import ContactPerson
    from crm.models import AuditEntry
    from tests.factories import ContactFactory, SettlementFactory

    contact = ContactFactory(client=own_client)
    settlement = SettlementFactory(client=own_client)
    assert outsider_client.delete(f"/api/contacts/{contact.pk}/").status_code == 404
    assert owner_client.delete(f"/api/contacts/{contact.pk}/").status_code == 204
    assert not ContactPerson.objects.exists()
    # the sales history and the client itself: managers only
    assert owner_client.delete(f"/api/settlements/{settlement.pk}/").status_code == 403
    assert owner_client.delete(f"/api/clients/{own_client.pk}/").status_code == 403
    assert Client.objects.filter(pk=own_client.pk).exists()
    assert manager_client.delete(f"/api/clients/{own_client.pk}/").status_code == 204
    assert not Client.objects.exists() and not Settlement.objects.exists()
    deleted = AuditEntry.objects.filter(action="delete").values_list("object_repr", flat=True)
    assert set(deleted) == {str(contact), str(own_client)}


def test_outsider_reads_none_of_owners_records(outsider_client, own_client, foreign_client):
    mine = {
        "settlements": SettlementFactory(client=foreign_client),
        "interactions": InteractionFactory(client=foreign_client),
        "contacts": ContactFactory(client=foreign_client),
    }
    theirs = {
        "settlements": SettlementFactory(client=own_client),
        "interactions": InteractionFactory(client=own_client),
        "contacts": ContactFactory(client=own_client),
    }
    for kind in ("settlements", "interactions", "contacts"):
        url = reverse(f"{kind.removesuffix('s')}-list")
        assert url == f"/api/{kind}/"
        data = outsider_client.get(url).json()
        assert [row["id"] for row in data["results"]] == [mine[kind].pk], kind
        assert data["count"] == 1, kind
        # filtering by the owner's client is refused exactly like a client that does not
        # exist: the answer does not tell the outsider that the client is there
        theirs_filtered = outsider_client.get(url, {"client": own_client.pk})
        missing = outsider_client.get(url, {"client": 999_999})
        assert theirs_filtered.status_code == missing.status_code == 400, kind
        assert theirs_filtered.json() == missing.json(), kind
        assert "client" in missing.json(), kind
        detail = reverse(f"{kind.removesuffix('s')}-detail", args=[theirs[kind].pk])
        assert outsider_client.get(detail).status_code == 404, kind
        own_detail = reverse(f"{kind.removesuffix('s')}-detail", args=[mine[kind].pk])
        assert outsider_client.get(own_detail).status_code == 200, kind


def test_target_segment_without_products_is_created_and_keeps_them_on_update(manager_client):
    """Once a 500 (KeyError): a create or update that leaves ``products`` out."""
    from clients.models import TargetSegment
    from tests.factories import ProductFactory

    created = manager_client.post(
        "/api/target-segments/", {"name": "Retail"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["products"] == []
    segment = TargetSegment.objects.get(name="Retail")
    product = ProductFactory()
    segment.products.add(product)
    url = f"/api/target-segments/{segment.pk}/"
    for method in (manager_client.patch, manager_client.put):
        response = method(url, {"name": "Retail chains"}, content_type="application/json")
        assert response.status_code == 200, response.content
        assert response.json()["products"] == [product.pk]  # left out = left as it is
    emptied = manager_client.patch(url, {"products": []}, content_type="application/json")
    assert emptied.json()["products"] == []
    segment.refresh_from_db()
    assert (segment.name, list(segment.products.all())) == ("Retail chains", [])


def test_account_manager_cannot_create_a_target_segment(owner_client):
    from clients.models import TargetSegment

    response = owner_client.post(
        "/api/target-segments/", {"name": "Mine"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not TargetSegment.objects.exists()
