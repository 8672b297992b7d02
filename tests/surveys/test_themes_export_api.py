"""Comment themes outside the answers page: the "Themes" column of the answers workbook (names
in the viewer's language, a bounded number of queries) and the answers API (read-only
``themes`` with ids and names; ``PUT …/themes/`` tags through the same audited service with the
same access rule; an anonymous campaign's answers never name the respondent)."""

from io import BytesIO

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from openpyxl import load_workbook
from rest_framework.test import APIClient

from crm.models import AuditEntry
from feedback.models import Theme
from surveys.services.themes import answer_themes_set
from tests.conftest import client_for
from tests.factories import ClientFactory
from tests.surveys.conftest import msk
from tests.surveys.test_analytics import answer

NOW = msk(2026, 11, 20, 12)
ANSWERS = reverse("survey_analytics:answers")


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    cache.clear()


@pytest.fixture
def delivery(db):
    return Theme.objects.create(code="delivery", name_en="Delivery", name_ru="Доставка")


@pytest.fixture
def docs(db):
    return Theme.objects.create(code="docs", name_en="Documents", name_ru="Документы")


@pytest.fixture
def named(make_campaign):
    return make_campaign(name="Named NPS")


@pytest.fixture
def anon(make_campaign):
    return make_campaign(name="Anonymous NPS", anonymous=True)


def api_for(user, language: str = "en") -> APIClient:
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    api.force_authenticate(user)
    return api


def themes_url(a) -> str:
    return f"/api/survey-answers/{a.pk}/themes/"


def theme_audits(a) -> int:
    return AuditEntry.objects.filter(object_id=str(a.pk), changes__has_key="themes").count()


# --- the workbook -------------------------------------------------------------------------------
def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content
    sheet = load_workbook(BytesIO(response.content)).active
    # an empty text cell reads back as "" or None depending on how it was written
    return [tuple(None if v == "" else v for v in row) for row in sheet.iter_rows(values_only=True)]


def test_export_has_the_themes_in_the_viewers_language(
    delivery, docs, named, anon, own_client, manager
):
    tagged = answer(named, own_client, 3, comment="late again", at=msk(2026, 11, 12, 9))
    answer_themes_set(actor=manager, answer=tagged, themes=[docs, delivery])
    answer(named, own_client, 10, comment="fine", at=msk(2026, 11, 11, 9))
    anonymous = [
        answer(anon, own_client, 2, comment=f"anon {i}", at=msk(2026, 11, 5, 9)) for i in range(5)
    ]
    answer_themes_set(actor=manager, answer=anonymous[0], themes=[delivery])
    contact = tagged.invitation.contact.full_name

    en = xlsx_rows(client_for(manager, "en").get(ANSWERS, {"format": "xlsx"}))
    assert en[0] == (
        "Submitted",
        "Campaign",
        "Client",
        "Contact",
        "NPS",
        "Comment",
        "What they liked",
        "Complaint",
        "Themes",
    )
    assert len(en) == 1 + 7
    # newest first; the themes in the themes' order (same order value: by id)
    assert en[1] == (
        "2026-11-12 09:00",
        "Named NPS",
        "Acme Ltd",
        contact,
        3,
        "late again",
        None,
        None,
        "Delivery, Documents",
    )
    assert en[2][-1] is None  # untagged
    # the anonymous answers: date only, no client, no contact, their themes shown
    assert en[7] == (
        "2026-11-05",
        "Anonymous NPS",
        None,
        None,
        2,
        "anon 0",
        None,
        None,
        "Delivery",
    )
    assert [r[-1] for r in en[3:7]] == [None] * 4

    ru = xlsx_rows(client_for(manager, "ru").get(ANSWERS, {"format": "xlsx"}))
    assert ru[0][-1] == "Темы"
    assert ru[1][-1] == "Доставка, Документы" and ru[7][-1] == "Доставка"
    assert not any(contact in str(cell) for row in ru[3:] for cell in row)


