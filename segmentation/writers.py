"""Bulk writes of a run's results through one staging table (inside the run's transaction).

Every client's new classes, old classes and figures are staged into a temporary table
(PostgreSQL: binary COPY of one numpy array; SQLite: executemany into a table keyed by
client id), then three set-based
statements apply them: INSERT … ON CONFLICT DO UPDATE … WHERE <something differs> into
segmentation_clientmetrics (the current classes and figures; unchanged rows are not
rewritten), an anti-join DELETE for rows of clients no longer staged, and one INSERT … SELECT
for the history rows of the changed clients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clients.models import Client
from crm.pgcopy import binary_copy
from segmentation.models import AbcClass, ClassChange, ClientMetrics, Lifecycle, XyzClass

# Classes travel as small integer codes (0 = none) so the whole stage is fixed-width binary.
ABC_CODES = [c.value for c in AbcClass]
XYZ_CODES = [c.value for c in XyzClass]
LIFECYCLE_CODES = [c.value for c in Lifecycle]
MOVE_CODES = [m.value for m in ClassChange.AbcMove if m.value]
CODED = {
    "abc_old": ABC_CODES,
    "abc_new": ABC_CODES,
    "xyz_old": XYZ_CODES,
    "xyz_new": XYZ_CODES,
    "lifecycle_old": LIFECYCLE_CODES,
    "lifecycle_new": LIFECYCLE_CODES,
    "abc_move": MOVE_CODES,
}
STAGE_COLUMNS = [
    ("client_id", "bigint"),
    ("changed", "boolean"),
    *((name, "smallint") for name in CODED),
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
    ("first_day", "double precision"),
    ("last_day", "double precision"),
    ("frequency", "integer"),
    ("r_score", "double precision"),
    ("f_score", "double precision"),
    ("m_score", "double precision"),
]
STAGE = "seg_stage"


def _stage(connection, name: str, columns: list[tuple[str, str]], frame: pd.DataFrame) -> None:
    if connection.vendor != "postgresql":
        # the first column is the key (client_id): SQLite's rowid, so the anti-join DELETE and
        # the upsert look rows up by key instead of scanning the stage per row
        columns = [(columns[0][0], "INTEGER PRIMARY KEY"), *columns[1:]]
    ddl = ", ".join(f"{col} {sqltype}" for col, sqltype in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
            cursor.execute(f"CREATE TEMP TABLE {name} ({ddl}) ON COMMIT DROP")
            cursor.cursor.copy_expert(
                f"COPY {name} FROM STDIN WITH (FORMAT binary)", binary_copy(frame, columns)
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
        return f"(DATE '1970-01-01' + NULLIF(s.{column}, 'NaN')::integer)"
    return f"date(s.{column} * 86400, 'unixepoch')"


def _nullable(connection, column: str, cast: str = "") -> str:
    """A staged nullable number: NaN means NULL on PostgreSQL (SQLite stages real NULLs)."""
    if connection.vendor == "postgresql":
        return f"NULLIF(s.{column}, 'NaN'){cast}"
    return f"s.{column}"


def _decode(column: str) -> str:
    """The class a staged code stands for (NULL for 0)."""
    whens = " ".join(f"WHEN {i} THEN '{value}'" for i, value in enumerate(CODED[column], 1))
    return f"(CASE s.{column} {whens} END)"


def _codes(values, codes: list[str]) -> np.ndarray:
    """Class labels (None for none) → 1-based codes, 0 for none."""
    return (pd.Categorical(values, categories=codes).codes + 1).astype(np.int16)


def _float(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64))


def stage_frame(frame: pd.DataFrame, changed: np.ndarray) -> pd.DataFrame:
    """One row per client of a classify() result: its new classes (and old ones, for the
    history of the changed clients) and the figures behind them."""
    return pd.DataFrame(
        {
            "client_id": frame.index.to_numpy(),
            "changed": changed,
            "abc_old": _codes(frame["abc_old"], ABC_CODES),
            "abc_new": _codes(frame["abc"], ABC_CODES),
            "xyz_old": _codes(frame["xyz_old"], XYZ_CODES),
            "xyz_new": _codes(frame["xyz"], XYZ_CODES),
            "lifecycle_old": _codes(frame["lifecycle_old"], LIFECYCLE_CODES),
            "lifecycle_new": _codes(frame["lifecycle"], LIFECYCLE_CODES),
            "abc_move": _codes(frame["abc_move"].replace("", None), MOVE_CODES),
            "in_window": frame["in_window"].to_numpy(),
            "turnover_cents": frame["amount"].to_numpy(),
            "margin_cents": frame["margin"].to_numpy(),
            "abc_rank": _float(frame["rank"].to_numpy(dtype=np.float64)),
            "share": frame["share"].to_numpy(dtype=np.float64),
            "share_before": frame["share_before"].to_numpy(dtype=np.float64),
            "months_history": frame["months_history"].to_numpy(),
            "mean_cents": _float(frame["mean"].to_numpy(dtype=np.float64)),
            "cv": frame["cv"].to_numpy(dtype=np.float64),
            "first_day": frame["first_day"].to_numpy(dtype=np.float64),
            "last_day": frame["last_day"].to_numpy(dtype=np.float64),
            "frequency": frame["n"].to_numpy(),
            "r_score": _float(frame["r_score"].to_numpy(dtype=np.float64)),
            "f_score": _float(frame["f_score"].to_numpy(dtype=np.float64)),
            "m_score": _float(frame["m_score"].to_numpy(dtype=np.float64)),
        }
    )


def upsert_metrics(connection) -> int:
    """Every client's classes and figures from the stage: new rows inserted, rows that differ
    updated (unchanged rows are not rewritten), rows of clients no longer staged deleted."""
    table = ClientMetrics._meta.db_table
    values = {
        "client_id": "s.client_id",
        "abc_class": _decode("abc_new"),
        "xyz_class": _decode("xyz_new"),
        "lifecycle": _decode("lifecycle_new"),
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
        f"SELECT {', '.join(values.values())} FROM {STAGE} AS s "
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
            f"(SELECT 1 FROM {STAGE} AS s WHERE s.client_id = {table}.client_id)"
        )
        return written + cursor.rowcount


def insert_history(connection, *, run_id: int, run_date) -> int:
    """History rows for the changed clients."""
    table = ClassChange._meta.db_table
    columns = ["abc_old", "abc_new", "xyz_old", "xyz_new", "lifecycle_old", "lifecycle_new"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (client_id, run_id, date, {', '.join(columns)}, abc_move) "  # noqa: S608
            f"SELECT s.client_id, %s, %s, {', '.join(_decode(c) for c in columns)}, "
            f"COALESCE({_decode('abc_move')}, '') FROM {STAGE} AS s WHERE s.changed "
            f"AND EXISTS (SELECT 1 FROM {Client._meta.db_table} AS c WHERE c.id = s.client_id)",
            [run_id, run_date],
        )
        return cursor.rowcount


def stage_results(connection, result) -> int:
    """Stage every client's classes and figures; returns the number of changed clients."""
    changed = result.changed_mask
    _stage(connection, STAGE, STAGE_COLUMNS, stage_frame(result.frame, changed))
    return int(changed.sum())


def drop_stages(connection) -> None:
    _drop(connection, STAGE)


def refresh_statistics(connection) -> None:
    """After a run that changed classes (PostgreSQL): fresh planner statistics for the class
    table, so the client list's class filters are planned on the new distribution at once
    rather than after autovacuum gets to it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {ClientMetrics._meta.db_table}")  # noqa: S608
