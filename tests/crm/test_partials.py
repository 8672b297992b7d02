"""The shared partials: one pager for every list, one KPI card for every figure."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _pager(html: str) -> str:
    found = re.search(r'<nav class="mt-3" aria-label="Pages">.*?</nav>', html, re.S)
    assert found, "no pager"
    return found.group(0)


def test_client_list_pager_keeps_the_query_and_reaches_the_last_page(manager):
    for n in range(120):
        ClientFactory(name=f"Client {n:03}")
    http = client_for(manager, "en")
    response = http.get(reverse("clients:list"), {"q": "Client", "sort": "-name", "page": "2"})
    pager = _pager(response.content.decode())
    assert "Page 2 of 3" in pager
    assert 'href="?q=Client&amp;sort=-name&amp;page=3" rel="next"' in pager
    assert 'href="?q=Client&amp;sort=-name&amp;page=1" aria-label="First page"' in pager
    # the last page of the list (read from the end by the client list's paginator)
    last = http.get(reverse("clients:list"), {"q": "Client", "sort": "-name", "page": "3"})
    assert [c.name for c in last.context["page"]] == [f"Client {n:03}" for n in range(19, -1, -1)]
    assert "Page 3 of 3" in _pager(last.content.decode())


def test_every_list_uses_the_one_pager(owner, manager):
    from feedback import services
    from feedback.models import Theme
    from tests.feedback.conftest import make_client

    client = make_client(account_manager=owner)
    theme = Theme.objects.filter(is_active=True).first()
    for _ in range(26):
        services.complaint_register(actor=owner, client=client, theme=theme, description="Late")
    http = client_for(owner, "en")
    html = http.get(reverse("feedback:complaints"), {"priority": "normal"}).content.decode()
    pager = _pager(html)
    assert "Page 1 of 2" in pager
    assert 'href="?priority=normal&amp;page=2" rel="next"' in pager
    notices = client_for(manager, "en").get(reverse("feedback:notices"))
    assert notices.status_code == 200
    assert 'aria-label="Pages"' not in notices.content.decode()  # one page: no pager


def test_kpi_card_renders_label_value_hint_and_link():
    html = render_to_string(
        "crm/_kpi_card.html",
        {"label": "Open", "value": "1 234", "hint": "of 2 000", "url": "/x/?a=1&b=2", "key": "k"},
    )
    assert html.strip().startswith('<a class="card card-body h-100 text-decoration-none kpi-card"')
    assert 'href="/x/?a=1&amp;b=2"' in html
    assert '<div class="kpi" data-kpi="k">1 234</div>' in html
    assert '<div class="small text-muted">Open</div>' in html
    assert '<div class="small text-muted">of 2 000</div>' in html
    plain = render_to_string("crm/_kpi_card.html", {"label": "Cost", "value": "5"})
    assert "<a " not in plain and "data-kpi" not in plain and plain.count("text-muted") == 1


def test_kpi_cards_on_the_pages(manager):
    http = client_for(manager, "ru")
    html = http.get(reverse("feedback:analytics")).content.decode()
    cards = re.findall(r'data-kpi="([a-z-]+)"', html)
    assert cards[:5] == ["total", "sla", "ack-hours", "res-hours", "cost"]
    assert '<div class="small text-muted">открыто: 0</div>' in html
    changes = http.get(
        reverse("segmentation:changes"), {"start": "2026-01-01", "end": "2026-01-31"}
    )
    html = changes.content.decode()
    assert 'href="?start=2026-01-01&amp;end=2026-01-31&amp;kind=new"' in html
    assert '<div class="kpi" data-kpi="restored">0</div>' in html
