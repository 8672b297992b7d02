"""The staff pages of surveys: every page for a manager and an account manager in both
languages, who may write (managers) and who gets 404, bad input (field errors, nothing saved),
the audience preview equal to what the launch invites, and the client card's survey panel and
timeline (anonymous answers never shown with the respondent, bounded queries)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEntry, OutboxMessage
from surveys import services
from surveys.models import Answer, Campaign, Invitation, Questionnaire, QuestionnaireItem
from surveys.selectors import survey_settings
from tests.conftest import client_for
from tests.factories import ClientFactory, ContactFactory, ProductLineFactory
from tests.surveys.conftest import invite


@pytest.fixture
def manager_client(manager):
    return client_for(manager, "en")


@pytest.fixture
def owner_client(owner):
    return client_for(owner, "en")


@pytest.fixture
def outsider_client(outsider):
    return client_for(outsider, "en")


@pytest.fixture
def campaign(make_campaign):
    return make_campaign(name="Class A yearly", filters={"abc": ["A"]})


@pytest.fixture
def launched(campaign, contact, manager, django_capture_on_commit_callbacks):
    """The owner's client's contact invited and answered (NPS 9); an outsider's client's too."""
    other = ClientFactory(name="Other Co", abc_class="A")
    other_contact = ContactFactory(client=other, full_name="Oleg Other", email="o@other.example")
    mine = invite(campaign, contact, status="answered", sent_at=timezone.now())
    theirs = invite(campaign, other_contact, status="sent", sent_at=timezone.now())
    mine.answered_at = timezone.now()
    mine.save()
    Answer.objects.create(
        invitation=mine, nps=9, comment="Great service", submitted_at=timezone.now()
    )
    return mine, theirs


def pages(campaign, questionnaire) -> dict[str, str]:
    return {
        "campaigns": reverse("survey_manage:campaigns"),
        "campaign": reverse("survey_manage:campaign", args=[campaign.pk]),
        "questionnaires": reverse("survey_manage:questionnaires"),
        "questionnaire": reverse("survey_manage:questionnaire", args=[questionnaire.pk]),
    }


def manager_pages(campaign, questionnaire) -> dict[str, str]:
    return {
        "campaign_create": reverse("survey_manage:campaign_create"),
        "campaign_edit": reverse("survey_manage:campaign_edit", args=[campaign.pk]),
        "campaign_launch": reverse("survey_manage:campaign_launch", args=[campaign.pk]),
        "preview": reverse("survey_manage:preview") + "?abc=A",
        "questionnaire_create": reverse("survey_manage:questionnaire_create"),
        "questionnaire_edit": reverse("survey_manage:questionnaire_edit", args=[questionnaire.pk]),
        "settings": reverse("survey_manage:settings"),
    }


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ["Campaigns", "Questionnaires"]), ("ru", ["Кампании", "Анкеты"])],
)
def test_every_page_renders_for_manager_and_account_manager(
    manager, owner, campaign, nps_questionnaire, launched, language, words
):
    for user, urls in (
        (
            manager,
            {**pages(campaign, nps_questionnaire), **manager_pages(campaign, nps_questionnaire)},
        ),
        (owner, pages(campaign, nps_questionnaire)),
    ):
        http = client_for(user, language)
        for name, url in urls.items():
            response = http.get(url)
            assert response.status_code == 200, (user, name)
            html = response.content.decode()
            if name != "preview":
                assert all(word in html for word in words), (user, name)


def test_navigation_points_to_the_campaign_list(manager_client):
    html = manager_client.get("/").content.decode()
    assert 'href="/surveys/" data-nav="surveys"' in html


def test_account_managers_get_404_on_manager_pages_and_anonymous_users_log_in(
    owner_client, campaign, nps_questionnaire, client
):
    for name, url in manager_pages(campaign, nps_questionnaire).items():
        assert owner_client.get(url).status_code == 404, name
        assert owner_client.post(url, {"name": "x"}).status_code == 404, name
    assert Campaign.objects.count() == 1 and Invitation.objects.count() == 0
    for url in pages(campaign, nps_questionnaire).values():
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_account_manager_sees_progress_but_only_own_clients_rows(
    owner_client, manager_client, campaign, launched
):
    mine, theirs = launched
    url = reverse("survey_manage:campaign", args=[campaign.pk])
    html = owner_client.get(url).content.decode()
    assert f'data-invitation="{mine.pk}"' in html
    assert f'data-invitation="{theirs.pk}"' not in html and "Oleg Other" not in html
    assert 'data-kpi="invited">2<' in html  # the progress counts every invitation
    assert 'data-kpi="response-rate">50.0%<' in html
    html = manager_client.get(url).content.decode()
    assert f'data-invitation="{theirs.pk}"' in html
    assert f'data-nps="{mine.pk}">9<' in html
    listing = manager_client.get(reverse("survey_manage:campaigns")).content.decode()
    assert f'data-rate="{campaign.pk}">50.0%<' in listing


def test_anonymous_campaign_rows_show_no_score(manager_client, make_campaign, contact):
    campaign = make_campaign(name="Anonymous pulse", anonymous=True)
    inv = invite(campaign, contact, status="answered", answered_at=timezone.now())
    Answer.objects.create(invitation=inv, nps=3, comment="Secret", submitted_at=timezone.now())
    html = manager_client.get(reverse("survey_manage:campaign", args=[campaign.pk])).content
    html = html.decode()
    assert f'data-nps="{inv.pk}"' not in html and "Secret" not in html


def campaign_post(questionnaire, **extra) -> dict:
    data = {
        "name": "Class A, spring",
        "kind": "relationship",
        "trigger": "manual",
        "questionnaire": questionnaire.pk,
        "abc": ["A"],
        "expiry_days": 14,
        "reminders_max": 1,
        "reminder_gap_days": 3,
    }
    data.update(extra)
    return data


def test_manager_creates_a_campaign_and_it_is_audited(manager_client, manager, nps_questionnaire):
    line = ProductLineFactory(name="Tiles")
    response = manager_client.post(
        reverse("survey_manage:campaign_create"),
        campaign_post(
            nps_questionnaire,
            xyz=["X", "none"],
            product_line=[line.pk],
            account_manager=manager.pk,
            recur_months=3,
            anonymous="on",
        ),
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("survey_manage:campaign", args=[campaign.pk])
    assert campaign.filters == {
        "abc": ["A"],
        "xyz": ["X", "none"],
        "account_manager": [manager.pk],
        "product_line": [line.pk],
    }
    assert (campaign.anonymous, campaign.recur_months, campaign.created_by) == (True, 3, manager)
    assert AuditEntry.objects.filter(object_id=str(campaign.pk), action="create").exists()
    # editing keeps the filters shown and changes them
    edit = reverse("survey_manage:campaign_edit", args=[campaign.pk])
    html = manager_client.get(edit).content.decode()
    assert 'value="Class A, spring"' in html
    manager_client.post(edit, campaign_post(nps_questionnaire, abc=["B"]))
    campaign.refresh_from_db()
    assert campaign.filters == {"abc": ["B"]} and campaign.anonymous is False


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"abc": ["D"]}, "abc", "Select a valid choice. D is not one of the available choices."),
        ({"expiry_days": 0}, "expiry_days", "Ensure this value is greater than or equal to 1."),
        ({"reminders_max": 11}, "reminders_max", "less than or equal to 10"),
        ({"trigger": "deal_won"}, "trigger", "A relationship campaign is sent by hand."),
        (
            {"kind": "transactional"},
            "trigger",
            "Choose the event that sends this campaign.",
        ),
        ({"account_manager": 999999}, "account_manager", "Select a valid choice."),
    ],
)
def test_bad_campaign_input_gives_field_errors_and_saves_nothing(
    manager_client, nps_questionnaire, extra, field, message
):
    response = manager_client.post(
        reverse("survey_manage:campaign_create"), campaign_post(nps_questionnaire, **extra)
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in e for e in errors[field]), errors
    assert Campaign.objects.count() == 0


def test_preview_count_equals_the_invitations_the_launch_creates(
    manager_client, manager, owner, make_campaign, django_capture_on_commit_callbacks
):
    for n in range(3):
        a = ClientFactory(name=f"A{n}", abc_class="A", account_manager=owner)
        ContactFactory(client=a, email=f"a{n}@example.com")
    ContactFactory(client=a, email="")  # no email: left out
    ContactFactory(client=a, email="x@example.com", survey_opt_out=True)  # opted out
    ContactFactory(client=ClientFactory(abc_class="B"), email="b@example.com")
    response = manager_client.get(reverse("survey_manage:preview"), {"abc": ["A"]})
    assert 'data-audience-count="3"' in response.content.decode()
    response = manager_client.get(reverse("survey_manage:preview"), {"abc": ["A", "B"]})
    assert 'data-audience-count="4"' in response.content.decode()
    bad = manager_client.get(reverse("survey_manage:preview"), {"abc": ["Q"]})
    assert "Check the audience filters." in bad.content.decode()
    # without JavaScript the form's "Count the audience" button shows the count, saves nothing
    campaign = make_campaign(name="Class A", filters={"abc": ["A"]})
    html = manager_client.post(
        reverse("survey_manage:campaign_create"),
        {**campaign_post(campaign.questionnaire), "preview": "1"},
    ).content.decode()
    assert 'data-audience-count="3"' in html and Campaign.objects.count() == 1
    launch = reverse("survey_manage:campaign_launch", args=[campaign.pk])
    assert 'data-audience-count="3"' in manager_client.get(launch).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        response = manager_client.post(launch)
    assert response.status_code == 302
    assert Invitation.objects.filter(campaign=campaign).count() == 3
    campaign.refresh_from_db()
    assert campaign.status == "active" and campaign.launched_at is not None
    # the view queued nothing itself: the service's outbox row carries the sending task
    assert OutboxMessage.objects.filter(task="surveys.send_invitations").count() == 1


def test_launching_a_triggered_campaign_is_refused(manager_client, make_campaign):
    campaign = make_campaign(trigger="complaint_closed")
    response = manager_client.post(reverse("survey_manage:campaign_launch", args=[campaign.pk]))
    assert response.status_code == 400
    assert "A campaign with a trigger sends by itself" in response.content.decode()
    assert Invitation.objects.count() == 0


def questionnaire_post(**extra) -> dict:
    data = {
        "title_ru": "Оценка доставки",
        "title_en": "Rate the delivery",
        "intro_ru": "",
        "intro_en": "",
        "ask_nps": "on",
        "ask_comment": "on",
        "is_active": "on",
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
        "items-0-text_ru": "Вежливость курьера",
        "items-0-text_en": "Courier politeness",
        "items-0-order": "10",
        "items-0-product_line": "",
        "items-1-text_ru": "",
        "items-1-text_en": "",
        "items-1-order": "100",  # the empty row as the browser sends it
        "items-1-product_line": "",
    }
    data.update(extra)
    return data


def test_manager_creates_and_edits_a_questionnaire_with_items(manager_client, manager):
    line = ProductLineFactory(name="Paint")
    response = manager_client.post(
        reverse("survey_manage:questionnaire_create"),
        questionnaire_post(**{"items-0-product_line": str(line.pk)}),
    )
    q = Questionnaire.objects.get(title_en="Rate the delivery")
    assert response.status_code == 302
    assert q.code == "rate-the-delivery" and q.ask_nps and not q.ask_liked
    [item] = q.items.all()
    assert (item.text_ru, item.text_en, item.order, item.product_line) == (
        "Вежливость курьера",
        "Courier politeness",
        10,
        line,
    )
    assert AuditEntry.objects.filter(object_id=str(q.pk), action="update").exists()
    # remove the item and add another
    edit = reverse("survey_manage:questionnaire_edit", args=[q.pk])
    response = manager_client.post(
        edit,
        questionnaire_post(
            **{
                "items-INITIAL_FORMS": "1",
                "items-0-id": str(item.pk),
                "items-0-DELETE": "on",
                "items-1-text_ru": "Упаковка",
                "items-1-text_en": "Packaging",
                "items-1-order": "20",
            }
        ),
    )
    assert response.status_code == 302
    assert [i.text_en for i in q.items.all()] == ["Packaging"]


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"title_ru": ""}, "title_ru", "This field is required."),
        (
            {"ask_nps": "", "items-0-text_ru": "", "items-0-text_en": "", "items-0-order": "100"},
            "ask_nps",
            "Ask the NPS question or add at least one satisfaction item.",
        ),
    ],
)
def test_bad_questionnaire_input_gives_field_errors_and_saves_nothing(
    manager_client, extra, field, message
):
    before = Questionnaire.objects.count()
    response = manager_client.post(
        reverse("survey_manage:questionnaire_create"), questionnaire_post(**extra)
    )
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert Questionnaire.objects.count() == before
    assert QuestionnaireItem.objects.filter(text_en="Courier politeness").count() == 0


def test_item_missing_its_english_text_is_a_field_error(manager_client):
    response = manager_client.post(
        reverse("survey_manage:questionnaire_create"), questionnaire_post(**{"items-0-text_en": ""})
    )
    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["text_en"] == ["This field is required."]
    assert not Questionnaire.objects.filter(title_en="Rate the delivery").exists()


def settings_post(**extra) -> dict:
    data = {
        "quiet_days": 100,
        "quiet_a": 45,
        "quiet_b": "",
        "quiet_c": "",
        "resurvey_months": 12,
        "send_rate_per_minute": 300,
        "company_head_name": "Ivan Sidorov",
        "company_head_title_ru": "Генеральный директор",
        "company_head_title_en": "Chief Executive Officer",
    }
    data.update(extra)
    return data


def test_settings_page_saves_through_the_service(manager_client):
    response = manager_client.post(reverse("survey_manage:settings"), settings_post())
    assert response.status_code == 302
    prefs = survey_settings()
    assert (prefs.quiet_days, prefs.quiet_days_by_class, prefs.send_rate_per_minute) == (
        100,
        {"A": 45},
        300,
    )
    response = manager_client.post(
        reverse("survey_manage:settings"), settings_post(quiet_a=-5, company_head_name="")
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["quiet_a"] == ["Ensure this value is greater than or equal to 0."]
    assert errors["company_head_name"] == ["This field is required."]
    assert survey_settings().quiet_days_by_class == {"A": 45}


# The client card


def test_client_card_shows_history_last_nps_and_timeline(
    owner_client, own_client, contact, campaign, launched, django_assert_max_num_queries
):
    mine, _theirs = launched
    url = reverse("clients:detail", args=[own_client.pk])
    for language in ("en", "ru"):
        owner_client.cookies["django_language"] = language
        html = owner_client.get(url).content.decode()
        assert 'id="surveys-panel"' in html
        assert f'data-last-nps="{contact.pk}">9<' in html
        assert f'data-nps="{mine.pk}">9<' in html
    owner_client.cookies["django_language"] = "en"
    html = owner_client.get(url).content.decode()
    assert "Survey sent to Anna Ivanova: Class A yearly" in html
    assert "Survey answered by Anna Ivanova: Class A yearly" in html
    assert "NPS 9" in html and "Great service" in html


def test_client_card_never_shows_an_anonymous_answer_with_the_respondent(
    owner_client, own_client, contact, make_campaign
):
    campaign = make_campaign(name="Anonymous pulse", anonymous=True)
    inv = invite(
        campaign,
        contact,
        status="answered",
        sent_at=timezone.now(),
        opened_at=timezone.now(),
        answered_at=timezone.now(),
    )
    Answer.objects.create(invitation=inv, nps=2, comment="Awful", submitted_at=timezone.now())
    html = owner_client.get(reverse("clients:detail", args=[own_client.pk])).content.decode()
    assert 'id="surveys-panel"' in html and "Anonymous pulse" in html
    assert "Awful" not in html and f'data-nps="{inv.pk}"' not in html
    assert "data-last-nps" not in html  # no NPS from an anonymous campaign
    assert "Survey answered by" not in html
    row = html.split(f'data-invitation="{inv.pk}"')[1].split("</li>")[0]
    assert "sent" in row and "answered" not in row


def test_client_card_queries_are_bounded(
    owner_client, own_client, contact, make_campaign, django_assert_max_num_queries
):
    url = reverse("clients:detail", args=[own_client.pk])
    owner_client.get(url)
    with django_assert_max_num_queries(40) as few:
        owner_client.get(url)
    base = len(few.captured_queries)
    for n in range(15):
        campaign = make_campaign(name=f"Wave {n}")
        other = ContactFactory(client=own_client, email=f"c{n}@acme.example")
        inv = invite(campaign, other, status="answered", sent_at=timezone.now())
        inv.answered_at = timezone.now()
        inv.save()
        Answer.objects.create(invitation=inv, nps=n % 11, submitted_at=timezone.now())
    # the panel (2 queries) and the timeline (1) do not grow with the rows
    with django_assert_max_num_queries(base + 3):
        html = owner_client.get(url).content.decode()
    assert html.count("data-last-nps=") == 15


def test_outsider_sees_no_card_of_the_client(outsider_client, own_client, launched):
    assert outsider_client.get(reverse("clients:detail", args=[own_client.pk])).status_code == 404


def test_services_questionnaire_save_refuses_removing_an_answered_item(
    manager, csat_questionnaire, contact, make_campaign
):
    item = csat_questionnaire.items.first()
    campaign = make_campaign(questionnaire=csat_questionnaire)
    inv = invite(campaign, contact, status="answered")
    answer = Answer.objects.create(invitation=inv, submitted_at=timezone.now())
    answer.items.create(item=item, score=4)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.questionnaire_save(
            actor=manager,
            data={"title_en": "Rate your purchase"},
            items=[{"id": item.pk, "delete": True}],
            questionnaire=csat_questionnaire,
        )
    assert "has answers" in error.value.message_dict["items"][0]
    assert csat_questionnaire.items.filter(pk=item.pk).exists()


def test_list_and_campaign_page_queries_do_not_grow_with_rows(
    manager_client, make_campaign, own_client, django_assert_max_num_queries
):
    campaigns = [make_campaign(name=f"Wave {n}") for n in range(12)]
    for n in range(12):
        contact = ContactFactory(client=own_client, email=f"w{n}@acme.example")
        invite(campaigns[0], contact, status="sent", sent_at=timezone.now())
    with django_assert_max_num_queries(12):
        html = manager_client.get(reverse("survey_manage:campaigns")).content.decode()
    assert html.count("data-campaign=") == 12
    with django_assert_max_num_queries(14):
        html = manager_client.get(
            reverse("survey_manage:campaign", args=[campaigns[0].pk])
        ).content.decode()
    assert html.count("data-invitation=") == 12


def test_campaign_list_filters_by_status(manager_client, make_campaign):
    draft = make_campaign(name="Draft one")
    active = make_campaign(name="Active one", status="active")
    html = manager_client.get(reverse("survey_manage:campaigns"), {"status": "active"})
    html = html.content.decode()
    assert f'data-campaign="{active.pk}"' in html and f'data-campaign="{draft.pk}"' not in html
    bad = manager_client.get(reverse("survey_manage:campaigns"), {"status": "nope"})
    assert 'id="filter-errors"' in bad.content.decode()
