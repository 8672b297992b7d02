"""Complaint analytics: one grouped SQL aggregate, then pandas on the small result.

``complaint_frame`` asks the database for one row per (month, theme, root cause) with the sums
the page needs (a few hundred rows at most, whatever the number of complaints);
``summarize`` is a pure function of that frame, tested with hand-worked figures.

Definitions:
- SLA compliance % = deadlines met ÷ deadlines decided × 100, acknowledgement and resolution
  deadlines counted separately. A deadline is *met* when its step happened by the due time, *missed*
  when it happened later or has not happened and the due time has passed (resolution: only while
  the clock runs, i.e. not while waiting for the client — unless the wait began at or after the
  deadline, which it does not move); otherwise it is still pending.
- Average time to acknowledge / resolve: working hours (the SLA clock, pauses excluded).
- Cost of complaints: sum of the goodwill gifts' cost.
- Iceberg: only ≈10 % of unhappy clients complain (docs/domain.md), so unhappy ≈ complaints ÷ 0.10.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm.cache import DataVersion
from feedback.models import Complaint

S = Complaint.Status
ICEBERG_SHARE = 0.10
COLUMNS = [
    "month",
    "theme_id",
    "root_cause",
    "n",
    "open",
    "cost",
    "ack_sum",
    "ack_n",
    "res_sum",
    "res_n",
    "ack_met",
    "ack_missed",
    "res_met",
    "res_missed",
]


def complaint_frame(
    qs: QuerySet[Complaint], *, now: datetime, grouped: bool = True
) -> pd.DataFrame:
    """The grouped aggregate of ``qs`` (already scoped and filtered by period); ``grouped``
    False: one row of the sums, without the month, theme and root cause (the dashboard's
    cards: no sort of the period's complaints by group)."""
    ack_met = Q(acknowledged_at__isnull=False, acknowledged_at__lte=F("ack_due_at"))
    ack_missed = Q(acknowledged_at__gt=F("ack_due_at")) | Q(
        acknowledged_at__isnull=True, ack_due_at__lt=now
    )
    res_met = Q(resolved_at__isnull=False, resolved_at__lte=F("resolve_due_at")) | Q(
        resolved_at__isnull=True,
        rejected_at__isnull=False,
        rejected_at__lte=F("resolve_due_at"),
    )
    res_missed = (
        Q(resolved_at__gt=F("resolve_due_at"))
        | Q(resolved_at__isnull=True, rejected_at__gt=F("resolve_due_at"))
        | Complaint.resolve_overdue_q(now)
    )
    sums = {
        "n": Count("id"),
        "open": Count("id", filter=Q(status__in=Complaint.OPEN_STATUSES)),
        "cost": Sum("goodwill_cost"),
        "ack_sum": Sum("ack_minutes"),
        "ack_n": Count("ack_minutes"),
        "res_sum": Sum("resolve_minutes"),
        "res_n": Count("resolve_minutes"),
        "ack_met": Count("id", filter=ack_met),
        "ack_missed": Count("id", filter=ack_missed),
        "res_met": Count("id", filter=res_met),
        "res_missed": Count("id", filter=res_missed),
    }
    if grouped:
        rows = list(
            qs.order_by()
            .annotate(month=TruncMonth("registered_at"))
            .values("month", "theme_id", "root_cause")
            .annotate(**sums)
        )
    else:
        row = qs.order_by().aggregate(**sums)
        rows = [{"month": None, "theme_id": None, "root_cause": None, **row}] if row["n"] else []
    frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
    if frame.empty:
        return frame
    if grouped:
        frame["month"] = pd.to_datetime(
            [m.date() if isinstance(m, datetime) else m for m in frame["month"]]
        )
    for col in COLUMNS[3:]:
        frame[col] = frame[col].fillna(0)
    frame["cost"] = frame["cost"].map(lambda v: Decimal(v or 0))
    return frame


@dataclass
class Summary:
    total: int
    open: int
    cost: Decimal
    ack_compliance: float | None
    res_compliance: float | None
    sla_compliance: float | None
    avg_ack_hours: float | None
    avg_res_hours: float | None
    iceberg: int
    by_month: list[tuple[date, int]]
    by_theme: list[tuple[int, int]]  # (theme id, count), most first
    top_root_causes: list[tuple[str, int]]  # (category, count), most first, without blanks


def _pct(met: float, missed: float) -> float | None:
    decided = met + missed
    return round(100 * met / decided, 1) if decided else None


def _avg_hours(total: float, count: float) -> float | None:
    return round(total / count / 60, 2) if count else None


def summarize(frame: pd.DataFrame, *, top: int = 5) -> Summary:
    if frame.empty:
        return Summary(0, 0, Decimal("0"), None, None, None, None, None, 0, [], [], [])
    sums = frame[COLUMNS[3:]].drop(columns=["cost"]).sum()
    total = int(sums["n"])
    by_month = frame.groupby("month")["n"].sum().sort_index()
    by_theme = frame.groupby("theme_id")["n"].sum().sort_values(ascending=False, kind="stable")
    causes = frame[frame["root_cause"].fillna("") != ""].groupby("root_cause")["n"].sum()
    causes = causes.sort_values(ascending=False, kind="stable").head(top)
    return Summary(
        total=total,
        open=int(sums["open"]),
        cost=sum(frame["cost"], Decimal("0")),
        ack_compliance=_pct(sums["ack_met"], sums["ack_missed"]),
        res_compliance=_pct(sums["res_met"], sums["res_missed"]),
        sla_compliance=_pct(
            sums["ack_met"] + sums["res_met"], sums["ack_missed"] + sums["res_missed"]
        ),
        avg_ack_hours=_avg_hours(sums["ack_sum"], sums["ack_n"]),
        avg_res_hours=_avg_hours(sums["res_sum"], sums["res_n"]),
        iceberg=iceberg(total),
        by_month=[(m.date(), int(n)) for m, n in by_month.items()],
        by_theme=[(int(t), int(n)) for t, n in by_theme.items()],
        top_root_causes=[(str(c), int(n)) for c, n in causes.items()],
    )


def iceberg(complaints: int) -> int:
    """Unhappy clients ≈ complaints ÷ 0.10 (only about one in ten complains)."""
    return round(complaints / ICEBERG_SHARE)


def complaint_summary(
    qs: QuerySet[Complaint], *, now: datetime | None = None, top: int = 5, grouped: bool = True
) -> Summary:
    """The figures of ``qs``; ``grouped`` False: the totals only (no month, theme or root
    cause lists)."""
    frame = complaint_frame(qs, now=now or timezone.now(), grouped=grouped)
    return summarize(frame, top=top)


# --- cache ------------------------------------------------------------------------------------
# The aggregate reads every complaint of the period (200 000 rows: hundreds of ms), so the page
# keeps its result in the cache. Every complaint write bumps VERSION (crm.cache.DataVersion)
# after commit (services._changed), which makes all cached summaries stale at once; CACHE_SECONDS
# bounds the staleness of the time-dependent part ("missed" once a deadline passes with no write).
VERSION = DataVersion("feedback:analytics:version")  # every write bumps it after its commit
CACHE_SECONDS = 300
data_version = VERSION.current
bump_version = VERSION.bump


def cached_summary(qs: QuerySet[Complaint], *, scope: str, start, end) -> Summary:
    key = f"feedback:analytics:{data_version()}:{scope}:{start.isoformat()}:{end.isoformat()}"
    summary = cache.get(key)
    if summary is None:
        summary = complaint_summary(qs)
        cache.set(key, summary, CACHE_SECONDS)
    return summary
