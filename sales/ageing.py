"""Deal ageing (docs/decisions/deal-ageing.md): how long a deal has sat in its stage against the
stage's expected days.

- Only a deal in an **open** stage whose ``expected_days`` > 0 ages.
- Days in stage = today (local date) − the local date of ``Deal.stage_entered_at``.
- **Yellow** from ``expected_days`` days; for a client of ABC class A from
  ``ceil(expected_days × class_a_ageing_pct / 100)`` days (the settings' 70 %: sooner).
- **Red** from ``ceil(yellow days × red_ageing_pct / 100)`` days (150 %: half as long again).
- **Paused** (no colour) while a dated next step lies in the future (``next_step_date`` > today):
  the deal is waiting for an agreed date, not forgotten.

``deal_ageing(deal)`` gives one deal's colour in Python (the digest), ``colour(…)`` the same
from a deal's values (the board's cards);
``filter_ageing(queryset, level)`` and ``with_ageing(queryset)`` give the same rule in SQL (the
board's filter, the deal list's ``ageing`` parameter, the digest's query): the thresholds are
turned into a cut-off instant per stage and class (``stage_entered_at`` before the start of a
local day), so both databases run it with plain comparisons; class A (whose cut-off is never
earlier than the others') is a subquery of the class-A clients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.utils import timezone

from sales.models import Deal, SalesSettings, Stage, StageKind

YELLOW = "yellow"
RED = "red"
ANY = "any"
LEVELS = (YELLOW, RED, ANY)
CLASS_A = "A"


@dataclass(frozen=True)
class Thresholds:
    yellow: int  # first yellow day in stage
    red: int  # first red day in stage


def thresholds(expected_days: int, *, class_a: bool, settings: SalesSettings) -> Thresholds | None:
    """The first yellow and the first red day for a stage's expected days; None: no ageing."""
    if not expected_days or expected_days <= 0:
        return None
    yellow = expected_days
    if class_a:
        yellow = max(1, math.ceil(expected_days * settings.class_a_ageing_pct / 100))
    red = max(yellow, math.ceil(yellow * settings.red_ageing_pct / 100))
    return Thresholds(yellow=yellow, red=red)


def days_between(entered: datetime, today: date) -> int:
    """Calendar days in the stage: ``today`` − the local date the deal entered it."""
    return (today - timezone.localdate(entered)).days


def days_in_stage(deal: Deal, today: date | None = None) -> int:
    return days_between(deal.stage_entered_at, today or timezone.localdate())


def is_paused(deal: Deal, today: date) -> bool:
    return deal.next_step_date is not None and deal.next_step_date > today


def colour(
    *,
    state: str,
    stage: Stage,
    entered: datetime,
    next_step_date: date | None,
    abc_class: str | None,
    today: date,
    settings: SalesSettings,
) -> str | None:
    """ "yellow", "red" or None from a deal's values (the board reads them without a model
    instance): its state, stage, time it entered the stage, next step's date, client's class."""
    if state != StageKind.OPEN or stage.kind != StageKind.OPEN:
        return None
    if next_step_date is not None and next_step_date > today:  # paused
        return None
    limits = thresholds(stage.expected_days, class_a=abc_class == CLASS_A, settings=settings)
    if limits is None:
        return None
    days = days_between(entered, today)
    if days >= limits.red:
        return RED
    if days >= limits.yellow:
        return YELLOW
    return None


def deal_ageing(
    deal: Deal,
    *,
    today: date | None = None,
    settings: SalesSettings | None = None,
    abc_class: str | None | bool = False,
) -> str | None:
    """ "yellow", "red" or None for one deal. ``abc_class`` False: read it from
    ``deal.client.metrics`` (select it with the deal to save a query)."""
    today = today or timezone.localdate()
    if deal.state != StageKind.OPEN or deal.stage.kind != StageKind.OPEN:
        return None
    if is_paused(deal, today):
        return None
    if abc_class is False:
        metrics = getattr(deal.client, "metrics", None)
        abc_class = metrics.abc_class if metrics is not None else None
    return colour(
        state=deal.state,
        stage=deal.stage,
        entered=deal.stage_entered_at,
        next_step_date=deal.next_step_date,
        abc_class=abc_class,
        today=today,
        settings=settings or SalesSettings.load(),
    )


