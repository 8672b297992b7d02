"""Managers' pages: pipelines with stages, refusal categories, sales settings; the admin."""

import pytest

from crm.models import AuditEntry
from sales.models import Pipeline, RefusalCategory, SalesSettings, Stage
from tests.conftest import client_for
from tests.sales.conftest import stage

pytestmark = pytest.mark.django_db


def stage_form(pipeline, extra_rows=()):
    stages = list(pipeline.stages.order_by("order", "id")) if pipeline else []
    data = {
        "stages-TOTAL_FORMS": str(len(stages) + len(extra_rows)),
        "stages-INITIAL_FORMS": str(len(stages)),
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
    }
    rows = [
        {
            "id": s.pk,
            "name_ru": s.name_ru,
            "name_en": s.name_en,
            "order": s.order,
            "kind": s.kind,
            "probability": s.probability,
            "expected_days": s.expected_days,
            "exit_criteria_ru": s.exit_criteria_ru,
            "exit_criteria_en": s.exit_criteria_en,
            "is_active": "on" if s.is_active else "",
        }
        for s in stages
    ] + list(extra_rows)
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"stages-{i}-{key}"] = value
        if pipeline:
            data[f"stages-{i}-pipeline"] = pipeline.pk
    return data


def new_row(name, order, kind, probability=0, days=0):
    return {
        "name_ru": name + " ru",
        "name_en": name,
        "order": order,
        "kind": kind,
        "probability": probability,
        "expected_days": days,
        "exit_criteria_ru": "",
        "exit_criteria_en": "Done when done",
        "is_active": "on",
    }


def test_manager_creates_a_pipeline_with_stages(manager):
    http = client_for(manager)
    assert http.get("/sales/pipelines/new/").status_code == 200
    base = {"code": "service", "name_ru": "Сервис", "name_en": "Service", "order": 20}
    # no won / lost stage: refused, nothing saved
    bad = http.post(
        "/sales/pipelines/new/",
        {**base, "is_active": "on", **stage_form(None, [new_row("Talk", 10, "open", 20, 5)])},
    )
    assert bad.status_code == 400
    assert not Pipeline.objects.filter(code="service").exists()
    response = http.post(
        "/sales/pipelines/new/",
        {
            **base,
            "is_active": "on",
            **stage_form(
                None,
                [
                    new_row("Talk", 10, "open", 20, 5),
                    new_row("Won", 90, "won", 100),
                    new_row("Lost", 99, "lost"),
                ],
            ),
        },
    )
    assert response.status_code == 302, (
        response.context["form"].errors,
        response.context["stages"].errors,
    )
    pipeline = Pipeline.objects.get(code="service")
    assert [(s.name_en, s.kind, s.probability) for s in pipeline.stages.order_by("order")] == [
        ("Talk", "open", 20),
        ("Won", "won", 100),
        ("Lost", "lost", 0),
    ]
    assert pipeline.stages.get(order=10).exit_criteria_en == "Done when done"
    assert AuditEntry.objects.filter(object_id=str(pipeline.pk)).exists()


def test_stage_with_deals_cannot_be_removed_or_change_kind(manager, deal):
    pipeline = deal.pipeline
    http = client_for(manager)
    assert http.get(f"/sales/pipelines/{pipeline.pk}/").status_code == 200
    data = {
        "code": pipeline.code,
        "name_ru": pipeline.name_ru,
        "name_en": pipeline.name_en,
        "order": pipeline.order,
        "is_active": "on",
        **stage_form(pipeline),
    }
    data["stages-0-DELETE"] = "on"  # "Needs": the deal is in it
    response = http.post(f"/sales/pipelines/{pipeline.pk}/", data)
    assert response.status_code == 400
    assert Stage.objects.filter(pk=deal.stage_id).exists()
    data.pop("stages-0-DELETE")
    data["stages-0-kind"] = "won"
    assert http.post(f"/sales/pipelines/{pipeline.pk}/", data).status_code == 400
    assert stage(pipeline, 10).kind == "open"
    data["stages-0-kind"] = "open"
    data["stages-1-probability"] = "35"
    data["stages-1-name_en"] = "Offer"
    assert http.post(f"/sales/pipelines/{pipeline.pk}/", data).status_code == 302
    assert (stage(pipeline, 20).name_en, stage(pipeline, 20).probability) == ("Offer", 35)


def test_refusals_and_settings(manager):
    http = client_for(manager)
    assert http.get("/sales/refusals/").status_code == 200
    response = http.post(
        "/sales/refusals/new/",
        {
            "code": "timing",
            "name_ru": "Не вовремя",
            "name_en": "Bad timing",
            "order": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    refusal = RefusalCategory.objects.get(code="timing")
    assert http.get(f"/sales/refusals/{refusal.pk}/").status_code == 200
    bad = http.post("/sales/settings/", {"class_a_ageing_pct": "5", "red_ageing_pct": "150"})
    assert bad.status_code == 400
    assert SalesSettings.load().class_a_ageing_pct == 70
    ok = http.post("/sales/settings/", {"class_a_ageing_pct": "60", "red_ageing_pct": "200"})
    assert ok.status_code == 302
    settings = SalesSettings.load()
    assert (settings.class_a_ageing_pct, settings.red_ageing_pct) == (60, 200)


def test_manager_pages_render_in_both_languages_and_are_404_for_account_managers(
    manager, owner, pipeline, refusal
):
    urls = [
        "/sales/pipelines/",
        "/sales/pipelines/new/",
        f"/sales/pipelines/{pipeline.pk}/",
        "/sales/refusals/",
        "/sales/refusals/new/",
        f"/sales/refusals/{refusal.pk}/",
        "/sales/settings/",
    ]
    for language in ("ru", "en"):
        http = client_for(manager, language)
        for url in urls:
            assert http.get(url).status_code == 200, url
    for url in urls:
        assert client_for(owner).get(url).status_code == 404, url
        assert client_for(owner).post(url, {"code": "x"}).status_code == 404, url


def test_admin_pages(db, deal):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    http = client_for(admin)
    for url in (
        "/admin/sales/deal/",
        f"/admin/sales/deal/{deal.pk}/change/",
        "/admin/sales/stagelog/",
        "/admin/sales/pipeline/",
        "/admin/sales/refusalcategory/",
    ):
        assert http.get(url).status_code == 200, url
    entry = deal.stage_log.get()
    assert (
        http.post(f"/admin/sales/stagelog/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
