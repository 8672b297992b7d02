"""The hand-built statements of the hottest paths write and read what the ORM would."""

from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from crm.models import AuditEntry, User
from crm.rawsql import Columns, Insert, Update

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 30, 21, 59, 59, 123456, tzinfo=UTC)


def test_insert_runs_pre_save_and_sets_the_key(time_machine):
    time_machine.move_to(T0, tick=False)
    user = User.objects.create_user("ann", password="x" * 12)
    entry = AuditEntry(
        actor=user,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr="Анна «ann»",
        action=AuditEntry.Action.UPDATE,
        changes={"name": ["", "Анна"], "n": [1, None]},
    )
    Insert(AuditEntry)(entry)
    assert entry.pk is not None and not entry._state.adding
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.at == T0  # auto_now_add, as the ORM's insert sets it
    assert (stored.actor_id, stored.object_repr, stored.changes, stored.note) == (
        user.pk,
        "Анна «ann»",
        {"name": ["", "Анна"], "n": [1, None]},
        "",
    )
    second = Insert(AuditEntry)(
        AuditEntry(content_type_id=entry.content_type_id, object_id="2", action="create")
    )
    assert second.pk > entry.pk and AuditEntry.objects.count() == 2


def test_update_converts_values_and_counts_rows():
    user = User.objects.create_user("bob", password="x" * 12)
    entry = AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(User), object_id="1", action="create"
    )
    update = Update(AuditEntry, ("note", "changes", "actor_id"))
    assert update(entry.pk, "ок", {"a": [1, 2]}, user.pk) == 1
    entry.refresh_from_db()
    assert (entry.note, entry.changes, entry.actor_id) == ("ок", {"a": [1, 2]}, user.pk)
    assert update(entry.pk + 1000, "", {}, None) == 0


def test_columns_load_instances_like_the_orm(django_assert_num_queries):
    from django.db import connection

    user = User.objects.create_user("cat", password="x" * 12, language="ru")
    entry = AuditEntry.objects.create(
        actor=user,
        content_type=ContentType.objects.get_for_model(User),
        object_id="1",
        action="create",
        changes={"x": [None, True]},
    )
    columns = Columns(((AuditEntry, "a", None), (User, "u", ("id", "username", "is_active"))))
    table_a = connection.ops.quote_name(AuditEntry._meta.db_table)
    table_u = connection.ops.quote_name(User._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns.sql(connection)}, 42 FROM {table_a} a"  # noqa: S608
            f" JOIN {table_u} u ON u.id = a.actor_id WHERE a.id = %s",
            [entry.pk],
        )
        row = cursor.fetchone()
    with django_assert_num_queries(0):
        loaded, person = columns.load(connection, row)
        assert [getattr(loaded, f.attname) for f in AuditEntry._meta.concrete_fields] == [
            getattr(entry, f.attname) for f in AuditEntry._meta.concrete_fields
        ]
        assert (person.pk, person.username, person.is_active) == (user.pk, "cat", True)
    assert person.language == "ru"  # not read: loads on first use


@pytest.mark.django_db(transaction=True)
def test_execute_plans_once_per_session_and_outlives_a_rollback():
    """On PostgreSQL the statement is prepared once per database session (a rolled-back
    transaction keeps it; a new session prepares it again); elsewhere it runs as it is."""
    from django.db import connection, transaction

    from crm import rawsql

    postgres = connection.vendor == "postgresql"
    sql = "SELECT %s::int + %s::int, 'a' || %s" if postgres else "SELECT %s + %s, 'a' || %s"

    def run():
        with connection.cursor() as cursor:
            rawsql.execute(cursor, sql, [2, 3, "b"])
            return cursor.fetchone()

    assert run() == (5, "ab")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        assert run() == (5, "ab")
        raise ZeroDivisionError
    assert run() == (5, "ab")
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%'a' || $3"],
            )
            assert cursor.fetchone() == (1,)
        with pytest.raises(ValueError), connection.cursor() as cursor:
            rawsql.execute(cursor, "SELECT 100 %% 7")
    connection.close()  # a new session: prepared again
    assert run() == (5, "ab")
