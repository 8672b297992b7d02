"""The answers pre-summed by month for the analytics (docs/decisions/survey-analytics.md,
"Rollups"): ``AnswerRollup`` holds, per breakdown, month, account manager, anonymity and the
breakdown's value, the counts the raw-answer aggregate of ``surveys.analytics`` adds up; the
report sums a few thousand of these rows instead of scanning a million answers.

What keeps them equal to the raw aggregate (the invariant: ``AnswerRollup`` = the answers of
clients with a ``RollupClient`` row, summed under that row's keys, and the answers with no
client under "none"; every answered client has a row, and it holds the client's current
keys):

- ``add_answer``: the answer write adds its rows in the same transaction (one upsert,
  ``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``: concurrent answers never lose a
  count). It locks its client's ``RollupClient`` row (FOR SHARE) so a concurrent move of the
  client waits for it, or it waits for the move.
- ``sync(client_ids)``: clients whose current account manager, target segment or classes differ
  from their ``RollupClient`` row have their answers subtracted under the old keys and added
  under the new ones (their rows locked FOR UPDATE); many clients at once (a segmentation run)
  → ``rebuild``. Called by the client writes (``clients.extensions``, "clients changed"), the
  end of a segmentation run (``segmentation.extensions``), and after deletions of users and
  segments (their SET NULL moves clients).
- ``remove_answers`` before answers are deleted (signals), ``themes_changed`` around a change of
  an answer's comment themes; a deleted theme, product line or user named as best employee,
  or an answered questionnaire item moved to another product line → ``rebuild`` (rare manager
  actions).
- ``rebuild()``: everything from the raw answers (``manage.py rebuild_survey_rollups``), under
  a table lock that makes answer writes wait for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from clients.models import Client
from crm import rawsql
from segmentation.models import ClientMetrics
from surveys import metrics
from surveys.analytics import bump_version
from surveys.models import Answer, AnswerRollup, RollupClient

NONE = "none"
TOTAL = "total"
SUMS = (
    "answers",
    "nps_answers",
    "promoters",
    "passives",
    "detractors",
    "scores",
    "satisfied",
    "score_sum",
)
KEY = ("dimension", "month", "account_manager", "anonymous", "value")
# breakdown -> the answer's lookup of its value (the client's keys as summed: RollupClient)
ANSWER_DIMENSIONS = {
    TOTAL: None,
    "abc": "client__survey_rollup__abc",
    "xyz": "client__survey_rollup__xyz",
    "lifecycle": "client__survey_rollup__lifecycle",
    "segment": "client__survey_rollup__segment",
    "campaign": "campaign_id",
    "best_employee": "best_employee_id",  # answers naming nobody: no row
}
CLIENT_DIMENSIONS = ("abc", "xyz", "lifecycle", "segment")  # values that move with the client
ALL = (*ANSWER_DIMENSIONS, "theme", "product_line")
MANY = 1000  # more clients moved at once than this: a rebuild is faster than moving each


def _value(v) -> str:
    return NONE if v is None else str(v)


def _month(value) -> date:
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value


Rows = dict[tuple, list[int]]


def _add(rows: Rows, key: tuple, figures: Iterable[int]) -> None:
    row = rows.setdefault(key, [0] * len(SUMS))
    for i, v in enumerate(figures):
        row[i] += int(v or 0)


ANSWER_SUMS = {  # in the order of SUMS
    "n_answers": Count("id"),
    "n_nps": Count("nps"),
    "n_promoters": Count("id", filter=Q(nps__gte=metrics.PROMOTER_MIN)),
    "n_passives": Count(
        "id", filter=Q(nps__gt=metrics.DETRACTOR_MAX, nps__lt=metrics.PROMOTER_MIN)
    ),
    "n_detractors": Count("id", filter=Q(nps__lte=metrics.DETRACTOR_MAX)),
    "n_scores": Sum("item_scores"),
    "n_satisfied": Sum("item_satisfied"),
    "n_sum": Sum("item_sum"),
}


def contribution(answers: QuerySet[Answer], dimensions: Iterable[str] = ALL) -> Rows:
    """The rollup rows of ``answers`` under their clients' ``RollupClient`` keys: grouped
    aggregates of the raw answers, one per breakdown."""
    rows: Rows = {}
    base = answers.order_by().annotate(
        m=TruncMonth("submitted_at"), am=F("client__survey_rollup__account_manager")
    )
    dimensions = list(dimensions)
    if connection.vendor == "postgresql":
        # the answer-level breakdowns in one scan (GROUPING SETS), the rest below
        names = [n for n in dimensions if n in ANSWER_DIMENSIONS]
        if names:
            _grouped(base, names, rows)
        dimensions = [n for n in dimensions if n not in ANSWER_DIMENSIONS]
    for name in dimensions:
        if name in ANSWER_DIMENSIONS:
            lookup = ANSWER_DIMENSIONS[name]
            qs = base.filter(best_employee__isnull=False) if name == "best_employee" else base
            group = ["m", "am", "anonymous"] + ([lookup] if lookup else [])
            for r in qs.values(*group).annotate(**ANSWER_SUMS):
                value = "" if lookup is None else _value(r[lookup])
                key = (name, _month(r["m"]), r["am"] or 0, r["anonymous"], value)
                _add(rows, key, (r[n] for n in ANSWER_SUMS))
        elif name == "theme":
            qs = base.filter(themes__isnull=False).values("m", "am", "anonymous", "themes")
            for r in qs.annotate(**ANSWER_SUMS):
                key = (name, _month(r["m"]), r["am"] or 0, r["anonymous"], _value(r["themes"]))
                _add(rows, key, (r[n] for n in ANSWER_SUMS))
        elif name == "product_line":
            line = "items__item__product_line_id"
            qs = (
                base.filter(items__item__product_line__isnull=False)
                .values("m", "am", "anonymous", line)
                .annotate(
                    n_answers=Count("id", distinct=True),
                    n_scores=Count("items"),
                    n_satisfied=Count("items", filter=Q(items__score__gte=metrics.SATISFIED_MIN)),
                    n_sum=Sum("items__score"),
                )
            )
            for r in qs:
                key = (name, _month(r["m"]), r["am"] or 0, r["anonymous"], _value(r[line]))
                _add(
                    rows,
                    key,
                    (r["n_answers"], 0, 0, 0, 0, r["n_scores"], r["n_satisfied"], r["n_sum"]),
                )
        else:
            raise ValueError(name)
    return rows


def _grouped(base: QuerySet[Answer], names: list[str], rows: Rows) -> None:
    """PostgreSQL: the rows of the answer-level breakdowns ``names`` in one scan of the answers,
    ``GROUP BY GROUPING SETS ((month, am, anonymous, value 1), …)`` over the ORM's own query
    (its filters unchanged); the same sums as ``ANSWER_SUMS``."""
    keys = {f"k{i}": ANSWER_DIMENSIONS[n] for i, n in enumerate(names) if ANSWER_DIMENSIONS[n]}
    inner = base.annotate(**{alias: F(lookup) for alias, lookup in keys.items()}).values(
        "m", "am", "anonymous", *keys, "nps", "item_scores", "item_satisfied", "item_sum"
    )
    sql, params = inner.query.sql_with_params()
    aliases = list(keys)
    sets = [f"(m, am, anonymous{', ' + a if a else ''})" for a in ("", *aliases)]
    flags = ", ".join(f"GROUPING({a})" for a in aliases) or "0"
    values = ", ".join(aliases) or "NULL"
    query = (
        f"SELECT {flags}, {values}, m, am, anonymous, COUNT(*), COUNT(nps),"  # noqa: S608
        f" COUNT(*) FILTER (WHERE nps >= {metrics.PROMOTER_MIN}),"
        f" COUNT(*) FILTER (WHERE nps > {metrics.DETRACTOR_MAX} AND nps < {metrics.PROMOTER_MIN}),"
        f" COUNT(*) FILTER (WHERE nps <= {metrics.DETRACTOR_MAX}),"
        " COALESCE(SUM(item_scores), 0), COALESCE(SUM(item_satisfied), 0),"
        " COALESCE(SUM(item_sum), 0)"
        f" FROM ({sql}) AS answers GROUP BY GROUPING SETS ({', '.join(sets)})"
    )
    named = [n for n in names if ANSWER_DIMENSIONS[n]]
    n = len(aliases)
    width = max(n, 1)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for row in cursor.fetchall():
            grouping, vals = row[:width], row[width : 2 * width]
            month, am, anonymous = row[2 * width : 2 * width + 3]
            figures = row[2 * width + 3 :]
            if not n or all(grouping):
                if TOTAL not in names:
                    continue
                name, value = TOTAL, ""
            else:
                i = list(grouping).index(0)
                name, value = named[i], vals[i]
                if name == "best_employee" and value is None:
                    continue
                value = _value(value)
            _add(rows, (name, _month(month), am or 0, anonymous, value), figures)


def _upsert(rows: Rows, sign: int = 1, prepared: bool = False) -> None:
    """Add ``rows`` (times ``sign``) to the rollup: one ``INSERT … ON CONFLICT DO UPDATE`` per
    batch, the same statement on PostgreSQL and SQLite (3.24+). ``prepared``: an answer's few
    rows, whose statement PostgreSQL plans once per session (``crm.rawsql.execute``)."""
    if not rows:
        return
    table = connection.ops.quote_name(AnswerRollup._meta.db_table)
    columns = (*KEY, *SUMS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in SUMS)
    items = list(rows.items())
    batch = 50 if connection.vendor == "sqlite" else 1000
    with connection.cursor() as cursor:
        for i in range(0, len(items), batch):
            chunk = items[i : i + batch]
            placeholders = ", ".join("(" + ", ".join(["%s"] * len(columns)) + ")" for _ in chunk)
            params: list = []
            for key, figures in chunk:
                params.extend(key)
                params.extend(sign * v for v in figures)
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} "  # noqa: S608
                f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}"
            )
            if prepared:
                rawsql.execute(cursor, sql, params)
            else:
                cursor.execute(sql, params)


def _drop_empty() -> None:
    AnswerRollup.objects.filter(answers=0).delete()


# --- the client's keys -------------------------------------------------------------------------
def current_keys(client_ids: Iterable[int] | None = None) -> dict[int, tuple]:
    qs = Client.objects.all()
    if client_ids is not None:
        qs = qs.filter(pk__in=list(client_ids))
    return {
        row[0]: tuple(row[1:])
        for row in qs.values_list(
            "id",
            "account_manager_id",
            "target_segment_id",
            "metrics__abc_class",
            "metrics__xyz_class",
            "metrics__lifecycle",
        )
    }


KEY_FIELDS = ("account_manager", "segment", "abc", "xyz", "lifecycle")


def _recorded(client_ids: Iterable[int] | None, lock: bool) -> dict[int, tuple]:
    qs = RollupClient.objects.order_by("client_id")
    if client_ids is not None:
        qs = qs.filter(client_id__in=list(client_ids))
    if lock:
        qs = qs.select_for_update()
    return {row[0]: tuple(row[1:]) for row in qs.values_list("client_id", *KEY_FIELDS)}


def keys_sql(connection) -> str:
    """The read of a client's summed keys (the client id its one parameter), locking the row
    FOR SHARE on PostgreSQL; its first column, ``found``, is true (a sub-select of
    ``surveys.services.answers``' store, which then passes the keys to ``add_answer``)."""
    table = connection.ops.quote_name(RollupClient._meta.db_table)
    return (
        f"SELECT true AS found, {', '.join(KEY_FIELDS)} FROM {table}"  # noqa: S608
        " WHERE client_id = %s" + (" FOR SHARE" if connection.vendor == "postgresql" else "")
    )


def _client_key(client_id: int | None) -> tuple:
    """The client's summed keys, its ``RollupClient`` row made from its current keys if it has
    none yet; the row locked FOR SHARE (PostgreSQL) until the transaction ends. One statement
    when the row exists, three the first time."""
    if client_id is None:
        return (None,) * len(KEY_FIELDS)
    qn = connection.ops.quote_name
    table = qn(RollupClient._meta.db_table)
    read = keys_sql(connection)
    with connection.cursor() as cursor:
        cursor.execute(read, [client_id])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {table} (client_id, {', '.join(KEY_FIELDS)}) "  # noqa: S608
                "SELECT c.id, c.account_manager_id, c.target_segment_id, m.abc_class,"
                f" m.xyz_class, m.lifecycle FROM {qn(Client._meta.db_table)} c"
                f" LEFT JOIN {qn(ClientMetrics._meta.db_table)} m ON m.client_id = c.id"
                " WHERE c.id = %s ON CONFLICT (client_id) DO NOTHING",
                [client_id],
            )
            cursor.execute(read, [client_id])
            row = cursor.fetchone()
    return tuple(row[1:]) if row is not None else (None,) * len(KEY_FIELDS)


