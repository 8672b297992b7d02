"""The daily pipeline digest and My day's deals block, with frozen time (20 March 2026, 07:30
Moscow time, the beat's hour)."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from crm.models import OutboxMessage
from sales import digest, services, tasks
from sales.models import DealDigest
from tests.factories import UserFactory
from tests.sales.kanban_helpers import make_deal

pytestmark = pytest.mark.django_db

NOW = "2026-03-20 07:30:00+03:00"
TODAY = date(2026, 3, 20)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def deals(owner):
    """One deal per kind of item, and deals that need nothing."""
    return {
        # invoice due yesterday, a next step planned: only the control date
        "overdue": make_deal(
            owner,
            title="Invoice late",
            entered="2026-03-18 10:00",
            invoice_due=date(2026, 3, 19),
            proposal_valid_until=date(2026, 3, 20),  # today: not passed yet
            next_step_date=date(2026, 3, 25),
        ),
        # Needs (14 days) entered 5 March = day 15: yellow; its next step was yesterday
        "ageing": make_deal(
            owner, title="Slow one", entered="2026-03-05 10:00", next_step_date=date(2026, 3, 19)
        ),
        # fresh, no next step
        "no_step": make_deal(owner, title="No plan", entered="2026-03-19 10:00"),
        # red but paused by a future next step: nothing
        "paused": make_deal(
            owner, title="Paused", entered="2026-01-05 10:00", next_step_date=date(2026, 3, 21)
        ),
        # fine
        "fine": make_deal(
            owner, title="Fine", entered="2026-03-19 10:00", next_step_date=date(2026, 3, 22)
        ),
    }


def _titles(rows):
    return [getattr(r, "deal", r).title for r in rows]


def test_digest_items(owner, deals):
    items = digest.digest_items(owner, today=TODAY)
    assert _titles(items.overdue) == ["Invoice late"]
    with translation.override("en"):
        assert [(str(k), d) for k, d in items.overdue[0].dates] == [
            ("invoice due", date(2026, 3, 19))
        ]
    assert _titles(items.ageing) == ["Slow one"] and items.ageing[0].ageing == "yellow"
    assert _titles(items.no_next_step) == ["No plan"]
    assert items.total == 3


def test_a_list_is_cut_at_the_limit_not_its_size(owner, deals):
    make_deal(owner, title="No plan either", entered="2026-03-19 11:00")
    items = digest.digest_items(owner, today=TODAY, limit=1)
    assert _titles(items.no_next_step) == ["No plan"] and items.no_next_step_total == 2
    assert items.total == 4


def test_closed_deals_and_other_owners_deals_are_left_out(owner, outsider, deals):
    services.deal_win(actor=owner, deal=deals["overdue"])
    make_deal(outsider, title="Theirs", entered="2026-01-05 10:00")
    items = digest.digest_items(owner, today=TODAY)
    assert items.overdue_total == 0 and items.total == 2


def _run_beat(capture):
    with capture(execute=True):
        return tasks.queue_digests.apply().get()


def test_the_beat_emails_each_owner_once_a_day(
    owner, outsider, deals, django_capture_on_commit_callbacks
):
    owner.language = "ru"
    owner.save()
    quiet = UserFactory(username="quiet")  # an owner with nothing to say
    make_deal(quiet, entered="2026-03-19 10:00", next_step_date=date(2026, 3, 22))
    assert _run_beat(django_capture_on_commit_callbacks) == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    assert message.subject == "Сделки, требующие внимания, на 20.03.2026: 3"
    body = message.body
    assert "Просроченные контрольные даты (1):" in body and "19.03.2026" in body
    assert "Invoice late" in body
    assert "Стареющие сделки (1):" in body and "Slow one" in body and "жёлтая" in body
    assert "Открытые сделки без следующего шага (1):" in body and "No plan" in body
    assert "Paused" not in body and "Fine" not in body
    assert "http://127.0.0.1:8000" + reverse("sales:detail", args=[deals["no_step"].pk]) in body
    assert "/sales/board/?ageing=any" in body
    # both rows are done; the quiet owner's with nothing sent
    rows = {d.owner_id: d for d in DealDigest.objects.all()}
    assert rows[owner.pk].items == 3 and rows[owner.pk].done_at is not None
    assert rows[quiet.pk].items == 0 and rows[quiet.pk].done_at is not None
    # a second run the same day (a retried beat) queues and sends nothing
    assert _run_beat(django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1


def test_a_redelivered_send_task_sends_nothing_twice(
    owner, deals, django_capture_on_commit_callbacks
):
    _run_beat(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    row = DealDigest.objects.get(owner=owner)
    message = OutboxMessage.objects.get(task="sales.send_digest")
    assert message.args == [row.pk]
    assert tasks.send_digest.apply(args=[row.pk]).get() is False
    assert len(mail.outbox) == 1


def test_an_smtp_failure_leaves_the_digest_to_retry(owner, deals, monkeypatch):
    DealDigest.objects.create(owner=owner, day=TODAY)
    row = DealDigest.objects.get()

    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(digest, "send_mail", refuse)
    with pytest.raises(OSError):
        digest.digest_send(row.pk)
    row.refresh_from_db()
    assert row.done_at is None
    monkeypatch.undo()
    assert digest.digest_send(row.pk) is True
    assert len(mail.outbox) == 1


def test_english_digest(owner, deals):
    owner.language = "en"
    owner.save()
    row = DealDigest.objects.create(owner=owner, day=TODAY)
    assert digest.digest_send(row.pk)
    message = mail.outbox[0]
    assert message.subject == "Deals that need attention on 2026-03-20: 3"
    assert "Control dates passed (1):" in message.body
    assert "invoice due 2026-03-19" in message.body
    assert "Ageing deals (1):" in message.body and "yellow" in message.body


def test_the_beat_entry_exists():
    entry = PeriodicTask.objects.get(task="sales.queue_digests")
    assert entry.enabled and entry.crontab.hour == "7"


def test_my_day_shows_the_same_items(owner, deals, owner_client):
    html = owner_client.get(reverse("clients:my_day")).content.decode()
    block = html[html.index('id="deals-attention"') :]
    assert "Сделки, требующие внимания" in block
    for title in ("Invoice late", "Slow one", "No plan"):
        assert title in block
    assert "Paused" not in block and "Fine" not in block
    assert 'data-item="overdue"' in block and 'data-item="ageing"' in block
    assert 'data-item="no-next-step"' in block


def test_my_day_without_deals_has_no_deals_block(owner_client):
    html = owner_client.get(reverse("clients:my_day")).content.decode()
    assert 'id="deals-attention"' not in html


def test_my_day_query_count_is_bounded(owner, deals, owner_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        owner_client.get(reverse("clients:my_day"))
    for _ in range(10):
        make_deal(owner, entered="2026-03-01 10:00")
    with django_assert_max_num_queries(25):
        owner_client.get(reverse("clients:my_day"))
