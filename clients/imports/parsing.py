"""Reading and checking CSV/XLSX import files: no writes here.

``read_table`` turns the uploaded bytes into a header and rows of strings (encoding, delimiter,
XLSX cells, limits, Russian header aliases); ``check_columns`` refuses a file whose columns are
wrong; the ``parse_*`` functions turn one cell into a value or raise ``ValueError`` with the
reason a person can act on. Matching rows to existing records (which needs the database) is in
``checks``.
"""

import codecs
import csv
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import openpyxl
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext as _

from clients.models import Client, ContactPerson, Product, Settlement, Tag, TargetSegment
from crm.formats import format_number
from crm.models import User

# Limits; settings may override them (tests do).
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_CELLS = 4_000_000  # 200 000 rows of 20 columns
MAX_UNPACKED_BYTES = 150 * 1024 * 1024  # an XLSX's parts once unzipped
MAX_COLUMNS = 100  # a template has at most 17; more is a broken or hostile file


def max_bytes() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_BYTES", MAX_BYTES)


def max_rows() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_ROWS", MAX_ROWS)


def max_cells() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_CELLS", MAX_CELLS)


def max_unpacked_bytes() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_UNPACKED_BYTES", MAX_UNPACKED_BYTES)


class ImportFileError(Exception):
    """The whole file is refused; the message says why, for the person who uploaded it."""


# --- columns --------------------------------------------------------------------------------
# canonical column -> Russian (and other) header aliases a user's spreadsheet may carry.
CLIENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("внешний id", "внешний идентификатор", "внешний код", "код клиента", "id"),
    "name": ("наименование", "название", "клиент", "имя"),
    "inn": ("инн",),
    "kind": ("тип", "вид", "тип клиента"),
    "industry": ("отрасль",),
    "activity": ("вид деятельности", "направление деятельности", "деятельность"),
    "employees": ("численность", "сотрудников", "число сотрудников", "количество сотрудников"),
    "customer_type": ("тип покупателей", "основной тип клиентов", "тип клиентов", "b2b/b2c"),
    "year_founded": ("год основания",),
    "account_manager": ("менеджер", "аккаунт-менеджер", "ответственный", "account manager"),
    "target_segment": ("целевой сегмент", "сегмент"),
    "source": ("источник",),
    "tags": ("теги", "метки"),
    "email": ("e-mail", "эл. почта", "электронная почта", "почта"),
    "phone": ("телефон",),
    "city": ("город",),
    "notes": ("примечание", "примечания", "заметки", "комментарий"),
}
CONTACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("внешний id", "внешний идентификатор", "внешний код", "id"),
    "client_external_id": ("внешний id клиента", "код клиента", "client external id"),
    "client_inn": ("инн клиента", "инн", "client inn"),
    "full_name": ("фио", "ф.и.о.", "контактное лицо", "имя", "full name"),
    "position": ("должность",),
    "email": ("e-mail", "эл. почта", "электронная почта", "почта"),
    "phone": ("телефон",),
    "birthday": ("день рождения", "дата рождения"),
    "is_primary": ("основной", "основное контактное лицо", "основной контакт"),
    "greeting_consent": ("согласие на поздравления", "поздравлять"),
    "survey_opt_out": ("отказ от опросов", "не опрашивать"),
}
SETTLEMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("внешний id", "внешний идентификатор", "внешний код", "id"),
    "client_external_id": ("внешний id клиента", "код клиента", "client external id"),
    "client_inn": ("инн клиента", "инн", "client inn"),
    "product_code": ("код товара", "код продукта", "артикул", "product code"),
    "product": ("товар", "продукт", "номенклатура", "product name", "product_name"),
    "date": ("дата", "дата документа"),
    "amount": ("сумма",),
    "margin": ("маржа", "прибыль"),
    "document_number": ("номер документа", "документ", "№ документа", "номер"),
}
COLUMNS = {
    "clients": CLIENT_COLUMNS,
    "contacts": CONTACT_COLUMNS,
    "settlements": SETTLEMENT_COLUMNS,
}
REQUIRED = {"clients": ("name",), "contacts": ("full_name",), "settlements": ("date", "amount")}
# at least one of each group must be present
ONE_OF = {
    "clients": (),
    "contacts": (("client_external_id", "client_inn"),),
    "settlements": (("client_external_id", "client_inn"),),
}


