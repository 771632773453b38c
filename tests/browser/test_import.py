"""In a real Chromium with a real worker: upload a customer file, check the columns, and watch the progress bar
reach the result, without a reload."""
from __future__ import annotations

import csv

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.processes import ProcessSet

pytestmark = [pytest.mark.browser, pytest.mark.flow]

ROWS = 150_000  # enough for the bar to be seen moving while the worker reads (60,000 take about a second)


def _customer_file(folder) -> str:
    path = folder / "shop-export.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Mobile", "Customer name", "City", "Tier"])
        for i in range(ROWS):
            writer.writerow([f"+1 {212 + i % 3 * 100} {201 + i // 30_000} {i // 3 % 10_000:04d}", f"Customer {i}",
                             "Boston", "gold"])
        writer.writerow(["123", "Too short", "Austin", "silver"])
        writer.writerow(["+1 212 201 0000", "Same as the first", "Boston", "gold"])
        writer.writerow(["<script>alert(1)</script>", "Letters", "Austin", "silver"])
    return str(path)


def test_upload_map_columns_and_watch_the_import_finish(page: Page, live_server, app, admin, tmp_path):
    file = _customer_file(tmp_path)
    processes = ProcessSet(app)
    try:
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(admin.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Lists").click()
        expect(page.get_by_role("button", name="Try it with an example file")).to_be_visible()
        page.get_by_role("link", name="Import your own file").click()
        page.get_by_label("Customer file").set_input_files(file)
        page.get_by_label("Name of the new list").fill("Shop customers")
        page.get_by_role("button", name="Upload and check the columns").click()

        expect(page.get_by_role("heading", name="Choose the columns")).to_be_visible()
        expect(page.get_by_role("cell", name="Customer 0", exact=True)).to_be_visible()
        expect(page.get_by_label("Phone number")).to_have_value("0")  # guessed from "Mobile"
        expect(page.get_by_label("Name", exact=True)).to_have_value("1")
        page.get_by_label("Tier").uncheck()
        page.get_by_role("button", name="Import").click()

        expect(page.get_by_role("heading", name="Waiting for a worker…")).to_be_visible()
        page.evaluate("window.stillTheSamePage = true")
        processes.worker("imports")

        expect(page.get_by_text("rows read")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("progressbar")).to_be_visible()
        expect(page.get_by_role("heading", name="Import done")).to_be_visible(timeout=90_000)
        assert page.evaluate("window.stillTheSamePage") is True  # polled in place, never reloaded

        expect(page.get_by_role("group", name="Added")).to_contain_text(f"{ROWS:,}")
        expect(page.get_by_role("group", name="Invalid")).to_contain_text("2")
        expect(page.get_by_role("group", name="Duplicates")).to_contain_text("1")
        expect(page.get_by_role("cell", name="<script>alert(1)</script>")).to_be_visible()  # shown as text

        with page.expect_download() as download:
            page.get_by_role("link", name="Download the rejected rows (CSV)").click()
        rows = list(csv.reader(open(download.value.path(), encoding="utf-8-sig")))
        assert rows[0] == ["Mobile", "Customer name", "City", "Tier", "line", "reason"] and len(rows) == 4
        assert rows[1][:4] == ["123", "Too short", "Austin", "silver"]  # the row as the file had it

        page.get_by_role("link", name="Open the list").click()
        expect(page.get_by_role("heading", name="Shop customers")).to_be_visible()
        expect(page.get_by_text(f"{ROWS:,} contacts.", exact=True)).to_be_visible()
    except AssertionError:
        print(processes.output())
        raise
    finally:
        processes.stop()
