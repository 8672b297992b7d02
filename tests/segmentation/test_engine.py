"""The whole run against the database (SQLite here, PostgreSQL in CI): classes, metrics,
history, atomicity, the lock and idempotency. Expected values are worked out by hand."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from clients.models import Client, Settlement
from segmentation import selectors, services, tasks
from segmentation.models import ClassChange, ClientMetrics, SegmentationRun
from tests.factories import ClientFactory
from tests.segmentation.conftest import AS_OF, recompute, sale

pytestmark = pytest.mark.django_db


def classes() -> dict[str, tuple]:
    """Each client's current (ABC, XYZ, lifecycle); (None, None, None) before any run."""
    return {
        name: (abc, xyz, lifecycle)
        for name, abc, xyz, lifecycle in Client.objects.values_list(
            "name", "metrics__abc_class", "metrics__xyz_class", "metrics__lifecycle"
        )
    }


def current(client) -> ClientMetrics:
    return ClientMetrics.objects.get(client=client)


def test_one_run_classifies_every_client(base):
    # window 2025: turnover regular 6000, other 1200, restored 1000, new 600, lost 200 (9000)
    run = recompute()
    assert classes() == {
        "Regular": ("A", "X", "regular"),  # share before 0
        "Other": ("B", "X", "regular"),  # before 6000/9000 = 66.7 %
        "Restored": ("C", "Z", "restored"),  # before 7200/9000 = exactly 80 % → C
        "New": ("C", None, "new"),  # 2 months of history: no XYZ
        "Lost": ("C", "Z", "lost"),  # only March 2025: none in P0
        "Potential": (None, None, "potential"),
    }
    assert run.clients_processed == 6
    assert run.changes == 6
    assert run.window_start == date(2025, 1, 1) and run.window_end == date(2026, 1, 1)
    assert run.summary["matrix"]["AX"] == {"clients": 1, "cents": 600000}
    assert run.summary["matrix"]["Cnone"] == {"clients": 1, "cents": 60000}
    assert run.summary["lifecycle"]["potential"] == 1


def test_metrics_explain_the_classes(base):
    recompute()
    m = {x.client.name: x for x in ClientMetrics.objects.select_related("client")}
    # a client without settlements: its status, no classes, no figures
    potential = m["Potential"]
    assert (potential.lifecycle, potential.abc_class, potential.xyz_class) == (
        "potential",
        None,
        None,
    )
    assert (potential.turnover, potential.first_date, potential.abc_rank) == (0, None, None)
    assert m["Regular"].turnover == Decimal("6000.00")
    assert m["Other"].share_before == pytest.approx(6000 / 9000)
    assert m["Restored"].share_before == pytest.approx(0.8)
    assert m["Restored"].months_history == 11  # February … December
    assert m["Restored"].mean_monthly == Decimal("90.91")
    assert m["New"].months_history == 2 and m["New"].cv is None
    assert m["Regular"].cv == 0
    assert m["Lost"].first_date == date(2025, 3, 1) == m["Lost"].last_date
    # RFM by hand: recency 36, 36, 45, 26, 320 days; frequency 12, 12, 2, 2, 1
    rfm = {name: x.rfm for name, x in m.items()}
    assert rfm == {
        "Regular": "455",
        "Other": "454",
        "Restored": "233",
        "New": "532",
        "Lost": "111",
        "Potential": "",  # no settlements in the window: no RFM
    }