def normalize_header(header: str) -> str:
    text = str(header).replace("\ufeff", "").strip().lower().replace("ё", "е")
    text = text.rstrip("*:").strip()
    return re.sub(r"[\s\-]+", "_", text)


def _alias_map(kind: str) -> dict[str, str]:
    mapping = {}
    for canonical, aliases in COLUMNS[kind].items():
        mapping[normalize_header(canonical)] = canonical
        for alias in aliases:
            mapping[normalize_header(alias)] = canonical
    return mapping


ALIASES = {kind: _alias_map(kind) for kind in COLUMNS}


def check_columns(kind: str, headers: list[str]) -> list[str]:
    """Canonical column names for ``headers``, or ImportFileError naming what is wrong."""
    aliases = ALIASES[kind]
    canonical: list[str] = []
    unknown: list[str] = []
    twice: list[str] = []
    for header in headers:
        name = aliases.get(normalize_header(header))
        if name is None:
            unknown.append(header or _("(a column without a header)"))
        elif name in canonical:
            twice.append(header)
        canonical.append(name or "")
    missing = [c for c in REQUIRED[kind] if c not in canonical]
    missing += [
        _(" or ").join(group) for group in ONE_OF[kind] if not any(c in canonical for c in group)
    ]
    if missing or unknown or twice:
        parts = []
        if missing:
            parts.append(_("missing columns: %s") % ", ".join(missing))
        if unknown:
            parts.append(_("unknown columns: %s") % ", ".join(unknown))
        if twice:
            parts.append(_("columns given twice: %s") % ", ".join(twice))
        raise ImportFileError(
            _(
                "The columns do not match the %(kind)s template (%(problems)s). "
                "Nothing was imported."
            )
            % {"kind": kind, "problems": "; ".join(parts)}
            + " "
            + _("Expected columns: %s.") % ", ".join(COLUMNS[kind])
        )
    return canonical


# --- reading the file -----------------------------------------------------------------------
# Two readers of the same rules: ``inspect_upload`` runs in the web request and only does
# bounded work (the zip directory, the first 64 KB, byte counts); ``read_table`` runs in the
# task and streams the whole file, counting rows and cells as it goes so a hostile file is
# refused as soon as it passes a limit rather than after it has been read.
HEAD = 64 * 1024
EXCEL_MAX_ROWS = 1_048_576
XML_HEAD = 1024
PROGRESS_LINES = 10_000


@dataclass
class Table:
    headers: list[str]  # as written in the file
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line in the file, cells)


def _binary_error() -> ImportFileError:
    return ImportFileError(
        _(
            "The file is not a readable CSV (binary data or UTF-16). Save it as "
            '"CSV UTF-8" or XLSX and upload it again.'
        )
    )


_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
# words holding a non-ASCII letter
_NON_ASCII_WORD = re.compile(r"[^\W\d_]*[^\W\d_\x00-\x7f][^\W\d_]*")
_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# What cp1251 bytes 0x80-0xBF decode to that Russian text hardly ever holds (Serbian and
# Macedonian letters, daggers, per mille...): Shift-JIS and other multi-byte text read as cp1251
# is full of them. Ukrainian and Belarusian letters are not in the list.
_RARE_CP1251 = re.compile("[ЂЃѓ†‡‰Љ‹ЊЌЋЏђљ›њќћџЈ¤¦\xadµ¶јЅѕ]")


