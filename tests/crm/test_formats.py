"""Money and numbers in each language (crm/formats.py and the formatting template filters).

The expected strings are CLDR's, as Babel gives them: Russian groups with a no-break space
(U+00A0) and puts the sign ₽ after the amount; English puts the code RUB before it, kept apart
from the digits by a no-break space (CLDR's currencySpacing rule, as ICU applies it).
"""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from crm.formats import (
    currency_symbol,
    format_money,
    format_number,
    format_percent,
    format_percent_points,
)
from tests.crm.test_settings import run_python

NB = "\u00a0"  # no-break space

MONEY = [
    # value, Russian, English
    (Decimal("14000"), f"14{NB}000,00{NB}₽", f"RUB{NB}14,000.00"),
    (Decimal("41782.06"), f"41{NB}782,06{NB}₽", f"RUB{NB}41,782.06"),
    (41782.06, f"41{NB}782,06{NB}₽", f"RUB{NB}41,782.06"),  # a float keeps its two decimals
    (Decimal("-150.5"), f"-150,50{NB}₽", f"-RUB{NB}150.50"),  # a refund
    (Decimal("0"), f"0,00{NB}₽", f"RUB{NB}0.00"),
    (0, f"0,00{NB}₽", f"RUB{NB}0.00"),
    (Decimal("-0.001"), f"0,00{NB}₽", f"RUB{NB}0.00"),  # never "-0,00"
    (Decimal("999.995"), f"1{NB}000,00{NB}₽", f"RUB{NB}1,000.00"),  # rounds to kopecks
    (Decimal("0.125"), f"0,13{NB}₽", f"RUB{NB}0.13"),  # half up, not half to even
    (Decimal("-0.125"), f"-0,13{NB}₽", f"-RUB{NB}0.13"),
    (
        Decimal("123456789012.34"),
        f"123{NB}456{NB}789{NB}012,34{NB}₽",
        f"RUB{NB}123,456,789,012.34",
    ),
    ("5", f"5,00{NB}₽", f"RUB{NB}5.00"),
    (None, "—", "—"),
    (float("nan"), "—", "—"),
]


@pytest.mark.parametrize(("value", "ru", "en"), MONEY)
def test_money_in_both_languages(value, ru, en):
    assert format_money(value, language="ru") == ru
    assert format_money(value, language="en") == en


@pytest.mark.parametrize(("value", "ru", "en"), MONEY)
def test_money_follows_the_active_language(value, ru, en):
    with translation.override("ru"):
        assert format_money(value) == ru
    with translation.override("en"):
        assert format_money(value) == en


def test_the_currency_setting_is_used(settings):
    settings.CURRENCY = "EUR"
    assert format_money(Decimal("14000"), language="ru") == f"14{NB}000,00{NB}€"
    assert format_money(Decimal("14000"), language="en") == "€14,000.00"  # a sign: no space
    assert format_money(Decimal("-150.5"), language="en") == "-€150.50"
    settings.CURRENCY = "USD"
    assert format_money(Decimal("41782.06"), language="en") == "$41,782.06"
    assert format_money(Decimal("41782.06"), language="ru") == f"41{NB}782,06{NB}$"


def test_an_explicit_currency_wins_over_the_setting(settings):
    settings.CURRENCY = "EUR"
    assert format_money(Decimal("1"), "RUB", "ru") == f"1,00{NB}₽"
    assert format_money(Decimal("1000"), "CHF", "en") == f"CHF{NB}1,000.00"
    assert format_money(Decimal("1000"), "JPY", "en") == "¥1,000"  # no minor units


def test_currency_symbol():
    assert currency_symbol("RUB", "ru") == "₽"
    assert currency_symbol("RUB", "en") == "RUB"


def test_a_regional_language_code_and_an_unknown_one():
    assert format_money(Decimal("14000"), language="en-us") == f"RUB{NB}14,000.00"
    # a language Babel does not know falls back to the default LANGUAGE_CODE (ru)
    assert format_money(Decimal("14000"), language="xx") == f"14{NB}000,00{NB}₽"


