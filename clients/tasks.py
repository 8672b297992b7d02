"""Celery tasks of the clients app: thin wrappers that load by id and call a service."""

from celery import shared_task
from django.conf import settings
from django.utils import translation

from clients.imports import import_job_run
from clients.models import ImportJob


@shared_task(name="clients.import_job_run")
def import_job_run_task(job_id: int) -> dict:
    """Import an uploaded file in the background; the job page polls ``processed_rows``.

    The service ends the job as failed on any error, so the task itself does not fail; a worker
    killed mid-run leaves the job to be taken over by a redelivery or shown as interrupted.
    """
    job = ImportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return {"job": job_id, "skipped": True}
    with translation.override(job.user.language or settings.LANGUAGE_CODE):
        job = import_job_run(job=job)
    return {
        "job": job.pk,
        "status": job.status,
        "created": job.created_count,
        "updated": job.updated_count,
        "errors": job.error_count,
    }