def _check_cp1251(text: str) -> None:
    """Refuse text that decodes as cp1251 but is not Russian: Latin-1 (``Müller`` reads as
    ``Mьller``: Latin and Cyrillic letters in one word) or Shift-JIS (``テスト`` reads as
    ``ѓeѓXѓg``)."""
    words = _NON_ASCII_WORD.findall(text)
    mixed = [w for w in words if _LATIN.search(w) and _CYRILLIC.search(w)]
    rare = len(_RARE_CP1251.findall(text))
    non_ascii = sum(len(w) for w in words) or 1
    if (len(mixed) >= 3 and len(mixed) * 20 > len(words)) or (rare >= 3 and rare * 50 > non_ascii):
        sample = ", ".join(dict.fromkeys(mixed or _RARE_CP1251.findall(text)))
        raise ImportFileError(
            _(
                "The file is neither UTF-8 nor Russian Windows-1251 text: read as "
                "Windows-1251 it gives garbage such as «%(sample)s». Save it as "
                '"CSV UTF-8" and upload it again.'
            )
            % {"sample": sample[:60]}
        )


def decode_text(data: bytes, *, final: bool = True) -> str:
    """UTF-8 (with or without BOM) first, then Windows-1251 (Russian Excel's "CSV") if it reads
    as Russian. ``final=False`` decodes a head cut anywhere (the web request's sample)."""
    if b"\x00" in data:
        raise _binary_error()
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=final)
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1251")
        except UnicodeDecodeError:
            raise ImportFileError(
                _("The file could not be read: it is neither UTF-8 nor Windows-1251 text.")
            ) from None
        _check_cp1251(text)
    if len(_CONTROL.findall(text)) > 8:
        raise _binary_error()
    return text


def sniff_delimiter(text: str) -> str:
    sample = "\n".join(text[:16384].splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in (";", ",", "\t")}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _cell_text(value) -> str:
    """An XLSX cell as the text a person sees (dates as ISO, 42.0 as 42)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value in (float("inf"), float("-inf")):
            return repr(value)  # "inf": refused as "not a number"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")  # 1e30 as its 31 digits: "too large"
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class _Budget:
    """Counts rows and cells while a file is read; refuses it the moment it passes a limit."""

    def __init__(self, on_progress=None):
        self.rows = 0
        self.lines = 0
        self.cells = 0
        self.max_rows = max_rows()
        self.max_cells = max_cells()
        self.on_progress = on_progress

    def take(self, cells: list) -> None:
        self.lines += 1
        if self.on_progress is not None and self.lines % PROGRESS_LINES == 0:
            self.on_progress()  # a sign of life while a large file is read
        self.cells += len(cells)
        if self.cells > self.max_cells:
            raise ImportFileError(
                _("The file has more than %(limit)s cells; split it into smaller files.")
                % {"limit": format_number(self.max_cells)}
            )
        if any(cells):
            self.rows += 1
            if self.rows > self.max_rows + 1:  # the header is not a data row
                raise _too_many_rows(self.max_rows)


def _too_many_rows(limit: int) -> ImportFileError:
    return ImportFileError(
        _("The file has more than %(limit)s rows; split it into smaller files.")
        % {"limit": format_number(limit)}
    )


def _csv_rows(text: str):
    """(line where the record starts, cells) of a CSV text, checking quotes as it goes."""
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    width = 0
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(
                _(
                    "The file could not be read as CSV at line %(line)s (%(reason)s). Check the "
                    "quotes in that row."
                )
                % {"line": line, "reason": exc}
            ) from None
        if not width and any(c.strip() for c in cells):
            width = len([c for c in cells if c.strip()])
        elif width > 1:
            _check_merged_lines(cells, line, delimiter, width)
        yield line, cells
        line = reader.line_num + 1


def _check_merged_lines(cells: list[str], line: int, delimiter: str, width: int) -> None:
    """A quote opened and never closed swallows the next lines into one cell: a cell holding
    a line that has as many delimiters as a whole row is such a merge, not a multi-line note."""
    for cell in cells:
        if "\n" in cell and any(
            part.count(delimiter) >= width - 1 for part in cell.splitlines()[1:]
        ):
            raise ImportFileError(
                _(
                    "Row %(line)s: a quote opened in this row is not closed, so the lines after "
                    "it were read as one cell. Fix the quotes in that row and upload the file "
                    "again. Nothing was imported."
                )
                % {"line": line}
            )


def _read_csv(data: bytes, budget: _Budget) -> list[tuple[int, list[str]]]:
    text = decode_text(data)
    rows = []
    for line, cells in _csv_rows(text):
        budget.take(cells)
        rows.append((line, cells))
    return rows


# --- XLSX: checked from the zip directory before any XML is parsed --------------------------
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_SHEET_PATH = "xl/worksheets/sheet1.xml"


def _not_xlsx() -> ImportFileError:
    return ImportFileError(_("The file is not a valid XLSX workbook."))


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ch - 64
    return number


def _first_sheet(book: zipfile.ZipFile) -> str:
    """The zip member of the workbook's first sheet (what a person sees first in Excel)."""
    try:
        workbook = ElementTree.fromstring(_member(book, "xl/workbook.xml", limit=1024 * 1024))
        rels = ElementTree.fromstring(
            _member(book, "xl/_rels/workbook.xml.rels", limit=1024 * 1024)
        )
    except (KeyError, ElementTree.ParseError, DefusedXmlException):
        return _SHEET_PATH
    ns_main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    ns_rel = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    sheet = workbook.find(f"{ns_main}sheets/{ns_main}sheet")
    rel_id = sheet.get(f"{ns_rel}id") if sheet is not None else None
    for rel in rels:
        if rel.get("Id") == rel_id and rel.get("Target"):
            target = rel.get("Target")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return _SHEET_PATH


