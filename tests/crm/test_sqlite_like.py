"""The Unicode-aware LIKE used on SQLite behaves like PostgreSQL's UPPER(..) LIKE UPPER(..)."""

import pytest

from crm.sqlite import unicode_like


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("%северный%", "ООО «Северный ветер»", True),
        ("%ВЕТЕР%", "Северный ветер", True),
        ("Сев%", "Северный", True),
        ("сев_рный", "Северный", True),
        ("%nord%", "Nordwind GmbH", True),
        ("%юг%", "Северный ветер", False),
        (r"%100\%%", "скидка 100% сегодня", True),
        (r"%100\%%", "скидка 1000 сегодня", False),
        ("a.c", "abc", False),  # regex metacharacters are literal
    ],
)
def test_unicode_like(pattern, value, expected):
    assert unicode_like(pattern, value, "\\") is expected


def test_nulls():
    assert unicode_like(None, "x") is None and unicode_like("x", None) is None
