"""/healthz, Celery eager in unit tests and a real worker in integration tests."""

import re

import pytest

from crm.celery import app as celery_app
from crm.queue import enqueue
from crm.tasks import ping
from tests.factories import ManagerFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(ManagerFactory(username="ops", is_staff=True))
    return client


def test_healthz_anonymous_gets_only_the_status(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_account_manager_gets_only_the_status(owner_client):
    assert owner_client.get("/healthz").json() == {"status": "ok"}


def test_healthz_staff_gets_the_details(staff_client):
    response = staff_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["database"]["detail"] in {"sqlite", "postgresql"}


def _break_broker(monkeypatch):
    # broker_write_url falls back to broker_url: patch it first so its saved value is the real one
    monkeypatch.setattr(celery_app.conf, "broker_write_url", None)
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")


def test_healthz_503_anonymous_learns_only_that_it_is_down(client, db, monkeypatch):
    _break_broker(monkeypatch)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}
    assert b"127.0.0.1" not in response.content


def test_healthz_503_when_broker_unreachable(staff_client, monkeypatch):
    _break_broker(monkeypatch)
    response = staff_client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


def test_ping_runs_eagerly(db):
    result = ping.delay()
    assert result.get()["pong"] is True


def test_enqueue_waits_for_commit(db, monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(ping, "apply_async", lambda *a, **k: sent.append(k["args"]))
    with django_capture_on_commit_callbacks(execute=True):
        enqueue(ping)
        assert sent == []  # nothing is sent before the transaction commits
    assert sent == [[]]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_ping_through_a_real_worker(celery_worker_process):
    result = ping.apply_async()
    assert result.get(timeout=60)["pong"] is True


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_ping_through_a_real_worker_on_redis(redis_required, celery_worker_process):
    assert str(celery_app.conf.broker_url).startswith("redis")
    result = ping.apply_async()
    assert result.get(timeout=60)["pong"] is True
    assert re.search(
        r"Task crm.ping\[[-0-9a-f]+\] received", celery_worker_process["log"].read_text()
    )
