"""Class changes: one FilterSet for the page and the API (period, kind, references)."""

import pytest
from django.urls import reverse

from tests.conftest import client_for
from tests.segmentation.conftest import AS_OF, recompute

pytestmark = pytest.mark.django_db


def test_page_and_api_filter_the_changes_alike(manager, manager_client, base):
    recompute()
    day = AS_OF.isoformat()
    page = manager_client.get(reverse("segmentation:changes"), {"start": day, "end": day})
    api = manager_client.get("/api/segmentation/history/", {"start": day, "end": day}).json()
    assert api["count"] == page.context["page"].paginator.count > 0
    for kind in ("new", "lost", "restored"):
        query = {"start": day, "end": day, "kind": kind}
        page = manager_client.get(reverse("segmentation:changes"), query).context["page"]
        rows = manager_client.get("/api/segmentation/history/", query).json()["results"]
        assert [r["client_name"] for r in rows] == [c.client.name for c in page], kind
        assert len(rows) == 1, kind
    # a period given end first is the same period
    swapped = {"start": day, "end": "2000-01-01"}
    assert manager_client.get("/api/segmentation/history/", swapped).json()["count"] == api["count"]


def test_an_invalid_filter_is_reported_and_changes_nothing(manager, base):
    recompute()
    http = client_for(manager, "en")
    day = AS_OF.isoformat()
    response = http.get(reverse("segmentation:changes"), {"start": day, "end": day, "kind": "zz"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="filter-errors"' in html
    assert "Select a valid choice. zz is not one of the available choices." in html
    assert response.context["kind"] == ""
    api = http.get("/api/segmentation/history/", {"kind": "zz"})
    assert api.status_code == 400
    assert "kind" in api.json()
    out_of_range = http.get("/api/segmentation/history/", {"start": "1000-01-01"})
    assert out_of_range.status_code == 400
    assert "start" in out_of_range.json()
