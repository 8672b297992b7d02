"""The complaint SLA clock end to end (services, escalation, analytics, the detail page's
deadlines), with frozen time and hand-worked deadlines:

- a pause that begins at or after the resolution deadline does not move it: a breach escalated
  before the pause stays a breach (and one not yet escalated still is), the complaint stays
  overdue while waiting, and analytics count the deadline as missed;
- a pause that begins before the deadline moves it by the working time it covered, on resume
  and when a priority change re-plans the deadlines;
- daylight saving time (Europe/Berlin): deadlines are real minutes;
- holidays are skipped and a moved working Saturday counts.

Default calendar: Monday–Friday 09:00–18:00 Europe/Moscow. Urgent: acknowledge within 60 working
minutes, resolve within 240; normal: 480 and 1920. 2026-11-23 is a Monday.
"""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.urls import reverse

from feedback import analytics, selectors, services, sla
from feedback.filters import ComplaintFilter
from feedback.models import Complaint, SlaBreach
from tests.conftest import client_for
from tests.crm.factories import CalendarDayFactory, holidays
from tests.feedback.conftest import msk

S = Complaint.Status
pytestmark = pytest.mark.django_db
RESOLVE = {"why_1": "The courier came late", "root_cause": "process", "resolution": "Redelivered"}


def step(complaint, actor, action, **data):
    """A transition at the frozen instant (no ``now=``: the service reads the clock)."""
    return services.complaint_transition(actor=actor, complaint=complaint, action=action, data=data)


def resolution(complaint):
    return next(d for d in selectors.complaint_deadlines(complaint) if d.kind == "resolution")


def test_a_pause_begun_after_the_deadline_keeps_the_escalated_breach(register, owner, manager):
    with time_machine.travel(msk(2026, 11, 23, 10), tick=False) as clock:
        c = register(priority="urgent")  # Monday 10:00: resolve by 14:00
        assert c.resolve_due_at == msk(2026, 11, 23, 14)
        clock.move_to(msk(2026, 11, 23, 10, 15))
        c = step(c, owner, "review")
        clock.move_to(msk(2026, 11, 23, 14, 5))
        assert len(sla.sla_escalate_breaches()) == 1
        breach = SlaBreach.objects.get()
        assert (breach.kind, breach.due_at) == ("resolution", msk(2026, 11, 23, 14))
        # waiting for the client 16:00–21:00 (120 working minutes) after the deadline
        clock.move_to(msk(2026, 11, 23, 16))
        c = step(c, owner, "wait", note="asked for the waybill")
        # while waiting it stays overdue and missed (the wait began after the deadline)
        clock.move_to(msk(2026, 11, 23, 17))
        assert c.resolve_overdue(msk(2026, 11, 23, 17))
        assert analytics.complaint_summary(Complaint.objects.all()).res_compliance == 0.0
        clock.move_to(msk(2026, 11, 23, 21))
        c = step(c, owner, "resume")
        assert c.resolve_due_at == msk(2026, 11, 23, 14)  # not 16:00
        assert c.resolve_overdue(msk(2026, 11, 23, 21))
        assert sla.sla_escalate_breaches() == []  # the breach stands, escalated once
        # resolved Tuesday 10:00: Mon 10→18 (480) + Tue 9→10 (60) − pause 16→18 (120) = 420
        clock.move_to(msk(2026, 11, 24, 10))
        c = step(c, owner, "resolve", **RESOLVE)
        assert c.resolve_minutes == 420
        assert resolution(c).met is False
        summary = analytics.complaint_summary(Complaint.objects.all())
    assert summary.res_compliance == 0.0  # resolution missed, not met
    assert summary.ack_compliance == 100.0  # acknowledged at 10:15, due 11:00
    assert SlaBreach.objects.count() == 1
    # the complaint page says the same: resolution missed, the breach shown
    html = client_for(manager, "en").get(reverse("feedback:detail", args=[c.pk])).content.decode()
    block = html.split('data-deadline="resolution"', 1)[1].split("</div>", 1)[0]
    assert "missed" in block and 'data-breach="resolution"' in html


def test_waiting_begun_after_the_deadline_before_the_scan_is_still_escalated(
    register, owner, manager
):
    with time_machine.travel(msk(2026, 11, 23, 10), tick=False) as clock:
        c = step(register(priority="urgent"), owner, "review")
        clock.move_to(msk(2026, 11, 23, 14, 2))  # due 14:00; the 5-minute scan has not run yet
        c = step(c, owner, "wait")
        clock.move_to(msk(2026, 11, 23, 14, 5))
        assert len(sla.sla_escalate_breaches()) == 1
        assert SlaBreach.objects.get().kind == "resolution"
        assert sla.sla_escalate_breaches() == []
        overdue = ComplaintFilter({"overdue": True}, queryset=selectors.complaint_list(manager)).qs
        assert list(overdue) == [c]
        assert resolution(c).minutes_left < 0  # the page says "overdue by …"
    # a wait begun before the deadline still stops the clock: no breach, not overdue
    with time_machine.travel(msk(2026, 11, 23, 10), tick=False) as clock:
        d = step(register(priority="urgent"), owner, "review")
        clock.move_to(msk(2026, 11, 23, 13, 59))
        d = step(d, owner, "wait")
        clock.move_to(msk(2026, 11, 24, 12))
        assert sla.sla_escalate_breaches() == []
        assert not d.resolve_overdue(msk(2026, 11, 24, 12))
        assert resolution(d).minutes_left is None


