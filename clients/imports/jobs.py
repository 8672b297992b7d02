"""Import jobs: create from an upload, run (read, check in chunks, write in one transaction),
fail, retry, cancel, audit, error report. See the package docstring for the flow and the matching
rules.

Every way a job can end goes through ``_finish``: one guarded UPDATE that sets the final status
and message, the audit entry, then the upload is removed. A run holds a token (the job's
``attempts`` when it started); its progress updates and its final write only apply while the job
is still RUNNING with that token, so a run superseded by a retry, a redelivered task or a cancel
stops without writing anything.
"""

import csv
import io
import logging

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.imports import exports, parsing
from clients.imports.checks import CHECKERS, Checker, RowResult
from clients.imports.limits import ImportFileError
from clients.imports.writers import WRITERS
from clients.models import ImportJob
from crm.formats import format_number
from crm.models import AuditEntry, User
from crm.queue import enqueue
from crm.selectors import outbox_waiting
from crm.services import audit_record

log = logging.getLogger(__name__)

CHUNK = 2000


class _Superseded(Exception):
    """This run is no longer the job's current run (retried, redelivered or cancelled)."""


# --- creating and running a job -------------------------------------------------------------
@transaction.atomic
def import_job_create(
    *, user: User, kind: str, mode: str, file_name: str, data: bytes
) -> ImportJob:
    """Check the upload cheaply (size, type, an XLSX's zip directory, a CSV's first 64 KB and
    columns) and store it for the task; nothing here reads the whole file.

    A file refused by these checks gives a job already finished as "failed" with the reason in
    ``message``, and the upload is not kept. Otherwise the job is PENDING: the caller queues
    ``import_job_run`` (the view, through the task).
    """
    job = ImportJob(
        user=user, kind=kind, mode=mode, file_name=file_name[:255], heartbeat_at=timezone.now()
    )
    try:
        job.total_rows = parsing.inspect_upload(data, file_name, kind)
    except ImportFileError as exc:
        job.status = ImportJob.Status.FAILED
        job.message = str(exc)
        job.finished_at = timezone.now()
        job.save()
        _audit(job)
        return job
    job.file.save(file_name[-100:] or "import", ContentFile(data), save=False)
    job.save()
    return job


IMPORT_TASK = "clients.import_job_run"  # clients.tasks.import_job_run_task


def import_job_submit(**fields) -> ImportJob:
    """Create a job from an upload (``import_job_create``'s arguments) and queue its run: the
    job and its outbox message are written in one transaction (crm.queue), so with the broker
    down the job waits and starts once the message is published — never a pending job with no
    message. A file refused by the cheap checks is a job already failed: nothing is queued."""
    with transaction.atomic():
        job = import_job_create(**fields)
        if not job.is_finished:
            enqueue(IMPORT_TASK, job.pk)
    return job


def import_job_waiting_for_queue(job: ImportJob) -> bool:
    """The job's message is still in the outbox (the broker could not be reached yet)."""
    return job.status == ImportJob.Status.PENDING and outbox_waiting(IMPORT_TASK, job.pk)


def import_job_run(*, job: ImportJob, progress_every: int = CHUNK) -> ImportJob:
    """Read the stored upload, check all rows and write the good ones (see the package
    docstring). Any failure ends the job as FAILED with a message; it never stays running.

    Not atomic on purpose: progress updates must be visible to the job page while the rows are
    checked; the writes themselves happen in one transaction (``_write``).
    """
    token = _claim(job)
    if token is None:
        job.refresh_from_db()
        return job
    try:
        return _run(job, token, progress_every)
    except _Superseded:
        log.info("import job %s: run %s was superseded", job.pk, token)
    except ImportFileError as exc:
        _finish(job, token=token, status=ImportJob.Status.FAILED, message=str(exc))
    except FileNotFoundError:
        _finish(
            job,
            token=token,
            status=ImportJob.Status.FAILED,
            message=_(
                "The uploaded file is no longer there; nothing was imported. Upload it again."
            ),
        )
    except Exception:
        # never leave the job page polling a job that will not finish
        log.exception("import job %s crashed", job.pk)
        _finish(
            job,
            token=token,
            status=ImportJob.Status.FAILED,
            message=_("The import failed unexpectedly; nothing was imported."),
        )
    job.refresh_from_db()
    return job


