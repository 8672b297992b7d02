"""The non-working-dates calendar: the managers' page (list by year, add, edit, delete) in both
languages, outsiders answered like everywhere else (404), bad input refused with a clear
message and nothing changed, and the idempotent seed command."""

import io
from datetime import date

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from crm import tasks
from crm.models import AuditEntry, CalendarDay
from crm.services import calendar_seed
from tests.conftest import client_for
from tests.crm.factories import CalendarDayFactory
from tests.feedback.conftest import msk

pytestmark = pytest.mark.django_db
URL = reverse("calendar")


@pytest.fixture
def new_year():
    return [
        CalendarDayFactory(date=date(2027, 1, 1), name="Новогодние каникулы"),
        CalendarDayFactory(date=date(2027, 2, 20), kind="working_day", name="Рабочая суббота"),
        CalendarDayFactory(date=date(2026, 11, 4), name="День народного единства"),
    ]


@pytest.mark.parametrize(
    ("language", "title", "holiday", "moved"),
    [
        ("en", "Working calendar", "holiday (day off)", "moved working day"),
        ("ru", "Рабочий календарь", "праздник (выходной)", "перенесённый рабочий день"),
    ],
)
def test_the_page_lists_one_year_in_both_languages(
    manager, new_year, language, title, holiday, moved, django_assert_max_num_queries
):
    http = client_for(manager, language)
    with django_assert_max_num_queries(8):
        response = http.get(URL, {"year": 2027})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{title} 2027" in html and holiday in html and moved in html
    assert 'data-date="2027-01-01"' in html and 'data-date="2027-02-20"' in html
    assert 'data-date="2026-11-04"' not in html  # another year
    assert "Рабочая суббота" in html
    assert 'href="?year=2026"' in html  # the year switcher


def test_a_bad_year_shows_this_year(manager_client, new_year):
    with time_machine.travel(msk(2026, 11, 30, 12), tick=False):
        for year in ("abc", "99999", "-1"):
            response = manager_client.get(URL, {"year": year})
            assert response.status_code == 200
            assert 'data-date="2026-11-04"' in response.content.decode()


def test_the_calendar_is_linked_for_managers_only(manager_client, owner_client):
    assert f'href="{URL}"' in manager_client.get(reverse("feedback:settings")).content.decode()
    assert 'id="nav-calendar"' in manager_client.get(reverse("dashboard")).content.decode()
    assert 'id="nav-calendar"' not in owner_client.get(reverse("dashboard")).content.decode()


