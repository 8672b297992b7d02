"""The manager dashboard's extension point (docs/architecture.md, "Dashboard extension point";
the KPI definitions: docs/domain.md, "Manager dashboard").

``crm`` imports no app, so every figure on the dashboard comes from the apps: each app writes its
contributions in its ``dashboard.py`` and registers them in its ``AppConfig.ready()``:

- ``register_group(Group(key, label, order))``: a titled row of cards;
- ``register_card(Card(key, label, group, order, compute, ...))``: a KPI card. ``compute(ctx)``
  returns a ``Figure`` (the value, how to format it, the URL of the filtered list behind it,
  optional chart points each with its own list, skipped when ``ctx.series`` is False: the
  previous period's figure and a beacon's reading show the value only). A card of a period
  (``compare=True``) is computed for the period and for the previous one of equal length; the
  dashboard works out the change in % (None, shown "—", when either value is missing or the
  previous one is 0). A card of a state "as of now" (``compare=False``: open complaints,
  overdue contacts) has no previous value;
- ``register_column(Column(key, label, order, compute))``: a column of the per-manager table.
  ``compute(ctx)`` returns ``{account manager id: Figure}`` and ``None: Figure`` for the totals
  row, in a bounded number of grouped queries;
- ``register_filter(Filter(name, label, choices))``: a filter of the page besides the account
  manager (clients: the target segment); ``ctx.filters[name]`` holds the chosen id;
- ``register_home_panel(fn)``: ``fn(request, today)`` returns a ``HomePanel`` (a template and
  its context) or None; an account manager's home shows them above their own cards (clients:
  My day), including the template with the context's ``day`` and ``on_home`` set;
- ``register_data_version(version)``: a ``crm.cache.DataVersion`` the figures depend on; a bump
  of any makes every cached dashboard stale.
- ``register_ahead(fn)``: ``fn(ctx, start)`` is called before a manager's board computes its
  cards; ``start(key, work)`` runs ``work()`` meanwhile on a second database connection
  (PostgreSQL, outside a transaction; elsewhere nothing starts) and ``ctx.once(key, …)`` takes
  its result — for a part as slow as the rest of the board together (sales: the period
  report).

Every compute function scopes its reads to ``ctx.user`` (``crm.access.scope_for_user``), so an
account manager's cards count their own clients only, and uses aggregate SQL (no loop over rows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections

from crm.cache import DataVersion
from crm.periods import Period, add_months

log = logging.getLogger(__name__)

CACHE_SECONDS = 300  # bounds the staleness of figures that change with the clock alone


# --- what the apps register ---------------------------------------------------------------------
@dataclass(frozen=True)
class KpiContext:
    """What a card is computed for: the period ``[start, end)``, the viewer, the filters."""

    period: Period
    user: Any
    today: date
    account_manager: int | None = None  # a manager's filter (an account manager's own: None)
    filters: dict[str, int] = field(default_factory=dict)  # registered filters: name -> id
    # the chart's series wanted (False: the previous period's figure and a beacon's reading,
    # of which only the value is shown or compared)
    series: bool = True
    # results shared by the cards of one context (one aggregate for several cards)
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def previous(self) -> Period:
        return previous_period(self.period)

    def for_previous(self) -> KpiContext:
        return replace(self, period=self.previous, memo={}, series=False)

    def once(self, key: str, fn: Callable[[], Any]) -> Any:
        """``fn()`` computed once for this context (the cards of one aggregate share it), or
        the result of the work started ahead under ``key`` (``register_ahead``)."""
        if key not in self.memo:
            self.memo[key] = fn()
        value = self.memo[key]
        if isinstance(value, _Ahead):
            value = self.memo[key] = value.future.result()
        return value

    @property
    def last_day(self) -> date:
        return self.period.last_day

    def list_params(self, *, am: str = "account_manager", **names: str) -> dict[str, Any]:
        """The dashboard's filters as a list's query parameters: ``am`` is the list's name of
        the account-manager filter, ``names`` maps a registered filter to the list's name."""
        params: dict[str, Any] = {}
        if self.account_manager is not None:
            params[am] = self.account_manager
        for name, value in self.filters.items():
            if value is not None and name in names:
                params[names[name]] = value
        return params


@dataclass(frozen=True)
class Point:
    """A chart's point: its label (a date for a monthly series), value and list."""

    label: Any
    value: float | int | Decimal | None
    url: str = ""


