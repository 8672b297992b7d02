"""The segmentation API: classes, history, matrix and runs, scoped by role."""

import pytest

from segmentation.models import SegmentationRun
from tests.segmentation.conftest import recompute

pytestmark = pytest.mark.django_db


def test_metrics_are_scoped_to_own_clients(owner_client, manager_client, base):
    recompute()
    mine = owner_client.get("/api/segmentation/metrics/").json()
    names = {row["client_name"] for row in mine["results"]}
    # every client of the run has a row, the potential one too; not the outsider's "Other"
    assert names == {"Potential", "New", "Regular", "Restored", "Lost"}
    everyone = manager_client.get("/api/segmentation/metrics/").json()
    assert everyone["count"] == 6
    regular = manager_client.get(f"/api/segmentation/metrics/{base['regular'].pk}/").json()
    assert (regular["abc_class"], regular["xyz_class"], regular["rfm"]) == ("A", "X", "455")
    filtered = manager_client.get("/api/segmentation/metrics/?abc_class=B").json()
    assert [r["client_name"] for r in filtered["results"]] == ["Other"]


def test_outsider_gets_404_for_a_client_it_does_not_own(outsider_client, base):
    recompute()
    url = f"/api/segmentation/metrics/{base['regular'].pk}/"
    assert outsider_client.get(url).status_code == 404
    # filtering by the owner's client is answered like filtering by a client that does not exist
    history = outsider_client.get(f"/api/segmentation/history/?client={base['regular'].pk}")
    missing = outsider_client.get("/api/segmentation/history/?client=999999")
    assert history.status_code == missing.status_code == 400
    assert history.json() == missing.json()


def test_history(owner_client, base):
    recompute()
    rows = owner_client.get(f"/api/segmentation/history/?client={base['restored'].pk}").json()
    assert rows["count"] == 1
    assert rows["results"][0]["lifecycle_new"] == "restored"
    assert rows["results"][0]["abc_move"] == "gained"


def test_matrix(manager_client, owner_client, base):
    recompute()
    data = manager_client.get("/api/segmentation/matrix/").json()
    cells = {(c["abc"], c["xyz"]): c for c in data["cells"]}
    assert cells[("A", "X")]["clients"] == 1 and cells[("A", "X")]["turnover"] == "6000.00"
    assert cells[("B", "X")]["clients"] == 1
    assert data["total_turnover"] == "9000.00"
    own = owner_client.get("/api/segmentation/matrix/").json()
    assert {(c["abc"], c["xyz"]) for c in own["cells"] if c["clients"]} == {
        ("A", "X"),
        ("C", "Z"),
        ("C", "none"),
    }


def test_runs_and_trigger_are_for_managers(
    manager_client, owner_client, base, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to("2026-01-15 12:00:00+03:00")
    assert owner_client.get("/api/segmentation/runs/").status_code == 403
    assert owner_client.post("/api/segmentation/runs/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post("/api/segmentation/runs/")
    assert response.status_code == 202
    run = SegmentationRun.objects.get(pk=response.json()["id"])
    assert run.status == "success" and run.trigger == "api"
    listed = manager_client.get("/api/segmentation/runs/").json()
    assert listed["results"][0]["clients_processed"] == 6


def test_trigger_conflict_while_running(manager_client, base):
    from segmentation import services

    services.run_request(trigger="manual")
    response = manager_client.post("/api/segmentation/runs/")
    assert response.status_code == 409
    assert "already in progress" in response.json()["detail"]


def test_schema_lists_the_endpoints(manager_client, db):
    schema = manager_client.get("/api/schema/").content.decode()
    for path in (
        "segmentation/metrics",
        "segmentation/history",
        "segmentation/matrix",
        "segmentation/runs",
    ):
        assert f"/api/{path}/" in schema