def test_lifecycle_period_boundaries(db):
    # run date D = 2026-01-15 (mid-month), W = 3: P0 = [2025-10-15, 2026-01-15),
    # P1 = [2025-07-15, 2025-10-15); the analysis window is 2025-01-01 … 2025-12-31
    cases = {
        "first day of P0": ([date(2025, 1, 10), date(2025, 10, 15)], "restored"),
        "last day of P1": ([date(2025, 1, 10), date(2025, 10, 14)], "lost"),
        "on the run date": ([date(2025, 1, 10), date(2026, 1, 15)], "lost"),
        "day before the run date": ([date(2025, 1, 10), date(2026, 1, 14)], "restored"),
        "first day of P1": ([date(2025, 7, 15), date(2025, 11, 1)], "regular"),
        "day before P1": ([date(2025, 7, 14), date(2025, 11, 1)], "restored"),
        "new on the first day of P0": ([date(2025, 10, 15)], "new"),
        "first ever on the last day of P1": ([date(2025, 10, 14), date(2025, 11, 1)], "regular"),
        "only on the run date": ([date(2026, 1, 15)], "potential"),
        "only after the run date": ([date(2026, 2, 1)], "potential"),
    }
    clients = {name: ClientFactory(name=name) for name in cases}
    for name, (days, _expected) in cases.items():
        for day in days:
            sale(clients[name], day, 100)
    recompute()
    assert {name: current(c).lifecycle for name, c in clients.items()} == {
        name: expected for name, (_days, expected) in cases.items()
    }
    # a settlement on the run date is not seen at all: not in the last date, not in RFM
    on_run_date = current(clients["on the run date"])
    assert on_run_date.last_date == date(2025, 1, 10)
    assert on_run_date.frequency == 1
    assert current(clients["only on the run date"]).abc_class is None


def test_run_on_the_first_of_a_month(db):
    # D = 2025-07-01, W = 3: P0 = [2025-04-01, 2025-07-01) = April … June, P1 = January … March
    regular, new, lost = (ClientFactory(name=n) for n in ("regular", "new", "lost"))
    sale(regular, date(2025, 2, 3), 100)
    sale(regular, date(2025, 4, 1), 100)  # the first day of P0
    for month in (4, 5, 6):  # first purchase 15 April: touches three calendar months
        sale(new, date(2025, month, 15), 100)
    sale(lost, date(2025, 3, 31), 100)  # the last day of P1
    sale(lost, date(2025, 7, 1), 100)  # the run date itself: not seen
    run = recompute(as_of=date(2025, 7, 1))
    assert run.window_start == date(2024, 7, 1) and run.window_end == date(2025, 7, 1)
    assert current(regular).lifecycle == "regular"
    assert current(lost).lifecycle == "lost"
    new_metrics = current(new)
    assert new_metrics.lifecycle == "new"
    assert new_metrics.months_history == 3  # April, May, June: CV 0 would be X …
    assert (new_metrics.abc_class, new_metrics.xyz_class, new_metrics.cv) == ("A", None, None)


def test_zero_amount_settlements_are_purchases(db):
    # D = 2026-01-15. "free": a paid sale before P1, then only free goods in P0
    free, only_free = ClientFactory(name="free"), ClientFactory(name="only free")
    sale(free, date(2025, 1, 10), 100)
    sale(free, date(2025, 11, 10), 0)
    sale(only_free, date(2025, 12, 1), 0)
    recompute()
    m = current(free)
    assert m.lifecycle == "restored"  # the zero-amount settlement is a purchase in P0
    assert m.frequency == 2
    assert m.turnover == Decimal("100.00")  # adds nothing to the turnover
    assert m.last_date == date(2025, 11, 10)
    n = current(only_free)
    assert n.lifecycle == "new"
    assert (n.abc_class, n.turnover, n.frequency) == ("C", Decimal("0.00"), 1)
    assert n.share_before == 1.0  # ranks after the paying client: all of the turnover before it


def test_lost_then_restored_is_in_the_history(db):
    client = ClientFactory(name="Comeback")
    sale(client, date(2025, 1, 10), 100)
    sale(client, date(2025, 2, 10), 100)
    first = recompute(as_of=date(2025, 9, 1))  # P0 = [2025-06-01, 2025-09-01): nothing
    assert current(client).lifecycle == "lost"
    sale(client, date(2025, 12, 1), 100)
    second = recompute()
    assert current(client).lifecycle == "restored"
    history = list(ClassChange.objects.filter(client=client).order_by("date"))
    assert [(h.run_id, h.lifecycle_old, h.lifecycle_new) for h in history] == [
        (first.pk, None, "lost"),
        (second.pk, "lost", "restored"),
    ]
    assert history[0].abc_new == "A" and history[0].abc_move == "gained"