# --- writes ------------------------------------------------------------------------------------
def add_answer(
    answer: Answer,
    scores: dict[int, int],
    lines: dict[int, int | None],
    keys: tuple | None = None,
) -> None:
    """Add a new answer (``scores``: item id -> 1..5; ``lines``: item id -> its product line)
    to the rollup, inside the transaction that stores it: the client's keys (``keys`` when the
    caller read them with ``keys_sql`` in the same transaction, else read here) and one
    upsert."""
    am, segment, abc, xyz, lifecycle = keys or _client_key(answer.client_id)
    month = timezone.localtime(answer.submitted_at).date().replace(day=1)
    base = (month, am or 0, answer.anonymous)
    nps = answer.nps
    figures = [
        1,
        int(nps is not None),
        int(nps is not None and nps >= metrics.PROMOTER_MIN),
        int(nps is not None and metrics.DETRACTOR_MAX < nps < metrics.PROMOTER_MIN),
        int(nps is not None and nps <= metrics.DETRACTOR_MAX),
        answer.item_scores,
        answer.item_satisfied,
        answer.item_sum,
    ]
    rows: Rows = {}
    _add(rows, (TOTAL, *base, ""), figures)
    for name, value in (
        ("abc", abc),
        ("xyz", xyz),
        ("lifecycle", lifecycle),
        ("segment", segment),
        ("campaign", answer.campaign_id),
    ):
        _add(rows, (name, *base, _value(value)), figures)
    if answer.best_employee_id is not None:
        _add(rows, ("best_employee", *base, _value(answer.best_employee_id)), figures)
    per_line: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item, score in scores.items():
        if lines.get(item) is not None:
            line = per_line[lines[item]]
            line[0] += 1
            line[1] += int(score >= metrics.SATISFIED_MIN)
            line[2] += score
    for line_id, (n, satisfied, total) in per_line.items():
        _add(rows, ("product_line", *base, _value(line_id)), (1, 0, 0, 0, 0, n, satisfied, total))
    _upsert(rows, prepared=True)


