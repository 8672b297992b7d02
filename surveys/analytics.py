"""Survey analytics (docs/domain.md, "Surveys"; docs/decisions/survey-analytics.md): NPS, CSAT %,
the integral index and the response rate, by period and by breakdown, from raw answers.

Every figure is one grouped SQL aggregate (``COUNT(*) FILTER (WHERE …)``, ``SUM``, ``GROUP BY``
the breakdown's key) over the answers the viewer may see; the formulas are those of
``surveys/metrics.py``, applied to the counts. No Python loop over answers.

Who sees what (``answers_for``): managers every answer; an account manager the answers of
their own clients in **named** campaigns only (never an anonymous campaign's, never another
account manager's figures).

Anonymity (``MIN_CELL``): a cell — a breakdown row, a month of the trend, the totals — that
holds 1 to 4 answers of anonymous campaigns is not shown ("—"), whatever the number of named
answers beside them: a mixed cell of 20 named answers and 2 anonymous ones is hidden too,
because the named answers can be listed and subtracted from it. A cell with none or at least
5 anonymous answers is shown.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, ProductLine, TargetSegment
from crm.access import scope_for_user
from crm.cache import DataVersion
from crm.models import User
from crm.periods import Period, add_months, month_split, month_start
from feedback.models import Theme
from segmentation.models import Lifecycle
from surveys import metrics
from surveys.models import Answer, AnswerItem, AnswerRollup, Campaign, Invitation

MIN_CELL = 5  # anonymous answers: a cell with 1 to MIN_CELL - 1 of them is hidden
TARGET_NPS = 40  # the trend chart's target line
NONE = "none"  # the key of "no class / no segment / no account manager"

# breakdown -> the answer's lookup of its key
DIMENSIONS = {
    "abc": "client__metrics__abc_class",
    "xyz": "client__metrics__xyz_class",
    "lifecycle": "client__metrics__lifecycle",
    "segment": "client__target_segment_id",
    "account_manager": "client__account_manager_id",
    "campaign": "campaign_id",
    "best_employee": "best_employee_id",
    "month": "month",
    "theme": "themes",  # the comment themes a person tagged (one cell per theme)
}
ITEM_DIMENSIONS = ("product_line",)  # from the item scores, not the answer
BREAKDOWNS = ("abc", "xyz", "lifecycle", "segment", "account_manager", "product_line", "campaign")


def answers_for(user) -> QuerySet[Answer]:
    """The answers ``user`` may count and list: managers all, account managers their own
    clients' answers in named campaigns. (The account manager's scope is written as "the
    client among the clients they may see", the same rows as ``scope_for_user(Answer)``, so
    the database reads their clients' answers by the (client, submitted_at) index instead of
    scanning every answer.)"""
    if not getattr(user, "is_authenticated", False):
        return Answer.objects.none()
    if user.sees_everything:
        return Answer.objects.all()
    clients = scope_for_user(Client.objects.all(), user).values("id")
    return Answer.objects.filter(client_id__in=clients, anonymous=False)


@contextmanager
def without_jit():
    """PostgreSQL's JIT compiles these aggregates for 0.5–2 s before running them in a few
    hundred ms (docs/decisions/survey-analytics.md): off for the enclosed queries."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


def invitations_for(user) -> QuerySet[Invitation]:
    qs = scope_for_user(Invitation.objects.all(), user)
    if not getattr(user, "sees_everything", False):
        qs = qs.filter(campaign__anonymous=False)
    return qs


