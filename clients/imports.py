"""Reading and checking CSV/XLSX import files: no writes here.

``read_table`` turns the uploaded bytes into a header and rows of strings (encoding, delimiter,
XLSX cells, limits, Russian header aliases); ``check_columns`` refuses a file whose columns are
wrong; the ``parse_*`` functions turn one cell into a value or raise ``ValueError`` with the
reason a person can act on. Matching rows to existing records (which needs the database) is in
the ``clients/services_import`` package.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from clients.models import Client
from crm.formats import format_number

# Limits; settings may override them (tests do).
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
ASYNC_ROWS = 10_000  # this many rows or more go to a Celery task with a progress bar


def max_bytes() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_BYTES", MAX_BYTES)


def max_rows() -> int:
    return getattr(settings, "CLIENT_IMPORT_MAX_ROWS", MAX_ROWS)


def async_rows() -> int:
    return getattr(settings, "CLIENT_IMPORT_ASYNC_ROWS", ASYNC_ROWS)


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
@dataclass
class Table:
    headers: list[str]  # as written in the file
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # (line in the file, cells)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then Windows-1251 (Russian Excel's "CSV")."""
    head = data[:8192]
    if b"\x00" in head:
        raise ImportFileError(
            _(
                "The file is not a readable CSV (binary data or UTF-16). Save it as "
                '"CSV UTF-8" or XLSX and upload it again.'
            )
        )
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\r\n\t")
        if control > 8:
            break
        return text
    raise ImportFileError(
        _("The file could not be read: it is neither UTF-8 nor Windows-1251 text.")
    )


def sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
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
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if value is pd.NaT:
        return ""
    return str(value)


def _read_csv(data: bytes, limit: int) -> list[list[str]]:
    text = decode_text(data)
    if not text.strip():
        return []
    delimiter = sniff_delimiter(text)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            nrows=limit + 2,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        extra = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if extra:
            raise ImportFileError(
                _(
                    "The file could not be read as CSV: row %(line)s has %(saw)s cells but the "
                    "header has %(expected)s. Check the delimiter and quotes in that row."
                )
                % {"line": extra[2], "saw": extra[3], "expected": extra[1]}
            ) from exc
        raise ImportFileError(
            _("The file could not be read as CSV: %s") % str(exc).strip()
        ) from exc
    return frame.values.tolist()


