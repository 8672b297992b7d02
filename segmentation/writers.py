"""Bulk writes of a run's results through staging tables (called inside the run's transaction).

The frames are staged into temporary tables (PostgreSQL: COPY; SQLite: executemany), then a
handful of set-based statements apply them: UPDATE … FROM for the changed clients' classes,
INSERT … ON CONFLICT DO UPDATE … WHERE <something differs> for the metrics (unchanged rows
are not rewritten), an anti-join DELETE for metrics of clients that no longer have
settlements, and one INSERT … SELECT for the history rows of the changed clients.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from clients.models import Client
from segmentation.analytics import to_csv_buffer
from segmentation.models import ClassChange, ClientMetrics

METRIC_STAGE_COLUMNS = [
    ("client_id", "bigint"),
    ("in_window", "boolean"),
    ("turnover_cents", "bigint"),
    ("margin_cents", "bigint"),
    # nullable numbers travel as double precision with NaN for NULL (fixed-width binary COPY)
    ("abc_rank", "double precision"),
    ("share", "double precision"),
    ("share_before", "double precision"),
    ("months_history", "integer"),
    ("mean_cents", "double precision"),
    ("cv", "double precision"),
    ("first_day", "integer"),
    ("last_day", "integer"),
    ("frequency", "integer"),
    ("r_score", "double precision"),
    ("f_score", "double precision"),
    ("m_score", "double precision"),
]
_BINARY = {"bigint": ">i8", "integer": ">i4", "double precision": ">f8", "boolean": "?"}
CHANGE_STAGE_COLUMNS = [
    ("client_id", "bigint"),
    ("abc_old", "varchar(1)"),
    ("abc_new", "varchar(1)"),
    ("xyz_old", "varchar(1)"),
    ("xyz_new", "varchar(1)"),
    ("lifecycle_old", "varchar(10)"),
    ("lifecycle_new", "varchar(10)"),
    ("abc_move", "varchar(8)"),
]
STAGE_METRICS = "seg_stage_metrics"
STAGE_CHANGES = "seg_stage_changes"


def _stage(connection, name: str, columns: list[tuple[str, str]], frame: pd.DataFrame) -> None:
    ddl = ", ".join(f"{col} {sqltype}" for col, sqltype in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
            cursor.execute(f"CREATE TEMP TABLE {name} ({ddl}) ON COMMIT DROP")
            if all(sqltype in _BINARY for _col, sqltype in columns):
                cursor.cursor.copy_expert(
                    f"COPY {name} FROM STDIN WITH (FORMAT binary)", binary_copy(frame, columns)
                )
            else:
                cursor.cursor.copy_expert(
                    f"COPY {name} FROM STDIN WITH (FORMAT csv)", to_csv_buffer(frame)
                )
            cursor.execute(f"ANALYZE {name}")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")
            cursor.execute(f"CREATE TEMP TABLE {name} ({ddl})")
            rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False)
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {name} VALUES ({placeholders})",  # noqa: S608 - fixed names
                [tuple(r) for r in rows],
            )


def binary_copy(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> io.BytesIO:
    """PostgreSQL's binary COPY format built with one numpy structured array: every field is
    fixed width (no NULLs: NaN stands for them), so no Python object per value."""
    fields = [("count", ">i2")]
    for col, sqltype in columns:
        fields += [(f"{col}__len", ">i4"), (col, _BINARY[sqltype])]
    rows = np.empty(len(frame), dtype=fields)
    rows["count"] = len(columns)
    for col, sqltype in columns:
        rows[f"{col}__len"] = np.dtype(_BINARY[sqltype]).itemsize
        rows[col] = frame[col].to_numpy()
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return io.BytesIO(header + rows.tobytes() + (-1).to_bytes(2, "big", signed=True))


def _drop(connection, name: str) -> None:
    schema = "pg_temp" if connection.vendor == "postgresql" else "temp"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {schema}.{name}")


def _money(connection, column: str, nullable: bool = False) -> str:
    if connection.vendor == "postgresql":
        value = f"NULLIF(s.{column}, 'NaN')" if nullable else f"s.{column}"
        return f"({value}::numeric / 100)::numeric(18, 2)"
    return f"(s.{column} / 100.0)"


def _date(connection, column: str) -> str:
    if connection.vendor == "postgresql":
        return f"(DATE '1970-01-01' + s.{column})"
    return f"date(s.{column} * 86400, 'unixepoch')"


def _nullable(connection, column: str, cast: str = "") -> str:
    """A staged nullable number: NaN means NULL on PostgreSQL (SQLite stages real NULLs)."""
    if connection.vendor == "postgresql":
        return f"NULLIF(s.{column}, 'NaN'){cast}"
    return f"s.{column}"


def _float(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64))


def metrics_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The ClientMetrics rows of a classify() result (clients with settlements)."""
    f = frame[frame["ever"]]
    return pd.DataFrame(
        {
            "client_id": f.index.to_numpy(),
            "in_window": f["in_window"].to_numpy(),
            "turnover_cents": f["amount"].to_numpy(),
            "margin_cents": f["margin"].to_numpy(),
            "abc_rank": _float(f["rank"].to_numpy(dtype=np.float64)),
            "share": f["share"].to_numpy(dtype=np.float64),
            "share_before": f["share_before"].to_numpy(dtype=np.float64),
            "months_history": f["months_history"].to_numpy(),
            "mean_cents": _float(f["mean"].to_numpy(dtype=np.float64)),
            "cv": f["cv"].to_numpy(dtype=np.float64),
            "first_day": f["first_day"].to_numpy().astype(np.int64),
            "last_day": f["last_day"].to_numpy().astype(np.int64),
            "frequency": f["n"].to_numpy(),
            "r_score": _float(f["r_score"].to_numpy(dtype=np.float64)),
            "f_score": _float(f["f_score"].to_numpy(dtype=np.float64)),
            "m_score": _float(f["m_score"].to_numpy(dtype=np.float64)),
        }
    )


