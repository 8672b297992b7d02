"""Money and numbers as people read them, in the active language (CLDR rules, through Babel).

The one way to show an amount or a number anywhere in the project: templates use the filters
of ``crm/templatetags/formatting.py`` (``money``, ``number``, ``percent``, ``percent_points``);
Python code that builds text for people calls these functions. The currency is the
``CURRENCY`` setting (ISO 4217 code, default RUB); the language is the active Django language,
so the same amount reads ``14 000,00 ₽`` on a Russian page and ``RUB 14,000.00`` on an English
one. Exports (CSV/XLSX) and the API keep plain machine-readable numbers and never come here.

Nothing is shown for a missing value as ``—`` (``EMPTY``).
"""

from __future__ import annotations

import copy
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern, format_currency, get_currency_precision
from babel.numbers import get_currency_symbol as babel_currency_symbol
from django.conf import settings
from django.utils import translation

EMPTY = "—"
NBSP = "\u00a0"

Number = Decimal | float | int | str


def _locale_name(language: str | None) -> str:
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return translation.to_locale(language)  # "en-us" → "en_US", as Babel spells it


@lru_cache(maxsize=32)
def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(translation.to_locale(settings.LANGUAGE_CODE))


def _decimal(value: Number | None) -> Decimal | None:
    """The value as a Decimal; None for None, "" and NaN. A float goes through its shortest
    repr, so 41782.06 stays 41782.06 and does not become 41782.0599999…"""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if number.is_nan():
        return None
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _rounded(number: Decimal, digits: int) -> Decimal:
    """Rounded half up, as people round money (Babel alone would round half to even:
    0.125 → 0.12); a value that rounds to zero is zero, so -0.001 never reads "-0,00"."""
    with localcontext() as context:
        context.prec = max(context.prec, number.adjusted() + digits + 2)
        number = number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return number if number != 0 else Decimal(0).quantize(number)


def _with_digits(pattern: NumberPattern, digits: int | None) -> NumberPattern:
    if digits is None:
        return pattern
    pattern = copy.copy(pattern)
    pattern.frac_prec = (digits, digits)
    return pattern


def _letter_like(char: str) -> bool:
    return unicodedata.category(char)[0] not in "SZ"


def _currency_spacing(text: str, symbol: str) -> str:
    """CLDR's currencySpacing rule, which ICU applies and Babel does not: a currency symbol
    whose side next to the number is not a symbol character (a code such as "RUB") is kept
    apart from the digits by a no-break space — "RUB 14,000.00", while "€14,000.00" stays."""
    start = text.find(symbol)
    if not symbol or start < 0:
        return text
    end = start + len(symbol)
    if end < len(text) and text[end].isdigit() and _letter_like(symbol[-1]):
        text = text[:end] + NBSP + text[end:]
    if start > 0 and text[start - 1].isdigit() and _letter_like(symbol[0]):
        text = text[:start] + NBSP + text[start:]
    return text


def currency_code(currency: str | None = None) -> str:
    return (currency or settings.CURRENCY).upper()


def currency_symbol(currency: str | None = None, language: str | None = None) -> str:
    """The currency's symbol in the language: "₽" in Russian, "RUB" in English."""
    return babel_currency_symbol(currency_code(currency), locale=_locale(_locale_name(language)))


def format_money(
    value: Number | None, currency: str | None = None, language: str | None = None
) -> str:
    """An amount with the currency, in the language's format (the active one by default).

    >>> format_money(Decimal("14000"), "RUB", "ru")
    '14\\xa0000,00\\xa0₽'
    >>> format_money(Decimal("-150.5"), "RUB", "en")
    '-RUB\\xa0150.50'

    None (or NaN) gives ``—``. The amount is rounded to the currency's minor units (2 for RUB).
    """
    number = _decimal(value)
    if number is None:
        return EMPTY
    code = currency_code(currency)
    locale = _locale(_locale_name(language))
    number = _rounded(number, get_currency_precision(code))
    text = format_currency(number, code, locale=locale)
    return _currency_spacing(text, babel_currency_symbol(code, locale=locale))


def format_number(
    value: Number | None, digits: int | None = None, language: str | None = None
) -> str:
    """A count or a measure with the language's grouping and decimal separator.

    Without ``digits``: an integer as is (``100 000``), a fraction with up to 3 decimals as the
    language's standard pattern gives; with ``digits``: exactly that many (``1,50``).
    """
    number = _decimal(value)
    if number is None:
        return EMPTY
    locale = _locale(_locale_name(language))
    pattern = _with_digits(locale.decimal_formats[None], digits)
    return pattern.apply(_rounded(number, pattern.frac_prec[1]), locale)


def format_percent(value: Number | None, digits: int = 1, language: str | None = None) -> str:
    """A fraction as a percentage: 0.123 → ``12,3 %`` (ru) / ``12.3%`` (en)."""
    number = _decimal(value)
    if number is None:
        return EMPTY
    locale = _locale(_locale_name(language))
    pattern = _with_digits(locale.percent_formats[None], digits)
    return pattern.apply(_rounded(number, digits + 2), locale)


def format_percent_points(
    value: Number | None, digits: int = 1, language: str | None = None
) -> str:
    """A value already in percent (95.5) as a percentage: ``95,5 %`` (ru) / ``95.5%`` (en)."""
    number = _decimal(value)
    return format_percent(None if number is None else number / 100, digits, language)
