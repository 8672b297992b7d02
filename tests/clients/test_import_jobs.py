"""The life of an import job: the upload is kept while the job may run and removed when it ends;
a job whose worker died shows as interrupted and can be retried or cancelled; a run that was
superseded writes nothing; any crash in the run ends the job as failed."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from clients.imports import jobs, limits, writers
from clients.imports.jobs import (
    import_job_cancel,
    import_job_create,
    import_job_retry,
    import_job_run,
)
from clients.models import Client, ImportJob
from clients.tasks import import_job_run_task
from crm import queue
from crm.models import OutboxMessage
from tests.clients.test_import_views import english, last_job, media_root, upload  # noqa: F401

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DATA = b"external_id,name\nE1,Alpha\nE2,Beta\n"


def stored_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def pending_job(manager, media_root):  # noqa: F811
    with time_machine.travel(NOW, tick=False):
        job = import_job_create(
            user=manager, kind="clients", mode="all_or_nothing", file_name="c.csv", data=DATA
        )
    assert job.status == "pending"
    assert len(stored_files(media_root)) == 1
    return job


def test_the_upload_is_kept_while_pending_and_removed_when_done(pending_job, media_root):  # noqa: F811
    assert pending_job.file.name.endswith(".csv")
    import_job_run_task.delay(pending_job.pk).get()
    pending_job.refresh_from_db()
    assert (pending_job.status, pending_job.created_count) == ("done", 2)
    assert not pending_job.file
    assert stored_files(media_root) == []
    assert pending_job.attempts == 1


def test_a_crash_in_the_run_fails_the_job_and_removes_the_upload(
    pending_job,
    media_root,  # noqa: F811
    monkeypatch,
):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(writers.WRITERS, "clients", boom)
    result = import_job_run_task.delay(pending_job.pk).get()
    assert result["status"] == "failed"
    pending_job.refresh_from_db()
    assert pending_job.status == "failed"
    assert pending_job.message == "The import failed unexpectedly; nothing was imported."
    assert pending_job.finished_at is not None
    assert stored_files(media_root) == []
    assert not Client.objects.exists()


def test_an_upload_gone_from_disk_fails_the_job_with_a_message(pending_job):
    pending_job.file.storage.delete(pending_job.file.name)
    import_job_run(job=pending_job)
    assert pending_job.status == "failed"
    assert "no longer there" in pending_job.message


def test_a_silent_job_is_interrupted_and_offers_retry_and_cancel(pending_job, manager_client):
    url = reverse("clients:import_job", args=[pending_job.pk])
    with time_machine.travel(NOW + timedelta(minutes=14), tick=False):
        assert not pending_job.is_interrupted
        page = manager_client.get(url).content.decode()
        assert 'hx-trigger="every 1s"' in page
        assert "import-retry" not in page
        assert "import-cancel" in page
        with pytest.raises(ValidationError, match="stopped responding"):
            import_job_retry(job=pending_job)
    with time_machine.travel(NOW + timedelta(minutes=16), tick=False):
        assert pending_job.is_interrupted
        page = manager_client.get(url).content.decode()
        assert 'data-status="interrupted"' in page
        assert "the background worker that ran it has stopped" in page
        assert "import-retry" in page
        assert "hx-trigger" not in page  # no point polling a dead job


def test_retry_requeues_an_interrupted_job_which_then_completes(
    pending_job,
    manager_client,
    media_root,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    # a worker took the job, then died: RUNNING, silent since
    ImportJob.objects.filter(pk=pending_job.pk).update(status="running", attempts=1)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = manager_client.post(reverse("clients:import_retry", args=[pending_job.pk]))
        assert response.status_code == 302
        pending_job.refresh_from_db()
        assert (pending_job.status, pending_job.heartbeat_at) == (
            "pending",
            NOW + timedelta(hours=1),
        )
        assert len(stored_files(media_root)) == 1  # kept for the new run
        assert len(queued) == 1
        queued[0]()
    pending_job.refresh_from_db()
    assert (pending_job.status, pending_job.created_count, pending_job.attempts) == ("done", 2, 2)
    assert Client.objects.count() == 2
    assert stored_files(media_root) == []


def test_retry_of_a_live_or_finished_job_is_refused_with_a_message(pending_job, manager_client):
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        response = manager_client.post(reverse("clients:import_retry", args=[pending_job.pk]))
    assert response.status_code == 302
    page = manager_client.get(response.url).content.decode()
    assert "Only an import that stopped responding can be retried" in page
    pending_job.refresh_from_db()
    assert pending_job.status == "pending"


def test_cancel_ends_the_job_and_removes_the_upload(pending_job, manager_client, media_root):  # noqa: F811
    response = manager_client.post(reverse("clients:import_cancel", args=[pending_job.pk]))
    assert response.status_code == 302
    pending_job.refresh_from_db()
    assert pending_job.status == "cancelled"
    assert pending_job.message == "Cancelled by Мария Петрова; nothing was imported."
    assert stored_files(media_root) == []
    # the queued run finds nothing to do
    assert import_job_run_task.delay(pending_job.pk).get() == {
        "job": pending_job.pk,
        "skipped": True,
    }
    assert not Client.objects.exists()
    with pytest.raises(ValidationError, match="already ended"):
        import_job_cancel(job=pending_job, actor=pending_job.user)


def test_a_superseded_run_writes_nothing(pending_job, monkeypatch, media_root):  # noqa: F811
    """A run that was retried from under it (it was only slow) stops at its next progress
    update; the new run imports the file once."""
    original = jobs._beat
    calls = []

    def slow_then_retried(job, token, **fields):
        if token == 1 and not calls:
            calls.append("retried")
            # meanwhile: the job looked dead, was retried and a new run took it
            ImportJob.objects.filter(pk=job.pk).update(status="pending")
            calls.append(import_job_run(job=ImportJob.objects.get(pk=job.pk)))
        return original(job, token, **fields)

    monkeypatch.setattr(jobs, "_beat", slow_then_retried)
    job = import_job_run(job=pending_job)
    assert (calls[1].status, calls[1].created_count, calls[1].attempts) == ("done", 2, 2)
    assert (job.status, job.created_count) == ("done", 2)  # the new run's outcome, read back
    assert Client.objects.count() == 2
    assert stored_files(media_root) == []


def test_a_redelivered_task_takes_over_a_running_job(pending_job):
    ImportJob.objects.filter(pk=pending_job.pk).update(status="running", attempts=1)
    result = import_job_run_task.delay(pending_job.pk).get()
    assert (result["status"], result["created"]) == ("done", 2)
    assert ImportJob.objects.get(pk=pending_job.pk).attempts == 2


def test_outsider_cannot_retry_or_cancel(pending_job, outsider_client):
    for name in ("clients:import_retry", "clients:import_cancel"):
        assert outsider_client.post(reverse(name, args=[pending_job.pk])).status_code == 404
    pending_job.refresh_from_db()
    assert pending_job.status == "pending"


def test_retry_and_cancel_need_post(pending_job, manager_client):
    for name in ("clients:import_retry", "clients:import_cancel"):
        assert manager_client.get(reverse(name, args=[pending_job.pk])).status_code == 405


def test_a_refused_upload_is_not_kept(manager_client, media_root):  # noqa: F811
    upload(manager_client, "title\nA\n")
    assert last_job().status == "failed"
    assert stored_files(media_root) == []


def test_a_retry_is_queued_through_the_outbox(monkeypatch, pending_job, manager_client):
    monkeypatch.setattr(queue, "publish", lambda message: False)  # the broker is down
    ImportJob.objects.filter(pk=pending_job.pk).update(status="running")
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        manager_client.post(reverse("clients:import_retry", args=[pending_job.pk]))
    assert list(OutboxMessage.objects.values_list("task", "args")) == [
        ("clients.import_job_run", [pending_job.pk])
    ]


def test_reading_a_large_file_shows_signs_of_life_and_stops_when_cancelled(
    pending_job,
    monkeypatch,
    media_root,  # noqa: F811
):
    monkeypatch.setattr(limits, "PROGRESS_LINES", 1)
    beats = []
    original = jobs._beat

    def beat(job, token, **fields):
        beats.append(fields)
        if len(beats) == 2:  # cancelled by the user while the file is being read
            ImportJob.objects.filter(pk=job.pk).update(status="cancelled")
        return original(job, token, **fields)

    monkeypatch.setattr(jobs, "_beat", beat)
    job = import_job_run(job=pending_job)
    assert beats[:2] == [{}, {}]  # the header line, then the first row: no progress fields
    assert job.status == "cancelled"
    assert not Client.objects.exists()