def _lock_clients_of(answers: QuerySet[Answer]) -> None:
    ids = list(answers.order_by().values_list("client_id", flat=True).distinct())
    list(RollupClient.objects.filter(client_id__in=ids).select_for_update().values_list("pk"))


def remove_answers(answers: QuerySet[Answer]) -> None:
    """Subtract ``answers`` (about to be deleted) from the rollup."""
    _lock_clients_of(answers)
    _upsert(contribution(answers), -1)
    _drop_empty()


def themes_changed(answer: Answer, before: bool) -> None:
    """Around a change of an answer's comment themes: ``before`` subtracts its theme rows,
    after (``before=False``) adds them back from the new themes."""
    answers = Answer.objects.filter(pk=answer.pk)
    if before:
        _lock_clients_of(answers)
    _upsert(contribution(answers, ["theme"]), -1 if before else 1)
    if not before:
        _drop_empty()


@transaction.atomic
def sync(client_ids: Iterable[int] | None = None) -> int:
    """Move the answers of the clients (all: None) whose current account manager, segment or
    classes differ from the keys they are summed under. Returns the clients moved."""
    ids = None if client_ids is None else sorted({int(i) for i in client_ids if i is not None})
    if ids == []:
        return 0
    recorded = _recorded(ids, lock=False)
    current = current_keys(recorded.keys() if ids is not None else None)
    moved = sorted(c for c, key in recorded.items() if current.get(c, key) != key)
    if not moved:
        return 0
    if len(moved) > MANY:
        rebuild()
        return len(moved)
    recorded = _recorded(moved, lock=True)  # the answer writes of these clients wait
    current = current_keys(moved)
    moved = sorted(c for c, key in recorded.items() if current.get(c, key) != key)
    for i in range(0, len(moved), 200):
        chunk = moved[i : i + 200]
        answers = Answer.objects.filter(client_id__in=chunk)
        _upsert(contribution(answers), -1)
        for c in chunk:
            RollupClient.objects.filter(client_id=c).update(
                **dict(zip(KEY_FIELDS, current[c], strict=True))
            )
        _upsert(contribution(answers), 1)
    _drop_empty()
    transaction.on_commit(bump_version)  # cached reports show the moves at once
    return len(moved)