def _claim(job: ImportJob) -> int | None:
    """Start a run: PENDING (or RUNNING, when a lost run's task is delivered again) becomes
    RUNNING with one more attempt; the attempt number is this run's token."""
    with transaction.atomic():
        claimed = ImportJob.objects.filter(
            pk=job.pk, status__in=(ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
        ).update(
            status=ImportJob.Status.RUNNING,
            attempts=F("attempts") + 1,
            heartbeat_at=timezone.now(),
            processed_rows=0,
        )
        if not claimed:
            return None
        job.refresh_from_db()
    return job.attempts


def _beat(job: ImportJob, token: int, **fields) -> None:
    """Record progress (and a sign of life); stop the run if it is no longer the current one."""
    fields["heartbeat_at"] = timezone.now()
    current = ImportJob.objects.filter(
        pk=job.pk, attempts=token, status=ImportJob.Status.RUNNING
    ).update(**fields)
    if not current:
        raise _Superseded
    for name, value in fields.items():
        setattr(job, name, value)


def _run(job: ImportJob, token: int, progress_every: int) -> ImportJob:
    if not job.file:
        raise FileNotFoundError
    with job.file.open("rb") as fh:
        data = fh.read()
    table = parsing.read_table(data, job.file_name, on_progress=lambda: _beat(job, token))
    del data
    columns = parsing.check_columns(job.kind, table.headers)
    total = len(table.rows)
    _beat(job, token, total_rows=total, processed_rows=0)
    checker = CHECKERS[job.kind](job.user, columns)
    results: list[RowResult] = []
    for start in range(0, total, progress_every):
        chunk = table.rows[start : start + progress_every]
        results.extend(checker.check(chunk))
        _beat(job, token, processed_rows=min(start + len(chunk), total))
    bad = [r for r in results if r.reasons]
    good = [r for r in results if not r.reasons]
    if bad:
        _store_report(job, table.headers, bad)
    _beat(job, token, error_count=len(bad))
    if bad and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
        _finish(
            job,
            token=token,
            status=ImportJob.Status.FAILED,
            message=_(
                "%(bad)s of %(total)s rows have errors, so nothing was imported. Download the "
                "report, fix those rows and upload the file again - or choose to import the "
                "valid rows only."
            )
            % {"bad": format_number(len(bad)), "total": format_number(len(results))},
        )
        job.refresh_from_db()
        return job
    try:
        upload = _write(job=job, token=token, checker=checker, rows=good)
    except IntegrityError:
        _finish(
            job,
            token=token,
            status=ImportJob.Status.FAILED,
            message=_(
                "The data changed while the file was being imported (for example, another "
                "import created the same external id). Nothing was imported; try again."
            ),
        )
        job.refresh_from_db()
        return job
    _remove_upload(upload)
    return job


@transaction.atomic
def _write(*, job: ImportJob, token: int, checker: Checker, rows: list[RowResult]) -> str:
    """Write the rows and finish the job as DONE in one transaction; returns the upload's name
    for the caller to remove once committed."""
    current = (
        ImportJob.objects.select_for_update()
        .filter(pk=job.pk, attempts=token, status=ImportJob.Status.RUNNING)
        .values_list("file", flat=True)
        .first()
    )
    if current is None:
        raise _Superseded
    created, updated = WRITERS[job.kind](checker, rows)
    job.created_count = created
    job.updated_count = updated
    job.status = ImportJob.Status.DONE
    job.finished_at = job.heartbeat_at = timezone.now()
    job.file = ""
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
    return current


def _finish(job: ImportJob, *, status: str, message: str, token: int | None = None) -> bool:
    """End ``job`` with nothing imported (FAILED or CANCELLED) unless it has already ended or,
    with ``token``, is no longer that run's; then remove the upload. True if this ended it."""
    now = timezone.now()
    with transaction.atomic():
        pending = ImportJob.objects.select_for_update().filter(pk=job.pk)
        pending = pending.exclude(status__in=ImportJob.FINISHED)
        if token is not None:
            pending = pending.filter(attempts=token)
        upload = pending.values_list("file", flat=True).first()
        if upload is None:
            return False
        job.refresh_from_db()
        job.status = status
        job.message = message
        job.created_count = job.updated_count = 0
        job.finished_at = job.heartbeat_at = now
        job.processed_rows = min(job.processed_rows, job.total_rows)
        job.file = ""
        job.save()
        _audit(job)
    _remove_upload(upload)
    return True


def _remove_upload(name: str) -> None:
    if not name:
        return
    storage = ImportJob._meta.get_field("file").storage
    try:
        storage.delete(name)
    except OSError:
        log.warning("could not remove the upload %s", name, exc_info=True)


def import_job_fail(*, job: ImportJob, message: str) -> ImportJob:
    """Finish ``job`` with nothing imported and ``message`` as the reason (e.g. the queue is
    down); the upload is removed."""
    _finish(job, status=ImportJob.Status.FAILED, message=message)
    job.refresh_from_db()
    return job


def import_job_retry(*, job: ImportJob) -> ImportJob:
    """Put an interrupted job (its worker died or never got it) back in the queue's hands:
    PENDING again and its run queued (outbox). A job still alive or already over is refused."""
    if not job.is_interrupted:
        raise ValidationError(
            _("Only an import that stopped responding can be retried; this one is %(status)s.")
            % {"status": job.get_status_display()}
        )
    reset = ImportJob.objects.filter(pk=job.pk, status=job.status, attempts=job.attempts).update(
        status=ImportJob.Status.PENDING, processed_rows=0, heartbeat_at=timezone.now()
    )
    if not reset:
        raise ValidationError(_("The import changed meanwhile; reload the page."))
    enqueue(IMPORT_TASK, job.pk)
    job.refresh_from_db()
    return job


def import_job_cancel(*, job: ImportJob, actor: User) -> ImportJob:
    """Stop a job that has not ended (a running run stops at its next progress update or before
    writing); nothing is imported and the upload is removed."""
    ended = _finish(
        job,
        status=ImportJob.Status.CANCELLED,
        message=_("Cancelled by %(user)s; nothing was imported.") % {"user": actor},
    )
    if not ended:
        raise ValidationError(_("The import has already ended."))
    job.refresh_from_db()
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
    return [[parsing.unescape_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]
