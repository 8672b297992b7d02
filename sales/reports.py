"""Period report per account manager (docs/domain.md, "Sales reports").

For a period ``P = [start, end)`` (``crm.periods.Period``; month, quarter, year or any days),
each figure is a set of clients — the detail page lists exactly the clients a figure counts —
and, where it has a sum, the sum of settlements that set adds up. A client is counted on the
row of its current account manager. A purchase is a settlement of any amount (zero included,
refunds are negative amounts), as for the lifecycle.

- **Potential clients**: clients in the base at the start (added before it) with no settlement
  dated before the start — the lifecycle's "potential" as of the period's first day.
- **First sales**: clients whose first settlement ever is dated in P; the sum is all of their
  settlements in P.
- **Repeat sales**: clients with settlements in P who had a settlement before P; the sum is all
  of their settlements in P. Counted in clients, like first sales; first and repeat sums add up
  to the period's turnover.
- **Sales in new product lines** (a part of repeat sales): settlements in P of a product whose
  product line the client had not bought before that settlement's date (the first day it
  bought the line), of clients who are not first sales; count = clients with such a
  settlement, sum = those settlements.
- **Lost clients**: clients whose lifecycle changed to "lost" in P (the segmentation's class
  history, by the date of the run).
- **Restored clients**: clients whose lifecycle changed in P from "lost" to an active status,
  or to "restored". A client lost and restored within P counts in both.
  A client's first classification (no status before) is not a change.
- **Conversion**: potential clients at the start whose first purchase is in P, ÷ potential
  clients at the start.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients import client_years
from clients.models import Client, ClientLineFirst, Settlement
from crm.access import scope_for_user
from crm.models import User
from crm.periods import Period, add_months, month_start
from segmentation.models import ClassChange, Lifecycle

POTENTIAL = "potential"
FIRST = "first"
REPEAT = "repeat"
NEW_LINE = "new_line"
LOST = "lost"
RESTORED = "restored"
CONVERTED = "converted"
METRICS = (POTENTIAL, FIRST, REPEAT, NEW_LINE, LOST, RESTORED, CONVERTED)
WITH_SUM = (FIRST, REPEAT, NEW_LINE)
NO_MANAGER = 0  # the row of clients without an account manager


def parse_row(value: str) -> int | None:
    """A detail link's ``row``: an account manager's id, "none" (the clients without one,
    ``NO_MANAGER``) or "" (every row). ValueError on anything else."""
    if value == "none":
        return NO_MANAGER
    if value == "":
        return None
    if value.isdigit():
        return int(value)
    raise ValueError(value)


LABELS = {
    POTENTIAL: _("Potential clients"),
    FIRST: _("First sales"),
    REPEAT: _("Repeat sales"),
    NEW_LINE: _("Sales in new product lines"),
    LOST: _("Lost clients"),
    RESTORED: _("Restored clients"),
    CONVERTED: _("Potential clients who bought"),
}

DEFINITIONS = {
    POTENTIAL: _(
        "Clients added before the period's first day with no settlement dated before it: "
        "the lifecycle status «potential» as of the start of the period."
    ),
    FIRST: _(
        "Clients whose first settlement ever is dated in the period; the sum is all their "
        "settlements in the period."
    ),
    REPEAT: _(
        "Clients with settlements in the period who had bought before it (count of clients); "
        "the sum is all their settlements in the period. First and repeat sums add up to the "
        "period's turnover."
    ),
    NEW_LINE: _(
        "Part of repeat sales: settlements in the period of a product line the client had not "
        "bought before that settlement's date (the first day of each new line); count of "
        "clients, sum of those settlements. First sales are not counted here."
    ),
    LOST: _(
        "Clients whose lifecycle status changed to «lost» during the period (the class "
        "history of the segmentation runs, by the run date)."
    ),
    RESTORED: _(
        "Clients whose lifecycle status changed during the period from «lost» to an active "
        "status, or to «restored». A client lost and restored in the period counts in both."
    ),
    CONVERTED: _(
        "Conversion: potential clients at the start of the period whose first purchase is in "
        "the period, divided by the potential clients at the start."
    ),
}


# --- the period selector -----------------------------------------------------------------
MONTH, QUARTER, YEAR, CUSTOM = "month", "quarter", "year", "custom"


def period_of(kind: str, day: date) -> Period:
    """The calendar month, quarter or year holding ``day``."""
    if kind == MONTH:
        start = month_start(day)
        return Period(start, add_months(start, 1))
    if kind == QUARTER:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(start, add_months(start, 3))
    if kind == YEAR:
        return Period(date(day.year, 1, 1), date(day.year + 1, 1, 1))
    raise ValueError(kind)


# --- the figures -------------------------------------------------------------------------
@dataclass
class Facts:
    """Per figure: client id → the client's sum in kopecks (figures with a sum) or None.

    Whole kopecks, not Decimal: a year holds about 100 000 sums, which are added up for the
    per-manager rows and pickled into the cache as plain integers (a year's facts built and
    kept in about a third of the time); ``sets`` and ``detail_ids`` give money."""

    period: Period
    manager_of: dict[int, int] = field(default_factory=dict)  # client → account manager (0: none)
    cents: dict[str, dict[int, int | None]] = field(
        default_factory=lambda: {m: {} for m in METRICS}
    )

    @property
    def sets(self) -> dict[str, dict[int, Decimal | None]]:
        """Per figure: client id → the client's sum (money) or None."""
        return {metric: _money(members) for metric, members in self.cents.items()}

    def __getstate__(self) -> dict:
        return {
            "period": self.period,
            "managers": (list(self.manager_of), list(self.manager_of.values())),
            "cents": {
                metric: (
                    list(members),
                    list(members.values()) if metric in WITH_SUM else None,
                )
                for metric, members in self.cents.items()
            },
        }

    def __setstate__(self, state: dict) -> None:
        self.period = state["period"]
        self.manager_of = dict(zip(*state["managers"], strict=True))
        self.cents = {
            metric: dict.fromkeys(ids) if sums is None else dict(zip(ids, sums, strict=True))
            for metric, (ids, sums) in state["cents"].items()
        }