@transaction.atomic
def rebuild() -> int:
    """Every rollup row again from the raw answers and the clients' current keys. PostgreSQL:
    the keys table locked EXCLUSIVE first, so answer writes (FOR SHARE on it) wait for the
    rebuild and none is lost or counted twice. Returns the rows written."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {connection.ops.quote_name(RollupClient._meta.db_table)} "
                "IN EXCLUSIVE MODE"
            )
            cursor.execute("SET LOCAL jit = off")
    RollupClient.objects.all().delete()
    keys = current_keys()
    RollupClient.objects.bulk_create(
        [
            RollupClient(client_id=c, **dict(zip(KEY_FIELDS, k, strict=True)))
            for c, k in keys.items()
        ],
        batch_size=2000,
    )
    AnswerRollup.objects.all().delete()
    rows = contribution(Answer.objects.all())
    AnswerRollup.objects.bulk_create(
        [
            AnswerRollup(**dict(zip(KEY, key, strict=True)), **dict(zip(SUMS, f, strict=True)))
            for key, f in rows.items()
            if f[0]
        ],
        batch_size=2000,
    )
    transaction.on_commit(bump_version)
    return len(rows)


# --- signals: deletions ------------------------------------------------------------------------
def answer_pre_delete(sender, instance: Answer, origin=None, **kwargs) -> None:
    """An answer about to be deleted (alone, with its invitation, campaign or client): its
    contribution subtracted. A client's or campaign's deletion sends one signal per answer;
    the first subtracts all the answers of that client or campaign at once (marked on the
    object being deleted)."""
    field = None
    if isinstance(origin, Client):
        field = "client_id"
    elif origin is not None and type(origin).__name__ == "Campaign":
        field = "campaign_id"
    if field is None:
        remove_answers(Answer.objects.filter(pk=instance.pk))
        return
    if getattr(origin, "_rollup_subtracted", False):
        return
    remove_answers(Answer.objects.filter(**{field: origin.pk}))
    origin._rollup_subtracted = True


def after_run(run_id: int) -> None:
    """A segmentation run wrote new classes (inside its transaction): move the answers of the
    clients whose classes changed."""
    sync()


def keys_may_have_moved(sender, **kwargs) -> None:
    """A deleted target segment set clients' segment to none (SET NULL): move them."""
    sync()