def _member(book: zipfile.ZipFile, name: str, *, limit: int) -> bytes:
    info = book.getinfo(name)
    if info.file_size > limit:
        raise _not_xlsx()
    with book.open(info) as fh:
        return fh.read(limit)


def inspect_xlsx(data: bytes) -> int:
    """Bounded checks of an XLSX (the zip directory, each XML part's first kilobyte, the sheet's
    declared size); returns the number of data rows the sheet declares."""
    if not data.startswith(b"PK"):
        raise _not_xlsx()
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = book.infolist()
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names or len(infos) > 1000:
            raise _not_xlsx()
        unpacked = sum(info.file_size for info in infos)
        if unpacked > max_unpacked_bytes():
            raise ImportFileError(
                _(
                    "The workbook unpacks to %(size)s MB; the limit is %(limit)s MB. Save only "
                    "the sheet to import, or split it."
                )
                % {
                    "size": format_number(unpacked / 1024 / 1024, 1),
                    "limit": format_number(max_unpacked_bytes() // (1024 * 1024)),
                }
            )
        for info in infos:
            if info.filename.endswith((".xml", ".rels")):
                with book.open(info) as fh:
                    head = fh.read(XML_HEAD)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise _entities_error()
        sheet = _first_sheet(book)
        if sheet not in names:  # an unusual layout: openpyxl will find the sheet in the task
            return 0
        with book.open(sheet) as fh:
            head = fh.read(HEAD)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError) as exc:
        raise _not_xlsx() from exc
    except (NotImplementedError, RuntimeError) as exc:  # encrypted or an unknown compression
        raise _not_xlsx() from exc
    found = _DIMENSION.search(head)
    if not found:
        return 0
    first_col, first_row = _column_number(found[1]), int(found[2])
    last_col = _column_number(found[3]) if found[3] else first_col
    last_row = int(found[4]) if found[4] else first_row
    rows = last_row - first_row + 1
    cells = rows * (last_col - first_col + 1)
    if rows > max_rows() + 1:
        raise _too_many_rows(max_rows())
    if cells > max_cells():
        raise ImportFileError(
            _("The file has more than %(limit)s cells; split it into smaller files.")
            % {"limit": format_number(max_cells())}
        )
    return max(rows - 1, 0)