def _money(members: dict[int, int | None]) -> dict[int, Decimal | None]:
    return {c: None if v is None else Decimal(v).scaleb(-2) for c, v in members.items()}


@dataclass
class ReportRow:
    manager_id: int
    manager: User | None
    counts: dict[str, int]
    sums: dict[str, Decimal]

    @property
    def conversion(self) -> Decimal | None:
        if not self.counts[POTENTIAL]:
            return None
        return (Decimal(self.counts[CONVERTED]) / Decimal(self.counts[POTENTIAL])).quantize(
            Decimal("0.0001")
        )


def _start_moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _data_stamp() -> tuple:
    """The newest settlement, client, class change and segmentation run (primary-key reads):
    a new record of any of them gives new cache keys at once."""
    from segmentation.models import SegmentationRun

    return tuple(
        model.objects.order_by("-pk").values_list("pk", flat=True).first()
        for model in (Settlement, Client, ClassChange, SegmentationRun)
    )


def cached_facts(user, period: Period, *, account_manager: User | None = None) -> Facts:
    """``period_facts`` kept ``SALES_REPORT_CACHE_SECONDS`` (default 120; 0: no cache): the
    detail page of a figure, opened from the report, lists exactly the clients it counted,
    and the report for a period is not recomputed on every view. New settlements, clients,
    class changes and runs change the key at once; an edit of an existing record shows
    within that time."""
    seconds = getattr(settings, "SALES_REPORT_CACHE_SECONDS", 120)
    if not seconds:
        return period_facts(user, period, account_manager=account_manager)
    scope = "all" if user.sees_everything else f"am{user.pk}"
    key = "sales:report:{}:{}:{}:{}:{}".format(
        scope,
        period.start.isoformat(),
        period.end.isoformat(),
        account_manager.pk if account_manager is not None else "",
        ":".join(str(v) for v in _data_stamp()),
    )
    facts = cache.get(key)
    if facts is None:
        facts = period_facts(user, period, account_manager=account_manager)
        cache.set(key, facts, seconds)
    return facts


