"""Through a real Celery worker (PostgreSQL: the worker process must see the committed data).

"Retried after a worker restart completes once": with acks_late a task whose worker died is
delivered again. We reproduce the state such a death leaves — the run row RUNNING and claimed
(attempts=1), nothing written (its transaction rolled back), no session holding the engine's
advisory lock — then deliver the message twice (the redelivery and a duplicate). The run
completes exactly once: one success, one set of history rows.
"""

import pytest

from segmentation import services
from segmentation.models import ClassChange, SegmentationRun
from segmentation.tasks import execute_run, recompute
from tests.segmentation.conftest import AS_OF

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_retried_task_after_a_worker_died_completes_once(
    postgres_required, celery_worker_process, base
):
    run = services.run_request(trigger="manual", as_of=AS_OF)
    SegmentationRun.objects.filter(pk=run.pk).update(attempts=1, stage="aggregating")
    first = execute_run.apply_async(args=[run.pk])
    second = execute_run.apply_async(args=[run.pk])
    results = [first.get(timeout=90), second.get(timeout=90)]
    assert {r["status"] for r in results} == {"success"}
    run.refresh_from_db()
    assert run.status == "success" and run.attempts == 2
    assert ClassChange.objects.filter(run=run).count() == 6
    assert ClassChange.objects.count() == 6


def test_nightly_task_through_the_worker(postgres_required, celery_worker_process, base):
    result = recompute.apply_async().get(timeout=90)
    assert result["status"] == "success"
    assert SegmentationRun.objects.get(pk=result["run"]).trigger == "schedule"
