"""The complaint list's one FilterSet: the page, the board and the API filter alike; an invalid
filter is reported and changes nothing; a reference filter is scoped to the user."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from feedback import analytics
from feedback.filters import ComplaintFilter
from feedback.models import Complaint
from feedback.selectors import complaint_list
from tests.conftest import client_for
from tests.feedback.conftest import make_client

pytestmark = pytest.mark.django_db


def _listed(response) -> set[int]:
    html = response.content.decode()
    return {c.pk for c in Complaint.objects.all() if f'data-complaint="{c.pk}"' in html}


def test_page_reports_an_invalid_filter_and_filters_nothing(owner, register):
    urgent, low = register(priority="urgent"), register(priority="low")
    http = client_for(owner, "en")
    response = http.get(reverse("feedback:complaints"), {"priority": "urgent", "status": "zzz"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="filter-errors"' in html
    assert "Select a valid choice. zzz is not one of the available choices." in html
    # the valid priority is not applied alone: nothing of an invalid filter set is
    assert _listed(response) == {urgent.pk, low.pk}
    assert response.context["page"].paginator.count == 2
    ok = http.get(reverse("feedback:complaints"), {"priority": "urgent"})
    assert 'id="filter-errors"' not in ok.content.decode()
    assert _listed(ok) == {urgent.pk}


def test_board_ignores_status_and_applies_the_rest(owner_client, register):
    urgent, low = register(priority="urgent"), register(priority="low")
    response = owner_client.get(reverse("feedback:board"), {"status": "zzz", "priority": "low"})
    assert response.status_code == 200
    assert "status" not in response.context["form"].fields
    cards = [c.pk for col in response.context["columns"] for c, _steps, _o in col["cards"]]
    assert cards == [low.pk]
    assert urgent.pk not in cards


def test_api_filters_like_the_page_and_refuses_bad_input(owner, outsider, register, owner_client):
    urgent = register(priority="urgent")
    register(priority="low")
    rows = owner_client.get("/api/complaints/", {"priority": "urgent"}).json()["results"]
    assert [r["id"] for r in rows] == [urgent.pk]
    bad = owner_client.get("/api/complaints/", {"priority": "zzz"})
    assert bad.status_code == 400
    assert "priority" in bad.json()
    # another account manager's client is refused exactly like one that does not exist
    theirs = make_client(name="Theirs", account_manager=outsider)
    http = client_for(owner, "en")
    foreign = http.get("/api/complaints/", {"client": theirs.pk})
    missing = http.get("/api/complaints/", {"client": 999_999})
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert "Select a valid choice" in str(missing.json()["client"])
    own = http.get("/api/complaints/", {"client": urgent.client_id}).json()
    assert own["count"] == 2


def test_cache_key_comes_from_the_cleaned_data(owner, register, theme):
    register()
    base = complaint_list(owner)
    one = ComplaintFilter({"priority": "urgent", "theme": "", "overdue": ""}, queryset=base)
    other = ComplaintFilter({"theme": "", "priority": "urgent"}, queryset=base)
    assert one.cache_key() == other.cache_key() == "priority=urgent"
    by_theme = ComplaintFilter({"theme": str(theme.pk), "overdue": "on"}, queryset=base)
    assert by_theme.cache_key() == f"overdue=True:theme={theme.pk}"
    assert by_theme.overdue_used
    assert ComplaintFilter({"status": "zzz"}, queryset=base).cache_key() == ""


def test_list_count_is_cached_per_filter(owner, owner_client, register):
    register(priority="urgent")
    url = reverse("feedback:complaints")
    assert owner_client.get(url, {"priority": "urgent"}).context["page"].paginator.count == 1
    # the cached count is found under the key of the cleaned filters, however they are spelled
    key = f"feedback:count:{analytics.data_version()}:user{owner.pk}:priority=urgent"
    assert cache.get(key) == 1
    cached = owner_client.get(url, {"theme": "", "priority": "urgent"})
    assert cached.context["page"].paginator.count == 1
