"""Import and export of the client base: clients, contact persons and settlements from
CSV/XLSX, and the client list to CSV/XLSX.

Modules, in the order a file goes through them:
- ``forms``, ``views``, ``urls``: the import page, the job's page, templates, reports and the
  export; views only parse input and call the services below.
- ``jobs``: the services (submit, run, retry, cancel; the error report).
- ``limits``, ``parsing``, ``xlsx``: the upload read into a table of strings within the limits.
- ``rules``: the columns of each kind and how each cell is read (limits from the model fields).
- ``checks``: rows matched to the records they update, access refused (reads only).
- ``writers``: the good rows written in bulk.
- ``exports``: CSV/XLSX writing with the formula guard (export, templates, error reports).

Flow: ``import_job_submit`` = ``import_job_create`` (checks the upload cheaply: size, type, an
XLSX's zip directory, a CSV's head and columns; stores it) and, in the same transaction, an outbox
message for the Celery task (crm.queue: with the broker down the job waits and starts once the
message is published; nothing heavy runs in the web request) -> ``import_job_run`` reads the
file with row, cell and size limits, checks every row in chunks (advancing ``processed_rows`` for
the progress bar), then writes all the good rows in ONE transaction with bulk_create /
bulk_update, or none of them (all-or-nothing mode with a bad row), and stores an error report.
Every way a job ends (done, failed, cancelled) removes the upload; a job whose worker died shows
as interrupted after ``CLIENT_IMPORT_STALE_SECONDS`` and can be retried (``import_job_retry``,
queued again the same way) or cancelled.

Matching (re-importing the same file never duplicates):
- clients: by ``external_id``; a row without one is matched by INN among the clients the user
  may see; a row with an external id unknown to us but an INN of a client that has no external
  id yet adopts that client (and gives it the id); otherwise a new client is created.
- contacts: by ``external_id``, else by full name within the client; else created.
- settlements: by ``external_id``, else by (client, date, document number) when a document
  number is given; else created (a file without ids or document numbers imported twice is
  counted twice - the import page says so).

Access: an account manager can only touch their own clients. A row naming a client (or a
contact / settlement) of somebody else gets "no such client", exactly as a client that does not
exist, so imports do not reveal other managers' records.
"""

from clients.imports.jobs import (
    import_job_cancel,
    import_job_create,
    import_job_fail,
    import_job_retry,
    import_job_run,
    import_job_submit,
    import_job_waiting_for_queue,
    import_report_rows,
)

__all__ = [
    "import_job_cancel",
    "import_job_create",
    "import_job_fail",
    "import_job_retry",
    "import_job_run",
    "import_job_submit",
    "import_job_waiting_for_queue",
    "import_report_rows",
]
