"""The segmentation engine's SQL side (docs/domain.md, "Segmentation"): the database groups
settlements by client and month over the window and by client before it, and the rows are read
into pandas frames (``load_frames``); nothing is computed row by row in Python. The
classification of those frames is ``segmentation.analytics``, pure functions of their inputs.

Two SQL dialects side by side (PostgreSQL and SQLite): the same columns, the same buckets.
"""

from __future__ import annotations

import tempfile

import pandas as pd

from segmentation.analytics import Frames, Params, month_of_day, to_cents

# --- SQL --------------------------------------------------------------------------------------
MONTHLY_COLUMNS = ["client_id", "amount", "margin", "n", "min_day", "max_day"]
BEFORE_COLUMNS = ["client_id", "min_day", "max_day"]
CLIENT_COLUMNS = ["client_id", "abc_old", "xyz_old", "lifecycle_old"]


def monthly_sql(vendor: str, table: str, with_margin: bool) -> str:
    """Settlements grouped by client and month over [window_start, as_of) (params: 2 dates):
    sums, count, first and last day (day numbers since 1970-01-01). The month of a bucket is
    its first day's month (computed in numpy: no per-row date arithmetic in the database, the
    query stays as light as the bare aggregate); sums are turned into integer cents there."""
    margin = "SUM(COALESCE(margin, 0))" if with_margin else "0"
    if vendor == "postgresql":
        return f"""
            SELECT client_id, SUM(amount), {margin}, COUNT(*),
                   MIN(date) - DATE '1970-01-01', MAX(date) - DATE '1970-01-01'
            FROM {table}
            WHERE date >= %s AND date < %s
            GROUP BY client_id, date_trunc('month', date::timestamp)"""  # noqa: S608
    return f"""
        SELECT client_id, SUM(amount), {margin}, COUNT(*),
               CAST(julianday(MIN(date)) - 2440587.5 AS INTEGER),
               CAST(julianday(MAX(date)) - 2440587.5 AS INTEGER)
        FROM {table}
        WHERE date >= %s AND date < %s
        GROUP BY client_id, substr(date, 1, 7)"""  # noqa: S608


def before_sql(vendor: str, table: str) -> str:
    """First and last settlement per client before the window (param: window_start)."""
    if vendor == "postgresql":
        return f"""
            SELECT client_id, MIN(date) - DATE '1970-01-01', MAX(date) - DATE '1970-01-01'
            FROM {table} WHERE date < %s GROUP BY client_id"""  # noqa: S608
    return f"""
        SELECT client_id, CAST(julianday(MIN(date)) - 2440587.5 AS INTEGER),
               CAST(julianday(MAX(date)) - 2440587.5 AS INTEGER)
        FROM {table} WHERE date < %s GROUP BY client_id"""  # noqa: S608


def clients_sql(client_table: str, classes_table: str) -> str:
    """Every client with its current classes (none yet: NULLs)."""
    return (
        f"SELECT c.id, m.abc_class, m.xyz_class, m.lifecycle FROM {client_table} AS c "  # noqa: S608
        f"LEFT JOIN {classes_table} AS m ON m.client_id = c.id"
    )


def read_frame(
    connection, sql: str, params: list, columns: list[str], dtypes: dict
) -> pd.DataFrame:
    """Run ``sql`` and return a frame. On PostgreSQL the rows stream through COPY into a
    temporary file and pandas' C parser (no Python object per row); elsewhere fetchall."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            query = raw.mogrify(sql, params).decode()
            with tempfile.TemporaryFile() as buffer:
                raw.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", buffer)
                buffer.seek(0)
                text_cols = {c: "string" for c, t in dtypes.items() if t == "string"}
                nullable = [c for c, t in dtypes.items() if t == "string" or t.startswith("float")]
                frame = pd.read_csv(
                    buffer,
                    names=columns,
                    header=None,
                    dtype={**{c: t for c, t in dtypes.items() if t != "string"}, **text_cols},
                    keep_default_na=False,
                    na_values={c: [""] for c in nullable},
                )
        return _normalise(frame, dtypes)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    return _normalise(frame, dtypes)


def _normalise(frame: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    for column, dtype in dtypes.items():
        if dtype == "string":
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        elif dtype.startswith("float"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(dtype)
        elif len(frame):
            if frame[column].dtype != dtype or frame[column].isna().any():
                frame[column] = frame[column].fillna(0).astype(dtype)
        else:
            frame[column] = frame[column].astype(dtype)
    return frame


MONTHLY_DTYPES = {
    "client_id": "int64",
    "amount": "float64",  # a decimal sum; exact in cents after rounding (below 2**53 cents)
    "margin": "float64",
    "n": "int32",
    "min_day": "int32",
    "max_day": "int32",
}
BEFORE_DTYPES = {"client_id": "int64", "min_day": "int32", "max_day": "int32"}
CLIENT_DTYPES = {
    "client_id": "int64",
    "abc_old": "string",
    "xyz_old": "string",
    "lifecycle_old": "string",
}


def load_frames(
    connection, params: Params, *, settlement_table: str, client_table: str, classes_table: str
) -> Frames:
    vendor = connection.vendor
    monthly = read_frame(
        connection,
        monthly_sql(vendor, settlement_table, with_margin=params.basis == "margin"),
        [params.window_start, params.as_of],
        MONTHLY_COLUMNS,
        MONTHLY_DTYPES,
    )
    monthly["amount"] = to_cents(monthly["amount"].to_numpy())
    monthly["margin"] = to_cents(monthly["margin"].to_numpy())
    monthly.insert(1, "month", month_of_day(monthly["min_day"].to_numpy()))
    before = read_frame(
        connection,
        before_sql(vendor, settlement_table),
        [params.window_start],
        BEFORE_COLUMNS,
        BEFORE_DTYPES,
    )
    clients = read_frame(
        connection, clients_sql(client_table, classes_table), [], CLIENT_COLUMNS, CLIENT_DTYPES
    )
    return Frames(clients=clients, monthly=monthly, before=before)