def bounds(period: Period) -> tuple[datetime, datetime]:
    """The half-open period of days as aware datetimes in the site's time zone."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(period.start, time.min, tzinfo=tz),
        datetime.combine(period.end, time.min, tzinfo=tz),
    )


def in_period(qs: QuerySet[Answer], period: Period) -> QuerySet[Answer]:
    start, end = bounds(period)
    return qs.filter(submitted_at__gte=start, submitted_at__lt=end)


@dataclass
class Cell:
    key: object  # the breakdown's value (a class, an id, a month; None for the totals)
    answers: int = 0
    anonymous: int = 0
    nps_answers: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    scores: int = 0  # item scores
    satisfied: int = 0
    score_sum: int = 0
    label: str = ""

    @property
    def hidden(self) -> bool:
        return 0 < self.anonymous < MIN_CELL

    @property
    def nps(self) -> Decimal | None:
        if self.hidden:
            return None
        return metrics.nps_from_counts(self.promoters, self.passives, self.detractors)

    @property
    def csat(self) -> Decimal | None:
        return None if self.hidden else metrics.csat_from_counts(self.satisfied, self.scores)

    @property
    def index(self) -> Decimal | None:
        return None if self.hidden else metrics.index_from_sum(self.score_sum, self.scores)

    def as_dict(self) -> dict:
        shown = not self.hidden
        return {
            "key": self.key,
            "label": self.label,
            "hidden": self.hidden,
            "answers": self.answers if shown else None,
            "promoters": self.promoters if shown else None,
            "passives": self.passives if shown else None,
            "detractors": self.detractors if shown else None,
            "nps": self.nps,
            "csat": self.csat,
            "index": self.index,
        }


ANSWER_SUMS = {
    "answers": Count("id"),
    "anonymous": Count("id", filter=Q(anonymous=True)),
    "nps_answers": Count("nps"),
    "promoters": Count("id", filter=Q(nps__gte=metrics.PROMOTER_MIN)),
    "passives": Count("id", filter=Q(nps__gt=metrics.DETRACTOR_MAX, nps__lt=metrics.PROMOTER_MIN)),
    "detractors": Count("id", filter=Q(nps__lte=metrics.DETRACTOR_MAX)),
    # the item scores, from the copies on the answer (Answer.set_item_sums)
    "scores": Sum("item_scores"),
    "satisfied": Sum("item_satisfied"),
    "score_sum": Sum("item_sum"),
}


def _key(value):
    if value is None:
        return NONE
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def breakdown(answers: QuerySet[Answer], dimension: str) -> list[Cell]:
    """One cell per value of ``dimension`` among ``answers`` (already scoped and filtered):
    one grouped aggregate."""
    if dimension in ITEM_DIMENSIONS:
        return _item_breakdown(answers)
    lookup = DIMENSIONS[dimension]
    base = answers.order_by()
    if dimension == "month":
        base = base.annotate(month=TruncMonth("submitted_at"))
    cells = []
    for row in base.values(lookup).annotate(**ANSWER_SUMS):
        key = _key(row.pop(lookup))
        cells.append(Cell(key=key, **_zeros(row)))
    return cells


def _zeros(row: dict) -> dict:
    return {k: (v or 0) for k, v in row.items()}


def _item_breakdown(answers: QuerySet[Answer]) -> list[Cell]:
    """Items tied to a product line: CSAT % and the index of that line's item scores; the
    answers are those with a score for the line (counted once). Read from the answers' side,
    joined to their scores, so the answers' own filters (period, scope) apply directly."""
    line = "items__item__product_line_id"
    rows = (
        answers.order_by()
        .filter(items__item__product_line__isnull=False)
        .values(line)
        .annotate(
            answers=Count("id", distinct=True),
            anonymous=Count("id", distinct=True, filter=Q(anonymous=True)),
            scores=Count("items"),
            satisfied=Count("items", filter=Q(items__score__gte=metrics.SATISFIED_MIN)),
            score_sum=Sum("items__score"),
        )
    )
    cells = []
    for row in rows:
        key = _key(row.pop(line))
        cells.append(Cell(key=key, **_zeros(row)))
    return cells


def totals(answers: QuerySet[Answer]) -> Cell:
    return Cell(key=None, **_zeros(answers.order_by().aggregate(**ANSWER_SUMS)))


# --- response rate -----------------------------------------------------------------------------
DELIVERED = ("sent", "opened", "answered", "expired")  # as surveys.selectors.campaign_progress


@dataclass
class Rate:
    key: object
    delivered: int = 0
    answered: int = 0
    label: str = ""

    @property
    def rate(self) -> Decimal | None:
        return metrics.share_pct(self.answered, self.delivered)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "delivered": self.delivered,
            "answered": self.answered,
            "rate": self.rate,
        }


def response_rates(invitations: QuerySet[Invitation]) -> tuple[Rate, list[Rate]]:
    """Answered ÷ delivered (sent, opened, answered or expired) of the invitations sent in the
    period, in all and per campaign: one grouped aggregate."""
    rows = (
        invitations.filter(status__in=DELIVERED)
        .order_by()
        .values("campaign_id")
        # counted by the status (never null), not the id: PostgreSQL then counts by an
        # index-only scan of the send-time index, which carries the status and campaign
        # (surveys/0008)
        .annotate(delivered=Count("status"), answered=Count("status", filter=Q(status="answered")))
    )
    per = [
        Rate(key=r["campaign_id"], delivered=r["delivered"], answered=r["answered"]) for r in rows
    ]
    total = Rate(
        key=None,
        delivered=sum(r.delivered for r in per),
        answered=sum(r.answered for r in per),
    )
    return total, per


