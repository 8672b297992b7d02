"""Writes of the segmentation app: the settings record and the runs.

A run has two phases:

1. ``run_request`` inserts a RUNNING run row. A partial unique constraint allows one RUNNING
   row only, so a second request is refused (``RunRefused``) — the lock works the same on
   SQLite and PostgreSQL. The run stores its parameters (run date + settings snapshot), so
   executing it again computes the same thing.
2. ``run_execute`` computes everything *outside* any transaction (SQL aggregation + pandas),
   then writes classes, metrics, history and the run's success in **one** transaction. Any
   exception rolls that transaction back — the previous classes stay — and the run is marked
   failed with the error (written after the rollback). A killed worker's transaction is rolled
   back by the database; the run row stays RUNNING and is recognised as abandoned (on
   PostgreSQL its session advisory lock is gone; elsewhere after the task time limit), so the
   retried task takes it over and a new request is not blocked forever.

Executing a run that is already finished does nothing (idempotent: a redelivered task message
completes the run once).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import date, timedelta

from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clients import versions as client_versions
from clients.models import Client, Settlement
from crm.queue import enqueue
from crm.selectors import outbox_waiting
from crm.services import save_with_audit
from segmentation import analytics, extensions, loading, writers
from segmentation.models import ClientMetrics, SegmentationRun, SegmentationSettings
from segmentation.selectors import settings_load

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x5E6_0001  # "the segmentation engine" for pg_try_advisory_lock
SETTINGS_FIELDS = [
    "abc_basis",
    "abc_a_pct",
    "abc_b_pct",
    "window_months",
    "xyz_x_pct",
    "xyz_y_pct",
    "lifecycle_months",
    "cadence_a_days",
    "cadence_b_days",
    "cadence_c_days",
    "cadence_none_days",
]


class RunRefused(Exception):
    """A run is already in progress; the new one is not started."""


def stale_after() -> timedelta:
    """After this a RUNNING run whose worker left no sign of life is abandoned."""
    return timedelta(seconds=django_settings.CELERY_TASK_TIME_LIMIT + 60)


# --- settings ---------------------------------------------------------------------------------
@transaction.atomic
def settings_update(*, actor, data: dict) -> SegmentationSettings:
    """Save validated settings (the form/serializer validated ``data``; the model's
    full_clean and DB constraints check again); audited when something changed."""
    instance, _ = SegmentationSettings.objects.select_for_update().get_or_create(
        pk=SegmentationSettings.SINGLETON_ID
    )
    instance.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    return save_with_audit(
        actor=actor,
        instance=instance,
        data={name: data[name] for name in SETTINGS_FIELDS if name in data},
    )


def params_from_settings(settings: SegmentationSettings, as_of: date) -> analytics.Params:
    return analytics.Params(
        as_of=as_of,
        window_months=settings.window_months,
        basis=settings.abc_basis,
        abc_a_pct=settings.abc_a_pct,
        abc_b_pct=settings.abc_b_pct,
        xyz_x_pct=settings.xyz_x_pct,
        xyz_y_pct=settings.xyz_y_pct,
        lifecycle_months=settings.lifecycle_months,
    )


def params_from_run(run: SegmentationRun) -> analytics.Params:
    return analytics.Params.from_json(run.parameters)


# --- the lock ---------------------------------------------------------------------------------
@contextmanager
def engine_lock():
    """PostgreSQL: a session advisory lock held while a run executes; it vanishes with the
    session when a worker dies. Other databases: the one-RUNNING-row constraint and the
    single writer transaction are the lock (yields True)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


def _engine_busy() -> bool:
    """Is some session executing a run right now? (PostgreSQL only; else None semantics.)"""
    with engine_lock() as acquired:
        return not acquired


def _is_abandoned(run: SegmentationRun, now) -> bool:
    if run.attempts == 0:  # never picked up: the message was lost if it is this old
        return run.requested_at < now - stale_after()
    if connection.vendor == "postgresql":
        return not _engine_busy()
    return (run.started_at or run.requested_at) < now - stale_after()


def _fail(run_id: int, message: str, *, attempts: int | None = None) -> int:
    """Mark a RUNNING run failed (outside any rolled-back transaction)."""
    now = timezone.now()
    filters = {"pk": run_id, "status": SegmentationRun.Status.RUNNING}
    if attempts is not None:
        filters["attempts"] = attempts
    run = SegmentationRun.objects.filter(pk=run_id).only("started_at", "requested_at").first()
    started = (run.started_at or run.requested_at) if run else now
    return SegmentationRun.objects.filter(**filters).update(
        status=SegmentationRun.Status.FAILED,
        error=message[:5000],
        finished_at=now,
        duration_seconds=(now - started).total_seconds(),
        stage=_("failed"),
    )


def _release_abandoned() -> None:
    now = timezone.now()
    for run in SegmentationRun.objects.filter(status=SegmentationRun.Status.RUNNING):
        if _is_abandoned(run, now):
            _fail(
                run.pk,
                _("Interrupted: the worker stopped before the run finished."),
                attempts=run.attempts,
            )


