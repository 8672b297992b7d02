"""Importing through the page: good files, bad rows, wrong columns, encodings, limits, access."""

import csv
import io
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from clients.models import Client, ContactPerson, ImportJob, Settlement
from crm import queue
from crm.models import AuditEntry, OutboxMessage
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ProductFactory,
    TargetSegmentFactory,
)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def english(settings):
    """Assertions read the English messages, whatever the Russian catalogue holds."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(http, content, name="clients.csv", kind="clients", mode="all_or_nothing", run=True):
    """POST the file; with ``run`` the queued task then runs (eagerly, as a worker would),
    otherwise the job is left as the web request left it."""
    if isinstance(content, str):
        content = content.encode()
    file = SimpleUploadedFile(name, content)
    with TestCase.captureOnCommitCallbacks(execute=run):
        return http.post(reverse("clients:import"), {"kind": kind, "mode": mode, "file": file})


def last_job() -> ImportJob:
    return ImportJob.objects.latest("id")


def report_rows(http, job) -> list[list[str]]:
    response = http.get(reverse("clients:import_report", args=[job.pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# --- good files -----------------------------------------------------------------------------
@pytest.mark.parametrize("fixture", ["import_clients_cp1251.csv", "import_clients_utf8.csv"])
def test_good_clients_file_in_cp1251_and_utf8(manager_client, manager, fixture):
    response = upload(manager_client, (FIXTURES / fixture).read_bytes(), name=fixture)
    job = last_job()
    assert response.status_code == 302
    assert response.url == reverse("clients:import_job", args=[job.pk])
    assert (job.status, job.total_rows, job.created_count, job.error_count) == ("done", 3, 3, 0)
    elka = Client.objects.get(external_id="EXT-1")
    assert elka.name == "ООО «Ёлка»"
    assert elka.inn == "7701234567"
    assert elka.kind == "company"
    assert elka.employees == 120
    assert elka.year_founded == 1998
    assert elka.source == "exhibition"
    assert elka.phone_digits == "74951234567"
    assert sorted(t.name for t in elka.tags.all()) == ["vip", "опт"]
    assert Client.objects.get(external_id="EXT-2").kind == "person"
    assert Client.objects.get(external_id="EXT-3").employees == 1200
    # one audit entry for the whole import, with the counts
    entries = AuditEntry.objects.filter(object_id=str(job.pk), content_type__model="importjob")
    assert entries.count() == 1
    assert entries.get().changes["created"] == [None, 3]
    page = manager_client.get(response.url)
    assert "3 created, 0 updated. All rows imported." in page.content.decode()


def test_reimporting_the_same_file_updates_instead_of_duplicating(manager_client):
    data = (FIXTURES / "import_clients_cp1251.csv").read_bytes()
    upload(manager_client, data)
    upload(manager_client, data)
    job = last_job()
    assert (job.created_count, job.updated_count) == (0, 3)
    assert Client.objects.count() == 3
    assert Client.objects.get(external_id="EXT-1").tags.count() == 2


def test_row_without_external_id_matches_by_inn_and_adopts_the_id(manager_client):
    existing = ClientFactory(name="Old name", inn="7701234567", external_id=None)
    upload(manager_client, "name,inn,city\nNew name,7701234567,Тверь\nFresh,,Орёл\n")
    job = last_job()
    assert (job.created_count, job.updated_count) == (1, 1)
    existing.refresh_from_db()
    assert (existing.name, existing.city) == ("New name", "Тверь")
    upload(manager_client, "external_id,name,inn\nX-9,Newest,7701234567\n")
    existing.refresh_from_db()
    assert (existing.external_id, existing.name) == ("X-9", "Newest")
    assert Client.objects.count() == 2


def test_manager_sets_account_manager_and_segment_by_name(manager_client, owner):
    TargetSegmentFactory(name="Строители")
    upload(manager_client, "name,account_manager,target_segment\nA,owner,строители\n")
    client = Client.objects.get(name="A")
    assert client.account_manager == owner
    assert client.target_segment.name == "Строители"


def test_unknown_user_and_segment_are_bad_rows(manager_client):
    upload(manager_client, "name,account_manager,target_segment\nA,nobody,Nowhere\n")
    job = last_job()
    assert job.status == "failed"
    rows = report_rows(manager_client, job)
    assert rows[1][1] == (
        "account_manager: no such user «nobody»; target_segment: no such segment «Nowhere»"
    )


def test_xlsx_settlements_with_real_date_cells(manager_client):
    client = ClientFactory(inn="7701234567", external_id="K-1")
    product = ProductFactory(code="DRILL")
    book = Workbook()
    book.active.append(["client_external_id", "product_code", "date", "amount", "margin"])
    book.active.append(["K-1", "drill", date(2024, 1, 31), 1500.5, 300])
    out = io.BytesIO()
    book.save(out)
    upload(manager_client, out.getvalue(), name="s.xlsx", kind="settlements")
    job = last_job()
    assert (job.status, job.created_count) == ("done", 1)
    settlement = Settlement.objects.get()
    assert (settlement.client, settlement.product, settlement.date) == (
        client,
        product,
        date(2024, 1, 31),
    )
    assert (settlement.amount, settlement.margin) == (Decimal("1500.50"), Decimal("300.00"))


def test_settlements_cp1251_russian_headers_and_reimport(owner_client, owner):
    ClientFactory(inn="7701234567", account_manager=owner)
    ProductFactory(code="DRILL")
    data = (FIXTURES / "import_settlements_cp1251.csv").read_bytes()
    upload(owner_client, data, kind="settlements")
    job = last_job()
    assert (job.status, job.created_count, job.error_count) == ("done", 3, 0), job.message
    assert Settlement.objects.get(external_id="S-1").amount == Decimal("1234.50")
    assert Settlement.objects.get(external_id="S-2").amount == Decimal("-300.00")
    assert Settlement.objects.get(external_id="S-3").date == date(2024, 3, 1)
    upload(owner_client, data, kind="settlements")
    assert (last_job().created_count, last_job().updated_count) == (0, 3)
    assert Settlement.objects.count() == 3


def test_settlements_without_id_match_on_document_number(manager_client):
    ClientFactory(inn="7701234567")
    data = "client_inn,date,amount,document_number\n7701234567,01.02.2024,100,D-1\n"
    upload(manager_client, data, kind="settlements")
    upload(manager_client, data.replace(",100,", ",150,"), kind="settlements")
    assert Settlement.objects.get().amount == Decimal("150.00")


def test_contacts_import_and_one_primary_per_client(owner_client, owner):
    client = ClientFactory(inn="7701234567", account_manager=owner)
    old_primary = ContactFactory(client=client, full_name="Old Boss", is_primary=True)
    upload(owner_client, (FIXTURES / "import_contacts.csv").read_bytes(), kind="contacts")
    job = last_job()
    assert (job.status, job.created_count) == ("done", 2), job.message
    ivan = ContactPerson.objects.get(external_id="C-1")
    assert (ivan.client, ivan.is_primary, ivan.greeting_consent) == (client, True, True)
    assert ivan.birthday == date(1980, 4, 15)
    assert ivan.phone_digits == "74951112233"
    maria = ContactPerson.objects.get(external_id="C-2")
    assert (maria.birthday, maria.survey_opt_out) == (date(1985, 7, 1), True)
    assert (ivan.language, maria.language) == ("en", "ru")  # a code or a language's name
    old_primary.refresh_from_db()
    assert old_primary.is_primary is False


def test_two_primary_contacts_for_one_client_is_a_bad_row(manager_client):
    ClientFactory(inn="7701234567")
    upload(
        manager_client,
        "client_inn,full_name,is_primary\n7701234567,A,да\n7701234567,B,да\n",
        kind="contacts",
    )
    job = last_job()
    assert (job.status, job.error_count) == ("failed", 1)
    assert (
        "a primary contact of this client appears twice in the file (first in row 2)"
        in (report_rows(manager_client, job)[1][1])
    )


# --- bad files ------------------------------------------------------------------------------
def test_bad_rows_import_nothing_and_the_report_explains_each(manager_client):
    upload(manager_client, (FIXTURES / "import_clients_bad.csv").read_bytes())
    job = last_job()
    assert job.status == "failed"
    assert (job.total_rows, job.created_count, job.updated_count, job.error_count) == (4, 0, 0, 2)
    assert "2 of 4 rows have errors, so nothing was imported" in job.message
    assert Client.objects.count() == 0
    rows = report_rows(manager_client, job)
    assert rows[0] == ["row", "errors", "external_id", "name", "inn", "email", "employees"]
    assert rows[1] == [
        "3",
        "name: required; inn: an INN has 10 or 12 digits; email: not a valid email address; "
        "employees: not a whole number",
        "B-2",
        "",
        "123",
        "not-an-email",
        "ten",
    ]
    assert rows[2] == [
        "5",
        "external_id B-1 appears twice in the file (first in row 2)",
        "B-1",
        "Duplicate",
        "7801234567",
        "",
        "",
    ]
    assert len(rows) == 3
    # the same report as XLSX
    response = manager_client.get(reverse("clients:import_report", args=[job.pk]) + "?format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[3]][:3] == ["5", rows[2][1], "B-1"]


def test_valid_rows_mode_imports_the_good_rows_and_reports_the_rest(manager_client):
    upload(manager_client, (FIXTURES / "import_clients_bad.csv").read_bytes(), mode="valid_rows")
    job = last_job()
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 2)
    assert "2 created, 0 updated; 2 rows with errors were NOT imported" in job.message
    assert sorted(Client.objects.values_list("external_id", flat=True)) == ["B-1", "B-3"]
    assert job.error_report
    page = manager_client.get(reverse("clients:import_job", args=[job.pk])).content.decode()
    assert reverse("clients:import_report", args=[job.pk]) in page


def test_wrong_columns_import_nothing_and_list_missing_and_unknown(manager_client):
    response = upload(manager_client, "title;inn;colour\nA;7701234567;red\n")
    job = last_job()
    assert response.status_code == 302
    assert job.status == "failed"
    assert "missing columns: name" in job.message
    assert "unknown columns: title, colour" in job.message
    assert Client.objects.count() == 0
    page = manager_client.get(response.url).content.decode()
    assert "unknown columns: title, colour" in page


def test_empty_upload_is_refused_by_the_form(manager_client):
    response = upload(manager_client, b"")
    assert response.status_code == 400
    assert "The submitted file is empty." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_header_only_file_is_empty(manager_client):
    upload(manager_client, "name,inn\n")
    assert last_job().status == "failed"
    assert last_job().message == "The file is empty: it has a header but no rows."


def test_huge_file_rejected_with_a_clear_message(manager_client, settings):
    settings.CLIENT_IMPORT_MAX_BYTES = 1024 * 1024
    response = upload(manager_client, b"name\n" + b"x" * (1024 * 1024 + 10))
    assert response.status_code == 400
    assert "The file is too large (1.0 MB); the limit is 1 MB. Split it." in (
        response.content.decode()
    )
    assert not ImportJob.objects.exists()


def test_too_many_rows_rejected_with_a_clear_message(manager_client, settings):
    settings.CLIENT_IMPORT_MAX_ROWS = 5
    upload(manager_client, "name\n" + "".join(f"C{i}\n" for i in range(6)))
    assert last_job().status == "failed"
    assert "more than 5 rows" in last_job().message
    assert Client.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (bytes(range(256)) * 50, "clients.csv", "not a readable CSV"),
        (b"PK\x03\x04garbage", "clients.xlsx", "not a valid XLSX workbook"),
        (b'name,inn\n"unclosed,1\n', "clients.csv", "could not be read as CSV"),
        (b"name\nA\n", "clients.xls", "old .xls is not supported"),
    ],
)
def test_garbage_files_get_a_clear_message_never_a_500(manager_client, content, name, expected):
    response = upload(manager_client, content, name=name)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert expected in last_job().message
    else:
        assert expected in response.content.decode()
    assert Client.objects.count() == 0


# --- access ---------------------------------------------------------------------------------
def test_account_manager_imports_become_theirs(owner_client, owner):
    upload(owner_client, "name,inn,account_manager\nMine,7701234567,\nAlso,,owner\n")
    assert list(Client.objects.values_list("account_manager__username", flat=True)) == [
        "owner",
        "owner",
    ]


def test_account_manager_cannot_touch_or_assign_others(owner_client, owner, outsider):
    ClientFactory(external_id="THEIRS", inn="5001234567", account_manager=outsider)
    upload(
        owner_client,
        "external_id,name,inn,account_manager\n"
        "THEIRS,Hijack,,\n"
        ",ByInn,5001234567,\n"
        "NEW-1,Gift,,outsider\n"
        "NEW-2,Fine,,\n",
        mode="valid_rows",
    )
    job = last_job()
    assert (job.created_count, job.error_count) == (1, 3)
    reasons = [r[1] for r in report_rows(owner_client, job)[1:]]
    assert reasons == [
        "no such client",
        "no such client",
        "account_manager: you can import only your own clients",
    ]
    assert Client.objects.get(external_id="THEIRS").name != "Hijack"


def test_account_manager_cannot_import_contacts_or_settlements_for_others(owner_client, outsider):
    ClientFactory(inn="5001234567", external_id="THEIRS", account_manager=outsider)
    upload(owner_client, "client_inn,full_name\n5001234567,Spy\n", kind="contacts")
    assert last_job().status == "failed"
    assert report_rows(owner_client, last_job())[1][1] == "no such client"
    upload(
        owner_client,
        "client_external_id,date,amount\nTHEIRS,2024-01-01,5\n",
        kind="settlements",
    )
    assert report_rows(owner_client, last_job())[1][1] == "no such client"
    assert not ContactPerson.objects.exists()
    assert not Settlement.objects.exists()


def test_outsider_gets_404_for_someone_elses_job_and_report(owner_client, outsider_client):
    upload(owner_client, (FIXTURES / "import_clients_bad.csv").read_bytes())
    job = last_job()
    assert outsider_client.get(reverse("clients:import_job", args=[job.pk])).status_code == 404
    assert outsider_client.get(reverse("clients:import_report", args=[job.pk])).status_code == 404
    page = outsider_client.get(reverse("clients:import")).content.decode()
    assert reverse("clients:import_job", args=[job.pk]) not in page


def test_manager_sees_an_account_managers_job(owner_client, manager_client):
    upload(owner_client, "name\nA\n")
    response = manager_client.get(reverse("clients:import_job", args=[last_job().pk]))
    assert response.status_code == 200


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("clients:import"))
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


# --- pages, templates, large files ----------------------------------------------------------
def test_import_page_renders_with_templates_and_rules(owner_client):
    response = owner_client.get(reverse("clients:import"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("clients:import_template", args=["settlements", "xlsx"]) in page
    assert "matched to an existing client by external_id" in page


@pytest.mark.parametrize("kind", ["clients", "contacts", "settlements"])
def test_templates_download_and_import_back_as_empty(owner_client, kind):
    csv_response = owner_client.get(reverse("clients:import_template", args=[kind, "csv"]))
    header = b"".join(csv_response.streaming_content).decode("utf-8-sig").strip()
    xlsx_response = owner_client.get(reverse("clients:import_template", args=[kind, "xlsx"]))
    sheet = load_workbook(io.BytesIO(b"".join(xlsx_response.streaming_content))).active
    assert header.split(",") == [c.value for c in sheet[1]]
    upload(owner_client, header + "\n", kind=kind)
    assert "no rows" in last_job().message  # the columns were accepted


def test_every_upload_goes_to_celery_and_the_page_polls(
    manager_client, django_capture_on_commit_callbacks
):
    data = "external_id,name\n" + "".join(f"E{i},Client {i}\n" for i in range(12))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(manager_client, data, run=False)
    job = last_job()
    assert (job.status, job.total_rows, job.processed_rows) == ("pending", 12, 0)
    assert len(callbacks) == 1
    url = reverse("clients:import_job", args=[job.pk])
    polling = manager_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in polling
    assert "0 of 12 rows checked" in polling
    callbacks[0]()  # the task, run eagerly as the worker would
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.created_count) == ("done", 12, 12)
    done = manager_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done
    assert "12 created" in done
    assert Client.objects.count() == 12


@pytest.mark.django_db(transaction=True)
def test_queue_down_the_job_waits_and_runs_when_the_broker_is_back(manager_client, services_down):
    started = time.monotonic()
    response = upload(manager_client, "name\nA\nB\nC\n")
    assert time.monotonic() - started < 5  # not ~20 s of broker retries, no 500
    job = last_job()
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:import_job", args=[job.pk])
    assert (job.status, job.total_rows) == ("pending", 3)
    message = OutboxMessage.objects.get()
    assert (message.task, message.args, message.sent_at) == (
        "clients.import_job_run",
        [job.pk],
        None,
    )
    url = reverse("clients:import_job", args=[job.pk])
    page = manager_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'id="import-waiting-for-queue"' in page
    assert "the import starts by itself as soon as the queue is back" in page

    services_down.back()
    assert queue.drain()["sent"] == 1  # eager: the import runs now
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 3)
    assert sorted(Client.objects.values_list("name", flat=True)) == ["A", "B", "C"]
    page = manager_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "import-waiting-for-queue" not in page and "3 created" in page
