"""Beacons (crm/beacons.py; docs/domain.md, "Beacons") worked by hand on the dashboard's small
dataset (tests/crm/test_dashboard.py: time frozen on 5 Dec 2026 12:00 Moscow time):

- NPS of the last 30 days (6 Nov – 5 Dec): 10, 9, 3, 0 → (2 − 2) / 4 = 0 < 40: fires;
- SLA compliance: the two complaints of 16 Nov were never acknowledged: 0 % < 90: fires;
- class-A clients overdue for contact: Acme and Gamma (last contact in January): 2 > 0;
- detractors without a case after 48 hours: Beta's 3 and Gamma's 0 (12 and 13 Nov): 2 > 0;
- overdue promises: Acme's and Gamma's promise due 30 Nov: 2 > 0;
- a deal past its red ageing: a deal in "Proposal" (10 expected days, red from day 15).
"""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as DjangoClient
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from clients.models import Interaction
from crm import beacons
from crm.models import BeaconEvent, BeaconNotice, BeaconRule, BeaconState
from tests.conftest import client_for
from tests.crm.test_dashboard import NOW, data, frozen  # noqa: F401 - the dashboard's dataset
from tests.sales.kanban_helpers import make_deal
from tests.surveys.conftest import (  # noqa: F401 - the survey fixtures of the dataset
    invite,
    make_campaign,
    nps_questionnaire,
    prefs,
)

SEEDED = {
    "nps": Decimal("0"),
    "sla_compliance": Decimal("0"),
    "contact_overdue_class": Decimal("2"),
    "detractors_overdue": Decimal("2"),
    "promise_overdue": Decimal("2"),
}


@pytest.fixture(autouse=True)
def emails_after_commit(request, monkeypatch):
    """The emails go after the transaction commits; a test inside one transaction runs the
    on-commit callbacks at once (the concurrent test commits for real)."""
    if (
        "transactional_db" in request.fixturenames
        or request.node.get_closest_marker("django_db")
        and request.node.get_closest_marker("django_db").kwargs.get("transaction")
    ):
        return
    monkeypatch.setattr(beacons.transaction, "on_commit", lambda fn, *a, **k: fn())


def rule(metric="promise_overdue", **kw):
    kw = {"name": metric, "operator": ">", "threshold": 0} | kw
    created = BeaconRule.objects.create(metric=metric, **kw)
    BeaconState.objects.create(rule=created)  # as the form and the API do
    return created


@pytest.mark.django_db
def test_the_seeded_rules_and_the_beat_entry():
    assert sorted(BeaconRule.objects.values_list("metric", flat=True)) == sorted(
        [*SEEDED, "deals_ageing_red"]
    )
    class_a = BeaconRule.objects.get(metric="contact_overdue_class")
    assert (class_a.scope, class_a.scope_class) == ("class", "A")
    assert PeriodicTask.objects.get(task="crm.evaluate_beacons").interval.every == 15


def test_each_seeded_rule_fires_on_the_dataset(data, manager, owner):  # noqa: F811
    deal = make_deal(owner, stage_order=20, entered="2026-11-10 10:00")  # day 25: red
    assert beacons.evaluate_all() == 6
    states = {s.rule.metric: s for s in BeaconState.objects.select_related("rule")}
    for metric, value in SEEDED.items():
        assert states[metric].state == "firing", metric
        assert states[metric].value == value, metric
    assert states["deals_ageing_red"].state == "firing"
    assert states["deals_ageing_red"].value == 1
    # the firing beacon opens the list that caused it, with the same count
    http = client_for(manager)
    for metric in SEEDED:
        if metric not in ("nps", "sla_compliance"):  # ratios: their list holds the base
            listed = http.get(states[metric].url).context["page"].paginator.count
            assert listed == states[metric].value, metric
    deals = http.get(states["deals_ageing_red"].url)
    assert [d.pk for d in deals.context["page"]] == [deal.pk]


