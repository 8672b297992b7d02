"""Reading an uploaded CSV/XLSX file into a table of strings: no writes here.

``inspect_upload`` runs in the web request and does bounded work only; ``read_table`` runs in
the task and turns the uploaded bytes into a header and rows of strings (encoding, delimiter,
XLSX cells through ``xlsx``, the limits of ``limits``); ``check_columns`` refuses a file whose
columns are wrong (the columns are ``rules``'). Each cell is then read by ``rules`` and the rows
matched to records by ``checks``.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from clients.imports import xlsx
from clients.imports.limits import (
    HEAD,
    MAX_COLUMNS,
    Budget,
    ImportFileError,
    max_bytes,
    too_many_rows,
)
from clients.imports.rules import COLUMNS, ONE_OF, REQUIRED
from crm.formats import format_number


# --- columns --------------------------------------------------------------------------------
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


def _read_csv(data: bytes, budget: Budget) -> list[tuple[int, list[str]]]:
    text = decode_text(data)
    rows = []
    for line, cells in _csv_rows(text):
        budget.take(cells)
        rows.append((line, cells))
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
        return xlsx.inspect_xlsx(data)
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
    budget = Budget(on_progress)
    if _file_type(file_name) == "xlsx":
        matrix = xlsx.read_xlsx(data, budget)
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
        raise too_many_rows(budget.max_rows)
    return table


def unescape_cell(value: str) -> str:
    """Undo the export's formula guard ('=...) so an exported file re-imports unchanged."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value