def test_not_a_number_is_an_error_in_python():
    with pytest.raises(ValueError, match="not a number"):
        format_money("abc", language="ru")
    with pytest.raises(ValueError, match="not a finite number"):
        format_number(float("inf"), language="ru")


@pytest.mark.parametrize(
    ("value", "digits", "ru", "en"),
    [
        (100000, None, f"100{NB}000", "100,000"),
        (999, None, "999", "999"),
        (0, None, "0", "0"),
        (-1234, None, f"-1{NB}234", "-1,234"),
        (Decimal("1234.5"), None, f"1{NB}234,5", "1,234.5"),
        (2.25, None, "2,25", "2.25"),
        (Decimal("1.5"), 2, "1,50", "1.50"),
        (Decimal("2.5"), 0, "3", "3"),
        (Decimal("1234567.891"), 2, f"1{NB}234{NB}567,89", "1,234,567.89"),
        (Decimal("-0.001"), 2, "0,00", "0.00"),
        (Decimal("-0.0"), None, "0", "0"),
        (None, None, "—", "—"),
        (None, 2, "—", "—"),
    ],
)
def test_numbers(value, digits, ru, en):
    assert format_number(value, digits, "ru") == ru
    assert format_number(value, digits, "en") == en


@pytest.mark.parametrize(
    ("value", "digits", "ru", "en"),
    [
        (0.123, 1, f"12,3{NB}%", "12.3%"),
        (Decimal("0.6667"), 2, f"66,67{NB}%", "66.67%"),
        (1, 1, f"100,0{NB}%", "100.0%"),
        (0, 0, f"0{NB}%", "0%"),
        (-0.05, 1, f"-5,0{NB}%", "-5.0%"),
        (12.5, 0, f"1{NB}250{NB}%", "1,250%"),
        (None, 1, "—", "—"),
    ],
)
def test_percent_of_a_fraction(value, digits, ru, en):
    assert format_percent(value, digits, "ru") == ru
    assert format_percent(value, digits, "en") == en


def test_percent_points():
    assert format_percent_points(95.5, 1, "ru") == f"95,5{NB}%"
    assert format_percent_points(95.5, 1, "en") == "95.5%"
    assert format_percent_points(25, 0, "en") == "25%"
    assert format_percent_points(None, 1, "ru") == "—"


def render(source: str, language: str, **context) -> str:
    with translation.override(language):
        return Template("{% load formatting %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("source", "ru", "en"),
    [
        ("{{ v|money }}", f"14{NB}000,00{NB}₽", f"RUB{NB}14,000.00"),
        ('{{ v|money:"EUR" }}', f"14{NB}000,00{NB}€", "€14,000.00"),
        ("{{ v|number }}", f"14{NB}000", "14,000"),
        ("{{ v|number:2 }}", f"14{NB}000,00", "14,000.00"),
        ("{{ f|percent }}", f"12,3{NB}%", "12.3%"),
        ("{{ f|percent:2 }}", f"12,35{NB}%", "12.35%"),
        ("{{ p|percent_points }}", f"95,5{NB}%", "95.5%"),
        ("{{ p|percent_points:0 }}", f"96{NB}%", "96%"),
        ("{{ missing|money }} {{ missing|number }} {{ missing|percent }}", "— — —", "— — —"),
        ("{{ text|money }}", "n/a", "n/a"),  # not a number: shown as it is, not hidden
    ],
)
def test_template_filters(source, ru, en):
    context = {"v": Decimal("14000"), "f": 0.12345, "p": 95.5, "text": "n/a", "missing": None}
    assert render(source, "ru", **context) == ru
    assert render(source, "en", **context) == en


def test_currency_setting_reads_the_environment():
    probe = (
        "import django; django.setup(); from django.conf import settings; print(settings.CURRENCY)"
    )
    default = run_python({"DEBUG": "1"}, "-c", probe)
    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "RUB"
    euro = run_python({"DEBUG": "1", "CURRENCY": "eur"}, "-c", probe)
    assert euro.stdout.strip() == "EUR", euro.stderr
    bad = run_python({"DEBUG": "1", "CURRENCY": "roubles"}, "-c", probe)
    assert bad.returncode != 0 and "CURRENCY must be an ISO 4217 code" in bad.stderr
