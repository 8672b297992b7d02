""" "Recompute now" with the broker down: the page answers at once and says the run is queued;
the run and its message are saved together and the run executes once the broker is back (it is
not left RUNNING with nothing on its way)."""

import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from crm import queue
from crm.models import OutboxMessage
from segmentation.models import SegmentationRun
from tests.conftest import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_recompute_now_with_the_broker_down_is_queued_then_runs(services_down, manager, base):
    http = client_for(manager, "en")
    started = time.monotonic()
    response = http.post(reverse("segmentation:run_start"), follow=True)
    assert time.monotonic() - started < 5
    assert response.status_code == 200
    run = SegmentationRun.objects.get()
    page = response.content.decode()
    assert f"Recompute #{run.pk} is queued: the background queue cannot be reached" in page
    assert (run.status, run.attempts, run.stage) == ("running", 0, "queued")
    message = OutboxMessage.objects.get()
    assert (message.task, message.args, message.sent_at) == (
        "segmentation.execute_run",
        [run.pk],
        None,
    )
    # a second click: refused (one is on its way), nothing new queued
    again = http.post(reverse("segmentation:run_start"), follow=True).content.decode()
    assert f"A recompute is already queued (run #{run.pk}, requested" in again
    assert (SegmentationRun.objects.count(), OutboxMessage.objects.count()) == (1, 1)

    services_down.back()
    assert queue.drain()["sent"] == 1  # eager: the run executes now
    run.refresh_from_db()
    assert (run.status, run.clients_processed) == ("success", 6)
    # nothing blocks the next one
    response = http.post(reverse("segmentation:run_start"), follow=True)
    assert SegmentationRun.objects.filter(status="success").count() == 2
    assert "started" in response.content.decode()


def test_api_recompute_with_the_broker_down_answers_202(services_down, manager, base):
    api = APIClient()
    api.force_authenticate(manager)
    response = api.post("/api/segmentation/runs/")
    assert response.status_code == 202, response.content
    run = SegmentationRun.objects.get()
    assert response.json()["id"] == run.pk and run.status == "running"
    assert OutboxMessage.objects.filter(sent_at__isnull=True, args=[run.pk]).count() == 1
