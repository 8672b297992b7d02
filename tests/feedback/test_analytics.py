"""Complaint analytics with figures worked out by hand."""

from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest
import time_machine

from feedback import analytics, services
from feedback.models import Complaint, Theme
from tests.conftest import client_for
from tests.feedback.conftest import msk

pytestmark = pytest.mark.django_db


def _step(c, actor, action, at, **data):
    return services.complaint_transition(actor=actor, complaint=c, action=action, data=data, now=at)


RESOLVE = {"why_1": "why", "resolution": "fixed"}


@pytest.fixture
def four_complaints(register, owner):
    """All registered Monday 23 Nov 10:00. Urgent: ack by 11:00, resolve by 14:00;
    normal: ack by Mon 18:00, resolve by Thu 26 Nov 15:00.

    A urgent: reviewed 10:20 (20 min, met), resolved 13:00 (180 min, met), gift 500, process
    B urgent: reviewed 12:00 (120 min, missed), resolved Tue 10:00 (480+60 = 540 min, missed),
      gift 1000, process, theme "errors in documents"
    C normal: still registered on Tue 12:00 → ack missed, resolution pending
    D normal: rejected Mon 11:00 → ack 60 min met, resolution (rejection) 60 min met
    """
    docs = Theme.objects.get(code="document-errors")
    t0 = msk(2026, 11, 23, 10)
    a = register(priority="urgent", at=t0)
    a = _step(a, owner, "review", msk(2026, 11, 23, 10, 20))
    _step(
        a,
        owner,
        "resolve",
        msk(2026, 11, 23, 13),
        root_cause="process",
        goodwill_cost=Decimal("500"),
        **RESOLVE,
    )
    b = services.complaint_register(
        actor=owner,
        client=a.client,
        theme=docs,
        description="Invoice had the wrong sum",
        priority="urgent",
        now=t0,
    )
    b = _step(b, owner, "review", msk(2026, 11, 23, 12))
    _step(
        b,
        owner,
        "resolve",
        msk(2026, 11, 24, 10),
        root_cause="process",
        goodwill_cost=Decimal("1000"),
        **RESOLVE,
    )
    register(at=t0)  # C
    d = register(at=t0)
    _step(d, owner, "reject", msk(2026, 11, 23, 11), rejection_reason="not ours")
    return Complaint.objects.all()


def test_summary_of_four_complaints(four_complaints):
    s = analytics.complaint_summary(four_complaints, now=msk(2026, 11, 24, 12))
    assert s.total == 4 and s.open == 1
    assert s.cost == Decimal("1500.00")
    # acknowledgement: met A, D; missed B, C → 2 / 4 = 50 %
    assert s.ack_compliance == 50.0
    # resolution: met A, D; missed B; C pending → 2 / 3 = 66.7 %
    assert s.res_compliance == 66.7
    # all deadlines: 4 met of 7 decided = 57.1 %
    assert s.sla_compliance == 57.1
    # (20 + 120 + 60) / 3 = 66.67 min = 1.11 h; (180 + 540 + 60) / 3 = 260 min = 4.33 h
    assert s.avg_ack_hours == 1.11
    assert s.avg_res_hours == 4.33
    assert s.iceberg == 40  # 4 ÷ 0.10
    missed = Theme.objects.get(code="missed-deadlines").pk
    docs = Theme.objects.get(code="document-errors").pk
    assert s.by_theme == [(missed, 3), (docs, 1)]
    assert s.top_root_causes == [("process", 2)]
    assert [n for _m, n in s.by_month] == [4]


def test_the_totals_only_summary_of_four_complaints(four_complaints):
    """The dashboard's summary: one row of sums, the same figures, no lists."""
    s = analytics.complaint_summary(four_complaints, now=msk(2026, 11, 24, 12), grouped=False)
    assert (s.total, s.open, s.cost, s.iceberg) == (4, 1, Decimal("1500.00"), 40)
    assert (s.ack_compliance, s.res_compliance, s.sla_compliance) == (50.0, 66.7, 57.1)
    assert (s.avg_ack_hours, s.avg_res_hours) == (1.11, 4.33)
    assert s.by_theme == [] and s.top_root_causes == [] and s.by_month == []
    empty = analytics.complaint_summary(four_complaints.none(), grouped=False)
    assert (empty.total, empty.sla_compliance, empty.cost) == (0, None, Decimal("0"))


