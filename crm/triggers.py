"""Database triggers that keep a table derived from others, made and dropped by migrations
(clients: the first purchase of each product line, the settlements by month, each client's
settlements by year; docs/decisions/client-line-first.md, client-years.md).

A migration describes its triggers as dicts of name → SQL:

- PostgreSQL: ``pg_functions`` maps a trigger's name to the statements of its plpgsql function
  (statement-level, reading the transition tables); ``pg_triggers`` maps it to the clause
  after ``CREATE TRIGGER name`` (``AFTER INSERT ON table REFERENCING … FOR EACH STATEMENT``);
- SQLite: ``sqlite_triggers`` maps a name to everything after ``CREATE TRIGGER name`` (row
  triggers; None: no trigger of that name on SQLite).

The helpers run on both; any other database is refused, as the table would silently go stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TABLE = re.compile(r"\bON (\w+)")


def replace_functions(schema_editor, functions: dict[str, str]) -> None:
    """PostgreSQL: each trigger's function made, or replaced by this body."""
    for name, body in functions.items():
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body}; RETURN NULL; END $$"
        )


def create(
    schema_editor,
    *,
    what: str,
    lock: str,
    pg_functions: dict[str, str],
    pg_triggers: dict[str, str],
    sqlite_triggers: dict[str, str | None],
) -> None:
    """The triggers made. On PostgreSQL the tables of ``lock`` are locked in SHARE mode first:
    their writers wait until the migration commits, so nothing they write is missed by the
    fill that follows. ``pg_triggers`` may be empty: the functions only are replaced (a
    migration that changes what existing triggers do)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"LOCK TABLE {lock} IN SHARE MODE")
        replace_functions(schema_editor, pg_functions)
        for name, clause in pg_triggers.items():
            schema_editor.execute(f"CREATE TRIGGER {name} {clause} EXECUTE FUNCTION {name}()")
    elif vendor == "sqlite":
        create_sqlite(schema_editor, sqlite_triggers)
    else:
        raise NotImplementedError(f"{what} has no triggers for {vendor}")


def create_sqlite(schema_editor, triggers: dict[str, str | None]) -> None:
    for name, body in triggers.items():
        if body is not None:
            schema_editor.execute(f"CREATE TRIGGER {name} {body}")


def drop(schema_editor, *, pg_triggers: dict[str, str], sqlite_triggers: Iterable[str]) -> None:
    """The triggers and, on PostgreSQL, their functions dropped (each on the table its clause
    names)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for name, clause in pg_triggers.items():
            table = _TABLE.search(clause).group(1)
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}()")
    elif vendor == "sqlite":
        drop_sqlite(schema_editor, sqlite_triggers)


def drop_sqlite(schema_editor, names: Iterable[str]) -> None:
    for name in names:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def analyze(schema_editor, table: str) -> None:
    """PostgreSQL: the filled table's statistics, which the readers' plans need at once."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ANALYZE {table}")