# --- the same rule in SQL -------------------------------------------------------------------


def _cutoff(today: date, days: int) -> datetime:
    """A deal has been ``days`` or more days in its stage when it entered the stage before
    the start of the local day after ``today − days``."""
    day = today - timedelta(days=days - 1)
    return timezone.make_aware(datetime.combine(day, time.min))


def _class_a_clients():
    from segmentation.models import ClientMetrics

    return ClientMetrics.objects.filter(abc_class=CLASS_A).values("client_id")


def _aged_q(level: str, today: date, settings: SalesSettings, stages) -> Q:
    """Deals at least ``level`` (yellow or red) old, pause ignored: per ageing stage, entered
    before the stage's cut-off, or, for a class-A client, before the (later) class-A cut-off.
    The class-A clients are a subquery (a hashed set), not a join of every deal to its
    client's classes."""
    plain = Q(pk__in=[])
    tight = Q(pk__in=[])
    for stage_id, expected_days in stages:
        for class_a in (False, True):
            limits = thresholds(expected_days, class_a=class_a, settings=settings)
            days = limits.red if level == RED else limits.yellow
            term = Q(stage_id=stage_id, stage_entered_at__lt=_cutoff(today, days))
            if class_a:
                tight |= term
            else:
                plain |= term
    if not stages:
        return plain
    return plain | (tight & Q(client_id__in=_class_a_clients()))


def _ageing_stages() -> list[tuple[int, int]]:
    return list(
        Stage.objects.filter(kind=StageKind.OPEN, expected_days__gt=0).values_list(
            "id", "expected_days"
        )
    )


def _running_q(today: date) -> Q:
    """Open and not paused by a future dated next step."""
    return Q(state=StageKind.OPEN) & (Q(next_step_date__isnull=True) | Q(next_step_date__lte=today))


def ageing_case(
    *, today: date | None = None, settings: SalesSettings | None = None, stages=None
) -> Case:
    """An SQL expression giving "red", "yellow" or NULL per deal."""
    today = today or timezone.localdate()
    settings = settings or SalesSettings.load()
    stages = _ageing_stages() if stages is None else stages
    running = _running_q(today)
    return Case(
        When(running & _aged_q(RED, today, settings, stages), then=Value(RED)),
        When(running & _aged_q(YELLOW, today, settings, stages), then=Value(YELLOW)),
        default=Value(None),
        output_field=CharField(),
    )


def with_ageing(queryset: QuerySet[Deal], *, today: date | None = None, **kwargs) -> QuerySet:
    """``queryset`` annotated with ``ageing`` ("red", "yellow" or None)."""
    return queryset.annotate(ageing=ageing_case(today=today, **kwargs))


def ageing_q(
    level: str,
    *,
    today: date | None = None,
    settings: SalesSettings | None = None,
    stages=None,
) -> Q:
    """A filter of the deals of ``level``: "yellow" (yellow, not yet red), "red", or "any"
    (yellow or red). Usable in ``filter()`` of any Deal queryset (two reads: the settings and
    the ageing stages, a handful of rows)."""
    if level not in LEVELS:
        raise ValueError(f"unknown ageing level {level!r}")
    today = today or timezone.localdate()
    settings = settings or SalesSettings.load()
    stages = _ageing_stages() if stages is None else stages
    running = _running_q(today)
    if level == RED:
        return running & _aged_q(RED, today, settings, stages)
    if level == ANY:
        return running & _aged_q(YELLOW, today, settings, stages)
    # yellow only: aged yellow and not red; "not red" written as the red terms' complement
    # through pk so a missing ABC row (NULL) cannot turn the negation into NULL
    red_ids = Deal.objects.filter(running & _aged_q(RED, today, settings, stages)).values("pk")
    return running & _aged_q(YELLOW, today, settings, stages) & ~Q(pk__in=red_ids)


def filter_ageing(queryset: QuerySet[Deal], level: str, *, today: date | None = None, **kw):
    """``queryset`` narrowed to the deals of ``level`` (see ``ageing_q``); an empty level
    leaves it as it is."""
    if not level:
        return queryset
    return queryset.filter(ageing_q(level, today=today, **kw))
