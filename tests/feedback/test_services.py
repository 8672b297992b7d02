"""Complaint services: registration and SLA deadlines, every step allowed and refused, pauses,
informing the client, audit, and the settings' validation."""

from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from crm.models import AuditEntry
from feedback import services, sla
from feedback.models import Complaint, Notice
from tests.factories import ClientFactory, ManagerFactory
from tests.feedback.conftest import make_contact, msk

S = Complaint.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages below are asserted in English; the default language is Russian, and a page
    fetched by an earlier test leaves its language active in the thread."""
    with translation.override("en"):
        yield


RESOLVE_DATA = {
    "why_1": "The courier came late",
    "why_2": "The route was planned by hand",
    "root_cause": "process",
    "resolution": "Delivered the next morning, free of charge",
    "goodwill_gift": "Free delivery",
    "goodwill_cost": Decimal("500.00"),
    "company_at_fault": True,
}

# the data each step needs, and the path to reach each status from "registered"
STEP_DATA = {
    "review": {},
    "wait": {"note": "asked for the invoice number"},
    "resume": {},
    "resolve": RESOLVE_DATA,
    "fix_process": {"corrective_action": "Routes are planned by the system"},
    "close": {},
    "reject": {"rejection_reason": "Not our product"},
}
PATH = {
    S.REGISTERED: [],
    S.UNDER_REVIEW: ["review"],
    S.WAITING: ["review", "wait"],
    S.RESOLVED: ["review", "resolve"],
    S.PROCESS_FIXED: ["review", "resolve", "fix_process"],
    S.CLOSED: ["review", "resolve", "fix_process", "inform", "close"],
    S.REJECTED: ["reject"],
}


def advance(complaint, actor, steps, at=None):
    for step in steps:
        if step == "inform":
            complaint = services.complaint_inform_client(
                actor=actor, complaint=complaint, via="phone", at=at
            )
        else:
            complaint = services.complaint_transition(
                actor=actor, complaint=complaint, action=step, data=STEP_DATA[step], now=at
            )
    return complaint


def test_register_sets_working_hour_deadlines_and_audits(register, owner):
    # normal priority, Monday 10:00: acknowledge in 8 working hours → Monday 18:00;
    # resolve in 32 h = 1920 min: Mon 480, Tue 540, Wed 540 (=1560), Thu 360 → Thursday 15:00
    c = register()
    assert c.status == S.REGISTERED
    assert c.ack_due_at == msk(2026, 11, 23, 18, 0)
    assert c.resolve_due_at == msk(2026, 11, 26, 15, 0)
    assert c.sla_class_a is False
    assert c.responsible == owner  # the client's account manager by default
    assert AuditEntry.objects.filter(object_id=str(c.pk), action="create").count() == 1
    assert mail.outbox == []  # assigned to oneself: no email


def test_class_a_clients_get_tighter_deadlines(register, owner):
    # urgent: 1 h / 4 h → Mon 11:00 / 14:00; class A: 30 min / 2 h → Mon 10:30 / 12:00
    normal = register(priority="urgent")
    client_a = ClientFactory(account_manager=owner, abc_class="A")  # with a run's metrics row
    tight = register(priority="urgent", client=client_a)
    assert (normal.ack_due_at, normal.resolve_due_at) == (
        msk(2026, 11, 23, 11),
        msk(2026, 11, 23, 14),
    )
    assert tight.sla_class_a is True
    assert (tight.ack_due_at, tight.resolve_due_at) == (
        msk(2026, 11, 23, 10, 30),
        msk(2026, 11, 23, 12, 0),
    )


def test_registering_on_friday_evening_counts_from_monday(register):
    # Friday 17:30, urgent: 30 min on Friday, then 30 min on Monday → ack Monday 09:30;
    # resolve 240: 30 Fri + 210 Mon → Monday 12:30
    c = register(priority="urgent", at=msk(2026, 11, 20, 17, 30))
    assert c.ack_due_at == msk(2026, 11, 23, 9, 30)
    assert c.resolve_due_at == msk(2026, 11, 23, 12, 30)


def test_assigning_someone_else_emails_them_in_their_language(
    register, owner, django_capture_on_commit_callbacks
):
    # a manager: may see every client, so may be made responsible
    colleague = ManagerFactory(username="colleague", language="en", email="col@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        c = register(responsible=colleague)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["col@example.com"]
    assert mail.outbox[0].subject.startswith(f"Complaint #{c.pk} is assigned to you")
    assert Notice.objects.filter(recipient=colleague, kind="assigned").count() == 1
    # reassigning to a Russian-speaking user: the email is in Russian
    ru = ManagerFactory(username="ru_user", language="ru", email="ru@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_update(actor=owner, complaint=c, data={"responsible": ru})
    assert mail.outbox[1].to == ["ru@example.com"]
    assert mail.outbox[1].subject.startswith(f"Вам назначена жалоба №{c.pk}")


def test_contact_of_another_client_is_refused(register):
    stranger = make_contact()
    with pytest.raises(ValidationError) as exc:
        register(contact=stranger)
    assert "belongs to another client" in str(exc.value)
    assert Complaint.objects.count() == 0


def test_the_whole_path_with_timestamps_audit_and_working_minutes(register, owner):
    c = register(priority="urgent")
    c = advance(c, owner, ["review"], at=msk(2026, 11, 23, 10, 20))
    assert (c.status, c.acknowledged_at, c.ack_minutes) == (
        S.UNDER_REVIEW,
        msk(2026, 11, 23, 10, 20),
        20,
    )
    c = advance(c, owner, ["resolve"], at=msk(2026, 11, 23, 13, 0))
    assert c.status == S.RESOLVED and c.resolve_minutes == 180  # 10:00 → 13:00
    assert c.goodwill_cost == Decimal("500.00") and c.root_cause == "process"
    c = advance(c, owner, ["fix_process", "inform", "close"], at=msk(2026, 11, 24, 10, 0))
    assert c.status == S.CLOSED and c.closed_at == msk(2026, 11, 24, 10, 0)
    transitions = AuditEntry.objects.filter(object_id=str(c.pk), action="transition")
    assert [e.changes["status"] for e in transitions.order_by("at", "id")] == [
        ["registered", "under_review"],
        ["under_review", "resolved"],
        ["resolved", "process_fixed"],
        ["process_fixed", "closed"],
    ]


ALL_ACTIONS = list(services.TRANSITIONS)


@pytest.mark.parametrize("status", list(PATH))
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_every_step_from_every_status_is_allowed_or_refused(register, owner, status, action):
    c = advance(register(), owner, PATH[status], at=msk(2026, 11, 23, 11))
    assert c.status == status
    allowed = status in services.TRANSITIONS[action].sources
    if allowed:
        if action == "close":
            c = advance(c, owner, ["inform"])
        c = services.complaint_transition(
            actor=owner, complaint=c, action=action, data=STEP_DATA[action]
        )
        assert c.status == services.TRANSITIONS[action].target
    else:
        with pytest.raises(ValidationError) as exc:
            services.complaint_transition(
                actor=owner, complaint=c, action=action, data=STEP_DATA[action]
            )
        step = str(services.TRANSITIONS[action].label)
        assert f"The step “{step}” is not allowed for a complaint that is" in exc.value.messages[0]
        c.refresh_from_db()
        assert c.status == status  # nothing changed


@pytest.mark.parametrize(
    ("steps", "action", "data", "message"),
    [
        (
            ["review"],
            "resolve",
            {"resolution": "fixed", "root_cause": "process"},
            "Record the root cause (at least the first “why?”) before resolving.",
        ),
        (
            ["review"],
            "resolve",
            {"why_1": "x", "resolution": "fixed"},
            "Choose the root cause category before resolving.",
        ),
        (
            ["review"],
            "resolve",
            {"why_1": "x", "root_cause": "people", "resolution": "  "},
            "Record the fix for the client before resolving.",
        ),
        (
            ["review", "resolve"],
            "fix_process",
            {"corrective_action": ""},
            "Record the corrective action on the process first.",
        ),
        (
            ["review", "resolve", "fix_process"],
            "close",
            {},
            "Inform the client of the resolution before closing the complaint.",
        ),
        ([], "reject", {"rejection_reason": ""}, "Give the reason for rejecting the complaint."),
    ],
)
def test_rules_of_each_step_refuse_with_a_clear_message(
    register, owner, steps, action, data, message
):
    c = advance(register(), owner, steps)
    before = Complaint.objects.get(pk=c.pk).status
    with pytest.raises(ValidationError) as exc:
        services.complaint_transition(actor=owner, complaint=c, action=action, data=data)
    assert exc.value.messages == [message]
    assert Complaint.objects.get(pk=c.pk).status == before


def test_a_complaint_cannot_be_closed_with_no_resolution(register, owner):
    c = advance(register(), owner, ["review", "resolve", "fix_process", "inform"])
    # the rule of the step …
    c.resolution = ""
    with pytest.raises(ValidationError) as exc:
        services._check_transition(c, services.TRANSITIONS["close"])
    assert exc.value.messages == ["A complaint cannot be closed with no resolution recorded."]
    # … and the database refuses a resolved/fixed/closed complaint without a resolution
    with pytest.raises(IntegrityError), transaction.atomic():
        Complaint.objects.filter(pk=c.pk).update(resolution="")


def test_unknown_step_is_refused(register, owner):
    with pytest.raises(ValidationError, match="Unknown step"):
        services.complaint_transition(actor=owner, complaint=register(), action="teleport")


def test_waiting_for_the_client_pauses_the_resolution_clock(register, owner):
    # urgent, registered Monday 10:00: resolve due Monday 14:00.
    c = register(priority="urgent")
    c = advance(c, owner, ["review"], at=msk(2026, 11, 23, 10, 15))
    c = advance(c, owner, ["wait"], at=msk(2026, 11, 23, 11, 0))
    assert c.status == S.WAITING and c.paused_since == msk(2026, 11, 23, 11, 0)
    # resumed Tuesday 10:00: paused Mon 11→18 (420) + Tue 9→10 (60) = 480 working minutes;
    # new due = Mon 14:00 + 480: Mon 14→18 (240) + Tue 9→13 (240) → Tuesday 13:00
    c = advance(c, owner, ["resume"], at=msk(2026, 11, 24, 10, 0))
    assert c.status == S.UNDER_REVIEW
    assert c.resolve_due_at == msk(2026, 11, 24, 13, 0)
    assert c.paused_since is None
    # resolved Tuesday 12:00: Mon 10→18 (480) + Tue 9→12 (180) − pause 480 = 180 minutes
    c = advance(c, owner, ["resolve"], at=msk(2026, 11, 24, 12, 0))
    assert c.resolve_minutes == 180
    assert c.resolved_at <= c.resolve_due_at  # met thanks to the pause


def test_a_paused_complaint_is_not_escalated(register, owner, manager):
    c = register(priority="urgent")
    advance(c, owner, ["review", "wait"], at=msk(2026, 11, 23, 10, 15))
    # Monday 16:00: resolution was due 14:00 but the clock is paused
    assert sla.sla_escalate_breaches(now=msk(2026, 11, 23, 16)) == []


def test_informing_the_client_by_email_in_russian_and_english(
    register, owner, contact, django_capture_on_commit_callbacks
):
    c = advance(register(contact=contact), owner, ["review", "resolve"])
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_inform_client(
            actor=owner, complaint=c, via="phone", send_email=True, language="en"
        )
    assert mail.outbox[-1].to == ["ivan@acme.example"]
    assert mail.outbox[-1].subject == f"Your complaint No. {c.pk} has been resolved"
    assert "Delivered the next morning" in mail.outbox[-1].body
    assert "Free delivery" in mail.outbox[-1].body
    c.refresh_from_db()
    assert c.client_informed_via == "email" and c.client_informed_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.complaint_inform_client(
            actor=owner, complaint=c, via="email", send_email=True, language="ru"
        )
    assert mail.outbox[-1].subject == f"Ваша жалоба № {c.pk} решена"


def test_informing_before_resolution_or_without_email_is_refused(register, owner):
    c = register()
    with pytest.raises(ValidationError, match="once the complaint is resolved"):
        services.complaint_inform_client(actor=owner, complaint=c, via="phone")
    c = advance(c, owner, ["review", "resolve"])
    with pytest.raises(ValidationError, match="no email address"):
        services.complaint_inform_client(actor=owner, complaint=c, via="email", send_email=True)
    c.refresh_from_db()
    assert c.client_informed_at is None


def test_changing_priority_replans_the_deadlines(register, owner):
    c = register()  # normal: Mon 18:00 / Thu 15:00
    c = services.complaint_update(actor=owner, complaint=c, data={"priority": "urgent"})
    assert (c.ack_due_at, c.resolve_due_at) == (msk(2026, 11, 23, 11), msk(2026, 11, 23, 14))
    entry = AuditEntry.objects.filter(object_id=str(c.pk), action="update").get()
    assert entry.changes["priority"] == ["normal", "urgent"]


def test_status_cannot_be_changed_by_an_edit(register, owner):
    with pytest.raises(ValidationError, match="cannot be changed here"):
        services.complaint_update(actor=owner, complaint=register(), data={"status": "closed"})


def test_sla_settings_validation(manager):
    from feedback.models import default_sla_targets

    bad = default_sla_targets()
    bad["urgent"]["ack"] = 600  # acknowledge slower than resolve (240)
    with pytest.raises(ValidationError) as exc:
        sla.sla_settings_update(actor=manager, data={"targets": bad})
    assert "urgent: acknowledgement cannot take longer than resolution." in exc.value.messages
    loose = default_sla_targets()
    loose["low"]["resolve_a"] = 5000  # class A looser than normal (4320)
    with pytest.raises(ValidationError, match="as tight as or tighter"):
        sla.sla_settings_update(actor=manager, data={"targets": loose})
    with pytest.raises(ValidationError):
        sla.sla_settings_update(actor=manager, data={"time_zone": "Mars/Olympus"})
    with pytest.raises(ValidationError):
        sla.sla_settings_update(actor=manager, data={"working_days": []})
    ok = sla.sla_settings_update(actor=manager, data={"working_days": [1, 2, 3, 4, 5, 6]})
    assert ok.working_days == [1, 2, 3, 4, 5, 6]


def test_six_day_week_setting_changes_new_deadlines(register, manager):
    sla.sla_settings_update(actor=manager, data={"working_days": [1, 2, 3, 4, 5, 6]})
    # Friday 17:30 urgent: 30 min Friday + 30 min SATURDAY → ack Saturday 09:30
    c = register(priority="urgent", at=msk(2026, 11, 20, 17, 30))
    assert c.ack_due_at == msk(2026, 11, 21, 9, 30)


def test_registration_uses_the_frozen_clock(register, owner, own_client, theme):
    with time_machine.travel(msk(2026, 11, 23, 12, 0), tick=False):
        c = services.complaint_register(
            actor=owner, client=own_client, theme=theme, description="x", priority="urgent"
        )
    assert c.registered_at == msk(2026, 11, 23, 12, 0)
    assert c.ack_due_at == msk(2026, 11, 23, 13, 0)