# --- the page's whole report, cached -----------------------------------------------------------
@dataclass
class Report:
    period: Period
    totals: Cell
    response: Rate
    breakdowns: dict[str, list[Cell]] = field(default_factory=dict)
    trend: list[Cell] = field(default_factory=list)
    trend_period: Period | None = None
    best_employee: list[Cell] = field(default_factory=list)
    campaign_rates: list[Rate] = field(default_factory=list)
    themes: list[Cell] = field(default_factory=list)


def report(
    user, *, period: Period, trend_period: Period, account_manager: int | None = None
) -> Report:
    with without_jit():
        return _report(user, period, trend_period, account_manager)


def _report(user, period: Period, trend_period: Period, account_manager: int | None) -> Report:
    invitations = invitations_for(user)
    if account_manager is not None:
        invitations = invitations.filter(client__account_manager_id=account_manager)
    start, end = bounds(period)
    total_rate, rates = response_rates(invitations.filter(sent_at__gte=start, sent_at__lt=end))
    result = Report(
        period=period,
        totals=Cell(key=None),
        response=total_rate,
        trend_period=trend_period,
        campaign_rates=rates,
    )
    if whole_months(period) and whole_months(trend_period):
        figures = rollup_figures(user, period, trend_period, account_manager)
    else:
        figures = raw_figures(user, period, trend_period, account_manager)
    result.totals, cells, result.trend = figures
    for name in BREAKDOWNS:
        result.breakdowns[name] = cells.get(name, [])
    result.best_employee = [c for c in cells.get("best_employee", []) if c.key != NONE]
    result.themes = [c for c in cells.get("theme", []) if c.key != NONE]
    return result


def raw_figures(
    user, period: Period, trend_period: Period, account_manager: int | None
) -> tuple[Cell, dict[str, list[Cell]], list[Cell]]:
    """The totals, every breakdown (those of the page, the best employees and the themes) and
    the trend, aggregated from the raw answers."""
    answers = answers_for(user)
    if account_manager is not None:
        answers = answers.filter(client__account_manager_id=account_manager)
    scoped = in_period(answers, period)
    if connection.vendor == "postgresql":
        # one scan for the totals and every answer breakdown (GROUPING SETS)
        total, cells = grouped(scoped, SET_DIMENSIONS)
    else:
        total = totals(scoped)
        cells = {name: breakdown(scoped, name) for name in SET_DIMENSIONS}
    for name in (*BREAKDOWNS, "theme"):
        if name not in cells:
            cells[name] = breakdown(scoped, name)
    trend = sorted(breakdown(in_period(answers, trend_period), "month"), key=_sort_key)
    return total, cells, trend


def whole_months(period: Period) -> bool:
    """Does the period start and end on the first of a month (every period the page offers)?
    Then the monthly rollups give its figures."""
    return period.start.day == 1 and period.end.day == 1


def rollups_for(user, account_manager: int | None = None) -> QuerySet[AnswerRollup]:
    """The rollup rows ``user`` may count: the same scope as ``answers_for`` (an account manager:
    their clients' answers in named campaigns)."""
    if not getattr(user, "is_authenticated", False):
        return AnswerRollup.objects.none()
    qs = AnswerRollup.objects.all()
    if not user.sees_everything:
        qs = qs.filter(account_manager=user.pk, anonymous=False)
    if account_manager is not None:
        qs = qs.filter(account_manager=account_manager)
    return qs


ROLLUP_SUMS = {
    "s_answers": Sum("answers"),
    "s_anonymous": Sum("answers", filter=Q(anonymous=True)),
    "s_nps_answers": Sum("nps_answers"),
    "s_promoters": Sum("promoters"),
    "s_passives": Sum("passives"),
    "s_detractors": Sum("detractors"),
    "s_scores": Sum("scores"),
    "s_satisfied": Sum("satisfied"),
    "s_score_sum": Sum("score_sum"),
}


def _sums(row: dict) -> dict:
    """A rollup read's sums as a cell's figures."""
    return {name[2:]: row[name] or 0 for name in ROLLUP_SUMS}


ID_DIMENSIONS = ("segment", "campaign", "best_employee", "theme", "product_line")


def _rollup_key(name: str, value: str):
    if value == NONE:
        return NONE
    return int(value) if name in ID_DIMENSIONS else value