def _entities_error() -> ImportFileError:
    return ImportFileError(
        _(
            "The workbook contains XML entity declarations, which Excel never writes and which "
            "can make a small file expand enormously; it was refused. Save it again from Excel."
        )
    )


def _xlsx_error(exc: BaseException) -> ImportFileError:
    """The message for whatever openpyxl raised (it wraps parser errors in ValueError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return _entities_error()
        seen = seen.__cause__ or seen.__context__
    return _not_xlsx()


def _read_xlsx(data: bytes, budget: _Budget) -> list[tuple[int, list[str]]]:
    inspect_xlsx(data)
    try:
        book = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many kinds on a broken workbook
        raise _xlsx_error(exc) from exc
    rows = []
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # do not pad rows to a declared width: count what is there
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if line > EXCEL_MAX_ROWS:
                raise _not_xlsx()
            cells = [_cell_text(v) for v in values]
            budget.take(cells)
            while cells and not cells[-1]:
                cells.pop()
            rows.append((line, cells))
    except ImportFileError:
        raise
    except Exception as exc:
        raise _xlsx_error(exc) from exc
    finally:
        book.close()
    return rows


def _check_size(size: int) -> None:
    if size > max_bytes():
        raise ImportFileError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB. Split it.")
            % {
                "size": format_number(size / 1024 / 1024, 1),
                "limit": format_number(max_bytes() // (1024 * 1024)),
            }
        )


def _file_type(file_name: str) -> str:
    name = file_name.lower()
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise ImportFileError(_("Upload a .csv or .xlsx file (old .xls is not supported)."))


def inspect_upload(data: bytes, file_name: str, kind: str) -> int:
    """What the web request may do with an upload: bounded checks only (size, type, the zip
    directory of an XLSX, the encoding and columns of a CSV's first 64 KB). Returns an
    estimate of the rows for the progress bar; the task reads the file for real."""
    _check_size(len(data))
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    if _file_type(file_name) == "xlsx":
        return inspect_xlsx(data)
    if b"\x00" in data:
        raise _binary_error()
    head = data[:HEAD]
    text = decode_text(head, final=len(data) <= HEAD)
    header: list[str] = []
    for _line, cells in _csv_rows(text):
        if any(c.strip() for c in cells):
            header = [c.strip() for c in cells]
            break
    while header and not header[-1]:
        header.pop()
    if not header:
        raise ImportFileError(_("The file is empty."))
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(
            _("The header has %(count)s columns; a template has at most %(limit)s.")
            % {"count": len(header), "limit": MAX_COLUMNS}
        )
    check_columns(kind, header)
    return max(data.count(b"\n") - (1 if data.endswith(b"\n") else 0), 0)


def read_table(data: bytes, file_name: str, *, on_progress=None) -> Table:
    """The header and non-empty rows of an uploaded CSV or XLSX file (in the task);
    ``on_progress`` is called every PROGRESS_LINES lines read."""
    _check_size(len(data))
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    budget = _Budget(on_progress)
    if _file_type(file_name) == "xlsx":
        matrix = _read_xlsx(data, budget)
    else:
        matrix = _read_csv(data, budget)
    matrix = [(line, [c.strip() for c in cells]) for line, cells in matrix]
    # the header is the first non-empty line
    while matrix and not any(matrix[0][1]):
        matrix.pop(0)
    if not matrix:
        raise ImportFileError(_("The file is empty."))
    headers = matrix[0][1]
    # trailing columns with no header and no data (Excel leaves them) are dropped
    width = len(headers)
    while (
        width
        and not headers[width - 1]
        and not any(len(r) >= width and r[width - 1] for _line, r in matrix)
    ):
        width -= 1
    if width > MAX_COLUMNS:
        raise ImportFileError(
            _("The header has %(count)s columns; a template has at most %(limit)s.")
            % {"count": width, "limit": MAX_COLUMNS}
        )
    table = Table(headers=headers[:width])
    for line, row in matrix[1:]:
        extra = [c for c in row[width:] if c]
        if extra:
            raise ImportFileError(
                _(
                    "The file could not be read as CSV: row %(line)s has %(saw)s cells but the "
                    "header has %(expected)s. Check the delimiter and quotes in that row."
                )
                % {"line": line, "saw": len(row), "expected": width}
            )
        cells = (row + [""] * width)[:width]
        if any(cells):
            table.rows.append((line, [unescape_cell(c) for c in cells]))
    if not table.rows:
        raise ImportFileError(_("The file is empty: it has a header but no rows."))
    if len(table.rows) > budget.max_rows:
        raise _too_many_rows(budget.max_rows)
    return table


def unescape_cell(value: str) -> str:
    """Undo the export's formula guard ('=...) so an exported file re-imports unchanged."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