def test_export_of_the_theme_filter_and_of_an_account_manager(
    delivery, docs, named, own_client, owner, outsider, manager
):
    mine = answer(named, own_client, 4, comment="slow")
    answer_themes_set(actor=manager, answer=mine, themes=[delivery])
    theirs = answer(named, ClientFactory(name="Other", account_manager=outsider), 5)
    answer_themes_set(actor=manager, answer=theirs, themes=[delivery, docs])
    rows = xlsx_rows(client_for(manager, "en").get(ANSWERS, {"format": "xlsx", "theme": docs.pk}))
    assert [(r[2], r[-1]) for r in rows[1:]] == [("Other", "Delivery, Documents")]
    rows = xlsx_rows(client_for(owner, "en").get(ANSWERS, {"format": "xlsx"}))
    assert [(r[2], r[-1]) for r in rows[1:]] == [("Acme Ltd", "Delivery")]


def test_export_queries_do_not_grow_with_the_rows(
    delivery, docs, named, own_client, manager, manager_client, django_assert_max_num_queries
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            xlsx_rows(manager_client.get(ANSWERS, {"format": "xlsx"}))
        return len(ctx)

    answer_themes_set(actor=manager, answer=answer(named, own_client, 3), themes=[delivery])
    first = queries()
    for i in range(12):
        a = answer(named, ClientFactory(), 5, comment=f"c{i}")
        a.themes.set([delivery, docs] if i % 2 else [docs])
    assert queries() == first
    # session and user, the anonymous count, the rows, their themes
    with django_assert_max_num_queries(6):
        manager_client.get(ANSWERS, {"format": "xlsx"})


# --- the API: reading -------------------------------------------------------------------------
def test_api_answers_carry_their_themes_without_naming_anonymous_respondents(
    delivery, docs, named, anon, own_client, manager
):
    tagged = answer(named, own_client, 3, comment="late")
    answer_themes_set(actor=manager, answer=tagged, themes=[docs, delivery])
    plain = answer(named, own_client, 9)
    anonymous = [answer(anon, own_client, 2) for _ in range(5)]
    answer_themes_set(actor=manager, answer=anonymous[0], themes=[delivery])

    rows = {
        r["id"]: r for r in api_for(manager, "en").get("/api/survey-answers/").json()["results"]
    }
    assert len(rows) == 7
    assert rows[tagged.pk]["themes"] == [
        {"id": delivery.pk, "code": "delivery", "name": "Delivery"},
        {"id": docs.pk, "code": "docs", "name": "Documents"},
    ]
    assert rows[plain.pk]["themes"] == []
    row = rows[anonymous[0].pk]
    assert row["themes"] == [{"id": delivery.pk, "code": "delivery", "name": "Delivery"}]
    assert (row["client"], row["contact"], row["invitation"]) == (None, None, None)

    one = api_for(manager, "ru").get(f"/api/survey-answers/{tagged.pk}/").json()
    assert [t["name"] for t in one["themes"]] == ["Доставка", "Документы"]


def test_api_answer_list_queries_do_not_grow_with_themes(
    delivery, docs, named, own_client, manager
):
    api = api_for(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get("/api/survey-answers/").status_code == 200
        return len(ctx)

    answer_themes_set(actor=manager, answer=answer(named, own_client, 3), themes=[delivery])
    first = queries()
    for i in range(8):
        answer(named, ClientFactory(), 5).themes.set([delivery, docs] if i % 2 else [docs])
    assert queries() == first


# --- the API: tagging ---------------------------------------------------------------------------
def test_owner_tags_their_answer_through_the_api_audited(delivery, docs, named, own_client, owner):
    a = answer(named, own_client, 3, comment="late")
    r = api_for(owner).put(themes_url(a), {"themes": [docs.pk, delivery.pk]}, format="json")
    assert r.status_code == 200, r.content
    assert [t["code"] for t in r.json()["themes"]] == ["delivery", "docs"]
    assert r.json()["client"] == own_client.pk
    assert set(a.themes.values_list("code", flat=True)) == {"delivery", "docs"}
    entry = AuditEntry.objects.filter(object_id=str(a.pk)).latest("id")
    assert entry.actor == owner
    assert entry.changes == {"themes": [[], ["delivery", "docs"]]}
    # the same set again changes nothing and writes no second entry; [] removes them all
    api_for(owner).put(themes_url(a), {"themes": [delivery.pk, docs.pk]}, format="json")
    assert theme_audits(a) == 1
    r = api_for(owner).put(themes_url(a), {"themes": []}, format="json")
    assert r.status_code == 200 and r.json()["themes"] == []
    assert not a.themes.exists() and theme_audits(a) == 2


def test_another_account_manager_gets_404_and_nothing_changes(
    delivery, docs, named, anon, own_client, owner, outsider
):
    a = answer(named, own_client, 3)
    a.themes.set([docs])
    r = api_for(outsider).put(themes_url(a), {"themes": [delivery.pk]}, format="json")
    assert r.status_code == 404
    assert list(a.themes.all()) == [docs] and theme_audits(a) == 0
    # nor may the account manager tag an anonymous answer of their own client: they cannot
    # list it
    hidden = answer(anon, own_client, 2)
    r = api_for(owner).put(themes_url(hidden), {"themes": [delivery.pk]}, format="json")
    assert r.status_code == 404
    assert not hidden.themes.exists() and theme_audits(hidden) == 0


def test_manager_tags_an_anonymous_answer_still_without_respondent(
    delivery, anon, own_client, manager
):
    a = answer(anon, own_client, 2, comment="courier late")
    r = api_for(manager).put(themes_url(a), {"themes": [delivery.pk]}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["client"], body["contact"], body["invitation"], body["complaint"]) == (
        None,
        None,
        None,
        None,
    )
    assert body["submitted"] == "2026-11-10"
    assert body["themes"] == [{"id": delivery.pk, "code": "delivery", "name": "Delivery"}]
    assert own_client.name not in r.content.decode()
    assert list(a.themes.all()) == [delivery]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"themes": [999999]}, {"themes": ["Unknown theme: 999999."]}),
        ("inactive", None),  # filled in below: the inactive theme's id
        ({"themes": ["abc"]}, {"themes": {"0": ["A valid integer is required."]}}),
        ({"themes": "1"}, {"themes": ['Expected a list of items but got type "str".']}),
        ({}, {"themes": ["This field is required."]}),
        (
            {"themes": [10**30]},
            {"themes": {"0": ["Ensure this value is less than or equal to 2147483647."]}},
        ),
    ],
)
def test_bad_theme_ids_are_a_400_and_change_nothing(
    payload, message, delivery, docs, named, own_client, manager
):
    a = answer(named, own_client, 3)
    a.themes.set([docs])
    if payload == "inactive":
        old = Theme.objects.create(code="old", name_en="Old", name_ru="Старая", is_active=False)
        payload = {"themes": [delivery.pk, old.pk]}
        message = {"themes": [f"Unknown theme: {old.pk}."]}
    r = api_for(manager).put(themes_url(a), payload, format="json")
    assert r.status_code == 400
    assert r.json() == message
    assert list(a.themes.all()) == [docs] and theme_audits(a) == 0


def test_the_error_speaks_the_request_language(delivery, named, own_client, manager):
    a = answer(named, own_client, 3)
    r = api_for(manager, "ru").put(themes_url(a), {"themes": [999999]}, format="json")
    assert r.json() == {"themes": ["Неизвестная тема: 999999."]}


def test_the_schema_documents_themes_and_tagging(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    themes = components["Answer"]["properties"]["themes"]
    assert themes["readOnly"] is True and themes["type"] == "array"
    item = components[themes["items"]["$ref"].rsplit("/", 1)[1]]
    assert set(item["properties"]) == {"id", "code", "name"}
    put = schema["paths"]["/api/survey-answers/{id}/themes/"]["put"]
    body = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = components[body.rsplit("/", 1)[1]]
    assert request["properties"]["themes"]["items"]["type"] == "integer"
    assert request["required"] == ["themes"]
    assert put["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Answer"
    )
