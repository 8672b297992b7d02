"""Thin Celery tasks: take ids, call a service. acks_late is on globally, so a task whose
worker dies is delivered again; the services make that safe (a finished run is not re-run)."""

import logging

from celery import shared_task

from segmentation import services
from segmentation.models import SegmentationRun

logger = logging.getLogger(__name__)


def _report(run: SegmentationRun) -> dict:
    return {
        "run": run.pk,
        "status": run.status,
        "clients": run.clients_processed,
        "changes": run.changes,
        "error": run.error,
    }


@shared_task(name="segmentation.recompute")
def recompute() -> dict:
    """The nightly beat entry: request a run and execute it; refused if one is running."""
    try:
        return _report(services.recompute(trigger=SegmentationRun.Trigger.SCHEDULE))
    except services.RunRefused as exc:
        logger.warning("nightly segmentation skipped: %s", exc)
        return {"refused": str(exc)}


@shared_task(name="segmentation.execute_run")
def execute_run(run_id: int) -> dict:
    """Execute a requested run ("Recompute now", API)."""
    return _report(services.run_execute(run_id=run_id))
