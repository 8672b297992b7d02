"""crm.pgcopy: the binary COPY input round-trips every supported type through PostgreSQL."""

import math

import numpy as np
import pytest
from django.db import connection

from crm.pgcopy import BINARY_TYPES, binary_copy

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

COLUMNS = [
    ("a_bigint", "bigint"),
    ("a_integer", "integer"),
    ("a_smallint", "smallint"),
    ("a_double", "double precision"),
    ("a_bool", "boolean"),
]


def test_header_and_trailer_of_the_format():
    data = binary_copy({"x": np.array([7, -1])}, [("x", "integer")]).getvalue()
    assert data.startswith(b"PGCOPY\n\xff\r\n\x00" + bytes(8))
    # per row: field count 1, length 4, the big-endian value; then the -1 trailer
    assert data[19:] == (
        b"\x00\x01"
        + b"\x00\x00\x00\x04"
        + b"\x00\x00\x00\x07"
        + b"\x00\x01"
        + b"\x00\x00\x00\x04"
        + b"\xff\xff\xff\xff"
        + b"\xff\xff"
    )
    assert set(BINARY_TYPES) == {t for _n, t in COLUMNS}


def test_every_type_round_trips_through_postgresql(postgres_required):
    data = {
        "a_bigint": np.array([0, 2**62, -(2**40)], dtype=np.int64),
        "a_integer": np.array([1, -2_000_000_000, 2_000_000_000], dtype=np.int32),
        "a_smallint": np.array([0, 32_767, -32_768], dtype=np.int16),
        "a_double": np.array([1.5, float("nan"), -0.25]),
        "a_bool": np.array([True, False, True]),
    }
    with connection.cursor() as cursor:
        columns_sql = ", ".join(f"{name} {sqltype}" for name, sqltype in COLUMNS)
        cursor.execute(f"CREATE TEMPORARY TABLE copy_probe (n serial, {columns_sql})")
        names = ", ".join(name for name, _t in COLUMNS)
        cursor.cursor.copy_expert(
            f"COPY copy_probe ({names}) FROM STDIN WITH (FORMAT binary)",
            binary_copy(data, COLUMNS),
        )
        cursor.execute(f"SELECT {names} FROM copy_probe ORDER BY n")  # noqa: S608
        rows = cursor.fetchall()
    assert [r[:3] for r in rows] == [
        (0, 1, 0),
        (2**62, -2_000_000_000, 32_767),
        (-(2**40), 2_000_000_000, -32_768),
    ]
    assert rows[0][3] == 1.5 and math.isnan(rows[1][3]) and rows[2][3] == -0.25
    assert [r[4] for r in rows] == [True, False, True]