# --- runs -------------------------------------------------------------------------------------
def run_request(*, trigger: str, actor=None, as_of: date | None = None) -> SegmentationRun:
    """Create the RUNNING run row (the lock) or raise RunRefused if one is in progress."""
    _release_abandoned()
    run_date = as_of or timezone.localdate()
    params = params_from_settings(settings_load(), run_date)
    try:
        with transaction.atomic():
            return SegmentationRun.objects.create(
                status=SegmentationRun.Status.RUNNING,
                trigger=trigger,
                requested_by=actor if getattr(actor, "is_authenticated", False) else None,
                as_of=run_date,
                window_start=params.window_start,
                window_end=params.window_end,
                parameters=params.as_json(),
                stage=_("queued"),
            )
    except IntegrityError as exc:
        active = SegmentationRun.objects.filter(status=SegmentationRun.Status.RUNNING).first()
        text = (
            _(
                "A recompute is already queued (run #%(id)s, requested %(at)s); it starts as "
                "soon as the background queue is back."
            )
            if active is not None and run_waiting_for_queue(active)
            else _("A recompute is already in progress (run #%(id)s, requested %(at)s).")
        )
        raise RunRefused(
            text
            % {
                "id": active.pk if active else "?",
                "at": timezone.localtime(active.requested_at).strftime("%Y-%m-%d %H:%M")
                if active
                else "?",
            }
        ) from exc


def _progress(run_id: int, progress: int, stage: str, **extra) -> None:
    SegmentationRun.objects.filter(pk=run_id, status=SegmentationRun.Status.RUNNING).update(
        progress=progress, stage=stage, **extra
    )


def compute(params: analytics.Params) -> analytics.Result:
    """Aggregate in the database and classify (reads only)."""
    frames = loading.load_frames(
        connection,
        params,
        settlement_table=Settlement._meta.db_table,
        client_table=Client._meta.db_table,
        classes_table=ClientMetrics._meta.db_table,
    )
    return analytics.classify(frames, params, consume=True)


def _write(run: SegmentationRun, result: analytics.Result, started: float) -> int:
    """Everything a run changes, in one transaction (the caller's atomic block)."""
    locked = (
        SegmentationRun.objects.select_for_update()
        .filter(pk=run.pk, status=SegmentationRun.Status.RUNNING)
        .first()
    )
    if locked is None:
        raise RunRefused(_("The run was finished or cancelled meanwhile."))
    changed = writers.stage_results(connection, result)
    writers.upsert_metrics(connection)
    write_history(run_id=run.pk, run_date=run.as_of)
    writers.drop_stages(connection)
    extensions.classes_changed(run.pk)
    now = timezone.now()
    SegmentationRun.objects.filter(pk=run.pk).update(
        status=SegmentationRun.Status.SUCCESS,
        finished_at=now,
        duration_seconds=round(time.perf_counter() - started, 3),
        clients_processed=len(result.frame),
        changes=changed,
        progress=100,
        stage=_("finished"),
        error="",
        summary=result.summary,
    )
    client_versions.bump_after_commit()  # the dashboard's class figures (clients.versions)
    return changed


def write_history(*, run_id: int, run_date: date) -> int:
    """History rows for the changed clients (a seam tests use to fail a run half-way)."""
    return writers.insert_history(connection, run_id=run_id, run_date=run_date)


def run_execute(*, run_id: int) -> SegmentationRun:
    """Execute a requested run. Idempotent: a finished run is returned as it is."""
    run = SegmentationRun.objects.get(pk=run_id)
    if run.status != SegmentationRun.Status.RUNNING:
        return run
    with engine_lock() as acquired:
        if not acquired:
            logger.info("segmentation run %s is being executed by another worker", run_id)
            return run
        run.refresh_from_db()
        if run.status != SegmentationRun.Status.RUNNING:
            return run
        started = time.perf_counter()
        _progress(
            run.pk,
            5,
            _("aggregating settlements"),
            attempts=F("attempts") + 1,
            started_at=timezone.now(),
        )
        run.refresh_from_db()
        try:
            params = params_from_run(run)
            result = compute(params)
            _progress(run.pk, 70, _("writing classes"))
            with transaction.atomic():
                changed = _write(run, result, started)
            if changed:
                writers.refresh_statistics(connection)
        except Exception as exc:
            logger.exception("segmentation run %s failed", run_id)
            _fail(run.pk, f"{type(exc).__name__}: {exc}")
    run.refresh_from_db()
    return run


EXECUTE_TASK = "segmentation.execute_run"  # segmentation.tasks.execute_run


def run_start(*, actor, trigger: str = SegmentationRun.Trigger.MANUAL) -> SegmentationRun:
    """Request a run and queue its execution ("Recompute now", API); raises RunRefused.

    The run row and its outbox message are written in one transaction: with the broker down
    the run waits as "queued" and starts once the message is published (crm.queue); it never
    stays RUNNING with no message on its way."""
    with transaction.atomic():
        run = run_request(trigger=trigger, actor=actor)
        enqueue(EXECUTE_TASK, run.pk)
    return run


def run_waiting_for_queue(run: SegmentationRun) -> bool:
    """The run's message is still in the outbox (the broker could not be reached yet)."""
    return run.is_running and run.attempts == 0 and outbox_waiting(EXECUTE_TASK, run.pk)


def recompute(*, trigger: str, actor=None, as_of: date | None = None) -> SegmentationRun:
    """Request and execute a run synchronously (management command, nightly task)."""
    run = run_request(trigger=trigger, actor=actor, as_of=as_of)
    return run_execute(run_id=run.pk)
