"""CSV/XLSX writing for the client export, import templates and import error reports.

Every text cell goes through ``escape_cell``: a spreadsheet would run a cell starting with
= + - @ (or a tab / carriage return that hides one) as a formula, so such a cell gets a
leading apostrophe (OWASP "CSV injection"). Numbers and dates are written as numbers and
dates and need no guard. The import reverses the guard (``parsing.unescape_cell``).

XLSX cells also go through ``xlsx_cell``: the XML of a workbook cannot hold control
characters (U+0000–U+001F but tab, newline and carriage return), and openpyxl refuses the whole
file for one of them. They are dropped on the way out, here, for every XLSX we write (the
client export, import templates and error reports), so a client field pasted with a stray
``\x07`` still exports; the stored value and the CSV export keep it as entered.
"""

import csv
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import islice

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from clients.models import Client

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CLIENT_EXPORT_COLUMNS = [
    "external_id",
    "name",
    "inn",
    "kind",
    "industry",
    "activity",
    "employees",
    "customer_type",
    "year_founded",
    "account_manager",
    "target_segment",
    "source",
    "tags",
    "email",
    "phone",
    "city",
    "notes",
]


def escape_cell(value):
    """A cell value safe to open in Excel / LibreOffice / Google Sheets."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | Decimal | date | datetime):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


# the exported columns as ORM paths, in CLIENT_EXPORT_COLUMNS order (tags come separately)
_EXPORT_PATHS = {
    "account_manager": "account_manager__username",
    "target_segment": "target_segment__name",
}
CHUNK = 2000


def client_export_rows(queryset) -> Iterator[list]:
    """Header, then one row per client in the queryset's order.

    Reads plain tuples (``values_list``) with ``iterator`` in chunks and fetches the tags of
    each chunk in one query, so 100 000 clients never sit in memory at once and no model
    instances are built (they made the export several times slower).
    """
    yield list(CLIENT_EXPORT_COLUMNS)
    paths = ["pk"] + [
        _EXPORT_PATHS.get(column, column) for column in CLIENT_EXPORT_COLUMNS if column != "tags"
    ]
    tags_at = CLIENT_EXPORT_COLUMNS.index("tags")
    through = Client.tags.through
    rows = iter(queryset.values_list(*paths).iterator(chunk_size=CHUNK))
    while chunk := list(islice(rows, CHUNK)):
        tags: dict[int, list[str]] = defaultdict(list)
        links = (
            through.objects.filter(client_id__in=[row[0] for row in chunk])
            .order_by("tag__name")
            .values_list("client_id", "tag__name")
        )
        for client_id, name in links:
            tags[client_id].append(name)
        for pk, *values in chunk:
            values.insert(tags_at, ", ".join(tags.get(pk, ())))
            yield values


class _Echo:
    """A file-like object whose write returns the line, for a streaming CSV response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list], *, bom: bool = True) -> Iterator[str]:
    """CSV text line by line (UTF-8 with BOM so Excel reads Cyrillic), cells escaped."""
    writer = csv.writer(_Echo())
    if bom:
        yield "\ufeff"
    for row in rows:
        yield writer.writerow([escape_cell(v) for v in row])


def xlsx_cell(value):
    """``escape_cell`` plus what a workbook cannot hold: control characters are dropped."""
    value = escape_cell(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def xlsx_file(rows: Iterable[list], *, title: str = "Sheet") -> tempfile.SpooledTemporaryFile:
    """An XLSX workbook written row by row (openpyxl write-only mode, constant memory)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=ILLEGAL_CHARACTERS_RE.sub("", title)[:31] or "Sheet")
    for row in rows:
        sheet.append([xlsx_cell(v) for v in row])
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - returned
    book.save(out)
    out.seek(0)
    return out


__all__ = [
    "CLIENT_EXPORT_COLUMNS",
    "client_export_rows",
    "csv_lines",
    "escape_cell",
    "xlsx_cell",
    "xlsx_file",
]