def changes_frame(changed: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": changed.index.to_numpy(),
            "abc_old": changed["abc_old"].to_numpy(),
            "abc_new": changed["abc"].to_numpy(),
            "xyz_old": changed["xyz_old"].to_numpy(),
            "xyz_new": changed["xyz"].to_numpy(),
            "lifecycle_old": changed["lifecycle_old"].to_numpy(),
            "lifecycle_new": changed["lifecycle"].to_numpy(),
            "abc_move": changed["abc_move"].to_numpy(),
        }
    )


def update_client_classes(connection) -> int:
    """Changed clients' classes from the staged changes."""
    table = Client._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET abc_class = s.abc_new, xyz_class = s.xyz_new, "  # noqa: S608
            f"lifecycle = s.lifecycle_new FROM {STAGE_CHANGES} AS s WHERE {table}.id = s.client_id"
        )
        return cursor.rowcount


def upsert_metrics(connection) -> int:
    table = ClientMetrics._meta.db_table
    values = {
        "client_id": "s.client_id",
        "in_window": "s.in_window",
        "turnover": _money(connection, "turnover_cents"),
        "margin": _money(connection, "margin_cents"),
        "abc_rank": _nullable(connection, "abc_rank", "::integer"),
        "share": _nullable(connection, "share"),
        "share_before": _nullable(connection, "share_before"),
        "months_history": "s.months_history",
        "mean_monthly": _money(connection, "mean_cents", nullable=True),
        "cv": _nullable(connection, "cv"),
        "first_date": _date(connection, "first_day"),
        "last_date": _date(connection, "last_day"),
        "frequency": "s.frequency",
        "r_score": _nullable(connection, "r_score", "::integer"),
        "f_score": _nullable(connection, "f_score", "::integer"),
        "m_score": _nullable(connection, "m_score", "::integer"),
    }
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    updated = [c for c in values if c != "client_id"]
    sql = (
        f"INSERT INTO {table} ({', '.join(values)}) "  # noqa: S608 - fixed names
        f"SELECT {', '.join(values.values())} FROM {STAGE_METRICS} AS s "
        # a client deleted since the aggregation is skipped, not a failed run
        f"WHERE EXISTS (SELECT 1 FROM {Client._meta.db_table} AS c WHERE c.id = s.client_id) "
        f"ON CONFLICT (client_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in updated)
        + " WHERE "
        + " OR ".join(f"{table}.{c} {distinct} excluded.{c}" for c in updated)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        written = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {STAGE_METRICS} AS s WHERE s.client_id = {table}.client_id)"
        )
        return written + cursor.rowcount


def insert_history(connection, *, run_id: int, run_date) -> int:
    table = ClassChange._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (client_id, run_id, date, abc_old, abc_new, xyz_old, "  # noqa: S608
            "xyz_new, lifecycle_old, lifecycle_new, abc_move) "
            "SELECT s.client_id, %s, %s, s.abc_old, s.abc_new, s.xyz_old, s.xyz_new, "
            f"s.lifecycle_old, s.lifecycle_new, COALESCE(s.abc_move, '') FROM {STAGE_CHANGES} AS s "
            f"WHERE EXISTS (SELECT 1 FROM {Client._meta.db_table} AS c WHERE c.id = s.client_id)",
            [run_id, run_date],
        )
        return cursor.rowcount


def stage_results(connection, result) -> int:
    """Stage the metrics and the changed clients; returns the number of changed clients."""
    changed = changes_frame(result.changed)
    _stage(connection, STAGE_METRICS, METRIC_STAGE_COLUMNS, metrics_frame(result.frame))
    _stage(connection, STAGE_CHANGES, CHANGE_STAGE_COLUMNS, changed)
    return len(changed)


def drop_stages(connection) -> None:
    _drop(connection, STAGE_METRICS)
    _drop(connection, STAGE_CHANGES)
