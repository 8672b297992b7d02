"""A large import through a real Celery worker, and the task run eagerly."""

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clients.imports.jobs import import_job_create
from clients.models import Client, ImportJob
from clients.tasks import import_job_run_task
from tests.clients.test_import_views import english, media_root  # noqa: F401


def big_file(rows: int) -> bytes:
    lines = "".join(f"W{i};Клиент {i};{7700000000 + i}\n" for i in range(rows))
    return ("Внешний ID;Наименование;ИНН\n" + lines).encode("cp1251")


def test_task_runs_the_import_eagerly(manager):
    job = import_job_create(
        user=manager, kind="clients", mode="all_or_nothing", file_name="big.csv", data=big_file(30)
    )
    result = import_job_run_task.delay(job.pk).get()
    assert result == {"job": job.pk, "status": "done", "created": 30, "updated": 0, "errors": 0}
    job.refresh_from_db()
    assert (job.processed_rows, job.total_rows) == (30, 30)
    assert import_job_run_task.delay(job.pk).get()["skipped"] is True  # runs once only


def test_task_for_a_missing_job_does_nothing(db):
    assert import_job_run_task.delay(987654).get() == {"job": 987654, "skipped": True}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_large_upload_is_imported_by_a_real_worker_while_the_page_polls(
    postgres_required, celery_worker_process, manager, client, settings
):
    # the worker stores and reads files under its own VAR_DIR
    settings.MEDIA_ROOT = Path(celery_worker_process["env"]["VAR_DIR"]) / "media"
    client.force_login(manager)
    response = client.post(
        reverse("clients:import"),
        {
            "kind": "clients",
            "mode": "all_or_nothing",
            "file": SimpleUploadedFile("big.csv", big_file(300)),
        },
    )
    job = ImportJob.objects.get()
    assert response.url == reverse("clients:import_job", args=[job.pk])
    deadline = time.monotonic() + 120
    page = ""
    while time.monotonic() < deadline:
        page = client.get(response.url, headers={"HX-Request": "true"}).content.decode()
        if 'data-status="done"' in page or 'data-status="failed"' in page:
            break
        assert 'hx-trigger="every 1s"' in page
        time.sleep(0.5)
    job.refresh_from_db()
    assert job.status == "done", (job.message, celery_worker_process["log"].read_text()[-2000:])
    assert (job.total_rows, job.processed_rows, job.created_count) == (300, 300, 300)
    assert Client.objects.count() == 300
    assert "hx-trigger" not in page
    assert "import_job_run" in celery_worker_process["log"].read_text()
