"""PostgreSQL binary COPY input built with one numpy structured array (no Python object per
value): used by the segmentation run's staging and the demo/benchmark data generator."""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np

# fixed-width column types: no NULLs (a nullable number travels as double precision with NaN)
BINARY_TYPES = {
    "bigint": ">i8",
    "integer": ">i4",
    "smallint": ">i2",
    "double precision": ">f8",
    "boolean": "?",
}


def binary_copy(columns_data: Mapping, columns: list[tuple[str, str]]) -> io.BytesIO:
    """``COPY … FROM STDIN WITH (FORMAT binary)`` input of ``columns`` ((name, SQL type) with
    a type of BINARY_TYPES) taken from ``columns_data`` (a DataFrame or a dict of arrays)."""
    fields = [("count", ">i2")]
    for col, sqltype in columns:
        fields += [(f"{col}__len", ">i4"), (col, BINARY_TYPES[sqltype])]
    length = len(np.asarray(columns_data[columns[0][0]]))
    rows = np.empty(length, dtype=fields)
    rows["count"] = len(columns)
    for col, sqltype in columns:
        rows[f"{col}__len"] = np.dtype(BINARY_TYPES[sqltype]).itemsize
        rows[col] = np.asarray(columns_data[col])
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return io.BytesIO(header + rows.tobytes() + (-1).to_bytes(2, "big", signed=True))