# --- cells ----------------------------------------------------------------------------------
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y")


def parse_date(value: str) -> date:
    text = value.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    raise ValueError(_("not a date (use YYYY-MM-DD or DD.MM.YYYY)"))


# A number cell is checked as text BEFORE it becomes a Decimal: "1e999999" or 100 digits are
# cheap to write and expensive to quantize or compare, so exponents are refused and the digits
# bounded first.
_NUMBER = re.compile(r"[+-]?(\d+)(?:\.(\d+))?")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
MAX_NUMBER_CHARS = 40


def _number_text(value: str) -> re.Match:
    text = _SPACES.sub("", value)
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(_("the number is too long"))
    if "," in text and "." in text:
        text = text.replace(",", "")  # 1,234.50
    found = _NUMBER.fullmatch(text.replace(",", "."))
    if found is None:
        raise ValueError(_("not a number"))
    return found


def parse_decimal(value: str, *, max_digits: int = 14, places: int = 2) -> Decimal:
    """ "1 234,50", "1234.5", "-12" -> Decimal; spaces (also non-breaking) group thousands."""
    found = _number_text(value)
    whole, fraction = found[1].lstrip("0"), (found[2] or "").rstrip("0")
    if len(fraction) > places:
        raise ValueError(_("at most %d decimal places") % places)
    if len(whole) > max_digits - places:
        raise ValueError(_("the number is too large"))
    return Decimal(found[0]).quantize(Decimal(1).scaleb(-places))


def parse_int(value: str, *, minimum: int = 0, maximum: int = 2_147_483_647) -> int:
    try:
        found = _number_text(value)
    except ValueError as exc:
        raise ValueError(_("not a whole number")) from exc
    if (found[2] or "").strip("0"):
        raise ValueError(_("not a whole number"))
    whole = found[1].lstrip("0")
    if len(whole) > len(str(max(abs(minimum), abs(maximum)))):
        number = None
    else:
        number = int(found[0].split(".")[0])
    if number is None or not minimum <= number <= maximum:
        raise ValueError(
            _("must be between %(min)s and %(max)s") % {"min": minimum, "max": maximum}
        )
    return number


TRUE = {"1", "true", "yes", "y", "да", "д", "+", "истина", "x", "✓"}
FALSE = {"0", "false", "no", "n", "нет", "н", "-", "ложь", ""}


def parse_bool(value: str) -> bool:
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(_("use yes/no (да/нет, 1/0)"))


def parse_inn(value: str) -> str:
    text = re.sub(r"[\s\u00a0]", "", value)
    if not re.fullmatch(r"\d{10}|\d{12}", text):
        raise ValueError(_("an INN has 10 or 12 digits"))
    return text


def parse_email(value: str, max_length: int = 254) -> str:
    text = value.strip()
    try:
        validate_email(text)
    except ValidationError as exc:
        raise ValueError(_("not a valid email address")) from exc
    if len(text) > max_length:
        raise ValueError(_("too long"))
    return text


