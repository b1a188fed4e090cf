"""CSV export and import in a browser: export the filtered list, import a file with two bad rows,
read the two errors, fix the file, upload it again, commit and find the jobs in the list."""

from __future__ import annotations

import csv
import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from installations.statuses import Status
from tests.factories import CustomerFactory
from tests.spreadsheets.files import csv_bytes, job

from .conftest import log_in


def test_the_export_downloads_exactly_the_filtered_list(page, cast):
    wanted = [
        cast.installation(Status.SCHEDULED, customer=CustomerFactory(partner=cast.partner))
        for _ in range(2)
    ]
    cast.installation(Status.EN_ROUTE, handyman=cast.handyman)
    cast.installation(Status.SCHEDULED, partner=cast.other_partner)
    log_in(page, "acme")
    page.goto("/installations/")
    page.get_by_role("link", name=re.compile("Scheduled")).first.click()
    page.wait_for_url(re.compile(r"\?group=scheduled"))
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert re.fullmatch(r"installations-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), "rb") as file:
        raw = file.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert sorted(int(row["id"]) for row in rows) == sorted(i.pk for i in wanted)
    assert {row["status group"] for row in rows} == {"Scheduled"}


def _file(rows: list[dict[str, str]]) -> dict:
    return {"name": "jobs.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows, delimiter=";")}


# The file with errors is answered 422, as every refused form is.
@pytest.mark.allow_page_errors("422")
def test_an_import_with_two_bad_rows_is_fixed_uploaded_again_and_committed(page, cast):
    good = [job(1, customer_name="Imogen Import"), job(2, customer_name="Ivo Import")]
    bad_date = job(3, customer_name="Ida Import", date="31/02/2027")
    bad_handyman = job(4, customer_name="Isak Import", handyman="nobody")
    log_in(page, "acme")
    page.goto("/installations/")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Import").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Import installations from a CSV file")

    page.get_by_label("CSV file").set_input_files(_file([*good, bad_date, bad_handyman]))
    page.get_by_role("button", name="Check the file").click()
    errors = page.locator("#import-errors li")
    expect(page.get_by_role("heading", name="2 rows need correcting")).to_be_visible()
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("Row 4 (Ida Import)")
    expect(errors.nth(0)).to_contain_text("“31/02/2027” is not a date")
    expect(errors.nth(1)).to_contain_text("Row 5 (Isak Import)")
    expect(errors.nth(1)).to_contain_text("No handyman called “nobody” works for you")
    expect(page.get_by_role("button", name=re.compile("^Import"))).to_have_count(0)

    fixed = [*good, {**bad_date, "date": job()["date"]}, {**bad_handyman, "handyman": "hank"}]
    page.get_by_label("CSV file").set_input_files(_file(fixed))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Ready to import")).to_be_visible()
    expect(page.get_by_text("columns separated by semicolons")).to_be_visible()
    expect(page.locator(".import-counts")).to_contain_text("4 installations to create")
    page.get_by_role("button", name="Import 4 installations").click()
    expect(page.locator("#flash")).to_contain_text("Imported 4 installations from jobs.csv.")

    page.get_by_role("link", name="See them in the list").click()
    for name in ("Imogen Import", "Ivo Import", "Ida Import", "Isak Import"):
        expect(page.locator("tbody.installation", has_text=name)).to_have_count(1)
    expect(page.locator("tbody.installation", has_text="Isak Import")).to_contain_text(
        "Installer assigned"
    )


def _serious(results) -> list[str]:
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


@pytest.mark.allow_page_errors("422")
def test_the_import_preview_is_accessible_and_fits_360_pixels(browser, live_server, cast):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        log_in(page, "acme")
        page.goto("/installations/import/")
        axe = Axe()
        assert _serious(axe.run(page)) == []
        long_site = "Flat 12, A Rather Long Building Name, 140 Long Street"
        rows = [job(1, site_address=long_site), job(2)]
        rows[1]["window"] = "07:00-09:00"
        page.get_by_label("CSV file").set_input_files(
            {"name": "jobs.csv", "mimeType": "text/csv", "buffer": csv_bytes(rows)}
        )
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_role("heading", name="1 row needs correcting")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert _serious(axe.run(page)) == []
    finally:
        context.close()


def test_at_360_pixels_a_long_place_name_leaves_every_row_readable_without_scrolling_sideways(
    browser, live_server, cast
):
    # One word wider than the screen (a real Welsh village) made every row of the preview as
    # wide as that word: each line was cut at the screen's edge, the date and window included.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        log_in(page, "acme")
        page.goto("/installations/import/")
        site = "1 Station Road, Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch LL61 5UJ"
        page.get_by_label("CSV file").set_input_files(
            {
                "name": "jobs.csv",
                "mimeType": "text/csv",
                "buffer": csv_bytes([job(1, site_address=site)]),
            }
        )
        page.get_by_role("button", name="Check the file").click()
        expect(page.get_by_role("heading", name="Ready to import")).to_be_visible()
        rows = page.locator(".table-scroll")
        assert rows.evaluate("e => e.scrollWidth <= e.clientWidth"), rows.evaluate(
            "e => e.scrollWidth"
        )
    finally:
        context.close()
