"""Import jobs: create from an upload, run (check in chunks, write in one transaction), fail,
audit, error report. See the package docstring for the flow and the matching rules."""

import csv
import io

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients import exports, imports
from clients.models import ImportJob
from clients.services_import.checkers import CHECKERS, Checker, RowResult
from crm.formats import format_number
from crm.models import AuditEntry, User
from crm.queue import enqueue
from crm.selectors import outbox_waiting
from crm.services import audit_record

CHUNK = 2000


# --- creating and running a job -------------------------------------------------------------
@transaction.atomic
def import_job_create(
    *, user: User, kind: str, mode: str, file_name: str, data: bytes
) -> ImportJob:
    """Store the upload and read it far enough to know its size and columns.

    A file that cannot be imported at all (empty, unreadable, too large, wrong columns) gives a
    job that is already finished as "failed" with the reason in ``message``.
    """
    job = ImportJob(user=user, kind=kind, mode=mode, file_name=file_name[:255])
    job.file.save(file_name[-100:] or "import", ContentFile(data), save=False)
    try:
        table = imports.read_table(data, file_name)
        imports.check_columns(kind, table.headers)
    except imports.ImportFileError as exc:
        job.status = ImportJob.Status.FAILED
        job.message = str(exc)
        job.finished_at = timezone.now()
        job.save()
        _audit(job)
        return job
    job.total_rows = len(table.rows)
    job.save()
    return job


def import_job_needs_worker(job: ImportJob) -> bool:
    return job.status == ImportJob.Status.PENDING and job.total_rows >= imports.async_rows()


IMPORT_TASK = "clients.import_job_run"  # clients.tasks.import_job_run_task


def import_job_submit(**fields) -> ImportJob:
    """Create a job from an upload (``import_job_create``'s arguments) and start it: a small
    file is imported at once, a large one is queued for the worker. The job and its outbox
    message are written in one transaction (crm.queue): with the broker down the job waits
    and starts once the message is published, never a pending job with no message."""
    with transaction.atomic():
        job = import_job_create(**fields)
        if import_job_needs_worker(job):
            enqueue(IMPORT_TASK, job.pk)
            return job
    if not job.is_finished:
        import_job_run(job=job)
    return job


def import_job_waiting_for_queue(job: ImportJob) -> bool:
    """The job's message is still in the outbox (the broker could not be reached yet)."""
    return job.status == ImportJob.Status.PENDING and outbox_waiting(IMPORT_TASK, job.pk)


def import_job_run(*, job: ImportJob, progress_every: int = CHUNK) -> ImportJob:
    """Check all rows and write the good ones (see the module docstring).

    Not atomic on purpose: progress updates must be visible to the job page while the rows are
    checked; the writes themselves happen in one transaction (``_write``).
    """
    if job.is_finished:
        return job
    _set_status(job, status=ImportJob.Status.RUNNING)
    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        table = imports.read_table(data, job.file_name)
        columns = imports.check_columns(job.kind, table.headers)
    except (imports.ImportFileError, OSError) as exc:
        return import_job_fail(job=job, message=str(exc))
    job.total_rows = len(table.rows)
    checker = CHECKERS[job.kind](job.user, columns)
    results: list[RowResult] = []
    for start in range(0, len(table.rows), progress_every):
        chunk = table.rows[start : start + progress_every]
        results.extend(checker.check(chunk))
        job.processed_rows = min(start + len(chunk), job.total_rows)
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=job.processed_rows, total_rows=job.total_rows
        )
    bad = [r for r in results if r.reasons]
    good = [r for r in results if not r.reasons]
    if bad:
        _store_report(job, table.headers, bad)
    job.error_count = len(bad)
    if bad and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
        return import_job_fail(
            job=job,
            message=_(
                "%(bad)s of %(total)s rows have errors, so nothing was imported. Download the "
                "report, fix those rows and upload the file again - or choose to import the "
                "valid rows only."
            )
            % {"bad": format_number(len(bad)), "total": format_number(len(results))},
        )
    try:
        _write(job=job, checker=checker, rows=good)
    except IntegrityError:
        return import_job_fail(
            job=job,
            message=_(
                "The data changed while the file was being imported (for example, another "
                "import created the same external id). Nothing was imported; try again."
            ),
        )
    return job


@transaction.atomic
def _write(*, job: ImportJob, checker: "Checker", rows: list[RowResult]) -> None:
    created, updated = checker.write(rows)
    job.created_count = created
    job.updated_count = updated
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    if job.error_count:
        job.message = _(
            "%(created)s created, %(updated)s updated; %(bad)s rows with errors were NOT "
            "imported - see the report."
        ) % {
            "created": format_number(created),
            "updated": format_number(updated),
            "bad": format_number(job.error_count),
        }
    else:
        job.message = _("%(created)s created, %(updated)s updated. All rows imported.") % {
            "created": format_number(created),
            "updated": format_number(updated),
        }
    job.save()
    # One audit entry per import, with the counts: an entry per row would multiply the audit
    # log by the file size (200 000 rows) for no reader's benefit.
    _audit(job)


def _set_status(job: ImportJob, *, status: str) -> None:
    job.status = status
    ImportJob.objects.filter(pk=job.pk).update(status=status)


@transaction.atomic
def import_job_fail(*, job: ImportJob, message: str) -> ImportJob:
    """Finish ``job`` with nothing imported and ``message`` as the reason."""
    job.status = ImportJob.Status.FAILED
    job.message = message
    job.created_count = job.updated_count = 0
    job.finished_at = timezone.now()
    job.processed_rows = min(job.processed_rows, job.total_rows)
    job.save()
    _audit(job)
    return job


def _audit(job: ImportJob) -> None:
    audit_record(
        actor=job.user,
        instance=job,
        action=AuditEntry.Action.CREATE,
        changes={
            "status": [None, job.status],
            "total_rows": [None, job.total_rows],
            "created": [None, job.created_count],
            "updated": [None, job.updated_count],
            "bad_rows": [None, job.error_count],
        },
        note=f"import {job.kind} ({job.get_mode_display()}): {job.message}",
    )


def _store_report(job: ImportJob, headers: list[str], bad: list[RowResult]) -> None:
    rows = [[_("row"), _("errors"), *headers]]
    rows += [[r.line, "; ".join(r.reasons), *r.cells] for r in bad]
    text = "".join(exports.csv_lines(rows))
    job.error_report.save(f"errors-{job.pk}.csv", ContentFile(text.encode("utf-8")), save=False)
    ImportJob.objects.filter(pk=job.pk).update(error_report=job.error_report.name)


def import_report_rows(job: ImportJob) -> list[list[str]]:
    """The stored error report as rows (for the XLSX download)."""
    with job.error_report.open("rb") as fh:
        text = fh.read().decode("utf-8-sig")
    return [[imports.unescape_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]
