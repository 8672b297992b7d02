"""Celery tasks of the clients app: thin wrappers that load by id and call a service."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from clients.models import ImportJob
from clients.services_import import import_job_fail, import_job_run

log = logging.getLogger(__name__)


@shared_task(name="clients.import_job_run")
def import_job_run_task(job_id: int) -> dict:
    """Import a large file in the background; the job page polls ``processed_rows``."""
    job = ImportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return {"job": job_id, "skipped": True}
    with translation.override(job.user.language or settings.LANGUAGE_CODE):
        try:
            job = import_job_run(job=job)
        except Exception:
            # never leave the job page polling a job that will not finish
            log.exception("import job %s crashed", job_id)
            import_job_fail(
                job=job, message=_("The import failed unexpectedly; nothing was imported.")
            )
            raise
    return {
        "job": job.pk,
        "status": job.status,
        "created": job.created_count,
        "updated": job.updated_count,
        "errors": job.error_count,
    }
