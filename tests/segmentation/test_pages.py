"""Every segmentation page renders, is scoped by role, and stays within a bounded number of
queries; the client card shows the explainability panel."""

from decimal import Decimal

import pytest
from django.urls import reverse

from segmentation.models import SegmentationRun, SegmentationSettings
from tests.conftest import client_for
from tests.factories import ClientFactory
from tests.segmentation.conftest import recompute

pytestmark = pytest.mark.django_db

MANAGER_PAGES = ["segmentation:what_if", "segmentation:settings", "segmentation:runs"]
ALL_PAGES = ["segmentation:matrix", "segmentation:lifecycle", "segmentation:changes"]


@pytest.mark.parametrize("name", ALL_PAGES + MANAGER_PAGES)
def test_pages_render_for_the_manager(manager_client, base, name, django_assert_max_num_queries):
    recompute()
    with django_assert_max_num_queries(15):
        response = manager_client.get(reverse(name))
    assert response.status_code == 200


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_manager_pages_are_404_for_account_managers(owner_client, name):
    assert owner_client.get(reverse(name)).status_code == 404
    assert owner_client.post(reverse("segmentation:run_start")).status_code == 404


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("segmentation:matrix"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_matrix_cells_link_to_the_filtered_client_list(manager_client, base):
    recompute()
    response = manager_client.get(reverse("segmentation:matrix"))
    html = response.content.decode()
    assert 'data-cell="AX" data-clients="1"' in html
    assert f'href="{reverse("clients:list")}?abc=A&amp;xyz=X"' in html
    assert f'href="{reverse("clients:list")}?abc=C&amp;xyz=none"' in html
    cell = response.context["rows"][0][0]
    assert (cell.abc, cell.xyz, cell.clients) == ("A", "X", 1)
    assert cell.share == pytest.approx(6000 / 9000)


def test_account_manager_sees_a_matrix_of_own_clients(owner_client, base):
    recompute()
    rows = owner_client.get(reverse("segmentation:matrix")).context["rows"]
    counts = {c.key: c.clients for row in rows for c in row if c.clients}
    # the outsider's "Other" (BX) is not counted
    assert counts == {"AX": 1, "CZ": 2, "C-": 1}


def test_what_if_previews_without_saving(manager_client, base):
    recompute()
    url = reverse("segmentation:what_if")
    response = manager_client.get(
        url,
        {
            "abc_basis": "turnover",
            "abc_a_pct": "80",
            "abc_b_pct": "95",
            "xyz_x_pct": "10",
            "xyz_y_pct": "25",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    preview = {c.key: c.clients for row in response.context["preview"]["rows"] for c in row}
    # 80/95: Regular (0) A, Other (66.7 %) A, Restored (80 %) B, New (91 %) C, Lost (97.8 %) C
    assert preview["AX"] == 2 and preview["BZ"] == 1
    assert 'id="matrix-preview"' in response.content.decode()
    assert SegmentationSettings.objects.get().abc_a_pct == Decimal("50")


def test_what_if_rejects_bad_thresholds(manager_client, base):
    response = manager_client.get(
        reverse("segmentation:what_if"),
        {
            "abc_basis": "turnover",
            "abc_a_pct": "90",
            "abc_b_pct": "80",
            "xyz_x_pct": "10",
            "xyz_y_pct": "25",
        },
    )
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert "B must be above A" in response.content.decode()


def test_what_if_save_then_recompute_changes_the_matrix(
    manager_client, base, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to("2026-01-15 12:00:00+03:00")
    recompute()
    response = manager_client.post(
        reverse("segmentation:what_if"),
        {
            "abc_basis": "turnover",
            "abc_a_pct": "80",
            "abc_b_pct": "95",
            "xyz_x_pct": "10",
            "xyz_y_pct": "25",
        },
    )
    assert response.status_code == 302
    assert SegmentationSettings.objects.get().abc_a_pct == Decimal("80")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(reverse("segmentation:run_start"), follow=True)
    assert response.status_code == 200
    run = SegmentationRun.objects.order_by("-id").first()
    assert run.status == "success" and run.trigger == "manual"
    assert run.summary["matrix"]["AX"]["clients"] == 2


def test_settings_form_validates_and_saves(manager_client, db):
    url = reverse("segmentation:settings")
    data = {
        "abc_basis": "turnover",
        "abc_a_pct": "50",
        "abc_b_pct": "80",
        "window_months": "12",
        "xyz_x_pct": "10",
        "xyz_y_pct": "25",
        "lifecycle_months": "7",
        "cadence_a_days": "14",
        "cadence_b_days": "30",
        "cadence_c_days": "90",
        "cadence_none_days": "30",
    }
    response = manager_client.post(url, data)
    assert response.status_code == 200  # 2·7 > 12: refused
    assert "2·W" in response.content.decode()
    assert SegmentationSettings.objects.get().lifecycle_months == 3
    response = manager_client.post(url, {**data, "lifecycle_months": "4", "preset": "classic"})
    assert response.status_code == 302
    saved = SegmentationSettings.objects.get()
    assert (saved.abc_a_pct, saved.abc_b_pct, saved.lifecycle_months) == (80, 95, 4)


def test_recompute_now_is_refused_while_running(manager_client, base):
    from segmentation import services

    services.run_request(trigger="manual")
    response = manager_client.post(reverse("segmentation:run_start"), follow=True)
    assert "already in progress" in response.content.decode()
    assert SegmentationRun.objects.count() == 1


def test_run_progress_partial(manager_client, base):
    from segmentation import services

    run = services.run_request(trigger="manual")
    response = manager_client.get(reverse("segmentation:run_progress", args=[run.pk]))
    assert b'hx-trigger="every 1s"' in response.content
    services.run_execute(run_id=run.pk)
    response = manager_client.get(reverse("segmentation:run_progress", args=[run.pk]))
    assert b"hx-trigger" not in response.content and b"100%" in response.content


def test_lifecycle_and_changes_reports(manager_client, base):
    from tests.segmentation.conftest import AS_OF

    recompute()
    params = {"start": AS_OF.isoformat(), "end": AS_OF.isoformat()}
    response = manager_client.get(reverse("segmentation:lifecycle"), params)
    flows = {(f["old"], f["new"]): f["clients"] for f in response.context["flows"]}
    assert flows[(None, "regular")] == 2 and flows[(None, "potential")] == 1
    response = manager_client.get(reverse("segmentation:changes"), {**params, "kind": "new"})
    assert [c.client.name for c in response.context["page"]] == ["New"]
    assert response.context["report"]["restored"] == 1


def test_client_card_explains_the_classes(owner_client, base, django_assert_max_num_queries):
    recompute()
    url = reverse("clients:detail", args=[base["restored"].pk])
    response = owner_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="segmentation-panel"' in html
    assert 'data-explain="share-before">80' in html  # exactly 80 % before it → C
    assert 'id="segmentation-series"' in html
    panel = next(p for p in response.context["panels"] if p.template.startswith("segmentation"))
    assert len(panel.context["series"]) == 12
    assert [counted for _m, _v, counted in panel.context["series"]].count(False) == 1  # January
    assert panel.context["history"][0].lifecycle_new == "restored"


@pytest.mark.parametrize(
    ("language", "window", "lifecycle"),
    [
        (
            "en",
            "ABC and XYZ: settlements of 01/01/2025 – 12/31/2025",
            "P0 = 10/15/2025 – 01/14/2026, P1 = 07/15/2025 – 10/14/2025",
        ),
        (
            "ru",
            "ABC и XYZ: взаиморасчёты за 01.01.2025 – 31.12.2025",
            "P0 = 15.10.2025 – 14.01.2026, P1 = 15.07.2025 – 14.10.2025",
        ),
    ],
)
def test_card_panel_states_the_windows_of_the_run(owner, base, language, window, lifecycle):
    recompute()  # run date 2026-01-15: window 2025; P0 = [15 Oct, 15 Jan), P1 = [15 Jul, 15 Oct)
    html = (
        client_for(owner, language)
        .get(reverse("clients:detail", args=[base["regular"].pk]))
        .content.decode()
    )
    assert window in html
    assert lifecycle in html


def test_settings_page_states_the_shared_analysis_window(manager, db):
    html = client_for(manager, "en").get(reverse("segmentation:settings")).content.decode()
    assert "ABC, XYZ and RFM use the same analysis window" in html
    html = client_for(manager, "ru").get(reverse("segmentation:settings")).content.decode()
    assert "ABC, XYZ и RFM используют одно окно анализа" in html


def test_card_panel_queries_are_bounded(owner, base, django_assert_max_num_queries):
    from segmentation.card import segmentation_panel

    recompute()
    with django_assert_max_num_queries(5):
        panel = segmentation_panel(base["regular"], owner)
    assert panel.order == 20 and panel.context["metrics"].abc_rank == 1


def test_a_client_added_after_the_run_has_no_class_yet(manager_client, owner, base):
    recompute()
    late = ClientFactory(name="Added later", account_manager=owner)
    lists = reverse("clients:list")

    def names(params):
        return [c.name for c in manager_client.get(lists, params).context["page"]]

    assert "Added later" in names({"abc": "none"})
    assert "Added later" in names({"lifecycle": "none"})
    assert "Added later" not in names({"lifecycle": "potential"})
    assert names({"lifecycle": "potential"}) == ["Potential"]
    # the classified client shows its classes on the list, the late one a dash
    row = manager_client.get(lists, {"q": "Regular"}).content.decode()
    assert "<td>A</td><td>X</td>" in row
    card = manager_client.get(reverse("clients:detail", args=[late.pk])).content.decode()
    assert 'id="segmentation-not-run"' in card
    api = manager_client.get(f"/api/clients/{late.pk}/").json()
    assert (api["abc_class"], api["xyz_class"], api["lifecycle"]) == (None, None, None)
    api = manager_client.get(f"/api/clients/{base['regular'].pk}/").json()
    assert (api["abc_class"], api["xyz_class"], api["lifecycle"]) == ("A", "X", "regular")


def test_client_list_sorted_by_abc_puts_the_largest_client_first(manager_client, base):
    # turnover in the window: Regular 6000 (A), Other 1200 (B), Restored 1000, New 600,
    # Lost 200 (C); Potential and a client added after the run have no rank: last, by id
    recompute()
    late = ClientFactory(name="Added later")
    response = manager_client.get(reverse("clients:list"), {"sort": "abc"})
    names = [c.name for c in response.context["page"]]
    assert names == ["Regular", "Other", "Restored", "New", "Lost", "Potential", late.name]


def test_list_total_under_class_filters_comes_from_the_class_table(
    manager_client, owner_client, base
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    recompute()
    ClientFactory(name="Added later")  # no class row yet
    lists = reverse("clients:list")
    # classes of base: Potential —/—/potential, New C/—/new, Regular A/X/regular,
    # Restored C/Z/restored, Lost C/Z/lost, Other (outsider's) B/X/regular
    cases = [  # (params, expected names, counted on the class table alone)
        ({"lifecycle": "regular"}, {"Regular", "Other"}, True),
        ({"abc": "C"}, {"Restored", "New", "Lost"}, True),
        ({"abc": "C", "xyz": "Z", "sort": "abc"}, {"Restored", "Lost"}, True),
        ({"abc": "none"}, {"Potential", "Added later"}, False),
        ({"abc": "C", "q": "New"}, {"New"}, False),
        ({}, {*(c.name for c in base.values()), "Added later"}, False),
    ]
    for params, expected, class_table_only in cases:
        with CaptureQueriesContext(connection) as ctx:
            response = manager_client.get(lists, params)
        page = response.context["page"]
        assert {c.name for c in page} == expected, params  # the rows: from the joined list
        assert page.paginator.count == len(expected), params
        counts = [  # the list's count (the navigation's unread beacon notices aside)
            q["sql"]
            for q in ctx.captured_queries
            if "COUNT(" in q["sql"].upper() and "crm_beaconnotice" not in q["sql"]
        ]
        assert len(counts) == 1, params
        assert ("clients_client" not in counts[0]) is class_table_only, (params, counts[0])
    # an account manager's list is scoped: counted on the joined list
    response = owner_client.get(lists, {"abc": "C"})
    assert response.context["page"].paginator.count == 3


def test_abc_pages_from_the_rank_index_equal_the_sorted_join(base):
    from clients import selectors as client_selectors
    from clients.models import Client
    from segmentation.client_list import ABC_ORDER, paginate_by_abc_rank

    recompute()
    ClientFactory(name="Added later")
    everyone = Client.objects.all()
    for number in range(1, 6):  # 7 clients by 2: the ranked/unranked boundary inside page 3
        fast = paginate_by_abc_rank(everyone, number, 2)
        joined = client_selectors.paginate_clients(everyone.order_by(*ABC_ORDER), number, 2)
        assert [c.pk for c in fast] == [c.pk for c in joined], number
        assert (fast.number, fast.paginator.count, fast.paginator.num_pages) == (
            joined.number,
            joined.paginator.count,
            joined.paginator.num_pages,
        )


def test_each_change_card_counts_the_list_it_links_to(manager_client, owner):
    from datetime import date

    from segmentation.models import ClassChange

    run = SegmentationRun.objects.create(status="success", as_of=date(2026, 1, 31))
    day = date(2026, 1, 31)
    became_new = ClientFactory(account_manager=owner)
    stayed_new = ClientFactory(account_manager=owner)  # its ABC changed, its status did not
    ClassChange.objects.create(client=became_new, run=run, date=day, lifecycle_new="new")
    ClassChange.objects.create(
        client=stayed_new,
        run=run,
        date=day,
        abc_old="C",
        abc_new="B",
        abc_move="up",
        lifecycle_old="new",
        lifecycle_new="new",
    )
    url = reverse("segmentation:changes")
    period = {"start": "2026-01-01", "end": "2026-01-31"}
    report = manager_client.get(url, period).context["report"]
    assert (report["new"], report["upgrades"], report["total"]) == (1, 1, 2)
    for kind, key, expected in (("new", "new", [became_new]), ("up", "upgrades", [stayed_new])):
        page = manager_client.get(url, {**period, "kind": kind}).context["page"]
        assert [ch.client_id for ch in page] == [c.pk for c in expected]
        assert len(page.object_list) == report[key]