def test_account_managers_get_404_and_change_nothing(owner_client, new_year):
    day = new_year[0]
    assert owner_client.get(URL).status_code == 404
    assert owner_client.get(reverse("calendar_add")).status_code == 404
    assert owner_client.get(reverse("calendar_edit", args=[day.pk])).status_code == 404
    response = owner_client.post(
        reverse("calendar_add"), {"date": "2027-03-08", "kind": "holiday", "name": "x"}
    )
    assert response.status_code == 404
    assert owner_client.post(reverse("calendar_delete", args=[day.pk])).status_code == 404
    assert CalendarDay.objects.count() == 3


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_manager_adds_edits_and_deletes_a_date(manager, manager_client):
    response = manager_client.post(
        reverse("calendar_add"),
        {"date": "2027-03-08", "kind": "holiday", "name": "International Women's Day"},
    )
    assert response.status_code == 302 and response.url == f"{URL}?year=2027"
    day = CalendarDay.objects.get(date=date(2027, 3, 8))
    assert day.kind == "holiday"
    response = manager_client.post(
        reverse("calendar_edit", args=[day.pk]),
        {"date": "2027-03-08", "kind": "working_day", "name": "Moved"},
    )
    assert response.status_code == 302
    day.refresh_from_db()
    assert (day.kind, day.name) == ("working_day", "Moved")
    assert manager_client.get(reverse("calendar_delete", args=[day.pk])).status_code == 405
    response = manager_client.post(reverse("calendar_delete", args=[day.pk]))
    assert response.status_code == 302 and response.url == f"{URL}?year=2027"
    assert not CalendarDay.objects.exists()
    actions = list(
        AuditEntry.objects.filter(content_type__model="calendarday")
        .order_by("id")
        .values_list("action", "actor")
    )
    assert actions == [("create", manager.pk), ("update", manager.pk), ("delete", manager.pk)]


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "This date is already in the calendar."), ("ru", "Эта дата уже есть в календаре.")],
)
def test_a_duplicate_date_is_refused_clearly_and_changes_nothing(
    manager, new_year, language, message
):
    http = client_for(manager, language)
    response = http.post(
        reverse("calendar_add"), {"date": "2027-01-01", "kind": "working_day", "name": "Dup"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    # editing another date onto it is refused too
    response = http.post(
        reverse("calendar_edit", args=[new_year[1].pk]),
        {"date": "2027-01-01", "kind": "working_day", "name": "Dup"},
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert CalendarDay.objects.count() == 3
    assert CalendarDay.objects.get(date=date(2027, 1, 1)).kind == "holiday"
    assert CalendarDay.objects.get(date=date(2027, 2, 20)).name == "Рабочая суббота"


@pytest.mark.parametrize(
    "data",
    [
        {"date": "", "kind": "holiday"},
        {"date": "2027-02-30", "kind": "holiday"},
        {"date": "not a date", "kind": "holiday"},
        {"date": "2027-03-08", "kind": "bank_holiday"},
        {"date": "2027-03-08", "kind": "holiday", "name": "x" * 151},
    ],
)
def test_bad_input_gets_400_and_changes_nothing(manager_client, data):
    response = manager_client.post(reverse("calendar_add"), data)
    assert response.status_code == 400
    assert 'class="invalid-feedback' in response.content.decode()
    assert not CalendarDay.objects.exists()


def test_unknown_date_is_404(manager_client):
    assert manager_client.get(reverse("calendar_edit", args=[999])).status_code == 404
    assert manager_client.post(reverse("calendar_delete", args=[999])).status_code == 404


# --- seeding from the holidays library ---------------------------------------------------------
def test_seed_command_adds_this_and_next_year_and_is_idempotent():
    out = io.StringIO()
    with time_machine.travel(msk(2026, 11, 30, 12), tick=False):
        call_command("seed_calendar", "--country", "RU", stdout=out)
        first = dict(CalendarDay.objects.values_list("date", "kind"))
        call_command("seed_calendar", "--country", "RU", stdout=out)
    assert dict(CalendarDay.objects.values_list("date", "kind")) == first
    assert {d.year for d in first} == {2026, 2027}
    # the New Year holidays of both years, Christmas, Victory Day
    for year in (2026, 2027):
        assert all(first[date(year, 1, d)] == "holiday" for d in range(1, 9))
        assert first[date(year, 5, 9)] == "holiday"
    assert first[date(2027, 2, 20)] == "working_day"  # a Saturday worked for Monday 22 Feb
    assert first[date(2027, 2, 22)] == "holiday"
    lines = out.getvalue().splitlines()
    assert lines[0] == f"RU 2026, 2027: {len(first)} dates added, 0 already in the calendar"
    assert lines[1] == f"RU 2026, 2027: 0 dates added, {len(first)} already in the calendar"


def test_seeding_keeps_a_managers_edits():
    CalendarDayFactory(date=date(2027, 1, 8), kind="working_day", name="We work this day")
    added, kept = calendar_seed(country="RU", years=[2027], language="en_US")
    assert kept == 1 and added > 10
    day = CalendarDay.objects.get(date=date(2027, 1, 8))
    assert (day.kind, day.name) == ("working_day", "We work this day")
    assert CalendarDay.objects.get(date=date(2027, 1, 7)).name == "Christmas Day"


def test_seeding_an_unknown_country_fails_clearly():
    with translation.override("en"), pytest.raises(CommandError, match="No holiday calendar"):
        call_command("seed_calendar", "--country", "XX", "--year", "2027", stdout=io.StringIO())
    assert not CalendarDay.objects.exists()


def test_beat_entry_is_created_by_the_migration():
    entry = PeriodicTask.objects.get(task="crm.seed_work_calendar")
    assert entry.enabled and entry.crontab.day_of_month == "1" and entry.crontab.hour == "3"


def test_the_beat_task_keeps_this_and_next_year_seeded(settings):
    settings.WORK_CALENDAR_COUNTRY = "RU"
    with time_machine.travel(msk(2027, 12, 1, 3), tick=False):
        added = tasks.seed_work_calendar.delay().get()
        assert tasks.seed_work_calendar.delay().get() == 0  # idempotent
    years = {d.year for d in CalendarDay.objects.values_list("date", flat=True)}
    assert added == CalendarDay.objects.count() and years == {2027, 2028}


def test_the_api_lists_the_calendar_read_only(owner, new_year):
    api = APIClient()
    api.force_authenticate(owner)
    rows = api.get("/api/calendar-days/", {"year": 2027}).json()["results"]
    assert [(r["date"], r["kind"]) for r in rows] == [
        ("2027-01-01", "holiday"),
        ("2027-02-20", "working_day"),
    ]
    assert len(api.get("/api/calendar-days/").json()["results"]) == 3
    response = api.post("/api/calendar-days/", {"date": "2027-03-08", "kind": "holiday"})
    assert response.status_code == 405
    assert CalendarDay.objects.count() == 3
    assert APIClient().get("/api/calendar-days/").status_code in (401, 403)
