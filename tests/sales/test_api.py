"""The sales API: scope (outsider 404 on every deal endpoint), CRUD through the services,
steps with versions (409 on a stale one, 400 on a broken rule), managers-only writes."""

from decimal import Decimal

import pytest
from django.utils import translation

from sales.models import Deal, Pipeline, RefusalCategory, Stage
from tests.conftest import client_for
from tests.sales.conftest import stage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def api(user):
    return client_for(user, "en")


def test_create_list_retrieve_update(owner, outsider, own_client, pipeline, product, contact):
    http = api(owner)
    response = http.post(
        "/api/deals/",
        {
            "client": own_client.pk,
            "pipeline": pipeline.pk,
            "title": "API deal",
            "contact": contact.pk,
            "lines": [{"product": product.pk, "quantity": "2", "price": None}],
            "expected_close": "2026-12-31",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == "2000.00" and body["sale_type"] == "first"
    assert body["stage"] == stage(pipeline, 10).pk and body["effective_probability"] == 10
    deal_id = body["id"]
    listed = http.get("/api/deals/?state=open").json()
    assert [d["id"] for d in listed["results"]] == [deal_id]
    assert api(outsider).get("/api/deals/").json()["results"] == []
    patched = http.patch(
        f"/api/deals/{deal_id}/",
        {"probability": 45, "expected_version": 1},
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["probability"] == 45
    stale = http.patch(
        f"/api/deals/{deal_id}/",
        {"title": "old page", "expected_version": 1},
        content_type="application/json",
    )
    assert stale.status_code == 409 and "Reload" in stale.json()["detail"][0]
    assert Deal.objects.get().title == "API deal"
    moved_stage = http.patch(
        f"/api/deals/{deal_id}/", {"stage": stage(pipeline, 30).pk}, content_type="application/json"
    )
    assert moved_stage.status_code == 400
    assert Deal.objects.get().stage == stage(pipeline, 10)


def test_outsiders_client_refused_on_create(outsider, own_client, pipeline):
    response = api(outsider).post(
        "/api/deals/",
        {"client": own_client.pk, "pipeline": pipeline.pk},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Deal.objects.exists()


def test_steps_with_versions_and_rules(owner, deal, refusal):
    http = api(owner)
    pipeline = deal.pipeline
    url = f"/api/deals/{deal.pk}"
    other = Pipeline.objects.create(code="svc", name_ru="С", name_en="S")
    foreign = Stage.objects.create(pipeline=other, name_ru="x", name_en="x")
    refused = http.post(f"{url}/move/", {"stage": foreign.pk, "version": 1})
    assert refused.status_code == 400 and "another pipeline" in str(refused.json())
    moved = http.post(f"{url}/move/", {"stage": stage(pipeline, 20).pk, "version": 1})
    assert moved.status_code == 200 and moved.json()["version"] == 2
    stale = http.post(f"{url}/move/", {"stage": stage(pipeline, 30).pk, "version": 1})
    assert stale.status_code == 409
    no_category = http.post(
        f"{url}/lose/",
        {"refusal": None, "note": "x", "version": 2},
        content_type="application/json",
    )
    assert no_category.status_code == 400 and "refusal" in no_category.json()
    lost = http.post(f"{url}/lose/", {"refusal": refusal.pk, "note": "dear", "version": 2})
    assert lost.status_code == 200 and lost.json()["state"] == "lost"
    assert lost.json()["lost_at_stage"] == stage(pipeline, 20).pk
    reopened = http.post(f"{url}/reopen/", {"version": 3})
    assert reopened.status_code == 200 and reopened.json()["stage"] == stage(pipeline, 20).pk
    won = http.post(f"{url}/win/", {"version": 4})
    assert won.status_code == 200 and won.json()["state"] == "won"
    again = http.post(f"{url}/win/", {})
    assert again.status_code == 400
    log = http.get(f"/api/deal-stage-log/?deal={deal.pk}").json()["results"]
    assert [e["event"] for e in log] == ["created", "moved", "lost", "reopened", "won"]


def test_outsider_gets_404_on_every_deal_endpoint(outsider, deal, refusal):
    http = api(outsider)
    url = f"/api/deals/{deal.pk}/"
    assert http.get(url).status_code == 404
    assert http.patch(url, {"title": "x"}, content_type="application/json").status_code == 404
    assert http.put(url, {"title": "x"}, content_type="application/json").status_code == 404
    for step, data in (
        ("move", {"stage": stage(deal.pipeline, 20).pk}),
        ("win", {}),
        ("lose", {"refusal": refusal.pk, "note": "x"}),
        ("reopen", {}),
    ):
        assert http.post(f"{url}{step}/", data).status_code == 404, step
    entry = deal.stage_log.get()
    assert http.get(f"/api/deal-stage-log/{entry.pk}/").status_code == 404
    assert http.get("/api/deal-stage-log/").json()["results"] == []
    assert http.get(f"/api/deal-stage-log/?deal={deal.pk}").status_code == 400
    assert http.get(f"/api/deals/?client={deal.client_id}").status_code == 400
    deal.refresh_from_db()
    assert deal.version == 1 and deal.title == "Desks for the office"


def test_reference_data_read_for_all_write_for_managers(owner, manager, pipeline, refusal):
    http = api(owner)
    pipelines = http.get("/api/pipelines/").json()["results"]
    assert pipelines[0]["stages"][0]["name_en"]
    assert http.get(f"/api/stages/?pipeline={pipeline.pk}").status_code == 200
    assert http.get("/api/refusal-categories/").status_code == 200
    assert http.post("/api/refusal-categories/", {"code": "x"}).status_code == 403
    assert (
        http.patch(
            f"/api/stages/{stage(pipeline, 10).pk}/",
            {"probability": 5},
            content_type="application/json",
        ).status_code
        == 403
    )
    boss = api(manager)
    created = boss.post(
        "/api/refusal-categories/",
        {"code": "timing", "name_ru": "Не вовремя", "name_en": "Bad timing"},
    )
    assert created.status_code == 201
    assert RefusalCategory.objects.filter(code="timing").exists()
    # a new pipeline is built inactive, stage by stage, then activated
    new = boss.post(
        "/api/pipelines/",
        {"code": "svc", "name_ru": "Сервис", "name_en": "Service", "is_active": False},
    )
    assert new.status_code == 201, new.json()
    pid = new.json()["id"]
    for order, kind in ((10, "open"), (90, "won"), (99, "lost")):
        made = boss.post(
            "/api/stages/",
            {"pipeline": pid, "name_ru": kind, "name_en": kind, "order": order, "kind": kind},
            content_type="application/json",
        )
        assert made.status_code == 201, made.json()
    active = boss.patch(
        f"/api/pipelines/{pid}/", {"is_active": True}, content_type="application/json"
    )
    assert active.status_code == 200, active.json()
    # a stage with deals keeps its kind
    changed = boss.patch(
        f"/api/stages/{stage(pipeline, 10).pk}/",
        {"probability": 15},
        content_type="application/json",
    )
    assert changed.status_code == 200 and stage(pipeline, 10).probability == 15


def test_stage_kind_with_deals_cannot_change(manager, deal):
    response = api(manager).patch(
        f"/api/stages/{deal.stage_id}/", {"kind": "won"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert Stage.objects.get(pk=deal.stage_id).kind == "open"
    assert Deal.objects.get().amount == Decimal("2000")


def test_api_deal_list_query_count_is_bounded(owner, make_deal, django_assert_max_num_queries):
    from tests.factories import ClientFactory

    for _n in range(20):
        make_deal(ClientFactory(account_manager=owner))
    http = api(owner)
    http.get("/api/deals/")
    with django_assert_max_num_queries(8):
        response = http.get("/api/deals/?state=open")
    assert response.json()["count"] == 20