def rollup_figures(
    user, period: Period, trend_period: Period, account_manager: int | None
) -> tuple[Cell, dict[str, list[Cell]], list[Cell]]:
    """What ``raw_figures`` gives, summed from the monthly rollups (``surveys.rollup``) of
    whole-month periods: three grouped reads of a few thousand rows."""
    rows = rollups_for(user, account_manager)
    within = rows.filter(month__gte=period.start, month__lt=period.end)
    total = Cell(key=None)
    cells: dict[str, list[Cell]] = {}
    for row in within.values("dimension", "value").annotate(**ROLLUP_SUMS).order_by():
        name, value = row["dimension"], row["value"]
        if not row["s_answers"]:
            continue
        if name == "total":
            total = Cell(key=None, **_sums(row))
        else:
            cells.setdefault(name, []).append(Cell(key=_rollup_key(name, value), **_sums(row)))
    by_manager = within.filter(dimension="total").values("account_manager")
    cells["account_manager"] = [
        Cell(key=row["account_manager"] or NONE, **_sums(row))
        for row in by_manager.annotate(**ROLLUP_SUMS).order_by()
        if row["s_answers"]
    ]
    months = rows.filter(
        dimension="total", month__gte=trend_period.start, month__lt=trend_period.end
    ).values("month")
    trend = sorted(
        (
            Cell(key=row["month"], **_sums(row))
            for row in months.annotate(**ROLLUP_SUMS).order_by()
            if row["s_answers"]
        ),
        key=_sort_key,
    )
    return total, cells, trend


# --- figures of any period: whole months from the rollups, the days around them raw ---------------
SUMMED_BY = {None: None, "month": "month", "account_manager": "account_manager"}


def add_cells(key, cells) -> Cell:
    total = Cell(key=key)
    for cell in cells:
        for name in CELL_FIELDS:
            setattr(total, name, getattr(total, name) + getattr(cell, name))
    return total


def summed(
    user,
    period: Period,
    *,
    by: str | None = None,
    account_manager: int | None = None,
    segment: int | None = None,
) -> dict:
    """The figures of the answers ``user`` may see submitted in ``period`` — of one account
    manager's clients and of one target segment's when given — as ``{key: Cell}``: ``by``
    None (one cell, key None), "month" or "account_manager" (``NONE``: no account manager).
    The whole months come from the rollups (a few hundred rows), the days before and after
    them from the raw answers (at most two partial months): the same figures as the raw
    aggregate of the whole period (the rollups' invariant, ``surveys.rollup``)."""
    if by not in SUMMED_BY:
        raise ValueError(by)
    whole, parts = month_split(period)
    found: dict = {}
    if whole is not None:
        rows = rollups_for(user, account_manager).filter(
            month__gte=whole.start, month__lt=whole.end
        )
        if segment is not None:
            rows = rows.filter(dimension="segment", value=str(segment))
        else:
            rows = rows.filter(dimension="total")
        group = [SUMMED_BY[by]] if by else []
        for row in rows.values(*group).annotate(**ROLLUP_SUMS).order_by():
            if not row["s_answers"]:
                continue
            key = None
            if by == "month":
                key = row["month"]
            elif by == "account_manager":
                key = row["account_manager"] or NONE
            found.setdefault(key, []).append(Cell(key=key, **_sums(row)))
    answers = answers_for(user)
    if account_manager is not None:
        answers = answers.filter(client__account_manager_id=account_manager)
    if segment is not None:
        answers = answers.filter(client__target_segment_id=segment)
    for part in parts:
        scoped = in_period(answers, part)
        cells = [totals(scoped)] if by is None else breakdown(scoped, by)
        for cell in cells:
            if cell.answers:
                found.setdefault(cell.key, []).append(cell)
    return {key: add_cells(key, cells) for key, cells in found.items()}


SET_DIMENSIONS = (
    "abc",
    "xyz",
    "lifecycle",
    "segment",
    "account_manager",
    "campaign",
    "best_employee",
)


