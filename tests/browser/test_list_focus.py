"""Where the keyboard's focus goes after the list's results or a row are swapped with the
control that had it: to what the list now says, or to the row, not to the top of the page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from installations import services

from .conftest import log_in
from .steps import COUNT_SWAPS, later_rows, swaps


def test_paging_to_the_last_page_and_clearing_filters_keep_the_focus_in_the_list(page, cast):
    later_rows(cast, 27)  # two pages of 25
    page.add_init_script(COUNT_SWAPS)
    log_in(page, "acme")
    page.goto("/installations/")
    count = page.locator("#result-count")

    # "Next page" to the last page: the link is gone; the count says where the person is.
    page.get_by_role("link", name="Next page").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?page=2"))
    swaps(page, 1)
    expect(count).to_have_text("27 installations, page 2 of 2.")
    expect(count).to_be_focused()
    # And back to the first page, whose "Previous page" is gone too.
    page.get_by_role("link", name="Previous page").focus()
    page.keyboard.press("Enter")
    swaps(page, 2)
    expect(count).to_have_text("27 installations, page 1 of 2.")
    expect(count).to_be_focused()

    # A search that finds nothing, then "Clear filters" under "No installations match".
    search = page.get_by_label("Search")
    search.fill("nobody at all")
    search.press("Enter")
    swaps(page, 3)
    expect(search).to_be_focused()  # htmx keeps it: the box has an id
    empty = page.locator("#empty-state")
    expect(empty).to_contain_text("No installations match these filters.")
    empty.get_by_role("link", name="Clear filters").focus()
    page.keyboard.press("Enter")
    swaps(page, 4)
    expect(count).to_be_focused()
    expect(count).to_have_text("27 installations, page 1 of 2.")

    # The "Clear filters" beside "Apply filters", gone once nothing is filtered.
    page.get_by_label("Status group", exact=True).select_option("scheduled")
    swaps(page, 5)
    page.locator(".filter-actions").get_by_role("link", name="Clear filters").focus()
    page.keyboard.press("Enter")
    swaps(page, 6)
    expect(page.locator(".filter-actions a")).to_have_count(0)
    expect(count).to_be_focused()

    # A link still there after the swap keeps the focus (htmx, by its id).
    page.get_by_role("link", name="Next page").focus()
    page.keyboard.press("Enter")
    swaps(page, 7)
    page.get_by_role("link", name="Previous page").focus()
    page.get_by_label("Rows per page").focus()
    page.get_by_label("Rows per page").select_option("50")
    swaps(page, 8)
    expect(page.get_by_label("Rows per page")).to_be_focused()


@pytest.mark.allow_page_errors("409 (Conflict)")
def test_a_row_action_refused_as_it_opens_leaves_the_focus_on_its_row(page, cast):
    job = cast.installation("SCHEDULED")
    log_in(page, "acme")
    page.goto("/installations/")
    # This tab does not hear of the change (its feed stopped): it acts on what it shows.
    page.evaluate("window.portalLive && window.portalLive.stop()")
    services.installation_reject(installation=job, reason="Gone", actor=cast.partner_user)
    row = page.locator(f"#row-{job.pk}")
    row.get_by_role("button", name="Assign").focus()
    page.keyboard.press("Enter")
    # The answer is the row (and, after it, the cards refreshed: a second swap).
    expect(row).to_contain_text("was rejected")
    expect(page.locator("#action-dialog")).not_to_have_attribute("open", "")
    expect(row).to_be_focused()
