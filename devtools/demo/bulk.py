"""Bulk loading for generated data: COPY on PostgreSQL, executemany elsewhere."""

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from django.db import connection

from crm.pgcopy import binary_copy

# --- bulk loading -----------------------------------------------------------------------------
Column = Sequence | np.ndarray


def _escape(value) -> str:
    if value is None:
        return "\\N"
    return (
        str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "")
    )


def _as_text(values: Column) -> list[str]:
    """A column as COPY text values (``\\N`` for NULL)."""
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "b":
            return np.where(values, "t", "f").tolist()
        if values.dtype.kind in "iu":
            return values.astype(str).tolist()
        if values.dtype.kind == "M":
            return values.astype(str).tolist()
        values = values.tolist()
    return [_escape(v) for v in values]


def bulk_insert(table: str, columns: dict[str, Column], chunk: int = 200_000) -> int:
    """Insert column arrays into ``table``: COPY on PostgreSQL, executemany elsewhere.

    Values are DB-neutral: ints, bools, ``'YYYY-MM-DD'`` dates, UTC ``'YYYY-MM-DD HH:MM:SS'``
    timestamps (stored as UTC by both backends: Django's PostgreSQL sessions run in UTC),
    decimal strings, ``None`` for NULL.
    """
    names = list(columns)
    sized = [v for v in columns.values() if v is not None and not isinstance(v, str)]
    n = len(sized[0])
    if n == 0:
        return 0
    columns = {c: [v] * n if v is None or isinstance(v, str) else v for c, v in columns.items()}
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        raw = connection.cursor().cursor  # psycopg2 cursor for copy_expert
        sql = f"COPY {qn(table)} ({', '.join(qn(c) for c in names)}) FROM STDIN"
        for start in range(0, n, chunk):
            cols = [_as_text(columns[c][start : start + chunk]) for c in names]
            buffer = io.StringIO()
            buffer.write("\n".join(map("\t".join, zip(*cols, strict=True))))
            buffer.write("\n")
            buffer.seek(0)
            raw.copy_expert(sql, buffer)
        return n
    # identifiers come from model metadata, quoted; values are parameters
    cols, marks = ", ".join(qn(c) for c in names), ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {qn(table)} ({cols}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, n, chunk):
            cols = []
            for c in names:
                part = columns[c][start : start + chunk]
                if isinstance(part, np.ndarray):
                    part = part.astype(str).tolist() if part.dtype.kind == "M" else part.tolist()
                cols.append(part)
            cursor.executemany(sql, list(zip(*cols, strict=True)))
    return n


@contextmanager
def bulk_load_mode(models: Sequence[type], enabled: bool = True) -> Iterator[None]:
    """On PostgreSQL, drop the foreign keys and secondary indexes of ``models`` for the
    duration of a bulk load and recreate them afterwards from their saved definitions (one
    index build and one validation query each, instead of per-row maintenance and per-row
    deferred FK checks at commit). Primary keys, unique and check constraints stay.
    Must run inside a transaction: a failure rolls the drops back too."""
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [tables],
        )
        fks = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid "
            "WHERE i.indrelid::regclass::text = ANY(%s) AND c.oid IS NULL",
            [tables],
        )
        indexes = cursor.fetchall()
        qn = connection.ops.quote_name
        for table, name, _ in fks:
            cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {qn(name)}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in fks:
            cursor.execute(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")


def money(values: np.ndarray) -> list[str]:
    return [f"{v:.2f}" for v in values.tolist()]


def copy_binary_int8(table: str, columns: dict[str, np.ndarray]) -> None:
    """COPY int64 columns (no NULLs) into ``table`` in PostgreSQL's binary format, built with
    one numpy structured array: no per-row Python work at all."""
    names = list(columns)
    buffer = binary_copy(columns, [(name, "bigint") for name in names])
    qn = connection.ops.quote_name
    raw = connection.cursor().cursor
    raw.copy_expert(
        f"COPY {qn(table)} ({', '.join(qn(c) for c in names)}) FROM STDIN WITH (FORMAT binary)",
        buffer,
    )
