"""Through a real Celery worker (PostgreSQL: the worker process must see the committed data).

"The task retried after a worker restart completes once": with acks_late the message of a task
whose worker dies stays unacknowledged in Redis, and a worker hands it out again once it is
older than the visibility timeout. The restart test kills a worker for real (SIGKILL to its
whole process group) while it is executing a run, starts a fresh worker and checks that the
redelivered task completes the run exactly once: one success, one set of history rows.
"""

import contextlib
import os
import re
import signal
import subprocess
import time
import uuid

import pytest
from django.db import connection

from clients.models import Settlement
from crm.celery import app as celery_app
from segmentation import services
from segmentation.models import ClassChange, SegmentationRun
from segmentation.tasks import execute_run, recompute
from tests.conftest import celery_worker_argv, celery_worker_env, start_celery_worker
from tests.segmentation.conftest import AS_OF

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 3  # seconds, for the restart test's own workers only


def _wait_for(what: str, check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def _query(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _engine_lock_holders() -> set[int]:
    """Backends holding the engine's advisory lock (a bigint key: classid = high half, objid =
    low half, objsubid = 1)."""
    key = services.ADVISORY_LOCK_KEY
    rows = _query(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s AND objid = %s AND objsubid = 1",
        [key >> 32, key & 0xFFFFFFFF],
    )
    return {pid for (pid,) in rows}


def _blocked_by(pid: int) -> set[int]:
    rows = _query(
        "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
        [pid],
    )
    return {blocked for (blocked,) in rows}


def _backend_alive(pid: int) -> bool:
    return bool(_query("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]))


def _stop(proc: subprocess.Popen) -> None:
    """Stop a worker started in a session of its own: a warm shutdown of the main process,
    then SIGKILL to its process group so no pool child outlives the test."""
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.fixture
def not_eager():
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = True


def test_task_retried_after_a_worker_restart_completes_once(
    postgres_required, redis_required, not_eager, base, tmp_path
):
    """A worker is SIGKILLed while it executes a run; a fresh worker gets the message again and
    completes the run once.

    The workers consume a queue of their own (the session worker consumes only the default
    queue), so only they can take the message. The run is held mid-way by a table lock taken
    from a connection of the test: the worker claims the run (attempts=1, committed) and then
    blocks reading the settlements — provably inside the task, holding the engine's advisory
    lock.
    """
    queue = f"seg-restart-{uuid.uuid4().hex[:8]}"
    run = services.run_request(trigger="manual", as_of=AS_OF)

    def worker(name: str) -> subprocess.Popen:
        env = celery_worker_env(tmp_path, CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
        argv = celery_worker_argv(name, "--pool=prefork", "--concurrency=1", f"--queues={queue}")
        return start_celery_worker(argv, env, tmp_path / f"{name}.log", new_session=True)

    def log(name: str) -> str:
        return (tmp_path / f"{name}.log").read_text()

    workers: list[subprocess.Popen] = []
    blocker = connection.get_new_connection(connection.get_connection_params())
    try:
        blocker.autocommit = False
        with blocker.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            blocker_pid = cursor.fetchone()[0]
        workers.append(worker("doomed"))
        with blocker.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Settlement._meta.db_table} IN ACCESS EXCLUSIVE MODE")

        result = execute_run.apply_async(args=[run.pk], queue=queue)

        def worker_inside_the_run() -> int | None:
            blocked = _blocked_by(blocker_pid) & _engine_lock_holders()
            claimed = SegmentationRun.objects.filter(pk=run.pk, attempts=1).exists()
            return next(iter(blocked)) if blocked and claimed else None

        backend_pid = _wait_for("the worker to be blocked inside the run", worker_inside_the_run)
        # The message was handed to the worker before this moment, so VISIBILITY_TIMEOUT
        # seconds from now it is older than the visibility timeout.
        delivered_by = time.time()

        os.killpg(workers[0].pid, signal.SIGKILL)  # the main process and its pool child
        assert workers[0].wait(timeout=10) == -signal.SIGKILL
        assert re.search(rf"execute_run\[{result.id}\] received", log("doomed"))
        assert "succeeded" not in log("doomed")

        run.refresh_from_db()
        assert (run.status, run.attempts, run.progress) == ("running", 1, 5)
        blocker.rollback()  # release the table lock

        # The dead worker's backend was waiting on the lock, so it only notices the closed
        # socket once its statement completes; then its session, its advisory lock and its
        # transaction go away.
        _wait_for("the dead worker's session to end", lambda: not _backend_alive(backend_pid))
        assert _engine_lock_holders() == set()
        run.refresh_from_db()
        assert (run.status, run.attempts) == ("running", 1)
        assert ClassChange.objects.count() == 0

        # A worker restores unacknowledged messages older than the visibility timeout when it
        # starts (and then only every ~100 s), so start the new one once the message is old.
        # (It would restore any message unacked that long in this Redis database; between
        # tests the session worker holds none.)
        time.sleep(max(0.0, delivered_by + VISIBILITY_TIMEOUT + 0.5 - time.time()))
        workers.append(worker("restarted"))
        report = result.get(timeout=30)
        assert re.search(rf"execute_run\[{result.id}\] received", log("restarted"))
    finally:
        blocker.rollback()
        blocker.close()
        for proc in workers:
            _stop(proc)
        with celery_app.connection_for_write() as conn:  # the queue's binding in Redis
            bound = celery_app.amqp.queues[queue].bind(conn.default_channel)
            bound.declare()  # a channel deletes only the bindings it knows
            bound.delete()

    assert report["status"] == "success", report
    run.refresh_from_db()
    assert run.status == "success" and run.attempts == 2
    assert ClassChange.objects.filter(run=run).count() == len(base) == 6
    assert ClassChange.objects.count() == 6
    assert list(SegmentationRun.objects.values_list("pk", flat=True)) == [run.pk]


def test_nightly_task_through_the_worker(postgres_required, celery_worker_process, base):
    result = recompute.apply_async().get(timeout=90)
    assert result["status"] == "success"
    assert SegmentationRun.objects.get(pk=result["run"]).trigger == "schedule"
