"""A search's total is counted up to a cap (clients.views.SEARCH_COUNT_CAP): more matches
show as "more than N", only the first N are paged, and those pages hold exactly the rows of
the plain ordered search."""

import pytest
from django.urls import reverse

from clients import views
from clients.filters import SORTS
from clients.models import Client
from tests.conftest import client_for
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def builders(owner, outsider):
    """Eight clients whose names contain «строй» (two of them the outsider's), two others."""
    for i in range(8):
        ClientFactory(name=f"ООО «Стройка {i}»", account_manager=outsider if i < 2 else owner)
    ClientFactory(name="ИП Петров", account_manager=owner)
    ClientFactory(name="Nordwind GmbH", account_manager=outsider)


def _matches(user=None):
    qs = Client.objects.filter(name__icontains="строй").order_by(*SORTS["name"])
    if user is not None:
        qs = qs.filter(account_manager=user)
    return list(qs.values_list("id", flat=True))


def test_more_matches_than_the_cap_page_the_first_ones(builders, manager, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 5)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    expected = _matches()[:5]  # 8 matches, the first 5 in name order
    http = client_for(manager, "en")
    seen = []
    for number in (1, 2, 3):
        response = http.get(reverse("clients:list"), {"q": "строй", "page": number})
        page = response.context["page"]
        assert page.paginator.capped and page.paginator.count == 5
        assert page.paginator.num_pages == 3
        seen += [c.pk for c in page.object_list]
        html = response.content.decode()
        assert 'id="client-count">more than 5<' in html
        assert "The search matches more than 5 clients; the first 5 are shown." in html
    assert seen == expected  # the last page holds the 5th match, not the last of all 8
    # a page past the cap shows the last capped page
    page = http.get(reverse("clients:list"), {"q": "строй", "page": 9}).context["page"]
    assert [c.pk for c in page.object_list] == expected[4:]


def test_up_to_the_cap_the_count_is_exact(builders, owner, manager, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 6)
    response = client_for(owner, "ru").get(reverse("clients:list"), {"q": "строй"})
    page = response.context["page"]
    assert not page.paginator.capped and page.paginator.count == 6  # the owner's six
    assert [c.pk for c in page.object_list] == _matches(owner)
    assert 'id="client-count">6<' in response.content.decode()
    assert 'id="search-capped"' not in response.content.decode()

    response = client_for(manager, "ru").get(reverse("clients:list"), {"q": "строй"})
    assert response.context["page"].paginator.capped
    assert 'id="client-count">более 6<' in response.content.decode()
    assert "Поиску соответствует более 6 клиентов" in response.content.decode()


def test_a_list_without_a_search_is_not_capped(builders, manager, monkeypatch):
    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 3)
    for params in ({}, {"q": "  "}, {"sort": "-name"}):
        page = client_for(manager).get(reverse("clients:list"), params).context["page"]
        assert not page.paginator.capped and page.paginator.count == 10, params
