"""Browser: an account manager imports a file with a bad row, reads the report, imports the valid
rows, exports the list; the job page's progress bar follows a background import."""

from pathlib import Path

import pytest

from clients.models import Client, ImportJob
from tests.conftest import login, screenshot
from tests.factories import ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BAD_FILE = (
    "Внешний ID;Наименование;ИНН;Город\n"
    "E-1;ООО «Ёлка»;7701234567;Москва\n"
    "E-2;;12345;Тула\n"
    'E-3;=HYPERLINK("http://evil");5001234567;Химки\n'
).encode("cp1251")


def _upload(page, mode: str) -> None:
    page.select_option("#id_kind", "clients")
    page.set_input_files(
        "#id_file", files=[{"name": "clients.csv", "mimeType": "text/csv", "buffer": BAD_FILE}]
    )
    page.check(f"input[name=mode][value={mode}]")
    page.click("#import-submit")
    page.wait_for_selector("#import-result")


def test_import_with_a_bad_row_then_valid_rows_then_export(
    page, live_server, owner, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    ClientFactory(name="Чужой", account_manager=None)
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/clients/")
    page.click("a[href='/clients/import/']")
    page.wait_for_selector("#import-form")
    screenshot(page, "import-page")

    _upload(page, "all_or_nothing")
    assert page.locator("#import-progress").get_attribute("data-status") == "failed"
    assert page.locator("#import-errors").inner_text() == "1"
    assert Client.objects.filter(account_manager=owner).count() == 0
    screenshot(page, "import-rejected")
    with page.expect_download() as download:
        page.click("#import-report a[href$='format=xlsx']")
    assert download.value.suggested_filename.endswith("-errors.xlsx")

    page.goto(f"{live_server.url}/clients/import/")
    _upload(page, "valid_rows")
    assert page.locator("#import-progress").get_attribute("data-status") == "done"
    assert page.locator("#import-created").inner_text() == "2"
    assert page.locator("#import-errors").inner_text() == "1"
    screenshot(page, "import-valid-rows")

    page.goto(f"{live_server.url}/clients/")
    with page.expect_download() as download:
        page.click("#export-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "ООО «Ёлка»" in text
    assert "'=HYPERLINK" in text  # formula guarded
    assert "Чужой" not in text


def test_job_page_progress_bar_follows_a_background_import(
    page, live_server, owner, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    job = ImportJob.objects.create(
        user=owner,
        kind="clients",
        file_name="big.csv",
        file="imports/big.csv",
        status=ImportJob.Status.RUNNING,
        total_rows=20000,
        processed_rows=8000,
    )
    login(page, live_server, "owner")
    page.goto(f"{live_server.url}/clients/import/{job.pk}/")
    bar = page.locator("#import-progress .progress-bar")
    assert bar.inner_text() == "40%"
    screenshot(page, "import-progress")
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=16000)
    # a function, not a bare expression: Playwright evals a bare one in the page, which the
    # Content-Security-Policy (no 'unsafe-eval') refuses
    page.wait_for_function(
        "() => document.querySelector('#import-progress .progress-bar').innerText === '80%'"
    )
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=20000, status="done", created_count=20000, message="20000 created"
    )
    page.wait_for_selector("#import-result")
    # Russian (the browser's locale): grouped with a no-break space
    assert page.locator("#import-created").inner_text().replace("\xa0", " ") == "20 000"
    screenshot(page, "import-progress-done")