def parse_text(value: str, max_length: int) -> str:
    text = value.strip()
    if len(text) > max_length:
        raise ValueError(
            _("longer than %(limit)s characters (%(length)s)")
            % {"limit": format_number(max_length), "length": format_number(len(text))}
        )
    return text


def parse_choice(value: str, choices: dict[str, str]) -> str:
    """``choices`` maps lowercase accepted spellings to the stored value."""
    text = value.strip().lower().replace("ё", "е")
    if text in choices:
        return choices[text]
    raise ValueError(
        _("unknown value «%(value)s»; use one of: %(options)s")
        % {
            "value": value,
            "options": ", ".join(sorted(set(choices.values()))),
        }
    )


def split_tags(value: str, max_length: int | None = None) -> list[str]:
    seen: dict[str, str] = {}
    for part in re.split(r"[,;|]", value):
        tag = part.strip()
        if max_length is not None and len(tag) > max_length:
            raise ValueError(
                _("the tag «%(tag)s» is longer than %(limit)s characters")
                % {"tag": tag[:max_length] + "…", "limit": format_number(max_length)}
            )
        if tag and tag.lower() not in seen:
            seen[tag.lower()] = tag
    return list(seen.values())


# --- rules: each column's parser, derived from the model field it fills -------------------
# The limits (lengths, number ranges and precision, choices, the date range) are read from the
# model fields, so the import refuses exactly what the forms, the API and the database refuse,
# and follows a field when it changes.
def _field(model, name: str):
    return model._meta.get_field(name)


def int_range(model, name: str) -> tuple[int, int]:
    """The whole numbers ``model.name`` accepts: its own validators within the range its type
    holds in every supported database (SQLite's integers are wider than PostgreSQL's)."""
    field = _field(model, name)
    low, high = BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()]
    for validator in field.validators:
        if isinstance(validator, MinValueValidator):
            low = max(low, validator.limit_value)
        elif isinstance(validator, MaxValueValidator):
            high = min(high, validator.limit_value)
    return low, high


def _run_validators(field, value):
    try:
        for validator in field.validators:
            validator(value)
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from exc
    return value


def _choice_spellings(field, extra: dict[str, str]) -> dict[str, str]:
    """Lowercase accepted spellings (the stored value, the label in the active language and
    ``extra`` aliases) -> the stored value."""
    mapping = {str(value).lower(): value for value, _label in field.flatchoices}
    mapping.update({str(label).lower(): value for value, label in field.flatchoices})
    mapping.update(extra)
    return mapping


def field_parser(model, name: str, *, aliases: dict[str, str] | None = None):
    """The parser of a column that fills ``model.name``, by the field's type and limits."""
    field = _field(model, name)
    if field.choices:
        spellings = _choice_spellings(field, aliases or {})
        return lambda value: parse_choice(value, spellings)
    if isinstance(field, models.BooleanField):
        return parse_bool
    if isinstance(field, models.EmailField):
        return lambda value: parse_email(value, field.max_length)
    if isinstance(field, models.CharField | models.TextField):
        return lambda value: parse_text(value, field.max_length)
    if isinstance(field, models.DecimalField):
        return lambda value: parse_decimal(
            value, max_digits=field.max_digits, places=field.decimal_places
        )
    if isinstance(field, models.IntegerField):
        low, high = int_range(model, name)
        return lambda value: parse_int(value, minimum=low, maximum=high)
    if isinstance(field, models.DateField):
        return lambda value: _run_validators(field, parse_date(value))
    raise TypeError(f"no import parser for {model.__name__}.{name}")  # a programming error


