"""The respondent's page, with no login: states and status codes, language, bad input that
stores nothing, one answer per invitation (repeat submit, race), opt-out, no staff data."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test import Client as Browser

from surveys import services
from surveys.models import Answer, AnswerItem, Invitation
from tests.surveys.conftest import invite, msk

T0 = msk(2026, 11, 2, 10)


@pytest.fixture
def link(make_campaign, contact, time_machine):
    """(invitation, its answer-page path) of a sent invitation; the clock at T0 + 1 hour."""

    def make(**campaign_fields):
        time_machine.move_to(T0, tick=False)
        invitation = invite(make_campaign(**campaign_fields), contact, at=T0)
        from django.core import mail

        services.send_batch([invitation.pk])
        from tests.surveys.conftest import tokens_in_outbox

        token = tokens_in_outbox()[-1]
        time_machine.move_to(T0 + timedelta(hours=1), tick=False)
        return invitation, f"/s/{token}/", mail

    return make


def page(response) -> str:
    return response.content.decode()


def test_open_marks_opened_and_shows_no_staff_data(link, owner, nps_questionnaire):
    nps_questionnaire.ask_best_employee = False
    nps_questionnaire.save()
    invitation, url, _mail = link()
    response = Browser().get(url)
    html = page(response)
    assert response.status_code == 200
    assert "Насколько вероятно, что вы порекомендуете нас" in html
    assert html.count('class="btn-check"') == 11 and 'name="nps" value="10"' in html
    assert "Это займёт 1–2 минуты." in html
    for staff in (owner.username, owner.email, owner.last_name, "/admin/", "navbar"):
        assert staff not in html, staff
    assert "<script" not in html  # works without JavaScript; nothing inline either
    assert response["Cache-Control"] == "no-store"
    invitation.refresh_from_db()
    assert (invitation.status, invitation.opened_at) == ("opened", T0 + timedelta(hours=1))


def test_best_employee_list_shows_names_only(link, owner, nps_questionnaire):
    nps_questionnaire.ask_best_employee = True
    nps_questionnaire.save()
    _inv, url, _mail = link()
    html = page(Browser().get(url))
    assert f">{owner.get_full_name()}</option>" in html
    for staff in (owner.username, owner.email, "account manager", "менеджер"):
        assert staff not in html, staff
    response = Browser().post(url, {"nps": "9", "best_employee": str(owner.pk)})
    assert response.status_code == 200
    assert Answer.objects.get().best_employee == owner


def test_language_of_the_invitation_and_switchable(link, contact):
    contact.language = "en"
    contact.save()
    _inv, url, _mail = link()
    assert "How likely are you to recommend us" in page(Browser().get(url))
    assert "Насколько вероятно" in page(Browser().get(url + "?lang=ru"))


def test_valid_answer_is_stored_once_and_thanks(link, csat_questionnaire):
    invitation, url, _mail = link(questionnaire=csat_questionnaire)
    item = csat_questionnaire.items.first()
    browser = Browser()
    data = {"nps": "10", f"item_{item.pk}": "5", "comment": "Спасибо"}
    response = browser.post(url, data)
    assert response.status_code == 200 and "Ваш ответ получен" in page(response)
    answer = Answer.objects.get()
    assert (answer.nps, answer.comment, answer.unhappy, answer.complaint) == (
        10,
        "Спасибо",
        False,
        None,
    )
    assert list(AnswerItem.objects.values_list("item_id", "score")) == [(item.pk, 5)]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.answered_at) == ("answered", T0 + timedelta(hours=1))
    # a repeat submit (the back button, a double click): the thank-you page, no second record
    again = browser.post(url, {"nps": "0"})
    assert again.status_code == 200 and "Вы уже ответили" in page(again)
    assert Answer.objects.count() == 1 and Answer.objects.get().nps == 10


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Пожалуйста, выберите оценку от 0 до 10."),
        ({"nps": "11"}, "Выберите корректный вариант"),
        ({"nps": "-1"}, "Выберите корректный вариант"),
        ({"nps": "ten"}, "Выберите корректный вариант"),
        ({"nps": "7", "item_999999": "3"}, None),  # an unknown item is simply not a field
    ],
)
def test_bad_input_gives_a_clear_message_and_stores_nothing(link, data, message):
    invitation, url, _mail = link()
    response = Browser().post(url, data)
    if message is None:
        assert response.status_code == 200
        assert list(AnswerItem.objects.all()) == []
        return
    assert response.status_code == 400
    assert message in page(response)
    assert Answer.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.status == "sent"


def test_out_of_range_item_score_is_refused(link, csat_questionnaire):
    _inv, url, _mail = link(questionnaire=csat_questionnaire)
    item = csat_questionnaire.items.first()
    response = Browser().post(url, {"nps": "8", f"item_{item.pk}": "6"})
    assert response.status_code == 400 and "Выберите корректный вариант" in page(response)
    assert Answer.objects.count() == 0


def test_service_refuses_out_of_range_and_unknown_items(link, csat_questionnaire):
    from django.core.exceptions import ValidationError

    invitation, _url, _mail = link(questionnaire=csat_questionnaire)
    item = csat_questionnaire.items.first()
    for data, field in (
        ({"nps": 11}, "nps"),
        ({"nps": 5, "items": {item.pk: 0}}, f"item_{item.pk}"),
        ({"nps": 5, "items": {item.pk + 1000: 3}}, "__all__"),
        ({"items": {item.pk: 4}}, "nps"),
    ):
        with pytest.raises(ValidationError) as error:
            services.answer_submit(invitation=invitation, data=data)
        assert field in error.value.message_dict, data
    assert Answer.objects.count() == 0


def test_tampered_or_unknown_token_is_404_in_the_right_language(link):
    _inv, url, _mail = link()
    tampered = url[:-2] + ("A" if url[-2] != "A" else "B") + "/"
    response = Browser().get(tampered)
    assert response.status_code == 404 and "Эта ссылка недействительна" in page(response)
    english = Browser().get(tampered + "?lang=en")
    assert english.status_code == 404 and "This link is not valid" in page(english)
    assert Browser().post(tampered, {"nps": "9"}).status_code == 404
    assert Browser().get("/s/" + "x" * 300 + "/").status_code == 404
    assert Answer.objects.count() == 0


def test_expired_link_is_410(link, time_machine):
    invitation, url, _mail = link()
    time_machine.move_to(T0 + timedelta(days=15), tick=False)
    response = Browser().get(url)
    assert response.status_code == 410 and "Этот опрос завершён" in page(response)
    assert Browser().post(url, {"nps": "9"}).status_code == 410
    assert Answer.objects.count() == 0
    invitation.refresh_from_db()
    assert invitation.status == "sent"  # not even opened


def test_opening_follows_the_link_state_to_the_second(link, contact, time_machine):
    """The GET's read also marks the invitation opened (one statement on PostgreSQL): only a
    queued or sent invitation whose link is open — the second before expiry opens it, expiry
    itself does not; a contact who opted out, or an answered invitation, is left as it is."""
    invitation, url, _mail = link()
    time_machine.move_to(invitation.expires_at, tick=False)
    assert Browser().get(url).status_code == 410
    invitation.refresh_from_db()
    assert (invitation.status, invitation.opened_at) == ("sent", None)
    time_machine.move_to(invitation.expires_at - timedelta(seconds=1), tick=False)
    contact.survey_opt_out = True
    contact.save()
    assert Browser().get(url).status_code == 410
    invitation.refresh_from_db()
    assert (invitation.status, invitation.opened_at) == ("sent", None)
    contact.survey_opt_out = False
    contact.save()
    Invitation.objects.filter(pk=invitation.pk).update(status="queued")
    assert Browser().get(url).status_code == 200
    invitation.refresh_from_db()
    assert (invitation.status, invitation.opened_at) == (
        "opened",
        invitation.expires_at - timedelta(seconds=1),
    )
    assert Browser().post(url, {"nps": "9"}).status_code == 200
    assert Browser().get(url).status_code == 200  # the thank-you page
    invitation.refresh_from_db()
    assert invitation.status == "answered"


def test_opt_out_page_then_the_link_is_410(link, contact):
    invitation, url, _mail = link()
    confirm = Browser().get(url + "opt-out/")
    assert confirm.status_code == 200 and "Да, больше не присылайте" in page(confirm)
    contact.refresh_from_db()
    assert contact.survey_opt_out is False  # a GET changes nothing (link scanners)
    done = Browser(enforce_csrf_checks=True).post(url + "opt-out/")  # one-click: no form token
    assert done.status_code == 200 and "Вы отписались" in page(done)
    contact.refresh_from_db()
    invitation.refresh_from_db()
    assert contact.survey_opt_out is True and invitation.status == "opted_out"
    response = Browser().get(url)
    assert response.status_code == 410 and "Вы отписались" in page(response)


def test_a_lost_race_returns_the_first_answer(link):
    """Two submits at once: both saw the invitation open; the second's INSERT hits the unique
    constraint, its transaction is rolled back and the first answer returned, nothing else
    stored (no item, no case, the invitation untouched by it)."""
    invitation, _url, _mail = link()
    first = services.answer_submit(invitation=invitation, data={"nps": 9})
    Invitation.objects.filter(pk=invitation.pk).update(status="opened")  # as the racer saw it
    invitation.refresh_from_db()
    second = services.answer_submit(invitation=invitation, data={"nps": 1})
    assert second == first
    assert Answer.objects.count() == 1 and Answer.objects.get().nps == 9
    with pytest.raises(IntegrityError):  # and it is the database that refuses
        from django.db import transaction

        with transaction.atomic():
            Answer.objects.create(invitation=invitation, nps=1, submitted_at=T0)


def test_the_page_reads_little(link, csat_questionnaire, django_assert_max_num_queries):
    _inv, url, _mail = link(questionnaire=csat_questionnaire)
    browser = Browser()
    with django_assert_max_num_queries(6):
        assert browser.get(url).status_code == 200
    items = {f"item_{i.pk}": "5" for i in csat_questionnaire.items.all()}
    with django_assert_max_num_queries(14):
        assert browser.post(url, {"nps": "9", **items}).status_code == 200


def test_the_link_is_the_key_no_csrf_token(link):
    """No cookie carries authority on this page: the form has no CSRF token and a post from
    a client that enforces CSRF checks is taken (the token in the path is the credential)."""
    _inv, url, _mail = link()
    browser = Browser(enforce_csrf_checks=True)
    html = page(browser.get(url))
    assert "csrfmiddlewaretoken" not in html
    assert "Set-Cookie" not in str(browser.get(url).headers)
    response = browser.post(url, {"nps": "10"})
    assert response.status_code == 200
    assert Answer.objects.get().nps == 10


def test_reads_per_request(link, django_assert_num_queries, nps_questionnaire):
    """The first GET: the token lookup that marks the invitation opened (on SQLite, the lookup
    and then the update), the items (once per questionnaire version in the process) and the
    staff list of the blank form; later GETs of any invitation of the same questionnaire: the
    lookup alone."""
    nps_questionnaire.ask_best_employee = True
    nps_questionnaire.save()
    _inv, url, _mail = link()
    with django_assert_num_queries(4 if connection.vendor == "sqlite" else 3):
        assert Browser().get(url).status_code == 200
    with django_assert_num_queries(1):
        assert Browser().get(url).status_code == 200


def test_an_edited_questionnaire_shows_at_once(link, nps_questionnaire, time_machine):
    nps_questionnaire.ask_liked = False
    nps_questionnaire.save()
    _inv, url, _mail = link()
    assert 'name="liked"' not in page(Browser().get(url))
    time_machine.shift(timedelta(seconds=1))
    nps_questionnaire.ask_liked = True
    nps_questionnaire.save()
    assert 'name="liked"' in page(Browser().get(url))


def test_the_token_lookup_gives_what_the_orm_gives(link, django_assert_num_queries):
    """The answer page's hand-written read converts values like the ORM (SQLite's dates and
    booleans included) and loads any other column on first use."""
    from surveys.selectors import invitation_for_token

    invitation, url, _mail = link(anonymous=True)
    token = url.split("/")[2]
    with django_assert_num_queries(1):
        found = invitation_for_token(token)
        assert found.campaign.questionnaire.title_en  # read in the same query
        assert found.contact.survey_opt_out is False
    stored = Invitation.objects.select_related("campaign__questionnaire", "contact").get()
    assert found.pk == stored.pk and found.status == stored.status == "sent"
    assert found.expires_at == stored.expires_at and found.expires_at.tzinfo is not None
    assert found.campaign.anonymous is True
    q, stored_q = found.campaign.questionnaire, stored.campaign.questionnaire
    assert [getattr(q, f.attname) for f in q._meta.concrete_fields] == [
        getattr(stored_q, f.attname) for f in stored_q._meta.concrete_fields
    ]
    assert found.campaign.name == stored.campaign.name  # deferred: read now
    assert invitation_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