def test_normal_firing_recovered_normal_with_notices(data, manager, owner, time_machine):  # noqa: F811
    BeaconRule.objects.all().delete()
    mail.outbox.clear()  # the dataset's own emails
    r = rule(scope="account_manager", scope_account_manager=owner, repeat_hours=24)
    assert beacons.evaluate(r).to_state == "firing"  # Acme's promise: 1 > 0
    state = BeaconState.objects.get(rule=r)
    assert (state.state, state.value) == ("firing", 1)
    # the manager (every manager: no recipient chosen) and the account manager of the scope
    assert {n.recipient for n in BeaconNotice.objects.all()} == {manager, owner}
    assert len(mail.outbox) == 2
    assert "/clients/?" in mail.outbox[0].body and "promise_overdue=true" in mail.outbox[0].body
    # the promise is kept a day later: recovered, notified (the interval has passed)
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    Interaction.objects.filter(client__account_manager=owner).update(promise_done_at=NOW)
    assert beacons.evaluate(r).to_state == "recovered"
    assert len(mail.outbox) == 4
    # still fine within the interval: stays recovered, then normal (no notification)
    time_machine.move_to(NOW + timedelta(days=1, hours=23), tick=False)
    assert beacons.evaluate(r) is None
    time_machine.move_to(NOW + timedelta(days=2, hours=1), tick=False)
    assert beacons.evaluate(r).to_state == "normal"
    assert len(mail.outbox) == 4
    history = list(BeaconEvent.objects.filter(rule=r).order_by("at"))
    assert [(e.from_state, e.to_state, e.notified) for e in history] == [
        ("normal", "firing", True),
        ("firing", "recovered", True),
        ("recovered", "normal", False),
    ]
    assert history[1].value == 0 and history[1].threshold == 0


def test_repeated_runs_notify_once(data, manager):  # noqa: F811
    manager.language = "en"
    manager.save()
    BeaconRule.objects.all().delete()
    mail.outbox.clear()  # the dataset's own emails
    r = rule()
    for _ in range(3):
        beacons.evaluate_all()
    assert BeaconEvent.objects.filter(rule=r).count() == 1
    assert BeaconNotice.objects.count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Beacon fired: promise_overdue"


def test_repeat_interval_silences_flapping(data, manager, time_machine):  # noqa: F811
    BeaconRule.objects.all().delete()
    mail.outbox.clear()  # the dataset's own emails
    r = rule(repeat_hours=24)
    beacons.evaluate(r)  # fires: notified
    kept = Interaction.objects.filter(promise_done_at__isnull=True)
    ids = list(kept.values_list("pk", flat=True))
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    kept.update(promise_done_at=NOW)
    assert beacons.evaluate(r).notified is False  # recovered within 24 h: silent
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    Interaction.objects.filter(pk__in=ids).update(promise_done_at=None)
    assert beacons.evaluate(r).notified is False  # fires again within 24 h: silent
    time_machine.move_to(NOW + timedelta(hours=25), tick=False)
    Interaction.objects.filter(pk__in=ids).update(promise_done_at=NOW)
    assert beacons.evaluate(r).notified is True  # the interval has passed
    assert len(mail.outbox) == 2


