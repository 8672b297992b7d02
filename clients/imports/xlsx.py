"""Reading an XLSX upload: checked from the zip directory before any XML is parsed (in the
web request), then read row by row with openpyxl within the limits (in the task)."""

import io
import re
import zipfile
import zlib
from datetime import date, datetime
from decimal import Decimal

import openpyxl
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext as _

from clients.imports.limits import (
    EXCEL_MAX_ROWS,
    HEAD,
    Budget,
    ImportFileError,
    max_cells,
    max_rows,
    max_unpacked_bytes,
    too_many_rows,
)
from crm.formats import format_number

XML_HEAD = 1024  # what is read of each XML part to refuse entity declarations


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
        raise too_many_rows(max_rows())
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


def read_xlsx(data: bytes, budget: Budget) -> list[tuple[int, list[str]]]:
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
