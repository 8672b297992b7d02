"""Reading import files and parsing cells: pure functions, no database."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import override_settings
from openpyxl import Workbook

from clients.imports import parsing, rules
from clients.imports.limits import ImportFileError
from tests.clients.test_import_views import english  # noqa: F401 - English messages


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- cells ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", Decimal("1234.50")),
        ("1234,5", Decimal("1234.50")),
        ("1 234 567,89", Decimal("1234567.89")),
        ("1\u00a0234,00", Decimal("1234.00")),
        ("-500", Decimal("-500.00")),
        ("1,234.50", Decimal("1234.50")),
    ],
)
def test_decimals_with_comma_dot_and_thousand_spaces(text, expected):
    assert rules.parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.2.3", "", "12,345,6", "1.234", "NaN", "1e20"])
def test_bad_decimals_are_refused(text):
    with pytest.raises(ValueError):
        rules.parse_decimal(text)


def test_dates_iso_and_russian():
    assert rules.parse_date("2024-03-05") == date(2024, 3, 5)
    assert rules.parse_date("05.03.2024") == date(2024, 3, 5)
    assert rules.parse_date("2024-03-05 00:00:00") == date(2024, 3, 5)
    with pytest.raises(ValueError, match="not a date"):
        rules.parse_date("31.02.2024")
    with pytest.raises(ValueError):
        rules.parse_date("завтра")


def test_inn_has_10_or_12_digits():
    assert rules.parse_inn("7701 234567") == "7701234567"
    assert rules.parse_inn("770123456789") == "770123456789"
    for bad in ("123", "77012345678", "77012345ab"):
        with pytest.raises(ValueError, match="10 or 12"):
            rules.parse_inn(bad)


def test_booleans_in_russian_and_english():
    assert rules.parse_bool("да") is True
    assert rules.parse_bool("Yes") is True
    assert rules.parse_bool("0") is False
    assert rules.parse_bool("нет") is False
    with pytest.raises(ValueError):
        rules.parse_bool("может быть")


def test_email():
    assert rules.parse_email(" a@b.ru ") == "a@b.ru"
    with pytest.raises(ValueError, match="email"):
        rules.parse_email("not-an-email")


def test_tags_split_and_deduplicated():
    assert rules.split_tags("vip, опт; VIP |  ") == ["vip", "опт"]


def test_export_guard_is_undone_on_import():
    assert parsing.unescape_cell("'=SUM(A1)") == "=SUM(A1)"
    assert parsing.unescape_cell("'quoted") == "'quoted"


# --- files ----------------------------------------------------------------------------------
def test_utf8_comma_csv():
    table = parsing.read_table("name,inn\nАльфа,7701234567\n".encode(), "a.csv")
    assert table.headers == ["name", "inn"]
    assert table.rows == [(2, ["Альфа", "7701234567"])]


def test_utf8_bom_semicolon_csv():
    data = "\ufeffНаименование;ИНН\nАльфа;7701234567\n".encode()
    table = parsing.read_table(data, "a.csv")
    assert parsing.check_columns("clients", table.headers) == ["name", "inn"]
    assert table.rows[0][1] == ["Альфа", "7701234567"]


def test_cp1251_semicolon_csv_as_russian_excel_writes_it():
    data = "Наименование;ИНН;Город\r\nООО «Ёлка»;7701234567;Москва\r\n".encode("cp1251")
    table = parsing.read_table(data, "clients.csv")
    assert table.rows == [(2, ["ООО «Ёлка»", "7701234567", "Москва"])]


def test_quoted_cells_with_delimiters_and_blank_lines_keep_row_numbers():
    data = 'name;notes\n"Альфа";"a; b"\n;\nБета;x\n'.encode()
    table = parsing.read_table(data, "a.csv")
    assert table.rows == [(2, ["Альфа", "a; b"]), (4, ["Бета", "x"])]


def test_xlsx_with_date_and_number_cells():
    data = xlsx_bytes([["date", "amount"], [date(2024, 1, 31), 1500.5], [date(2024, 2, 1), 7]])
    table = parsing.read_table(data, "s.xlsx")
    assert table.rows == [(2, ["2024-01-31", "1500.5"]), (3, ["2024-02-01", "7"])]


@pytest.mark.parametrize("data", [b"", b"   \n\n", "\ufeff".encode()])
def test_empty_file(data):
    with pytest.raises(ImportFileError, match="empty"):
        parsing.read_table(data, "a.csv")


def test_header_only_is_empty():
    with pytest.raises(ImportFileError, match="no rows"):
        parsing.read_table(b"name,inn\n", "a.csv")


def test_garbage_bytes_are_refused_clearly():
    with pytest.raises(ImportFileError, match="not a readable CSV"):
        parsing.read_table(bytes(range(256)) * 10, "a.csv")


def test_garbage_xlsx_is_refused_clearly():
    with pytest.raises(ImportFileError, match="not a valid XLSX"):
        parsing.read_table(b"PK\x03\x04 this is not a zip", "a.xlsx")
    with pytest.raises(ImportFileError, match="not a valid XLSX"):
        parsing.read_table(b"name,inn\nA,1\n", "a.xlsx")


def test_unsupported_extension():
    with pytest.raises(ImportFileError, match=r"\.csv or \.xlsx"):
        parsing.read_table(b"name\nA\n", "a.xls")


@override_settings(CLIENT_IMPORT_MAX_ROWS=3)
def test_too_many_rows_rejected_with_the_limit_in_the_message():
    data = ("name\n" + "".join(f"C{i}\n" for i in range(4))).encode()
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        parsing.read_table(data, "a.csv")


@override_settings(CLIENT_IMPORT_MAX_BYTES=1024 * 1024)
def test_too_large_file_rejected():
    with pytest.raises(ImportFileError, match="too large.*limit is 1 MB"):
        parsing.read_table(b"name\n" + b"x" * (1024 * 1024 + 1), "a.csv")


def test_wrong_columns_are_listed():
    with pytest.raises(ImportFileError) as exc:
        parsing.check_columns("clients", ["Title", "inn", "colour"])
    message = str(exc.value)
    assert "missing columns: name" in message
    assert "unknown columns: Title, colour" in message
    assert "Nothing was imported" in message


def test_contacts_need_a_client_column():
    with pytest.raises(ImportFileError, match="client_external_id or client_inn"):
        parsing.check_columns("contacts", ["full_name"])


def test_russian_headers_for_settlements():
    cols = parsing.check_columns("settlements", ["ИНН клиента", "Дата", "Сумма", "Маржа"])
    assert cols == ["client_inn", "date", "amount", "margin"]


def test_same_column_twice_is_refused():
    with pytest.raises(ImportFileError, match="twice"):
        parsing.check_columns("clients", ["name", "Наименование"])


def test_row_cleaning_collects_every_reason():
    values, reasons = rules.clean_row(
        "clients",
        {"name": "", "inn": "12", "email": "x", "employees": "-3", "year_founded": "1500"},
    )
    assert reasons == [
        "name: required",
        "inn: an INN has 10 or 12 digits",
        "email: not a valid email address",
        "employees: must be between 0 and 2147483647",
        "year_founded: must be between 1700 and 2100",
    ]


def test_settlement_amount_zero_is_accepted_as_free_goods():
    values, reasons = rules.clean_row(
        "settlements", {"client_inn": "7701234567", "date": "01.02.2024", "amount": "0,00"}
    )
    assert reasons == []
    assert values["amount"] == Decimal("0")


def test_a_row_with_too_many_cells_is_named():
    with pytest.raises(ImportFileError, match="row 3 has 4 cells but the header has 2"):
        parsing.read_table(b"name,inn\nA,1\nB,2,3,4\n", "a.csv")