def test_summarize_pure_frame_two_months():
    frame = pd.DataFrame(
        [
            # month, theme, cause, n, open, cost, ack_sum, ack_n, res_sum, res_n,
            # ack_met, ack_missed, res_met, res_missed
            ["2026-10-01", 1, "people", 3, 0, Decimal("100"), 90, 3, 600, 3, 3, 0, 2, 1],
            ["2026-11-01", 1, "", 2, 2, Decimal("0"), 0, 0, 0, 0, 0, 1, 0, 0],
            ["2026-11-01", 2, "process", 5, 1, Decimal("250.50"), 300, 4, 1200, 4, 3, 1, 4, 0],
        ],
        columns=analytics.COLUMNS,
    )
    frame["month"] = pd.to_datetime(frame["month"])
    s = analytics.summarize(frame)
    assert s.total == 10 and s.open == 3
    assert s.cost == Decimal("350.50")
    # ack: met 6, missed 2 → 75 %; resolution: met 6, missed 1 → 85.7 %; all: 12 / 15 = 80 %
    assert (s.ack_compliance, s.res_compliance, s.sla_compliance) == (75.0, 85.7, 80.0)
    # ack: 390 min / 7 = 55.71 min = 0.93 h; resolution 1800 / 7 = 257.14 min = 4.29 h
    assert (s.avg_ack_hours, s.avg_res_hours) == (0.93, 4.29)
    assert s.by_month == [(datetime(2026, 10, 1).date(), 3), (datetime(2026, 11, 1).date(), 7)]
    assert s.by_theme == [(2, 5), (1, 5)] or s.by_theme == [(1, 5), (2, 5)]
    assert s.top_root_causes == [("process", 5), ("people", 3)]  # blanks are not a cause
    assert s.iceberg == 100


def test_empty_summary():
    s = analytics.summarize(pd.DataFrame(columns=analytics.COLUMNS))
    assert s.total == 0 and s.sla_compliance is None and s.iceberg == 0


def test_iceberg_rounding():
    assert analytics.iceberg(7) == 70
    assert analytics.iceberg(0) == 0


def test_analytics_page_is_cached_and_refreshed_by_any_write(
    register, owner, manager, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    from django.test import Client as DjangoClient

    http = DjangoClient()
    http.force_login(manager)
    http.cookies["django_language"] = "en"
    # the page without a period shows a window ending today: "today" is the registration day
    with time_machine.travel(msk(2026, 11, 23, 12), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            register()
        first = http.get("/feedback/complaints/analytics/").content.decode()
        assert 'data-kpi="total">1<' in first
        with django_assert_max_num_queries(4):  # session, user, themes: no aggregate
            http.get("/feedback/complaints/analytics/")
        with django_capture_on_commit_callbacks(execute=True):
            register()  # a write bumps the data version after commit
        page = http.get("/feedback/complaints/analytics/").content.decode()
        assert 'data-kpi="total">2<' in page


@pytest.mark.parametrize(
    ("date_from", "date_to", "total"),
    [
        ("2026-10-01", "2026-11-22", 0),  # ends the day before the registration
        ("2026-11-24", "2026-12-31", 0),  # starts the day after
        ("2026-11-23", "2026-11-23", 1),  # just the registration day
        ("2026-01-01", "2026-12-31", 1),
    ],
)
def test_analytics_period_form(register, manager, date_from, date_to, total):
    http = client_for(manager, "en")
    register(at=msk(2026, 11, 23, 10))
    response = http.get(
        "/feedback/complaints/analytics/", {"date_from": date_from, "date_to": date_to}
    )
    assert response.status_code == 200
    assert f'data-kpi="total">{total}<' in response.content.decode()