def test_rejected_while_waiting_after_the_deadline_is_missed(register, owner):
    with time_machine.travel(msk(2026, 11, 23, 10), tick=False) as clock:
        c = step(register(priority="urgent"), owner, "review")
        clock.move_to(msk(2026, 11, 23, 15))
        c = step(c, owner, "wait")
        clock.move_to(msk(2026, 11, 23, 17))
        c = step(c, owner, "reject", rejection_reason="Not our product")
    assert c.resolve_due_at == msk(2026, 11, 23, 14)
    assert resolution(c).met is False
    assert analytics.complaint_summary(Complaint.objects.all()).res_compliance == 0.0


def test_a_pause_before_the_deadline_moves_it_by_the_paused_working_minutes(register, owner):
    with time_machine.travel(msk(2026, 11, 23, 10), tick=False) as clock:
        c = step(register(priority="urgent"), owner, "review")
        clock.move_to(msk(2026, 11, 23, 11))
        c = step(c, owner, "wait")
        clock.move_to(msk(2026, 11, 23, 12, 30))
        c = step(c, owner, "resume")
        # paused 11:00–12:30 = 90 working minutes: 14:00 → 15:30
        assert c.resolve_due_at == msk(2026, 11, 23, 15, 30)
        clock.move_to(msk(2026, 11, 23, 15))
        assert sla.sla_escalate_breaches() == []  # 14:00 has passed, but it moved
        clock.move_to(msk(2026, 11, 23, 15, 20))
        c = step(c, owner, "resolve", **RESOLVE)
        # Mon 10:00→15:20 = 320 − 90 paused = 230 working minutes, within 240
        assert c.resolve_minutes == 230
        assert resolution(c).met is True
        assert analytics.complaint_summary(Complaint.objects.all()).res_compliance == 100.0


def test_a_pause_across_the_deadline_moves_it_by_all_of_its_working_time(register, owner):
    with time_machine.travel(msk(2026, 11, 23, 10), tick=False) as clock:
        c = step(register(priority="urgent"), owner, "review")
        clock.move_to(msk(2026, 11, 23, 13))
        c = step(c, owner, "wait")  # one working hour left of the 240
        clock.move_to(msk(2026, 11, 23, 14, 30))
        assert sla.sla_escalate_breaches() == []  # the clock is stopped
        clock.move_to(msk(2026, 11, 23, 15))
        c = step(c, owner, "resume")
        # the hour left at 13:00 is spent after 15:00 → 16:00 (= 14:00 + the 120 paused)
        assert c.resolve_due_at == msk(2026, 11, 23, 16)
        clock.move_to(msk(2026, 11, 23, 15, 59))
        assert sla.sla_escalate_breaches() == []
        clock.move_to(msk(2026, 11, 23, 16, 1))
        assert len(sla.sla_escalate_breaches()) == 1


def test_a_priority_change_replans_with_only_the_pauses_before_each_deadline(register, owner):
    with time_machine.travel(msk(2026, 11, 23, 10), tick=False) as clock:
        c = register()  # normal: ack Mon 18:00, resolve Thu 26 Nov 15:00
        assert c.resolve_due_at == msk(2026, 11, 26, 15)
        clock.move_to(msk(2026, 11, 23, 10, 15))
        c = step(c, owner, "review")
        for start, end in ((11, 12), (15, 16)):  # two pauses of 60 working minutes
            clock.move_to(msk(2026, 11, 23, start))
            c = step(c, owner, "wait")
            clock.move_to(msk(2026, 11, 23, end))
            c = step(c, owner, "resume")
        assert c.resolve_due_at == msk(2026, 11, 26, 17)  # Thu 15:00 + 120
        clock.move_to(msk(2026, 11, 23, 16, 30))
        c = services.complaint_update(actor=owner, complaint=c, data={"priority": "urgent"})
        # urgent from Mon 10:00: 14:00; the 11–12 pause began before it → 15:00; the 15–16
        # pause began AT the deadline in force → no move (the old sum of pauses said 16:00)
        assert c.ack_due_at == msk(2026, 11, 23, 11)
        assert c.resolve_due_at == msk(2026, 11, 23, 15)
        clock.move_to(msk(2026, 11, 23, 16, 40))
        c = services.complaint_update(actor=owner, complaint=c, data={"priority": "normal"})
        # back to normal: both pauses began before Thursday → Thu 15:00 + 60 + 60
        assert c.resolve_due_at == msk(2026, 11, 26, 17)


