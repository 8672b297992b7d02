"""Deal pages: new deal (also from the client card), edit, detail with its steps; stale pages,
bad input and outsiders."""

from decimal import Decimal

import pytest
import time_machine

from crm.models import AuditEntry
from sales.models import Deal, SaleType, StageKind, StageLog
from tests.conftest import client_for
from tests.factories import SettlementFactory
from tests.sales.conftest import msk, stage

pytestmark = pytest.mark.django_db


def lines_data(*rows, total=None):
    data = {
        "lines-TOTAL_FORMS": str(total or max(len(rows), 2)),
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for i, (product, quantity, price) in enumerate(rows):
        data[f"lines-{i}-product"] = str(product.pk)
        data[f"lines-{i}-quantity"] = str(quantity)
        data[f"lines-{i}-price"] = "" if price is None else str(price)
    return data


def test_new_deal_from_the_client_card(owner, pipeline, own_client, contact, product, line):
    http = client_for(owner)
    card = http.get(f"/clients/{own_client.pk}/").content.decode()
    assert f"/sales/new/?client={own_client.pk}" in card
    page = http.get(f"/sales/new/?client={own_client.pk}")
    assert page.status_code == 200
    SettlementFactory(client=own_client, product=None, amount=0)  # a purchase: not a first sale
    response = http.post(
        f"/sales/new/?client={own_client.pk}",
        {
            "client": own_client.pk,
            "pipeline": pipeline.pk,
            "title": "Office desks",
            "contact": contact.pk,
            "owner": "",
            "sale_type": "",
            "probability": "",
            "expected_close": "2026-12-20",
            **lines_data((product, 3, None), (product, 1, "250.50")),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    deal = Deal.objects.get()
    assert response.url == f"/sales/{deal.pk}/"
    assert deal.owner == owner and deal.contact == contact and deal.stage == stage(pipeline, 10)
    assert deal.amount == Decimal("3250.50")
    # the client bought nothing of the deal's line before
    assert deal.sale_type == deal.sale_type_derived == SaleType.NEW_LINE
    assert deal.probability is None
    card = http.get(f"/clients/{own_client.pk}/").content.decode()
    assert f'data-open-deal="{deal.pk}"' in card
    assert "Office desks" in card


def test_override_sale_type_and_bad_input_saves_nothing(owner, pipeline, own_client, product):
    http = client_for(owner)
    base = {"client": own_client.pk, "pipeline": pipeline.pk, "title": "X"}
    bad = http.post("/sales/new/", {**base, "probability": "150", **lines_data((product, 0, 5))})
    assert bad.status_code == 400
    assert Deal.objects.count() == 0
    html = bad.content.decode()
    assert "100" in html  # the probability's limit is named
    response = http.post(
        "/sales/new/", {**base, "sale_type": "repeat", **lines_data((product, 1, None))}
    )
    assert response.status_code == 302, response.context["lines"].errors
    deal = Deal.objects.get()
    assert (deal.sale_type, deal.sale_type_derived) == ("repeat", "first")


def test_outsider_cannot_open_a_deal_for_anothers_client(outsider, own_client, pipeline):
    http = client_for(outsider)
    assert http.get(f"/sales/new/?client={own_client.pk}").status_code == 404
    response = http.post(
        "/sales/new/", {"client": own_client.pk, "pipeline": pipeline.pk, **lines_data()}
    )
    assert response.status_code == 400
    assert Deal.objects.count() == 0


def test_edit_keeps_probability_and_refuses_stale_version(owner, manager, deal, product):
    http = client_for(owner)
    page = http.get(f"/sales/{deal.pk}/edit/")
    assert page.status_code == 200
    form = {
        "version": deal.version,
        "title": "Renamed",
        "sale_type": "",
        "probability": "40",
        "contact": "",
        "owner": owner.pk,
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "1",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": product.pk,
        "lines-0-quantity": "2",
        "lines-0-price": "1000.00",
    }
    # a colleague moves the deal meanwhile
    client_for(manager).post(
        f"/sales/{deal.pk}/move/", {"version": deal.version, "stage": stage(deal.pipeline, 20).pk}
    )
    stale = http.post(f"/sales/{deal.pk}/edit/", form)
    assert stale.status_code == 400
    assert "Reload the page" in stale.content.decode() or "Обновите" in stale.content.decode()
    deal.refresh_from_db()
    assert deal.title == "Desks for the office" and deal.probability is None
    response = http.post(f"/sales/{deal.pk}/edit/", {**form, "version": deal.version})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Renamed" and deal.probability == 40 and deal.amount == Decimal("2000")
    http.post(
        f"/sales/{deal.pk}/move/", {"version": deal.version, "stage": stage(deal.pipeline, 30).pk}
    )
    deal.refresh_from_db()
    assert deal.stage == stage(deal.pipeline, 30) and deal.probability == 40


def test_detail_steps_move_lose_reopen_win(owner, deal, refusal):
    http = client_for(owner)
    pipeline = deal.pipeline
    with time_machine.travel(msk(2026, 3, 1, 10), tick=False):
        page = http.get(f"/sales/{deal.pk}/")
        html = page.content.decode()
        assert page.status_code == 200
        assert 'id="step-move"' in html and 'id="control-dates"' in html
        move = http.post(
            f"/sales/{deal.pk}/move/", {"version": deal.version, "stage": stage(pipeline, 20).pk}
        )
        assert move.status_code == 302
    deal.refresh_from_db()
    # losing without a category or a note: refused, nothing changed
    bad = http.post(f"/sales/{deal.pk}/lose/", {"version": deal.version, "refusal_note": ""})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="step-errors"' in html
    deal.refresh_from_db()
    assert deal.state == StageKind.OPEN
    lost = http.post(
        f"/sales/{deal.pk}/lose/",
        {"version": deal.version, "refusal": refusal.pk, "refusal_note": "Too expensive"},
    )
    assert lost.status_code == 302
    deal.refresh_from_db()
    assert (deal.state, deal.refusal, deal.lost_at_stage) == ("lost", refusal, stage(pipeline, 20))
    html = http.get(f"/sales/{deal.pk}/").content.decode()
    assert 'id="step-reopen"' in html and 'id="step-move"' not in html
    http.post(f"/sales/{deal.pk}/reopen/", {"version": deal.version, "stage": ""})
    deal.refresh_from_db()
    assert deal.state == "open" and deal.stage == stage(pipeline, 20) and deal.refusal is None
    http.post(f"/sales/{deal.pk}/win/", {"version": deal.version})
    deal.refresh_from_db()
    assert deal.state == "won" and deal.closed_at is not None
    events = list(deal.stage_log.order_by("id").values_list("event", flat=True))
    assert events == ["created", "moved", "lost", "reopened", "won"]
    assert AuditEntry.objects.filter(object_id=str(deal.pk)).count() >= 5


def test_stale_step_is_refused_with_the_services_message(owner, manager, deal):
    seen = deal.version
    client_for(manager).post(
        f"/sales/{deal.pk}/move/", {"version": seen, "stage": stage(deal.pipeline, 20).pk}
    )
    response = client_for(owner).post(
        f"/sales/{deal.pk}/move/", {"version": seen, "stage": stage(deal.pipeline, 30).pk}
    )
    assert response.status_code == 400
    assert "Reload the page and try again" in response.content.decode("utf-8") or (
        "Обновите страницу" in response.content.decode("utf-8")
    )
    deal.refresh_from_db()
    assert deal.stage == stage(deal.pipeline, 20)
    assert deal.stage_log.count() == 2


def test_every_deal_page_renders_in_both_languages(owner, deal, refusal):
    from sales import services

    other = services.deal_create(
        actor=owner, client=deal.client, pipeline=deal.pipeline, data={"title": "Lost one"}
    )
    services.deal_lose(actor=owner, deal=other, refusal=refusal, note="no")
    for language in ("ru", "en"):
        http = client_for(owner, language)
        for url in (
            "/sales/",
            "/sales/new/",
            f"/sales/new/?client={deal.client_id}",
            f"/sales/{deal.pk}/",
            f"/sales/{deal.pk}/edit/",
            f"/sales/{other.pk}/",
            f"/clients/{deal.client_id}/",
        ):
            response = http.get(url)
            assert response.status_code == 200, (language, url)
            assert f'<html lang="{language}">' in response.content.decode()


def test_outsider_gets_404_on_every_deal_url(outsider, deal):
    http = client_for(outsider)
    for url in (f"/sales/{deal.pk}/", f"/sales/{deal.pk}/edit/"):
        assert http.get(url).status_code == 404
    for action in ("move", "win", "lose", "reopen", "edit"):
        assert (
            http.post(f"/sales/{deal.pk}/{action}/", {"version": deal.version}).status_code == 404
        )
    deal.refresh_from_db()
    assert deal.version == 1 and deal.stage_log.count() == 1
    assert StageLog.objects.count() == 1
