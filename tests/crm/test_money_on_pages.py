"""Every page that shows money renders it through the shared formatter, in both languages.

One small base, frozen on 2026-01-15 (Moscow): the owner's client "Money Co" bought for
14 000.00 and 41 782.06 and got a refund of 150.50; another account manager's client bought for
10 000.00; a segmentation run as of that day; a complaint of Money Co with a goodwill gift that
cost 14 000.00. Each page is read in Russian and in English and must show the amounts as CLDR
writes them (no-break spaces included) and none of the old hand-made forms.
"""

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse

from feedback import services as feedback_services
from feedback.models import Complaint, Theme
from segmentation import services as segmentation_services
from segmentation.models import SegmentationRun
from tests.conftest import client_for
from tests.factories import ClientFactory, ProductFactory, SettlementFactory

pytestmark = pytest.mark.django_db

NB = "\u00a0"
MSK = ZoneInfo("Europe/Moscow")
TODAY = date(2026, 1, 15)

# amount → how each language writes it
RU = {
    "14000": f"14{NB}000,00{NB}₽",
    "41782.06": f"41{NB}782,06{NB}₽",
    "refund": f"-150,50{NB}₽",
    "client_total": f"55{NB}631,56{NB}₽",  # 14 000 + 41 782.06 - 150.50
    "drill_total": f"13{NB}849,50{NB}₽",  # 14 000 - 150.50
    "december": f"41{NB}631,56{NB}₽",  # 41 782.06 - 150.50
    "all_total": f"65{NB}631,56{NB}₽",  # + the other client's 10 000
    "share": f"84,8{NB}%",  # 55 631.56 / 65 631.56
}
EN = {
    "14000": f"RUB{NB}14,000.00",
    "41782.06": f"RUB{NB}41,782.06",
    "refund": f"-RUB{NB}150.50",
    "client_total": f"RUB{NB}55,631.56",
    "drill_total": f"RUB{NB}13,849.50",
    "december": f"RUB{NB}41,631.56",
    "all_total": f"RUB{NB}65,631.56",
    "share": "84.8%",
}
EXPECTED = {"ru": RU, "en": EN}

# The forms this issue was about: floatformat|intcomma in Russian ("14,000,00"), an f-string
# with a dot decimal and space grouping ("41 782.06"), an unformatted Decimal ("41782.06").
INTCOMMA_ON_COMMA_DECIMAL = re.compile(r"\d,\d{3},\d{2}(?!\d)")
SPACE_GROUPS_DOT_DECIMAL = re.compile(r"\d[ \u00a0\u202f]\d{3}\.\d{2}(?!\d)")
BARE_DECIMAL = re.compile(r"(?<![\d.,])\d{4,}[.,]\d{2}(?!\d)")


@pytest.fixture
def base(time_machine, manager, owner, outsider):
    time_machine.move_to(datetime(2026, 1, 15, 12, 0, tzinfo=MSK), tick=False)
    cache.clear()
    drill = ProductFactory(name="Drill")
    saw = ProductFactory(name="Saw")
    money_co = ClientFactory(name="Money Co", account_manager=owner)
    SettlementFactory(
        client=money_co, product=drill, date=date(2025, 11, 10), amount=Decimal("14000.00")
    )
    SettlementFactory(
        client=money_co, product=saw, date=date(2025, 12, 10), amount=Decimal("41782.06")
    )
    SettlementFactory(
        client=money_co, product=drill, date=date(2025, 12, 20), amount=Decimal("-150.50")
    )
    other = ClientFactory(name="Other Co", account_manager=outsider)
    SettlementFactory(client=other, date=date(2025, 12, 5), amount=Decimal("10000.00"))
    run = segmentation_services.recompute(trigger=SegmentationRun.Trigger.COMMAND, as_of=TODAY)
    assert run.status == SegmentationRun.Status.SUCCESS, run.error
    theme = Theme.objects.get_or_create(
        code="missed-deadlines",
        defaults={"name_en": "Missed deadlines", "name_ru": "Нарушение сроков", "order": 10},
    )[0]
    complaint = feedback_services.complaint_register(
        actor=owner,
        client=money_co,
        theme=theme,
        description="Late delivery",
        now=datetime(2026, 1, 15, 10, 0, tzinfo=MSK),
    )
    Complaint.objects.filter(pk=complaint.pk).update(
        goodwill_gift="Free delivery", goodwill_cost=Decimal("14000.00")
    )
    yield {"client": money_co, "complaint": complaint}
    cache.clear()