# --- daylight saving time -------------------------------------------------------------------
@pytest.fixture
def berlin_round_the_clock(manager):
    sla.sla_settings_update(
        actor=manager,
        data={
            "working_days": [1, 2, 3, 4, 5, 6, 7],
            "work_start": time(0),
            "work_end": time(23, 59),
            "time_zone": "Europe/Berlin",
        },
    )


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.usefixtures("berlin_round_the_clock")
def test_spring_forward_deadlines_are_real_minutes(register, owner):
    # Sunday 29 March 2026 01:00 CET = 00:00 UTC; at 02:00 CET the clocks jump to 03:00 CEST
    with time_machine.travel(utc(2026, 3, 29, 0), tick=False) as clock:
        c = register(priority="urgent", at=utc(2026, 3, 29, 0))
        # + 60 real minutes = 01:00 UTC = 03:00 CEST; + 240 = 04:00 UTC = 06:00 CEST
        # (wall-clock arithmetic said 02:00 / 05:00, one hour late)
        assert c.ack_due_at == utc(2026, 3, 29, 1)
        assert c.resolve_due_at == utc(2026, 3, 29, 4)
        clock.move_to(utc(2026, 3, 29, 0, 30))
        c = step(c, owner, "review")
        clock.move_to(utc(2026, 3, 29, 3, 30))  # 05:30 CEST
        c = step(c, owner, "resolve", **RESOLVE)
    assert (c.ack_minutes, c.resolve_minutes) == (30, 210)


@pytest.mark.usefixtures("berlin_round_the_clock")
def test_fall_back_deadlines_are_real_minutes(register, owner):
    # Sunday 25 October 2026 01:00 CEST = 24 Oct 23:00 UTC; 03:00 CEST becomes 02:00 CET
    with time_machine.travel(utc(2026, 10, 24, 23), tick=False) as clock:
        c = register(priority="urgent", at=utc(2026, 10, 24, 23))
        # + 60 real minutes = 00:00 UTC = the first 02:00 (CEST); + 240 = 03:00 UTC = 04:00 CET
        # (wall-clock arithmetic said 05:00 CET). Compared in UTC: Python never finds a time of
        # the repeated hour equal to one in another zone (PEP 495).
        assert c.ack_due_at.astimezone(UTC) == utc(2026, 10, 25, 0)
        assert c.resolve_due_at.astimezone(UTC) == utc(2026, 10, 25, 3)
        clock.move_to(utc(2026, 10, 25, 0))
        c = step(c, owner, "review")
        clock.move_to(utc(2026, 10, 25, 3))
        c = step(c, owner, "resolve", **RESOLVE)
    assert (c.ack_minutes, c.resolve_minutes) == (60, 240)
    assert resolution(c).met is True


# --- holidays and moved working days --------------------------------------------------------
def test_new_year_holidays_are_skipped(register, owner):
    holidays(*(date(2027, 1, d) for d in range(1, 9)))  # Fri 1 … Fri 8 January 2027
    with time_machine.travel(msk(2026, 12, 30, 10), tick=False) as clock:
        c = register(at=msk(2026, 12, 30, 10))  # normal, Wednesday 30 December 10:00
        # 1920: Wed 10→18 (480), Thu 31 Dec (540) → 900 left; 1–8 Jan holidays, 9–10 the
        # weekend; Mon 11 Jan (540) → 360 left → Tuesday 12 January 15:00
        # (without the holidays: Monday 4 January 15:00)
        assert c.ack_due_at == msk(2026, 12, 30, 18)
        assert c.resolve_due_at == msk(2027, 1, 12, 15)
        clock.move_to(msk(2026, 12, 30, 11))
        step(c, owner, "review")
        clock.move_to(msk(2027, 1, 8, 17))
        assert sla.sla_escalate_breaches() == []
        # urgent on Thursday 31 December 16:00: 120 that day, 120 on Monday 11 January
        late = register(priority="urgent", at=msk(2026, 12, 31, 16))
    assert late.resolve_due_at == msk(2027, 1, 11, 11)


def test_a_moved_working_saturday_counts(register):
    CalendarDayFactory(date=date(2027, 2, 20), kind="working_day", name="Working Saturday")
    # urgent, Friday 19 February 2027 16:00: 120 on Friday, 120 on the working Saturday
    c = register(priority="urgent", at=msk(2027, 2, 19, 16))
    assert c.ack_due_at == msk(2027, 2, 19, 17)
    assert c.resolve_due_at == msk(2027, 2, 20, 11)


def test_the_calendar_is_read_in_one_query(django_assert_num_queries):
    holidays(date(2027, 1, 1), date(2027, 1, 2))
    settings_obj = selectors.sla_settings()
    with django_assert_num_queries(1):
        cal = selectors.work_calendar(settings_obj)
    assert cal.holidays == {date(2027, 1, 1), date(2027, 1, 2)} and not cal.workdays
