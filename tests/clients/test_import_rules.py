"""The import's limits are the model fields' limits: lengths, number ranges and precision,
choices and the date range, read from the fields (and following them when they change)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import models
from django.utils import translation

from clients.imports import rules
from clients.models import Client, Tag
from crm.formats import format_number
from crm.validators import DATE_MAX, DATE_MIN

COLUMNS = [
    (kind, column, model, name)
    for kind, fields in rules.FIELDS.items()
    for column, (model, name) in fields.items()
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _parser(kind: str, column: str):
    return rules.RULES[kind]()[column][0]


def _of_type(*types):
    return [
        pytest.param(kind, column, model._meta.get_field(name), id=f"{kind}.{column}")
        for kind, column, model, name in COLUMNS
        if isinstance(model._meta.get_field(name), types)
        and not model._meta.get_field(name).choices
    ]


@pytest.mark.parametrize(("kind", "column", "field"), _of_type(models.CharField, models.TextField))
def test_text_columns_take_the_fields_max_length(kind, column, field):
    parse = _parser(kind, column)
    if isinstance(field, models.EmailField):
        local = "a" * 64
        labels, room = [], field.max_length - len(local) - len("@.ru")
        while room > 0:  # domain labels of at most 63 characters, joined by dots
            room -= 1 if labels else 0
            labels.append("b" * min(63, room))
            room -= len(labels[-1])
        address = f"{local}@{'.'.join(labels)}.ru"
        assert len(address) == field.max_length
        assert parse(address) == address
        with pytest.raises(ValueError, match="too long"):
            parse("c" + address)
        return
    assert parse("x" * field.max_length) == "x" * field.max_length
    with pytest.raises(ValueError) as refused:
        parse("x" * (field.max_length + 1))
    assert str(refused.value).startswith(f"longer than {format_number(field.max_length)} ")


@pytest.mark.parametrize(("kind", "column", "field"), _of_type(models.IntegerField))
def test_number_columns_take_the_fields_range(kind, column, field):
    low, high = rules.int_range(field.model, field.name)
    parse = _parser(kind, column)
    assert parse(str(low)) == low and parse(str(high)) == high
    for outside in (low - 1, high + 1):
        with pytest.raises(ValueError, match=f"between {low} and {high}"):
            parse(str(outside))


def test_year_founded_range_is_the_models():
    assert rules.int_range(Client, "year_founded") == (1700, 2100)
    assert rules.int_range(Client, "employees") == (0, 2_147_483_647)


@pytest.mark.parametrize(("kind", "column", "field"), _of_type(models.DecimalField))
def test_decimal_columns_take_the_fields_precision(kind, column, field):
    parse = _parser(kind, column)
    whole = "9" * (field.max_digits - field.decimal_places)
    largest = f"{whole}.{'9' * field.decimal_places}"
    assert parse(largest) == Decimal(largest)
    with pytest.raises(ValueError, match="too large"):
        parse("1" + largest)
    with pytest.raises(ValueError, match=f"at most {field.decimal_places} decimal places"):
        parse("1." + "1" * (field.decimal_places + 1))


@pytest.mark.parametrize(("kind", "column", "field"), _of_type(models.DateField))
def test_date_columns_take_the_sane_date_range(kind, column, field):
    parse = _parser(kind, column)
    assert parse(DATE_MIN.isoformat()) == DATE_MIN
    assert parse(DATE_MAX.isoformat()) == DATE_MAX
    for outside in (DATE_MIN - timedelta(days=1), DATE_MAX + timedelta(days=1)):
        with pytest.raises(ValueError, match="Enter a date between"):
            parse(outside.isoformat())


def test_choice_columns_take_the_fields_choices():
    checked = 0
    for kind, column, model, name in COLUMNS:
        field = model._meta.get_field(name)
        if not field.choices:
            continue
        parse = _parser(kind, column)
        for value, label in field.flatchoices:
            assert parse(value) == value and parse(str(label).upper()) == value
        with pytest.raises(ValueError, match="unknown value"):
            parse("no such choice")
        checked += 1
    assert checked == 4  # kind, customer_type, source, the contact's language


def test_tags_take_the_tag_names_length():
    limit = Tag._meta.get_field("name").max_length
    parse = _parser("clients", "tags")
    assert parse(f"vip, {'t' * limit}") == ["vip", "t" * limit]
    with pytest.raises(ValueError, match=f"longer than {limit}"):
        parse("t" * (limit + 1))


def test_a_changed_model_field_changes_the_import(monkeypatch):
    industry = Client._meta.get_field("industry")
    monkeypatch.setattr(industry, "max_length", 5)
    parse = _parser("clients", "industry")
    assert parse("steel") == "steel"
    with pytest.raises(ValueError, match="longer than 5"):
        parse("steels")