def test_history_only_for_changed_clients_and_second_run_changes_nothing(base):
    recompute()
    assert ClassChange.objects.count() == 6
    before = classes()
    metrics_before = list(ClientMetrics.objects.order_by("pk").values())
    run = recompute()
    assert run.changes == 0
    assert ClassChange.objects.count() == 6
    assert classes() == before
    assert list(ClientMetrics.objects.order_by("pk").values()) == metrics_before


def test_a_change_writes_one_history_row_with_the_move(base):
    recompute()
    sale(base["lost"], date(2025, 6, 1), 20000)  # now the biggest client
    run = recompute()
    change = ClassChange.objects.get(run=run, client=base["lost"])
    assert (change.abc_old, change.abc_new, change.abc_move) == ("C", "A", "up")
    assert ClassChange.objects.filter(run=run, abc_move="down").exists()  # Regular: A → B
    report = selectors.changes_report(base["lost"].account_manager, AS_OF, AS_OF)
    assert report["upgrades"] == 1


def test_a_run_that_fails_half_way_changes_nothing_and_logs_the_error(base, monkeypatch):
    recompute()
    before = classes()
    history = ClassChange.objects.count()
    metrics = list(ClientMetrics.objects.order_by("pk").values())
    sale(base["lost"], date(2025, 6, 1), 20000)

    def boom(**kwargs):  # classes and metrics are written by now: must roll back
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "write_history", boom)
    run = services.recompute(trigger="command", as_of=AS_OF)
    assert run.status == SegmentationRun.Status.FAILED
    assert "disk on fire" in run.error
    assert run.finished_at is not None
    assert classes() == before
    assert ClassChange.objects.count() == history
    assert list(ClientMetrics.objects.order_by("pk").values()) == metrics
    # and the lock is released: the next run goes through
    monkeypatch.undo()
    assert recompute().changes > 0


def test_second_run_is_refused_while_one_is_running(base):
    first = services.run_request(trigger="manual")
    with pytest.raises(services.RunRefused, match=f"#{first.pk}"):
        services.run_request(trigger="manual")
    assert SegmentationRun.objects.filter(status="running").count() == 1
    services.run_execute(run_id=first.pk)
    assert services.run_request(trigger="manual").pk != first.pk


def test_nightly_task_is_refused_while_a_run_is_in_progress(base):
    services.run_request(trigger="manual")
    result = tasks.recompute.delay().get()
    assert "already in progress" in result["refused"]
    assert SegmentationRun.objects.count() == 1


def test_executing_a_finished_run_again_does_nothing(base):
    run = recompute()
    again = services.run_execute(run_id=run.pk)
    assert again.status == "success" and again.attempts == 1
    assert ClassChange.objects.count() == 6


def test_a_run_abandoned_by_a_dead_worker_is_taken_over_by_the_retried_task(base, settings):
    run = services.run_request(trigger="manual", as_of=AS_OF)
    # the first worker claimed it and died (its transaction rolled back, nothing written)
    SegmentationRun.objects.filter(pk=run.pk).update(attempts=1, stage="aggregating")
    result = tasks.execute_run.delay(run.pk).get()
    assert result["status"] == "success"
    run.refresh_from_db()
    assert run.attempts == 2
    assert ClassChange.objects.filter(run=run).count() == 6
    assert tasks.execute_run.delay(run.pk).get()["status"] == "success"  # redelivered: no-op
    assert ClassChange.objects.count() == 6