def test_the_email_is_in_the_recipients_language(data, manager):  # noqa: F811
    manager.language = "ru"
    manager.save()
    BeaconRule.objects.all().delete()
    mail.outbox.clear()
    rule(name="Обещания")
    beacons.evaluate_all()
    assert mail.outbox[0].subject == "Сработал маяк: Обещания"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_notify_once(manager, owner, time_machine):
    """Two beat runs compute the figure at once, then race for the state row: PostgreSQL's
    row lock makes the second find the state moved (threads, real transactions)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL")
    time_machine.move_to(NOW, tick=False)
    BeaconRule.objects.all().delete()
    mail.outbox.clear()  # the dataset's own emails
    r = rule(metric="open_deals")
    make_deal(owner, stage_order=20)
    barrier = threading.Barrier(2)
    real_read = beacons.read

    def slow_read(*args, **kwargs):
        reading = real_read(*args, **kwargs)
        barrier.wait(timeout=10)  # both have read "1 open deal" before either writes
        return reading

    results = []

    def run():
        try:
            results.append(beacons.evaluate(BeaconRule.objects.get(pk=r.pk)))
        finally:
            connection.close()

    from unittest import mock

    with mock.patch.object(beacons, "read", slow_read):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(e is None for e in results) == [False, True]
    assert BeaconEvent.objects.filter(rule=r).count() == 1
    assert BeaconNotice.objects.count() == 1
    assert len(mail.outbox) == 1


def test_preview_counts_the_months_worked_by_hand(data):  # noqa: F811
    """Dec 2025 – Nov 2026: NPS exists in October (one passive: 0) and November (0); the
    other months have no answer (no figure: not counted)."""
    r = BeaconRule(metric="nps", operator="<", threshold=40)
    result = beacons.preview(r, NOW.date())
    assert result.fired == 2
    assert [row[0].month for row in result.rows if row[2]] == [10, 11]
    assert (
        beacons.preview(BeaconRule(metric="nps", operator="<", threshold=-10), NOW.date()).fired
        == 0
    )
    now_metric = BeaconRule(metric="promise_overdue", operator=">", threshold=0)
    assert beacons.preview(now_metric, NOW.date()).fired is None


# --- pages, form and API ------------------------------------------------------------------------
GOOD = {
    "name": "Lost clients",
    "metric": "promise_overdue",
    "scope": "company",
    "compare": "value",
    "operator": ">",
    "threshold": "0",
    "window_days": "30",
    "repeat_hours": "24",
    "active": "on",
}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"scope": "class"}, "scope_class", "Choose the ABC class."),
        ({"scope": "account_manager"}, "scope_account_manager", "Choose the account manager."),
        (
            {"metric": "revenue", "scope": "class", "scope_class": "A"},
            "scope",
            "cannot be narrowed",
        ),
        ({"compare": "change"}, "compare", "no previous period"),
        ({"window_days": "0"}, "window_days", "1 to 366 days"),
        ({"repeat_hours": "0"}, "repeat_hours", "1 to 744 hours"),
        ({"metric": "nope"}, "metric", "Select a valid choice"),
        ({"threshold": "lots"}, "threshold", "Enter a number"),
    ],
)
def test_bad_input_on_the_form_changes_nothing(manager, change, field, message):
    before = BeaconRule.objects.count()
    response = client_for(manager, "en").post(reverse("beacon_add"), GOOD | change)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert BeaconRule.objects.count() == before


def test_a_manager_saves_and_previews_a_rule(data, manager):  # noqa: F811
    http = client_for(manager, "en")
    preview = http.post(
        reverse("beacon_add"),
        GOOD | {"metric": "nps", "operator": "<", "threshold": "40", "preview": "1"},
    )
    assert preview.status_code == 200
    assert "would have fired in 2 months" in preview.content.decode()
    assert not BeaconRule.objects.filter(name="Lost clients").exists()
    saved = http.post(reverse("beacon_add"), GOOD)
    r = BeaconRule.objects.get(name="Lost clients")
    assert saved.status_code == 302 and BeaconState.objects.get(rule=r).state == "normal"


def test_firing_beacons_on_the_list_and_the_dashboard(data, manager, django_assert_max_num_queries):  # noqa: F811
    beacons.evaluate_all()
    http = client_for(manager, "en")
    with django_assert_max_num_queries(8):
        page = http.get(reverse("beacons")).content.decode()
    assert page.count("table-danger") == 5  # the deal rule has no ageing deal: normal
    board = http.get(reverse("dashboard")).content.decode()
    assert 'id="firing-beacons"' in board and "NPS below 40" in board


def test_account_managers_read_their_own_scope_only(data, manager, owner, outsider):  # noqa: F811
    own = rule(name="Owner's promises", scope="account_manager", scope_account_manager=owner)
    beacons.evaluate_all()
    owner_http, outsider_http = client_for(owner), client_for(outsider)
    assert owner_http.get(reverse("beacon_detail", args=[own.pk])).status_code == 200
    assert outsider_http.get(reverse("beacon_detail", args=[own.pk])).status_code == 404
    assert "Owner's promises" not in outsider_http.get(reverse("beacons")).content.decode()
    assert owner_http.get(reverse("beacon_edit", args=[own.pk])).status_code == 404
    assert owner_http.post(reverse("beacon_add"), GOOD).status_code == 404
    # the company-wide rules are a manager's: not on an account manager's dashboard
    assert 'id="firing-beacons"' not in outsider_http.get(reverse("dashboard")).content.decode()
    # the API
    api = "/api/beacon-rules/"
    assert [x["id"] for x in owner_http.get(api).json()["results"]] == [own.pk]
    assert outsider_http.get(api).json()["results"] == []
    assert outsider_http.get(f"{api}{own.pk}/").status_code == 404
    assert (
        owner_http.patch(f"{api}{own.pk}/", {"threshold": 5}, "application/json").status_code == 403
    )
    assert owner_http.post(api, GOOD, "application/json").status_code == 403
    assert owner_http.get(f"{api}{own.pk}/").json()["state"]["state"] == "firing"


def test_the_api_writes_for_managers_with_clear_errors(manager):
    http = client_for(manager, "en")
    api = "/api/beacon-rules/"
    bad = http.post(api, GOOD | {"scope": "segment"}, "application/json")
    assert bad.status_code == 400
    assert bad.json()["scope_segment"] == ["Choose the target segment."]
    created = http.post(api, GOOD | {"active": True}, "application/json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    changed = http.patch(f"{api}{pk}/", {"threshold": "3"}, "application/json")
    assert changed.status_code == 200 and changed.json()["threshold"] == "3.00"
    assert BeaconRule.objects.get(pk=pk).name == "Lost clients"


def test_the_digest_lists_the_firing_beacons(data, manager):  # noqa: F811
    from django.utils import translation

    from crm import digest
    from crm.periods import Period

    beacons.evaluate_all()
    week = Period(NOW.date() - timedelta(days=7), NOW.date())
    with translation.override("en"):
        _, body = digest.digest_content(manager, week, NOW.date())
    assert "Firing beacons" in body and "NPS below 40" in body


def test_the_notice_appears_for_its_recipient_only(data, manager, owner, outsider):  # noqa: F811
    BeaconRule.objects.all().delete()
    rule(name="Owner's promises", scope="account_manager", scope_account_manager=owner)
    beacons.evaluate_all()
    owner_http = client_for(owner, "en")
    listing = owner_http.get(reverse("beacons")).content.decode()
    assert 'id="beacon-unread">1<' in listing
    page = owner_http.get(reverse("beacon_notices")).content.decode()
    assert "Owner&#x27;s promises" in page and "promise_overdue=true" in page
    assert BeaconNotice.objects.get(recipient=owner).read_at is not None  # read once shown
    assert (
        "Owner&#x27;s promises"
        not in client_for(outsider).get(reverse("beacon_notices")).content.decode()
    )


def test_the_pages_open_in_both_languages(data, manager):  # noqa: F811
    beacons.evaluate_all()
    r = BeaconRule.objects.get(metric="nps")
    for language, word in (("en", "History"), ("ru", "История")):
        http = client_for(manager, language)
        assert word in http.get(reverse("beacon_detail", args=[r.pk])).content.decode()
        assert http.get(reverse("beacon_edit", args=[r.pk])).status_code == 200
        assert http.get(reverse("beacon_add")).status_code == 200
    now_rule = GOOD | {"preview": "1"}  # overdue promises: a state as of now
    page = client_for(manager, "en").post(reverse("beacon_add"), now_rule).content.decode()
    assert "it has no monthly history" in page


def _notices(user, n, read=False):
    """``n`` notices of one firing rule for ``user`` (one event each: a notice is once per
    recipient and event)."""
    from django.utils import timezone

    r = rule(name="Promises")
    now = timezone.now()
    events = BeaconEvent.objects.bulk_create(
        [
            BeaconEvent(rule=r, at=now, from_state="normal", to_state="firing", threshold=0)
            for _ in range(n)
        ]
    )
    BeaconNotice.objects.bulk_create(
        [
            BeaconNotice(recipient=user, event=e, created_at=now, read_at=now if read else None)
            for e in events
        ]
    )


def _notice_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "crm_beaconnotice" in q["sql"]]


def test_the_navigation_bell_counts_unread_notices_in_one_bounded_query(manager, owner):
    from django.test.utils import CaptureQueriesContext

    _notices(manager, 3)
    _notices(manager, 2, read=True)
    _notices(owner, 1)  # someone else's
    http = client_for(manager, "en")
    with CaptureQueriesContext(connection) as ctx:
        page = http.get(reverse("profile")).content.decode()
    assert 'aria-label="Beacon notices: 3 unread"' in page
    assert 'id="nav-unread" aria-hidden="true">3<' in page
    counted = _notice_queries(ctx.captured_queries)
    assert len(counted) == 1 and "LIMIT 100" in counted[0]  # one query, bounded at 99 + 1
    ru = client_for(manager, "ru").get(reverse("profile")).content.decode()
    assert 'aria-label="Уведомления маяков: 3 непрочитанных"' in ru


def test_the_bell_reads_99_plus_past_the_cap_and_one_in_russian(manager, owner):
    _notices(manager, 100)
    page = client_for(manager, "en").get(reverse("beacons")).content.decode()
    assert 'aria-label="Beacon notices: more than 99 unread"' in page
    assert 'id="nav-unread" aria-hidden="true">99+<' in page
    assert 'id="beacon-unread">99+<' in page  # the beacons page's own link reads the same
    _notices(owner, 1)
    ru = client_for(owner, "ru").get(reverse("dashboard")).content.decode()
    assert 'aria-label="Уведомления маяков: 1 непрочитанное"' in ru


def test_the_badge_is_gone_once_the_notices_are_opened(manager):
    _notices(manager, 2)
    http = client_for(manager, "en")
    assert 'id="nav-unread"' in http.get(reverse("dashboard")).content.decode()
    opened = http.get(reverse("beacon_notices")).content.decode()
    # shown as new this once, but already read: no badge on the notices page itself
    assert opened.count('class="badge rounded-pill text-bg-primary"') == 2
    assert 'id="nav-unread"' not in opened and 'aria-current="page" aria-label' in opened
    after = http.get(reverse("dashboard")).content.decode()
    assert 'id="nav-unread"' not in after and 'aria-label="Beacon notices"' in after


def test_no_bell_and_no_count_without_the_navigation(manager):
    from django.test.utils import CaptureQueriesContext

    _notices(manager, 1)
    with CaptureQueriesContext(connection) as ctx:
        api = client_for(manager).get("/api/beacon-rules/")
    assert api.status_code == 200 and not _notice_queries(ctx.captured_queries)
    login = DjangoClient().get(reverse("login")).content.decode()
    assert 'id="nav-notices"' not in login
