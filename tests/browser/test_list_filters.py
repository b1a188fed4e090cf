"""The partner list's filter form in a browser: one search, one request and one history entry,
however it is sent; one Back leaves it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import CustomerFactory

from .conftest import log_in
from .steps import COUNT_SWAPS, swaps


def test_enter_in_the_search_adds_one_history_entry_and_one_back_undoes_it(page, cast):
    ana = cast.installation(customer=CustomerFactory(partner=cast.partner, name="Ana Souza"))
    cast.installation(customer=CustomerFactory(partner=cast.partner, name="Bruno Lima"))
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "q=Souza" in r.url else None)
    page.add_init_script(COUNT_SWAPS)
    log_in(page, "acme")
    page.goto("/installations/")
    expect(page.locator("tbody.installation")).to_have_count(2)
    entries = page.evaluate("history.length")
    search = page.get_by_label("Search")

    search.fill("Souza")
    search.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=Souza"))
    swaps(page, 1)
    expect(page.locator("tbody.installation")).to_have_count(1)
    expect(page.locator(f"#row-{ana.pk}")).to_be_visible()
    # Enter fires the box's change, then the form's submit: one search, not two.
    assert len(searches) == 1, searches
    assert page.evaluate("history.length") == entries + 1

    # Enter again, or Apply filters, on the search already shown: no second entry.
    page.get_by_label("Search").press("Enter")
    swaps(page, 2)
    page.get_by_role("button", name="Apply filters").click()
    swaps(page, 3)
    assert page.evaluate("history.length") == entries + 1

    page.go_back()
    expect(page).to_have_url(re.compile(r"/installations/$"))
    expect(page.locator("tbody.installation")).to_have_count(2)
    expect(page.get_by_label("Search")).to_have_value("")


def test_a_choice_applies_at_once_and_apply_filters_after_it_adds_no_entry(page, cast):
    cast.installation("SCHEDULED")
    assigned = cast.installation("INSTALLER_ASSIGNED")
    page.add_init_script(COUNT_SWAPS)
    log_in(page, "acme")
    page.goto("/installations/")
    entries = page.evaluate("history.length")

    page.get_by_label("Exact status").select_option("INSTALLER_ASSIGNED")
    page.wait_for_url(re.compile(r"status=INSTALLER_ASSIGNED"))
    swaps(page, 1)
    expect(page.locator("tbody.installation")).to_have_count(1)
    page.get_by_role("button", name="Apply filters").click()
    swaps(page, 2)
    assert page.evaluate("history.length") == entries + 1
    expect(page.locator(f"#row-{assigned.pk}")).to_be_visible()

    page.go_back()
    expect(page).to_have_url(re.compile(r"/installations/$"))
    expect(page.locator("tbody.installation")).to_have_count(2)