def test_a_stale_running_run_does_not_block_new_runs_forever(base, settings):
    settings.CELERY_TASK_TIME_LIMIT = -120  # everything is older than the limit
    stale = services.run_request(trigger="manual")
    SegmentationRun.objects.filter(pk=stale.pk).update(attempts=1)
    if services.connection.vendor == "postgresql":
        settings.CELERY_TASK_TIME_LIMIT = 3600  # PostgreSQL knows: no session holds the lock
    fresh = services.run_request(trigger="manual")
    stale.refresh_from_db()
    assert stale.status == "failed" and "Interrupted" in stale.error
    assert fresh.status == "running"


@pytest.mark.django_db(transaction=True)
def test_beat_entry_exists_after_migrate():
    # undo and redo the data migration (other transactional tests may have flushed its rows)
    call_command("migrate", "segmentation", "0001", verbosity=0)
    assert not PeriodicTask.objects.filter(task="segmentation.recompute").exists()
    # every app forward again: going back to segmentation 0001 also unapplied the migrations
    # of the apps that depend on its later ones (clients, surveys)
    call_command("migrate", verbosity=0)
    entry = PeriodicTask.objects.get(task="segmentation.recompute")
    assert entry.enabled
    assert (entry.crontab.hour, entry.crontab.minute) == ("2", "30")
    assert str(entry.crontab.timezone) == "Europe/Moscow"


def test_nightly_task_runs_eagerly(base, time_machine):
    time_machine.move_to("2026-01-15 03:00:00+03:00")
    result = tasks.recompute.delay().get()
    assert result["status"] == "success" and result["clients"] == 6
    assert SegmentationRun.objects.get().trigger == "schedule"


def test_management_command_prints_a_summary(base, capsys):
    call_command("recompute_segments", "--as-of", "2026-01-15")
    out = capsys.readouterr().out
    assert "6 clients, 6 changed" in out
    assert "ABC" in out


def test_cadence_comes_from_the_settings(db):
    assert selectors.cadence_days_by_class() == {"A": 14, "B": 30, "C": 90, None: 30}
    services.settings_update(actor=None, data={"cadence_a_days": 7, "cadence_none_days": 45})
    assert selectors.cadence_days_by_class() == {"A": 7, "B": 30, "C": 90, None: 45}


def test_margin_basis(db):
    big_turnover, big_margin = ClientFactory(), ClientFactory()
    sale(big_turnover, date(2025, 5, 1), 1000)
    sale(big_margin, date(2025, 5, 1), 500)
    Settlement.objects.filter(client=big_turnover).update(margin=Decimal("10"))
    Settlement.objects.filter(client=big_margin).update(margin=Decimal("200"))
    services.settings_update(actor=None, data={"abc_basis": "margin"})
    recompute()
    assert (current(big_margin).abc_class, current(big_turnover).abc_class) == ("A", "C")


def test_deleting_a_client_deletes_its_classes_and_history(base):
    # the keys carry no database constraint (ClientMetrics): Django's CASCADE must do it
    recompute()
    gone = base["regular"]
    assert ClientMetrics.objects.filter(client=gone).exists()
    assert ClassChange.objects.filter(client=gone).exists()
    gone.delete()
    assert not ClientMetrics.objects.filter(client_id=gone.pk).exists()
    assert not ClassChange.objects.filter(client_id=gone.pk).exists()
    run = recompute()
    assert run.status == "success" and ClientMetrics.objects.count() == len(base) - 1


def test_a_row_of_a_client_deleted_behind_djangos_back_is_dropped_by_the_next_run(base):
    recompute()
    ghost = base["lost"].pk
    Settlement.objects.filter(client_id=ghost).delete()
    Client.objects.filter(pk=ghost)._raw_delete(using="default")  # SQL DELETE, no cascade
    assert ClientMetrics.objects.filter(client_id=ghost).exists()
    run = recompute()
    assert run.status == "success"
    assert not ClientMetrics.objects.filter(client_id=ghost).exists()