KIND_ALIASES = {
    "компания": "company",
    "юрлицо": "company",
    "юридическое лицо": "company",
    "организация": "company",
    "ип": "person",
    "физлицо": "person",
    "физическое лицо": "person",
    "частное лицо": "person",
    "person": "person",
}
SOURCE_ALIASES = {
    "рекомендация": "referral",
    "сайт": "website",
    "выставка": "exhibition",
    "холодный звонок": "cold_call",
    "реклама": "advertising",
    "другое": "other",
    "cold call": "cold_call",
}
# column -> the model field it fills (a reference column: the field it is matched on)
FIELDS = {
    "clients": {
        "external_id": (Client, "external_id"),
        "name": (Client, "name"),
        "kind": (Client, "kind"),
        "industry": (Client, "industry"),
        "activity": (Client, "activity"),
        "employees": (Client, "employees"),
        "customer_type": (Client, "customer_type"),
        "year_founded": (Client, "year_founded"),
        "account_manager": (User, "username"),
        "target_segment": (TargetSegment, "name"),
        "source": (Client, "source"),
        "email": (Client, "email"),
        "phone": (Client, "phone"),
        "city": (Client, "city"),
        "notes": (Client, "notes"),
    },
    "contacts": {
        "external_id": (ContactPerson, "external_id"),
        "client_external_id": (Client, "external_id"),
        "full_name": (ContactPerson, "full_name"),
        "position": (ContactPerson, "position"),
        "email": (ContactPerson, "email"),
        "phone": (ContactPerson, "phone"),
        "birthday": (ContactPerson, "birthday"),
        "is_primary": (ContactPerson, "is_primary"),
        "greeting_consent": (ContactPerson, "greeting_consent"),
        "survey_opt_out": (ContactPerson, "survey_opt_out"),
    },
    "settlements": {
        "external_id": (Settlement, "external_id"),
        "client_external_id": (Client, "external_id"),
        "product_code": (Product, "code"),
        "product": (Product, "name"),
        "date": (Settlement, "date"),
        "amount": (Settlement, "amount"),  # any amount: refunds < 0, free goods = 0
        "margin": (Settlement, "margin"),
        "document_number": (Settlement, "document_number"),
    },
}
CHOICE_ALIASES = {("clients", "kind"): KIND_ALIASES, ("clients", "source"): SOURCE_ALIASES}


def _rules(kind: str) -> dict:
    required = REQUIRED[kind]
    rules = {
        column: (
            field_parser(model, name, aliases=CHOICE_ALIASES.get((kind, column))),
            column in required,
        )
        for column, (model, name) in FIELDS[kind].items()
    }
    if kind == "clients":
        rules["inn"] = (parse_inn, False)
        tag_length = _field(Tag, "name").max_length
        rules["tags"] = (lambda value: split_tags(value, tag_length), False)
    else:
        rules["client_inn"] = (parse_inn, False)
    return rules


def client_rules() -> dict:
    return _rules("clients")


def contact_rules() -> dict:
    return _rules("contacts")


def settlement_rules() -> dict:
    return _rules("settlements")


def _clean(cells: dict[str, str], rules: dict) -> tuple[dict, list[str]]:
    values: dict = {}
    reasons: list[str] = []
    for column, text in cells.items():
        rule = rules.get(column)
        if rule is None:
            continue
        parse, required = rule
        if not text.strip():
            if required:
                reasons.append(_("%s: required") % column)
            else:
                values[column] = None
            continue
        try:
            values[column] = parse(text)
        except ValueError as exc:
            reasons.append(f"{column}: {exc}")
    return values, reasons


RULES = {"clients": client_rules, "contacts": contact_rules, "settlements": settlement_rules}


def clean_row(
    kind: str, cells: dict[str, str], rules: dict | None = None
) -> tuple[dict, list[str]]:
    values, reasons = _clean(cells, rules or RULES[kind]())
    names_client = values.get("client_external_id") or values.get("client_inn")
    reported = any(r.startswith(("client_external_id", "client_inn")) for r in reasons)
    if kind in ("contacts", "settlements") and not names_client and not reported:
        reasons.append(_("client_external_id or client_inn: required"))
    return values, reasons
