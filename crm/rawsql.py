"""Hand-built SQL for the hottest request paths (the survey answer page), from the models'
metadata, built once per database connection and run as it is.

Compiling an ORM query costs a few tenths of a millisecond of CPU on every request; the SQL
it produces is the same each time. These builders write that SQL once from ``_meta`` (quoted
table and column names, values always parameters) and still go through the ORM's own value
conversions both ways: ``get_db_prep_save`` for what is written, the backend's and the field's
converters plus ``Model.from_db`` for what is read (docs/decisions/surveys.md, "The answer
page"). No signal is sent: use them only for models no receiver listens to.

``execute`` runs such a statement as a server-side prepared statement on PostgreSQL: planning
a join of a few tables costs the server more than running it (0.25 ms against 0.09 ms for the
answer page's token lookup), so each connection plans it once. It needs a session of its own
per connection (no pooler in transaction mode in front of the database).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from django.db import connections
from django.db.models import Model


class _PerConnection:
    """What ``_build(connection)`` makes, kept per database connection alias."""

    def __init__(self):
        self._built: dict[str, tuple] = {}

    def _build(self, connection) -> tuple:
        raise NotImplementedError

    def _get(self, connection) -> tuple:
        built = self._built.get(connection.alias)
        if built is None:
            built = self._built[connection.alias] = self._build(connection)
        return built


class Columns(_PerConnection):
    """The columns of several models in one SELECT, loaded back as model instances.

    ``parts``: ``(model, alias, attnames)``; ``attnames`` None reads every concrete field, else
    only those (the others load on first use, like ``.only()``)."""

    def __init__(self, parts: Sequence[tuple[type[Model], str, Iterable[str] | None]]):
        super().__init__()
        self.parts = [(m, a, None if w is None else tuple(w)) for m, a, w in parts]

    def _build(self, connection) -> tuple:
        qn = connection.ops.quote_name
        columns, converters, layout = [], [], []
        for model, alias, wanted in self.parts:
            fields = [
                f for f in model._meta.concrete_fields if wanted is None or f.attname in wanted
            ]
            for f in fields:
                column = f.get_col(alias)
                columns.append(f"{qn(alias)}.{qn(f.column)}")
                convs = connection.ops.get_db_converters(column) + f.get_db_converters(connection)
                converters.append((convs, column))
            layout.append((model, [f.attname for f in fields]))
        return ", ".join(columns), converters, layout

    def sql(self, connection) -> str:
        """The select list: ``"i"."id", "i"."status", …``."""
        return self._get(connection)[0]

    def load(self, connection, row: Sequence) -> list[Model]:
        """The instances of one result row (its first columns; any after them are ignored)."""
        _sql, converters, layout = self._get(connection)
        values = list(row[: len(converters)])
        for index, (convs, column) in enumerate(converters):
            for convert in convs:
                values[index] = convert(values[index], column, connection)
        objects, start = [], 0
        for model, names in layout:
            objects.append(
                model.from_db(connection.alias, names, values[start : start + len(names)])
            )
            start += len(names)
        return objects


class Insert(_PerConnection):
    """``INSERT`` of one instance of ``model`` (every concrete field but an automatic primary
    key), returning the new primary key, which it sets on the instance."""

    def __init__(self, model: type[Model]):
        super().__init__()
        self.model = model

    def _build(self, connection) -> tuple:
        qn = connection.ops.quote_name
        meta = self.model._meta
        fields = [f for f in meta.concrete_fields if f is not meta.auto_field]
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)})"  # noqa: S608
            f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {qn(meta.pk.column)}"
        )
        return sql, fields

    def sql(self, connection) -> str:
        """The statement, to run alone or inside a ``WITH`` (its ``RETURNING`` gives the key)."""
        return self._get(connection)[0]

    def params(self, instance: Model, connection) -> list:
        fields = self._get(connection)[1]
        # pre_save as the ORM calls it on an insert (auto_now_add and the like)
        return [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]

    @staticmethod
    def inserted(instance: Model, pk, connection) -> Model:
        """Mark ``instance`` as stored with the key ``pk``, as the ORM does after an insert."""
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = connection.alias
        return instance

    def __call__(self, instance: Model, using: str | None = None) -> Model:
        connection = connections[using or self.model.objects.db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql(connection), self.params(instance, connection))
            return self.inserted(instance, cursor.fetchone()[0], connection)


class Update(_PerConnection):
    """``UPDATE … SET`` the fields ``attnames`` of the row with a primary key; returns the
    number of rows changed (0 or 1)."""

    def __init__(self, model: type[Model], attnames: Iterable[str]):
        super().__init__()
        self.model = model
        self.attnames = tuple(attnames)

    def _build(self, connection) -> tuple:
        qn = connection.ops.quote_name
        meta = self.model._meta
        fields = [meta.get_field(name) for name in self.attnames]
        sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
        sql = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608
        return sql, fields

    def sql(self, connection) -> str:
        """The statement, to run alone or inside a ``WITH``; its parameters: ``params``."""
        return self._get(connection)[0]

    def params(self, pk, values: Sequence, connection) -> list:
        fields = self._get(connection)[1]
        prepared = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
        return [*prepared, pk]

    def __call__(self, pk, *values, using: str | None = None) -> int:
        connection = connections[using or self.model.objects.db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql(connection), self.params(pk, values, connection))
            return cursor.rowcount


def _prepared_on(connection) -> set[str]:
    """The statements prepared on ``connection``'s current database session (a new session
    after a reconnect starts with none)."""
    raw = connection.connection
    state = getattr(connection, "_rawsql_prepared", None)
    if state is None or state[0] is not raw:
        state = (raw, set())
        connection._rawsql_prepared = state
    return state[1]


def execute(cursor, sql: str, params: Sequence = ()) -> None:
    """Run ``sql`` (``%s`` placeholders) on ``cursor``: on PostgreSQL as a prepared statement,
    planned once per session (``PREPARE`` the first time, ``EXECUTE`` after); elsewhere as it
    is. A prepared statement outlives a rolled-back transaction, as PostgreSQL keeps it for
    the session."""
    connection = cursor.db
    if connection.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    if "%%" in sql:
        raise ValueError("a prepared statement's SQL has no literal %")
    name = "rawsql_" + hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:16]
    prepared = _prepared_on(connection)
    if name not in prepared:
        parts = sql.split("%s")
        text = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
        cursor.execute(f"PREPARE {name} AS {text}")
        prepared.add(name)
    if params:
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
    else:
        cursor.execute(f"EXECUTE {name}")