def page(user, language: str, url: str, **params) -> str:
    response = client_for(user, language).get(url, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    return html


def assert_no_hand_made_numbers(html: str, language: str) -> None:
    assert not INTCOMMA_ON_COMMA_DECIMAL.findall(html)
    assert not BARE_DECIMAL.findall(html)
    if language == "ru":
        assert not SPACE_GROUPS_DOT_DECIMAL.findall(html)
        assert "RUB" not in html
    else:
        assert "₽" not in html


@pytest.mark.parametrize("language", ["ru", "en"])
def test_client_card_turnover_products_timeline_and_segmentation(base, owner, language):
    want = EXPECTED[language]
    html = page(owner, language, reverse("clients:detail", args=[base["client"].pk]))
    # sales in the last 12 months and per product
    assert f'id="turnover-12m">{want["client_total"]}</div>' in html
    assert f'Drill <span class="text-muted">— {want["drill_total"]}</span>' in html
    assert f'Saw <span class="text-muted">— {want["41782.06"]}</span>' in html
    # the timeline: each settlement with its amount in the viewer's language, refund negative
    timeline = html[html.index('id="timeline"') :]
    for key in ("14000", "41782.06", "refund"):
        assert f'<span class="text-nowrap">{want[key]}</span>' in timeline
    assert "Saw: <span" in timeline
    # the segmentation panel: turnover in the window and the monthly series
    panel = html[html.index('id="segmentation-panel"') : html.index('id="segmentation-history"')]
    assert f'data-explain="turnover">{want["client_total"]}</dd>' in panel
    assert f'<td class="text-end">{want["december"]}</td>' in panel
    assert f'<td class="text-end">{want["14000"]}</td>' in panel
    assert ("Декабрь 2025" if language == "ru" else "December 2025") in panel
    assert_no_hand_made_numbers(html, language)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_segmentation_matrix_total_and_shares(base, manager, owner, language):
    want = EXPECTED[language]
    html = page(manager, language, reverse("segmentation:matrix"))
    assert f'<span id="matrix-turnover">{want["all_total"]}</span>' in html
    assert f'<div class="small text-muted">{want["share"]}</div>' in html
    assert_no_hand_made_numbers(html, language)
    # an account manager's live matrix: own clients only
    html = page(owner, language, reverse("segmentation:matrix"))
    assert f'<span id="matrix-turnover">{want["client_total"]}</span>' in html
    assert_no_hand_made_numbers(html, language)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_segmentation_what_if_shares(base, manager, language):
    html = page(manager, language, reverse("segmentation:what_if"))
    assert f'<div class="small text-muted">{EXPECTED[language]["share"]}</div>' in html
    assert_no_hand_made_numbers(html, language)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_complaint_detail_goodwill_cost(base, owner, language):
    html = page(owner, language, reverse("feedback:detail", args=[base["complaint"].pk]))
    assert f'<span id="goodwill-cost">{EXPECTED[language]["14000"]}</span>' in html
    assert_no_hand_made_numbers(html, language)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_complaint_analytics_cost(base, manager, language):
    html = page(
        manager,
        language,
        reverse("feedback:analytics"),
        date_from="2026-01-01",
        date_to="2026-01-31",
    )
    assert f'data-kpi="cost">{EXPECTED[language]["14000"]}</div>' in html
    assert 'data-kpi="total">1</div>' in html
    assert_no_hand_made_numbers(html, language)