def period_facts(user, period: Period, *, account_manager: User | None = None) -> Facts:
    """The client sets behind every figure of the report for the clients ``user`` may see
    (only ``account_manager``'s when given): five queries whatever the period — potential
    clients, clients whose first purchase is in the period, the period's sums per client, the
    new product lines (from ``clients.ClientLineFirst``), the lifecycle changes — with
    PostgreSQL's JIT off (it compiles these aggregates for longer than they run) and a
    ``work_mem`` that keeps a quarter's per-client sums in memory."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
                # the per-client sums of a quarter (70 000 clients) aggregate in memory
                cursor.execute("SET LOCAL work_mem = '32MB'")
        return _period_facts(user, period, account_manager=account_manager)


def _period_facts(user, period: Period, *, account_manager: User | None = None) -> Facts:
    facts = Facts(period)
    changes = scope_for_user(ClassChange.objects.all(), user)
    if account_manager is not None:
        changes = changes.filter(client__account_manager=account_manager)
    start = period.start
    manager_of = facts.manager_of
    sets = facts.cents

    # who had bought before the period: a first purchase of a product line
    # (clients.ClientLineFirst) or a settlement without a product before its start
    owner = _owner(user, account_manager)
    potential = _potential(start, owner, _start_moment(start))
    newcomers = _newcomers(period, owner)  # first settlement ever in the period
    for client_id, manager_id in potential.items():
        manager_of[client_id] = manager_id or NO_MANAGER
        sets[POTENTIAL][client_id] = None
        if client_id in newcomers:
            sets[CONVERTED][client_id] = None

    # clients who bought in the period, with the sum of their settlements in it
    totals = _period_totals(period, owner)
    for client_id, manager_id, total in totals:
        manager_of[client_id] = manager_id or NO_MANAGER
        sets[FIRST if client_id in newcomers else REPEAT][client_id] = total

    # settlements of a line the client had not bought before their date (repeat clients only)
    for client_id, total in _new_line_sums(period, account_manager=account_manager, user=user):
        if client_id in sets[REPEAT]:
            sets[NEW_LINE][client_id] = total

    # lifecycle changes in the period (a first classification is no change)
    moves = (
        changes.filter(period.q("date"), lifecycle_old__isnull=False, lifecycle_new__isnull=False)
        .filter(
            Q(lifecycle_new=Lifecycle.LOST)
            | Q(lifecycle_new=Lifecycle.RESTORED)
            | Q(lifecycle_old=Lifecycle.LOST)
        )
        .exclude(lifecycle_old=F("lifecycle_new"))
        .values_list("client_id", "client__account_manager_id", "lifecycle_old", "lifecycle_new")
    )
    for client_id, manager_id, old, new in moves:
        manager_of[client_id] = manager_id or NO_MANAGER
        if new == Lifecycle.LOST:
            sets[LOST][client_id] = None
        elif new == Lifecycle.RESTORED or old == Lifecycle.LOST:
            sets[RESTORED][client_id] = None
    return facts


def _owner(user, account_manager) -> int | None:
    """The account manager whose clients the figures are limited to (None: all clients)."""
    if not user.sees_everything:
        if account_manager is not None and account_manager.pk != user.pk:
            return 0  # another account manager's clients: none (no user has id 0)
        return user.pk
    return account_manager.pk if account_manager is not None else None


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "settlement": quote(Settlement._meta.db_table),
        "client": quote(Client._meta.db_table),
        "first": quote(ClientLineFirst._meta.db_table),
    }


def _bought_before(alias: str) -> str:
    """SQL: the client ``alias``.id had a settlement dated before the parameter: a product
    line first bought before it, or a settlement without a product before it."""
    t = _tables()
    return (
        f"(EXISTS (SELECT 1 FROM {t['first']} bf WHERE bf.client_id = {alias}"  # noqa: S608
        f" AND bf.first_date < %s) OR EXISTS (SELECT 1 FROM {t['settlement']} bs"
        f" WHERE bs.client_id = {alias} AND bs.product_id IS NULL AND bs.date < %s))"
    )  # noqa: S608 - table names from the models, values as parameters


def _potential(start: date, owner: int | None, started: datetime) -> dict[int, int | None]:
    """Client → account manager of the clients added before ``started`` with no settlement
    dated before ``start``."""
    t = _tables()
    t_first, t_settlement = t["first"], t["settlement"]
    sql = (
        f"SELECT c.id, c.account_manager_id FROM {t['client']} c WHERE c.created_at < %s"  # noqa: S608
        f" AND NOT EXISTS (SELECT 1 FROM {t_first} bf WHERE bf.client_id = c.id"
        " AND bf.first_date < %s)"
        f" AND NOT EXISTS (SELECT 1 FROM {t_settlement} bs WHERE bs.client_id = c.id"
        " AND bs.product_id IS NULL AND bs.date < %s)"
    )
    params: list = [started, start, start]
    if owner is not None:
        sql += " AND c.account_manager_id = %s"
        params.append(owner)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _newcomers(period: Period, owner: int | None) -> set[int]:
    """The clients whose first settlement ever is dated in the period: a product line first
    bought in it, or a settlement without a product in it, and nothing bought before it."""
    t = _tables()
    scope = ""
    params: list = [period.start, period.end, period.start, period.end]
    if owner is not None:
        scope = f" AND x.client_id IN (SELECT id FROM {t['client']} WHERE account_manager_id = %s)"  # noqa: S608
        params.append(owner)
    sql = (
        f"SELECT DISTINCT x.client_id FROM (SELECT client_id FROM {t['first']}"  # noqa: S608
        " WHERE first_date >= %s AND first_date < %s"
        f" UNION SELECT client_id FROM {t['settlement']}"
        " WHERE product_id IS NULL AND date >= %s AND date < %s) x"
        f" WHERE NOT {_bought_before('x.client_id')}{scope}"
    )
    params = params[:4] + [period.start, period.start] + params[4:]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _period_totals(period: Period, owner: int | None) -> list[tuple[int, int | None, int]]:
    """(client, account manager, kopecks) of the clients with settlements in the period: the
    whole months from each client's settlements summed by year and month
    (``clients.ClientYear``), the days around them from the settlements
    (``clients.client_years.per_client``)."""
    return client_years.per_client(period, owner)


def _new_line_sums(period: Period, *, account_manager, user) -> list[tuple[int, int]]:
    """(client, kopecks) of the settlements in the period on the first day the client bought each
    product line: the (client, line) pairs whose first purchase falls in the period, with the
    sum of that day kept beside it (``clients.ClientLineFirst``, kept by the settlement
    writes)."""
    t = _tables()
    owner = _owner(user, account_manager)
    scope = ""
    params: list = [period.start, period.end]
    if owner is not None:
        scope = f" AND f.client_id IN (SELECT id FROM {t['client']} WHERE account_manager_id = %s)"  # noqa: S608
        params.append(owner)
    sql = (
        f"SELECT f.client_id, SUM(f.first_day_cents) FROM {t['first']} f"  # noqa: S608
        f" WHERE f.first_date >= %s AND f.first_date < %s{scope} GROUP BY f.client_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(c, int(v)) for c, v in cursor.fetchall()]


def report_rows(user, facts: Facts) -> tuple[list[ReportRow], ReportRow]:
    """One row per account manager (an account manager: only their own) and the totals."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(METRICS, 0))
    cents: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(WITH_SUM, 0))
    manager_of = facts.manager_of
    for metric, members in facts.cents.items():
        if metric in WITH_SUM:
            for client_id, amount in members.items():
                row = manager_of[client_id]
                counts[row][metric] += 1
                cents[row][metric] += amount or 0
        else:
            for client_id in members:
                counts[manager_of[client_id]][metric] += 1
    sums = {row: {m: Decimal(v).scaleb(-2) for m, v in by.items()} for row, by in cents.items()}
    if user.sees_everything:
        managers = {
            u.pk: u
            for u in User.objects.filter(
                Q(pk__in=list(counts)) | Q(role=User.Role.ACCOUNT_MANAGER, is_active=True)
            )
        }
    else:
        managers = {user.pk: user}
    ids = sorted(managers, key=lambda pk: (str(managers[pk]).lower(), pk))
    if NO_MANAGER in counts and user.sees_everything:
        ids.append(NO_MANAGER)
    zero = dict.fromkeys(WITH_SUM, Decimal("0.00"))
    rows = [ReportRow(pk, managers.get(pk), counts[pk], sums.get(pk, zero)) for pk in ids]
    total = ReportRow(
        -1,
        None,
        {m: sum(r.counts[m] for r in rows) for m in METRICS},
        {m: sum((r.sums[m] for r in rows), Decimal(0)) for m in WITH_SUM},
    )
    return rows, total


def detail_ids(facts: Facts, metric: str, manager_id: int | None) -> dict[int, Decimal | None]:
    """The clients behind one figure (one account manager's, or the total's with None), each
    with its sum (money) or None."""
    members = facts.cents[metric]
    if manager_id is not None:
        members = {c: v for c, v in members.items() if facts.manager_of[c] == manager_id}
    return _money(members)