def _answers_named(instance) -> bool:
    """Does deleting ``instance`` change summed answers' values (SET NULL or cascades)?"""
    from clients.models import ProductLine
    from feedback.models import Theme
    from surveys.models import AnswerItem

    if isinstance(instance, Theme):
        return Answer.objects.filter(themes=instance).exists()
    if isinstance(instance, ProductLine):
        return AnswerItem.objects.filter(item__product_line=instance).exists()
    return Answer.objects.filter(best_employee=instance).exists()  # a user


def before_named_delete(sender, instance, **kwargs) -> None:
    instance._rollup_rebuild = _answers_named(instance)


def after_named_delete(sender, instance, **kwargs) -> None:
    """A deleted theme, product line or user named as best employee changed answers' values
    (cascades the rollup cannot follow row by row): everything again. A deleted user also set
    their clients' account manager to none: those move."""
    from crm.models import User

    if getattr(instance, "_rollup_rebuild", True):
        rebuild()
    elif isinstance(instance, User):
        sync()


def differences() -> dict[tuple, tuple[list[int], list[int]]]:
    """The rollup rows that differ from the raw answers summed under the clients' current keys
    (key -> (stored, expected)); empty when the rollups are exact."""
    keys = current_keys()
    recorded = _recorded(None, lock=False)
    stored: Rows = {
        tuple(r[:5]): list(r[5:])
        for r in AnswerRollup.objects.values_list(*KEY, *SUMS)
        if any(r[5:])
    }
    expected = {k: v for k, v in contribution(Answer.objects.all()).items() if any(v)}
    result = {
        k: (stored.get(k, [0] * len(SUMS)), expected.get(k, [0] * len(SUMS)))
        for k in stored.keys() | expected.keys()
        if stored.get(k) != expected.get(k)
    }
    for c, key in recorded.items():
        if keys.get(c, key) != key:
            result[("client", c)] = (list(key), list(keys[c]))
    return result
