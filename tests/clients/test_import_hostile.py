"""Hostile import files, generated here and kept small: each must end its job as failed with a
message, write no row, leave no upload on disk, and never be parsed in the web request."""

import io
import time
import zipfile

import openpyxl
import pytest
from django.urls import reverse
from openpyxl import Workbook

from clients.imports import parsing, rules, xlsx
from clients.imports.limits import ImportFileError
from clients.models import Client, ImportJob, Settlement
from tests.clients.test_import_views import english, last_job, media_root, upload  # noqa: F401
from tests.factories import ClientFactory


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_part(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook ``data`` with the zip member ``name`` replaced (or added)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
        dst.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def bomb_sheet(rows: int, cols: int, *, dimension: bool) -> bytes:
    """A sheet of ``rows`` x ``cols`` numeric cells: compresses to almost nothing."""
    letters = [openpyxl.utils.get_column_letter(c) for c in range(1, cols + 1)]
    body = b"".join(
        b'<row r="%d">' % r
        + b"".join(b'<c r="%s%d"><v>1</v></c>' % (col.encode(), r) for col in letters)
        + b"</row>"
        for r in range(1, rows + 1)
    )
    dim = b'<dimension ref="A1:%s%d"/>' % (letters[-1].encode(), rows) if dimension else b""
    return SHEET_HEAD + dim + b"<sheetData>" + body + b"</sheetData></worksheet>"


ENTITIES = (
    b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
    b'<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">'
)
# "billion laughs": &g; expands to 10 million characters
BILLION_LAUGHS_SHEET = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [' + ENTITIES + b"]>"
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
    b'<row r="2"><c r="A2" t="inlineStr"><is><t>&g;</t></is></c></row>'
    b"</sheetData></worksheet>"
)


def settlements_csv(amount: str) -> bytes:
    return f"client_inn;date;amount\n7701234567;01.02.2024;{amount}\n".encode()


def clients_csv_with_late_nul() -> bytes:
    rows = "".join(f"Client {i};7701{i:06d}\n" for i in range(800))
    assert len(rows) > 8192
    return ("name;inn\n" + rows).encode() + b"Bad\x00row;7701999999\n"


def latin1_csv() -> bytes:
    return (
        "name;city;notes\nMüller GmbH;München;Straße 5\nJosé Núñez;São Paulo;año\n"
        "Café Crème;Genève;Ärger\n"
    ).encode("latin-1")


def shift_jis_csv() -> bytes:
    return "name;city\n株式会社テスト;東京都\nテスト;大阪\n株式会社テスト2;東京\n".encode(
        "shift_jis"
    )


def broken_quote_csv() -> bytes:
    return (
        "external_id;name;city\n"
        'E-1;"ООО Альфа;Москва\n'
        "E-2;ООО Бета;Тула\n"
        "E-3;ООО Гамма;Орёл\n"
        'E-4;ООО "Дельта";Казань\n'
    ).encode()


def merged_lines_csv() -> bytes:
    """The quote opened in row 2 closes in row 5: rows 3 and 4 vanish into one name."""
    return (
        "external_id;name;city\n"
        'E-1;"ООО Альфа;Москва\n'
        "E-2;ООО Бета;Тула\n"
        "E-3;ООО Гамма;Орёл\n"
        'E-4;ООО Дельта";Казань\n'
    ).encode()


def entity_xlsx() -> bytes:
    return replace_part(xlsx_bytes([["name"]]), "xl/worksheets/sheet1.xml", BILLION_LAUGHS_SHEET)


def bomb_xlsx_with_dimension() -> bytes:
    return replace_part(
        xlsx_bytes([["name"]]), "xl/worksheets/sheet1.xml", bomb_sheet(300, 50, dimension=True)
    )


def bomb_xlsx_without_dimension() -> bytes:
    return replace_part(
        xlsx_bytes([["name"]]), "xl/worksheets/sheet1.xml", bomb_sheet(300, 50, dimension=False)
    )


def truncated_xlsx() -> bytes:
    data = xlsx_bytes([["name"], ["A"]])
    return data[: len(data) // 2]


HOSTILE = [
    # a bad amount is a bad row: the job fails and the report says why
    ("amount 1e30", settlements_csv("1e30"), "s.csv", "settlements", "amount: not a number"),
    ("amount 100 digits", settlements_csv("9" * 100), "s.csv", "settlements", "amount: the numb"),
    ("amount 1e999999", settlements_csv("1e999999"), "s.csv", "settlements", "amount: not a n"),
    ("NUL after 8 KB", clients_csv_with_late_nul(), "c.csv", "clients", "not a readable CSV"),
    ("Latin-1", latin1_csv(), "c.csv", "clients", "neither UTF-8 nor Russian Windows-1251"),
    ("Shift-JIS", shift_jis_csv(), "c.csv", "clients", "neither UTF-8 nor"),
    ("broken quote", broken_quote_csv(), "c.csv", "clients", "at line 2 (';' expected"),
    ("quote merging lines", merged_lines_csv(), "c.csv", "clients", "Row 2: a quote opened"),
    ("malformed zip", b"PK\x03\x04" + b"\x00" * 200, "c.xlsx", "clients", "not a valid XLSX"),
    ("truncated xlsx", truncated_xlsx(), "c.xlsx", "clients", "not a valid XLSX"),
    ("entity expansion", entity_xlsx(), "c.xlsx", "clients", "XML entity declarations"),
    ("cell bomb", bomb_xlsx_with_dimension(), "c.xlsx", "clients", "more than 10,000 cells"),
    ("bomb, no dim", bomb_xlsx_without_dimension(), "c.xlsx", "clients", "more than 10,000 cells"),
]


@pytest.fixture
def small_limits(settings):
    settings.CLIENT_IMPORT_MAX_CELLS = 10_000


@pytest.mark.parametrize(
    ("content", "name", "kind", "expected"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_file_fails_the_job_with_a_message_and_leaves_nothing(
    manager_client,
    media_root,  # noqa: F811
    small_limits,
    monkeypatch,
    django_capture_on_commit_callbacks,
    content,
    name,
    kind,
    expected,
):
    ClientFactory(inn="7701234567")
    # the web request must not parse the file: the full reader is out of reach there
    real_read_table = parsing.read_table

    def not_in_the_request(*args, **kwargs):
        raise AssertionError("read_table called in the web request")

    monkeypatch.setattr(parsing, "read_table", not_in_the_request)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(manager_client, content, name=name, kind=kind, run=False)
    assert time.monotonic() - started < 5
    assert response.status_code == 302
    monkeypatch.setattr(parsing, "read_table", real_read_table)
    for callback in queued:  # the task, as a worker runs it
        callback()
    job = last_job()
    assert job.status == ImportJob.Status.FAILED, job.message
    report = job.error_report.open("rb").read().decode("utf-8-sig") if job.error_report else ""
    assert expected in job.message + report
    assert job.finished_at is not None
    assert (job.created_count, job.updated_count) == (0, 0)
    assert not job.file
    uploads = [p for p in media_root.rglob("*") if p.is_file() and "reports" not in p.parts]
    assert uploads == []
    assert Client.objects.count() == 1
    assert Settlement.objects.count() == 0
    page = manager_client.get(reverse("clients:import_job", args=[job.pk])).content.decode()
    assert 'data-status="failed"' in page


def test_a_bad_amount_in_valid_rows_mode_is_a_bad_row_not_a_crash(manager_client):
    ClientFactory(inn="7701234567")
    data = "client_inn;date;amount\n7701234567;01.02.2024;1e999999\n7701234567;02.02.2024;10\n"
    upload(manager_client, data, kind="settlements", mode="valid_rows")
    job = last_job()
    assert (job.status, job.created_count, job.error_count) == ("done", 1, 1)
    assert Settlement.objects.get().amount == 10


# --- the parsing rules on their own ---------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e30", "not a number"),
        ("1E+3", "not a number"),
        ("1e999999", "not a number"),
        ("9" * 100, "the number is too long"),
        ("9" * 13, "the number is too large"),
        ("0.001", "at most 2 decimal places"),
    ],
)
def test_numbers_are_bounded_before_they_become_decimals(text, message):
    started = time.monotonic()
    with pytest.raises(ValueError, match=message):
        rules.parse_decimal(text)
    assert time.monotonic() - started < 0.1


def test_numbers_within_bounds_still_parse():
    assert str(rules.parse_decimal("999 999 999 999,99")) == "999999999999.99"
    assert str(rules.parse_decimal("1.2300")) == "1.23"
    assert rules.parse_int("1 200") == 1200
    assert rules.parse_int("120,0") == 120
    for bad in ("1e999999", "9" * 100, "1.5"):
        with pytest.raises(ValueError):
            rules.parse_int(bad)


def test_notes_longer_than_the_model_allows_are_a_bad_row():
    limit = Client._meta.get_field("notes").max_length
    assert limit == 10_000
    _values, reasons = rules.clean_row("clients", {"name": "A", "notes": "x" * (limit + 1)})
    assert reasons == ["notes: longer than 10,000 characters (10,001)"]
    values, reasons = rules.clean_row("clients", {"name": "A", "notes": "x" * limit})
    assert (reasons, len(values["notes"])) == ([], limit)


def test_a_multiline_note_with_delimiters_is_not_taken_for_a_broken_quote():
    data = 'name;notes\nАльфа;"first line; still\nsecond line"\nБета;x\n'.encode()
    table = parsing.read_table(data, "a.csv")
    assert table.rows == [(2, ["Альфа", "first line; still\nsecond line"]), (4, ["Бета", "x"])]


def test_an_unclosed_quote_at_the_end_is_refused():
    with pytest.raises(ImportFileError, match="line 2"):
        parsing.read_table(b'name;inn\n"Alpha;7701234567\n', "a.csv")


def test_russian_cp1251_with_a_latin_brand_is_still_accepted():
    data = "name;city\nООО «Ёлка» (Siemens);Москва\nИП Петров — №5;Тверь\n".encode("cp1251")
    assert parsing.read_table(data, "a.csv").rows[0][1] == ["ООО «Ёлка» (Siemens)", "Москва"]


def test_openpyxl_parses_through_defusedxml():
    assert openpyxl.DEFUSEDXML is True


def test_entity_expansion_is_refused_by_the_parser_too(monkeypatch):
    """Even past the cheap DOCTYPE check, openpyxl (through defusedxml) refuses entities."""
    monkeypatch.setattr(xlsx, "XML_HEAD", 0)
    with pytest.raises(ImportFileError, match="XML entity declarations"):
        parsing.read_table(entity_xlsx(), "a.xlsx")


def test_xlsx_limits_come_from_the_zip_directory(settings):
    settings.CLIENT_IMPORT_MAX_UNPACKED_BYTES = 100_000
    data = bomb_xlsx_with_dimension()
    assert len(data) < 50_000
    with pytest.raises(ImportFileError, match="unpacks to"):
        parsing.inspect_upload(data, "a.xlsx", "clients")


def test_declared_dimension_over_the_row_limit_is_refused_cheaply(settings):
    settings.CLIENT_IMPORT_MAX_ROWS = 100
    with pytest.raises(ImportFileError, match="more than 100 rows"):
        parsing.inspect_upload(bomb_xlsx_with_dimension(), "a.xlsx", "clients")


def test_a_good_xlsx_estimate_comes_from_its_dimension():
    data = xlsx_bytes([["name"], ["A"], ["B"], ["C"]])
    assert parsing.inspect_upload(data, "a.xlsx", "clients") == 3


@pytest.mark.parametrize(("value", "reason"), [(b"1e999999", "not a number"), (b"1e30", "too")])
def test_huge_numeric_xlsx_cells_are_bad_amounts(value, reason):
    sheet = (
        SHEET_HEAD + b"<sheetData>"
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>client_inn</t></is></c>'
        b'<c r="B1" t="inlineStr"><is><t>date</t></is></c>'
        b'<c r="C1" t="inlineStr"><is><t>amount</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>7701234567</t></is></c>'
        b'<c r="B2" t="inlineStr"><is><t>2024-02-01</t></is></c>'
        b'<c r="C2"><v>' + value + b"</v></c></row></sheetData></worksheet>"
    )
    data = replace_part(xlsx_bytes([["x"]]), "xl/worksheets/sheet1.xml", sheet)
    table = parsing.read_table(data, "s.xlsx")
    columns = parsing.check_columns("settlements", table.headers)
    cells = dict(zip(columns, table.rows[0][1], strict=True))
    _values, reasons = rules.clean_row("settlements", cells)
    assert len(reasons) == 1
    assert reasons[0].startswith("amount: ")
    assert reason in reasons[0]
