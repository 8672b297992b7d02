"""The contact person's survey language in the contact import: an optional ``language`` column
(«Язык опросов»), a code the field allows or the language's name in Russian or English; an
empty cell clears it (the account manager's language then); an unknown value is a row error and
nothing of that row is saved."""

import pytest
from django.urls import reverse
from django.utils import translation

from clients.models import ContactPerson
from tests.clients.test_import_views import last_job, report_rows, upload
from tests.factories import ClientFactory, ContactFactory

UNKNOWN_DE = "language: unknown value «de»; use one of: en, ru"


@pytest.fixture(autouse=True)
def english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


@pytest.fixture
def elka(owner):
    return ClientFactory(inn="7701234567", account_manager=owner)


def test_codes_and_names_in_either_language_set_it(owner_client, elka):
    upload(
        owner_client,
        "client_inn,full_name,language\n"
        "7701234567,Code Ru,ru\n"
        "7701234567,Code En, EN \n"
        "7701234567,Name Ru,Русский\n"
        "7701234567,Name En,english\n"
        "7701234567,Name Ru En,Russian\n"
        "7701234567,Name En Ru,АНГЛИЙСКИЙ\n"
        "7701234567,Empty,\n",
        kind="contacts",
    )
    job = last_job()
    assert (job.status, job.created_count, job.error_count) == ("done", 7, 0), job.message
    assert dict(ContactPerson.objects.values_list("full_name", "language")) == {
        "Code Ru": "ru",
        "Code En": "en",
        "Name Ru": "ru",
        "Name En": "en",
        "Name Ru En": "ru",
        "Name En Ru": "en",
        "Empty": "",
    }


def test_russian_header_and_an_empty_cell_clears_a_missing_column_keeps(owner_client, elka):
    anna = ContactFactory(client=elka, full_name="Anna", external_id="C-1", language="en")
    boris = ContactFactory(client=elka, full_name="Boris", external_id="C-2", language="ru")
    upload(
        owner_client,
        "ИНН клиента;ФИО;Язык опросов;внешний id\n7701234567;Anna;;C-1\n7701234567;Boris;en;C-2\n",
        kind="contacts",
    )
    assert (last_job().status, last_job().updated_count) == ("done", 2), last_job().message
    anna.refresh_from_db()
    boris.refresh_from_db()
    assert (anna.language, boris.language) == ("", "en")
    # a file without the column leaves the language as it is
    upload(
        owner_client,
        "external_id,client_inn,full_name,position\nC-2,7701234567,Boris,CEO\n",
        kind="contacts",
    )
    boris.refresh_from_db()
    assert (boris.position, boris.language) == ("CEO", "en")


def test_an_unknown_value_fails_the_file_and_the_report_says_why(owner_client, elka):
    upload(
        owner_client,
        "client_inn,full_name,language\n7701234567,Good,ru\n7701234567,Bad,de\n",
        kind="contacts",
    )
    job = last_job()
    assert (job.status, job.created_count, job.error_count) == ("failed", 0, 1)
    assert "1 of 2 rows have errors, so nothing was imported" in job.message
    assert report_rows(owner_client, job) == [
        ["row", "errors", "client_inn", "full_name", "language"],
        ["3", UNKNOWN_DE, "7701234567", "Bad", "de"],
    ]
    assert not ContactPerson.objects.exists()


def test_valid_rows_mode_saves_nothing_of_the_bad_row(owner_client, elka):
    kept = ContactFactory(
        client=elka, full_name="Kept", external_id="C-9", position="Boss", language="en"
    )
    upload(
        owner_client,
        "external_id,client_inn,full_name,position,language\n"
        "C-1,7701234567,Good,Clerk,english\n"
        "C-9,7701234567,Kept,Intern,Deutsch\n"
        "C-3,7701234567,New Bad,Clerk,de\n",
        kind="contacts",
        mode="valid_rows",
    )
    job = last_job()
    assert (job.status, job.created_count, job.updated_count, job.error_count) == (
        "done",
        1,
        0,
        2,
    )
    rows = report_rows(owner_client, job)
    assert [r[:2] for r in rows[1:]] == [
        ["3", "language: unknown value «Deutsch»; use one of: en, ru"],
        ["4", UNKNOWN_DE],
    ]
    kept.refresh_from_db()
    assert (kept.position, kept.language) == ("Boss", "en")  # nothing of its row
    assert not ContactPerson.objects.filter(external_id="C-3").exists()
    good = ContactPerson.objects.get(external_id="C-1")
    assert (good.full_name, good.position, good.language) == ("Good", "Clerk", "en")


def test_the_template_and_the_page_name_the_column(owner_client):
    response = owner_client.get(reverse("clients:import_template", args=["contacts", "csv"]))
    header = b"".join(response.streaming_content).decode("utf-8-sig").strip().split(",")
    assert "language" in header
    page = owner_client.get(reverse("clients:import")).content.decode()
    assert "language: ru or en" in page
