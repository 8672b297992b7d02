"""What an import file may hold and how each cell is read: the columns of each kind (with the
Russian header aliases a spreadsheet may carry), the cell parsers (a value, or ``ValueError``
with the reason a person can act on) and each column's rule, derived from the model field it
fills. No database access here: matching rows to records is ``checks``.
"""

import re
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext as _

from clients.models import Client, ContactPerson, Product, Settlement, Tag, TargetSegment
from crm.formats import format_number
from crm.models import User

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
    "language": ("язык опросов", "язык", "language of surveys"),
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
# the language's name in either language, whichever the import runs in (the codes and the
# active language's names come from the field)
LANGUAGE_ALIASES = {
    "русский": "ru",
    "russian": "ru",
    "английский": "en",
    "english": "en",
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
        "language": (ContactPerson, "language"),
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
CHOICE_ALIASES = {
    ("clients", "kind"): KIND_ALIASES,
    ("clients", "source"): SOURCE_ALIASES,
    ("contacts", "language"): LANGUAGE_ALIASES,
}


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