def _read_xlsx(data: bytes, limit: int) -> list[list[str]]:
    if not data.startswith(b"PK"):
        raise ImportFileError(_("The file is not a valid XLSX workbook."))
    try:
        frame = pd.read_excel(
            io.BytesIO(data),
            sheet_name=0,
            header=None,
            dtype=object,
            nrows=limit + 2,
            engine="openpyxl",
        )
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise ImportFileError(_("The file is not a valid XLSX workbook.")) from exc
    return [[_cell_text(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def read_table(data: bytes, file_name: str) -> Table:
    """The header and non-empty rows of an uploaded CSV or XLSX file."""
    if len(data) > max_bytes():
        raise ImportFileError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB. Split it.")
            % {
                "size": format_number(len(data) / 1024 / 1024, 1),
                "limit": format_number(max_bytes() // (1024 * 1024)),
            }
        )
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    name = file_name.lower()
    limit = max_rows()
    if name.endswith(".xlsx"):
        matrix = _read_xlsx(data, limit)
    elif name.endswith((".csv", ".txt")):
        matrix = _read_csv(data, limit)
    else:
        raise ImportFileError(_("Upload a .csv or .xlsx file (old .xls is not supported)."))
    matrix = [[(c if isinstance(c, str) else _cell_text(c)).strip() for c in row] for row in matrix]
    # the header is the first non-empty line
    while matrix and not any(matrix[0]):
        matrix.pop(0)
    if not matrix:
        raise ImportFileError(_("The file is empty."))
    headers = matrix[0]
    # trailing columns with no header and no data (Excel leaves them) are dropped
    width = len(headers)
    while (
        width
        and not headers[width - 1]
        and not any(len(r) >= width and r[width - 1] for r in matrix)
    ):
        width -= 1
    table = Table(headers=headers[:width])
    for index, row in enumerate(matrix[1:], start=2):
        cells = (row + [""] * width)[:width]
        if any(cells):
            table.rows.append((index, [unescape_cell(c) for c in cells]))
    if not table.rows:
        raise ImportFileError(_("The file is empty: it has a header but no rows."))
    if len(table.rows) > limit:
        raise ImportFileError(
            _("The file has more than %(limit)s rows; split it into smaller files.")
            % {"limit": format_number(limit)}
        )
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


def parse_decimal(value: str, *, max_digits: int = 14, places: int = 2) -> Decimal:
    """ "1 234,50", "1234.5", "-12" -> Decimal; spaces (also non-breaking) group thousands."""
    text = re.sub(r"[\s\u00a0\u202f]", "", value)
    if "," in text and "." in text:
        text = text.replace(",", "")  # 1,234.50
    text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(_("not a number")) from exc
    if not number.is_finite():
        raise ValueError(_("not a number"))
    if -number.as_tuple().exponent > places and number != number.quantize(
        Decimal(1).scaleb(-places)
    ):
        raise ValueError(_("at most %d decimal places") % places)
    number = number.quantize(Decimal(1).scaleb(-places))
    if abs(number) >= Decimal(10) ** (max_digits - places):
        raise ValueError(_("the number is too large"))
    return number


def parse_int(value: str, *, minimum: int = 0, maximum: int = 2_147_483_647) -> int:
    text = re.sub(r"[\s\u00a0\u202f]", "", value)
    try:
        number = int(Decimal(text.replace(",", ".")))
        if Decimal(text.replace(",", ".")) != number:
            raise ValueError
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(_("not a whole number")) from exc
    if not minimum <= number <= maximum:
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


def parse_email(value: str) -> str:
    text = value.strip()
    try:
        validate_email(text)
    except ValidationError as exc:
        raise ValueError(_("not a valid email address")) from exc
    if len(text) > 254:
        raise ValueError(_("too long"))
    return text


def parse_text(value: str, max_length: int) -> str:
    text = value.strip()
    if len(text) > max_length:
        raise ValueError(_("longer than %d characters") % max_length)
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


def split_tags(value: str) -> list[str]:
    seen: dict[str, str] = {}
    for part in re.split(r"[,;|]", value):
        tag = part.strip()
        if tag and tag.lower() not in seen:
            seen[tag.lower()] = tag
    return list(seen.values())


# --- rows -----------------------------------------------------------------------------------
# Each cleaner takes {column: cell text} for the columns present and returns (values, reasons).
# It checks one row on its own; matching against the database is the service's job.
def _choices(text_choices, extra: dict[str, str]) -> dict[str, str]:
    mapping = {value.lower(): value for value in text_choices.values}
    mapping.update({str(label).lower(): value for value, label in text_choices.choices})
    mapping.update(extra)
    return mapping


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


def client_rules() -> dict:
    kinds = _choices(
        Client.Kind,
        {
            "компания": "company",
            "юрлицо": "company",
            "юридическое лицо": "company",
            "организация": "company",
            "ип": "person",
            "физлицо": "person",
            "физическое лицо": "person",
            "частное лицо": "person",
            "person": "person",
        },
    )
    customer_types = _choices(Client.CustomerType, {})
    sources = _choices(
        Client.Source,
        {
            "рекомендация": "referral",
            "сайт": "website",
            "выставка": "exhibition",
            "холодный звонок": "cold_call",
            "реклама": "advertising",
            "другое": "other",
            "cold call": "cold_call",
        },
    )
    return {
        "external_id": (lambda v: parse_text(v, 64), False),
        "name": (lambda v: parse_text(v, 255), True),
        "inn": (parse_inn, False),
        "kind": (lambda v: parse_choice(v, kinds), False),
        "industry": (lambda v: parse_text(v, 120), False),
        "activity": (lambda v: parse_text(v, 200), False),
        "employees": (parse_int, False),
        "customer_type": (lambda v: parse_choice(v, customer_types), False),
        "year_founded": (lambda v: parse_int(v, minimum=1700, maximum=2100), False),
        "account_manager": (lambda v: parse_text(v, 150), False),
        "target_segment": (lambda v: parse_text(v, 200), False),
        "source": (lambda v: parse_choice(v, sources), False),
        "tags": (split_tags, False),
        "email": (parse_email, False),
        "phone": (lambda v: parse_text(v, 40), False),
        "city": (lambda v: parse_text(v, 120), False),
        "notes": (lambda v: v.strip(), False),
    }


def contact_rules() -> dict:
    return {
        "external_id": (lambda v: parse_text(v, 64), False),
        "client_external_id": (lambda v: parse_text(v, 64), False),
        "client_inn": (parse_inn, False),
        "full_name": (lambda v: parse_text(v, 200), True),
        "position": (lambda v: parse_text(v, 200), False),
        "email": (parse_email, False),
        "phone": (lambda v: parse_text(v, 40), False),
        "birthday": (parse_date, False),
        "is_primary": (parse_bool, False),
        "greeting_consent": (parse_bool, False),
        "survey_opt_out": (parse_bool, False),
    }


def _amount(value: str) -> Decimal:
    """Any amount: refunds are negative, zero is free or promotional goods (a purchase)."""
    return parse_decimal(value)


def settlement_rules() -> dict:
    return {
        "external_id": (lambda v: parse_text(v, 64), False),
        "client_external_id": (lambda v: parse_text(v, 64), False),
        "client_inn": (parse_inn, False),
        "product_code": (lambda v: parse_text(v, 50), False),
        "product": (lambda v: parse_text(v, 200), False),
        "date": (parse_date, True),
        "amount": (_amount, True),
        "margin": (parse_decimal, False),
        "document_number": (lambda v: parse_text(v, 64), False),
    }


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