@dataclass(frozen=True)
class Figure:
    """A card's or a cell's figure. ``kind`` says how the page formats ``value``: "number",
    "money", "percent" (a value in percent: 95.5 → 95.5 %) or "decimal" (``digits`` places)."""

    value: int | Decimal | None
    url: str = ""
    kind: str = "number"
    digits: int | None = None
    hint: str = ""
    count: int | None = None  # the rows of the list behind it, when not ``value`` itself
    series: tuple[Point, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # what a card's own template needs


@dataclass(frozen=True)
class Group:
    key: str
    label: Any
    order: int = 100


@dataclass(frozen=True)
class Card:
    key: str
    label: Any  # a lazy translation
    group: str
    compute: Callable[[KpiContext], Figure]
    order: int = 100
    compare: bool = True  # a figure of the period (compared with the previous one)
    target: Decimal | int | None = None  # drawn on the chart, shown on the card
    chart: str = ""  # "line" or "bar": the figure's series drawn with Chart.js
    template: str = ""  # a card of its own (the matrix); default crm/_kpi_card.html
    higher_is_better: bool = True  # the colour of the change
    managers_only: bool = False  # not on an account manager's home
    hint: Any = ""


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    compute: Callable[[KpiContext], dict[int | None, Figure]]
    order: int = 100
    zero: bool = True  # an account manager without a figure shows 0 (False: "—", e.g. NPS)


@dataclass(frozen=True)
class Filter:
    name: str
    label: Any
    choices: Callable[[], list[tuple[int, str]]]


@dataclass(frozen=True)
class HomePanel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class Metric:
    """What a beacon rule watches (crm/beacons.py): every card is one, and an app registers
    conditions that are not cards with ``register_metric`` (e.g. "class-A clients overdue for
    contact"). ``compute(ctx)`` returns a ``Figure`` whose ``url`` is the list of the clients
    or cases behind the number. ``period``: a figure of a period (it has a previous period and
    a history by month); otherwise a state "as of now". ``scopes``: what a rule may narrow it
    to — "company", "account_manager", "segment" (``ctx.filters["segment"]``), "class"
    (``ctx.filters["abc"]``: "A", "B" or "C")."""

    key: str
    label: Any
    compute: Callable[[KpiContext], Figure]
    period: bool = True
    scopes: tuple[str, ...] = ("company", "account_manager", "segment")


_groups: dict[str, Group] = {}
_metrics: dict[str, Metric] = {}
_cards: dict[str, Card] = {}
_columns: dict[str, Column] = {}
_filters: dict[str, Filter] = {}
_home: list[Callable] = []
_versions: dict[str, DataVersion] = {}


def register_group(group: Group) -> Group:
    _groups[group.key] = group
    return group


def register_card(card: Card) -> Card:
    _cards[card.key] = card
    return card


def register_metric(metric: Metric) -> Metric:
    _metrics[metric.key] = metric
    return metric


def metrics() -> dict[str, Metric]:
    """Every metric a beacon rule may watch: the registered ones and every card."""
    found = {
        card.key: Metric(card.key, card.label, card.compute, period=card.compare)
        for card in _cards.values()
        if not card.template  # a card of its own (the matrix) has no single number
    }
    found.update(_metrics)
    return found


def register_column(column: Column) -> Column:
    _columns[column.key] = column
    return column


def register_app(
    group: Group | None = None,
    *,
    cards: Iterable[Card] = (),
    columns: Iterable[Column] = (),
    metrics: Iterable[Metric] = (),
) -> None:
    """An app's whole contribution at once: its group, cards, per-manager columns, metrics."""
    if group is not None:
        register_group(group)
    for card in cards:
        register_card(card)
    for column in columns:
        register_column(column)
    for metric in metrics:
        register_metric(metric)


def register_filter(filter_: Filter) -> Filter:
    _filters[filter_.name] = filter_
    return filter_


def register_home_panel(fn: Callable) -> Callable:
    if fn not in _home:
        _home.append(fn)
    return fn


def register_data_version(version: DataVersion) -> DataVersion:
    _versions[version.key] = version
    return version


_ahead: list[Callable] = []


def register_ahead(fn: Callable) -> Callable:
    _ahead.append(fn)
    return fn


@dataclass(frozen=True)
class _Ahead:
    future: Future


def runs_ahead() -> bool:
    """Can work start on a second connection? Not inside a transaction (a test's, or a
    caller's: the second connection would not see its writes), and only on PostgreSQL
    (SQLite writers and readers take turns anyway)."""
    return (
        getattr(settings, "DASHBOARD_AHEAD", True)
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )


def _on_own_connection(work: Callable[[], Any]) -> Any:
    try:
        return work()
    finally:
        connections.close_all()  # this thread's connections only


def groups() -> list[Group]:
    return sorted(_groups.values(), key=lambda g: (g.order, g.key))


def cards(*, managers: bool = True) -> list[Card]:
    chosen = [c for c in _cards.values() if managers or not c.managers_only]
    return sorted(
        chosen,
        key=lambda c: (_groups[c.group].order if c.group in _groups else 999, c.order, c.key),
    )


def columns() -> list[Column]:
    return sorted(_columns.values(), key=lambda c: (c.order, c.key))


def filters() -> list[Filter]:
    return list(_filters.values())


def home_panels(request, today: date) -> list[HomePanel]:
    panels = [p for fn in _home if (p := fn(request, today)) is not None]
    return sorted(panels, key=lambda p: p.order)


# --- periods ------------------------------------------------------------------------------------
def previous_period(period: Period) -> Period:
    """The period before ``period``, of equal length. A period that starts on the first of a
    month is measured in calendar months: a month is compared with the month before, a quarter
    with the quarter before, a year with the year before, and a month (quarter, year) to date
    with the same days of the one before — 1–5 December with 1–5 November, November with
    October. Any other period: the same number of days just before it."""
    if period.start.day == 1:
        months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month
        if period.end.day != 1 or months == 0:
            months += 1  # to date: the partial month counts as one
        return Period(add_months(period.start, -months), add_months(period.end, -months))
    return Period(period.start - (period.end - period.start), period.start)


def change_pct(current, previous) -> Decimal | None:
    """(current − previous) ÷ |previous| × 100, one decimal; None when either is missing or
    the previous value is 0."""
    if current is None or previous is None:
        return None
    previous = Decimal(previous)
    if previous == 0:
        return None
    change = (Decimal(current) - previous) / abs(previous) * 100
    return change.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- computing the board ------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    key: str
    figure: Figure
    previous: Figure | None
    change: Decimal | None


@dataclass(frozen=True)
class Board:
    results: dict[str, Result]
    table: dict[str, dict[int | None, Figure]]  # column -> account manager id -> figure


def compute(ctx: KpiContext, *, table: bool = True) -> Board:
    """Every card of the viewer (and the per-manager table for a manager), uncached."""
    managers = bool(getattr(ctx.user, "sees_everything", False))
    pool = None
    if table and managers and _ahead and runs_ahead():
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dashboard-ahead")

        def start(key: str, work: Callable[[], Any]) -> None:
            if key not in ctx.memo:
                ctx.memo[key] = _Ahead(pool.submit(_on_own_connection, work))

        for fn in _ahead:
            fn(ctx, start)
    try:
        previous = ctx.for_previous()  # shared by the cards, so one aggregate serves several
        results = {}
        for card in cards(managers=managers):
            figure = card.compute(ctx)
            if card.compare:
                before = card.compute(previous)
                results[card.key] = Result(
                    card.key, figure, before, change_pct(figure.value, before.value)
                )
            else:
                results[card.key] = Result(card.key, figure, None, None)
        rows = {}
        if table and managers:
            rows = {column.key: column.compute(ctx) for column in columns()}
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return Board(results=results, table=rows)


def scope_key(user) -> str:
    return "all" if getattr(user, "sees_everything", False) else f"user{user.pk}"


def cache_key(ctx: KpiContext, *, table: bool) -> str:
    versions = ".".join(str(_versions[k].current()) for k in sorted(_versions))
    chosen = ",".join(f"{k}={v}" for k, v in sorted(ctx.filters.items()) if v is not None)
    return ":".join(
        str(part)
        for part in (
            "dashboard",
            versions,
            scope_key(ctx.user),
            ctx.today,
            ctx.period.start,
            ctx.period.end,
            ctx.account_manager or "",
            chosen,
            int(table),
        )
    )


def cached_board(ctx: KpiContext, *, table: bool = True) -> Board:
    """``compute`` kept in the cache per viewer scope, day, period and filters for
    ``CACHE_SECONDS``; any registered data version's bump makes every entry stale."""
    key = cache_key(ctx, table=table)
    board = cache.get(key)
    if board is None:
        board = compute(ctx, table=table)
        cache.set(key, board, CACHE_SECONDS)
    return board


# --- showing figures ----------------------------------------------------------------------------
def display(figure: Figure | None) -> str:
    """A figure formatted in the active language ("—" for none)."""
    from crm import formats

    if figure is None or figure.value is None:
        return formats.EMPTY
    if figure.kind == "money":
        return formats.format_money(figure.value)
    if figure.kind == "percent":
        return formats.format_percent_points(figure.value, figure.digits or 1)
    return formats.format_number(figure.value, figure.digits)


def display_change(change: Decimal | None) -> str:
    from crm import formats

    if change is None:
        return formats.EMPTY
    text = formats.format_percent_points(change, 1)
    return f"+{text}" if change > 0 else text


def change_tone(card: Card, change: Decimal | None) -> str:
    """ "good", "bad" or "" (no change): the colour of the change on the card."""
    if not change:
        return ""
    return "good" if (change > 0) == card.higher_is_better else "bad"


def to_number(value) -> float | None:
    return None if value is None else float(value)


# --- the workbook -------------------------------------------------------------------------------
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A cell safe to open in a spreadsheet: text never starts a formula, no control
    characters; numbers and dates as they are."""
    if value is None:
        return None
    if isinstance(value, int | float | Decimal | date):
        return value
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def workbook(sheets: list[tuple[str, list[list]]]) -> bytes:
    """An XLSX file of ``sheets`` (title, rows)."""
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = book.create_sheet(title=str(title)[:31])
        for row in rows:
            sheet.append([_cell(v) for v in row])
    out = BytesIO()
    book.save(out)
    return out.getvalue()