def grouped(answers: QuerySet[Answer], names) -> tuple[Cell, dict[str, list[Cell]]]:
    """PostgreSQL: the totals and the breakdowns ``names`` of ``answers`` in one scan —
    ``GROUP BY GROUPING SETS ((key 1), (key 2), …, ())`` over the ORM's own query of the
    answers (its filters and scope unchanged), the same sums as ``ANSWER_SUMS``."""
    keys = {f"k{i}": DIMENSIONS[name] for i, name in enumerate(names)}
    base = (
        answers.order_by()
        .annotate(**{alias: F(lookup) for alias, lookup in keys.items()})
        .values(*keys, "anonymous", "nps", "item_scores", "item_sum", "item_satisfied")
    )
    sql, params = base.query.sql_with_params()
    aliases = list(keys)
    flags = ", ".join(f"GROUPING({a})" for a in aliases)
    sets = ", ".join(f"({a})" for a in aliases)
    query = (
        f"SELECT {flags}, {', '.join(aliases)}, COUNT(*),"  # noqa: S608 (aliases are ours)
        " COUNT(*) FILTER (WHERE anonymous), COUNT(nps),"
        f" COUNT(*) FILTER (WHERE nps >= {metrics.PROMOTER_MIN}),"
        f" COUNT(*) FILTER (WHERE nps > {metrics.DETRACTOR_MAX} AND nps < {metrics.PROMOTER_MIN}),"
        f" COUNT(*) FILTER (WHERE nps <= {metrics.DETRACTOR_MAX}),"
        " COALESCE(SUM(item_scores), 0), COALESCE(SUM(item_satisfied), 0),"
        " COALESCE(SUM(item_sum), 0)"
        f" FROM ({sql}) AS answers GROUP BY GROUPING SETS ({sets}, ())"
    )
    n = len(aliases)
    cells: dict[str, list[Cell]] = {name: [] for name in names}
    total = Cell(key=None)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for row in cursor.fetchall():
            grouping, values, sums = row[:n], row[n : 2 * n], row[2 * n :]
            figures = dict(zip(CELL_FIELDS, (int(v or 0) for v in sums), strict=True))
            if all(grouping):
                total = Cell(key=None, **figures)
                continue
            i = grouping.index(0)
            key = _key(values[i])
            cells[names[i]].append(Cell(key=key, **figures))
    return total, cells


CELL_FIELDS = (
    "answers",
    "anonymous",
    "nps_answers",
    "promoters",
    "passives",
    "detractors",
    "scores",
    "satisfied",
    "score_sum",
)


def _sort_key(cell: Cell):
    return (cell.key == NONE, str(cell.key))


def labels(name: str, keys: list) -> dict:
    """The display names of a breakdown's keys (classes, segments, people, lines, campaigns)."""
    ids = [k for k in keys if k != NONE]
    if name in ("abc", "xyz"):
        return {k: k for k in ids}
    if name == "lifecycle":
        return {k: str(Lifecycle(k).label) if k in Lifecycle.values else k for k in ids}
    model = {
        "segment": TargetSegment,
        "account_manager": User,
        "best_employee": User,
        "product_line": ProductLine,
        "campaign": Campaign,
        "theme": Theme,
    }[name]
    return {
        obj.pk: str(obj.get_full_name() or obj) if model is User else str(obj)
        for obj in model.objects.filter(pk__in=ids)
    }


def none_label(name: str) -> str:
    return {
        "segment": _("no segment"),
        "account_manager": _("no account manager"),
    }.get(name, _("no class"))


VERSION = DataVersion("surveys:analytics:version")  # every write bumps it after its commit
CACHE_SECONDS = 300
data_version = VERSION.current
bump_version = VERSION.bump


def scope_key(user) -> str:
    return "all" if getattr(user, "sees_everything", False) else f"user{user.pk}"


def cached_report(
    user, *, period: Period, trend_period: Period, account_manager: int | None = None
) -> Report:
    """``report`` kept in the cache per scope, period and filter for ``CACHE_SECONDS``; any
    answer write, and any move of clients' answers in the rollups (a segmentation run, a
    transfer, a segment change), makes every cached report stale (``bump_version``)."""
    key = ":".join(
        str(part)
        for part in (
            "surveys:analytics",
            data_version(),
            scope_key(user),
            period.start,
            period.end,
            trend_period.start,
            account_manager or "",
        )
    )
    value = cache.get(key)
    if value is None:
        value = report(
            user, period=period, trend_period=trend_period, account_manager=account_manager
        )
        cache.set(key, value, CACHE_SECONDS)
    return value


def month_period(day: date) -> Period:
    start = month_start(day)
    return Period(start, add_months(start, 1))


def has_line(product_line_id) -> Exists:
    """An answer with a score for an item of that product line (the answers list's filter)."""
    return Exists(
        AnswerItem.objects.filter(answer=OuterRef("pk"), item__product_line_id=product_line_id)
    )
