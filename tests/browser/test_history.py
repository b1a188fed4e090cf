"""Back and Forward through pages htmx pushed to history: the browser asks the server again, as
on a site without htmx. htmx's own history cache (the page it left, as HTML in sessionStorage) is
off: it showed customers to whoever pressed Back after signing out, and ran the page's scripts a
second time."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from tests.factories import CustomerFactory

from .conftest import CHROMIUM, CHROMIUM_ARGS, GuardedBrowser, log_in

SURNAME = "Souza"


def _customers(cast, n: int = 30) -> list[str]:
    names = [f"Ana {SURNAME} {i:02d}" for i in range(n)]
    for name in names:
        cast.installation(customer=CustomerFactory(partner=cast.partner, name=name))
    return names


def _stored(page) -> dict[str, str]:
    return page.evaluate(
        "() => Object.fromEntries(Object.keys(sessionStorage)"
        ".map((key) => [key, sessionStorage.getItem(key)]))"
    )


def _document_listeners(page) -> list[str]:
    """The types of the listeners on `document`, one entry per listener (DevTools' own count)."""
    cdp = page.context.new_cdp_session(page)
    try:
        doc = cdp.send("Runtime.evaluate", {"expression": "document"})["result"]["objectId"]
        listeners = cdp.send("DOMDebugger.getEventListeners", {"objectId": doc})["listeners"]
    finally:
        cdp.detach()
    return sorted(listener["type"] for listener in listeners)


def test_back_after_signing_out_shows_no_customer(chromium, base_url, page_guard, cast):
    # Playwright switches Chrome's back/forward cache off; people have it on.
    people_s_chrome = chromium.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
    )
    try:
        page = GuardedBrowser(people_s_chrome, base_url, page_guard).new_page()
        _customers(cast)
        log_in(page, "acme")
        page.goto("/installations/")
        page.get_by_role("link", name="Next page").click()
        page.wait_for_url(re.compile(r"page=2"))
        expect(page.get_by_text(SURNAME).first).to_be_visible()
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(re.compile(r"/accounts/login/$"))

        # The list came back whole from the back/forward cache (pages were sent without
        # no-store), still asking the live feed. Now the server is asked, and asks for a log-in.
        page.go_back(wait_until="commit")
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        expect(page.get_by_text(SURNAME)).to_have_count(0)
    finally:
        people_s_chrome.close()


def test_back_after_signing_out_in_another_tab_shows_no_customer(browser, cast):
    _customers(cast)
    office = browser.new_context()
    page = office.new_page()
    log_in(page, "acme")
    page.goto("/installations/")
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"page=2"))

    # The same person signs out in another tab of the same browser, and leaves.
    other = office.new_page()
    other.goto("/installations/")
    other.get_by_role("button", name="Log out").click()
    other.wait_for_url(re.compile(r"/accounts/login/"))

    # Back in the first tab: htmx put the first page back from its cache, customers and all,
    # without asking. Now the server is asked, and it asks for a log-in.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_text(SURNAME)).to_have_count(0)


def test_browsing_the_list_through_htmx_keeps_no_page_in_session_storage(page, cast):
    names = _customers(cast)
    log_in(page, "acme")
    page.goto("/installations/")
    search = page.get_by_label("Search")
    search.fill(SURNAME)
    search.press("Enter")
    page.wait_for_url(re.compile(rf"q={SURNAME}"))
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator("#result-count")).to_contain_text("page 2 of 2")
    page.go_back()
    expect(page.locator("#result-count")).to_contain_text("page 1 of 2")

    stored = _stored(page)
    assert "htmx-history-cache" not in stored, list(stored)
    assert not [key for key, value in stored.items() if any(name in value for name in names)]


def test_back_after_filtering_and_paging_shows_that_view_with_its_scripts_once(page, cast):
    _customers(cast)
    log_in(page, "acme")
    page.goto(f"/installations/?q={SURNAME}")
    page.wait_for_load_state("networkidle")
    listeners = _document_listeners(page)
    first_row = page.locator("tbody.installation").first.get_attribute("id")

    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"page=2"))
    expect(page.locator("#result-count")).to_contain_text("page 2 of 2")
    page.get_by_label("Search").fill("someone else")  # typed, not sent

    page.go_back()
    expect(page).to_have_url(re.compile(rf"/installations/\?q={SURNAME}$"))
    expect(page.locator("#result-count")).to_contain_text("30 installations, page 1 of 2")
    expect(page.get_by_label("Search")).to_have_value(SURNAME)
    expect(page.locator("tbody.installation")).to_have_count(25)
    expect(page.locator("tbody.installation").first).to_have_attribute("id", first_row)
    page.wait_for_load_state("networkidle")

    # Each script of the page listens once: htmx ran portal.js, bulk.js, flash.js, history.js
    # and live.js again for the page it put back, a second set of document listeners per Back.
    assert _document_listeners(page) == listeners

    # Its bulk bar works as on a fresh page: "select all" ticks the page's 25 rows.
    page.get_by_label("Select all on this page").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("25 selected.")


def test_signing_out_leaves_nothing_of_the_tabs_browsing_in_session_storage(page, cast):
    _customers(cast, 3)
    log_in(page, "acme")
    page.goto(f"/installations/?q={SURNAME}")
    expect(page.locator("tbody.installation")).to_have_count(3)
    # What a tab open since before the history cache was switched off still holds (htmx drops
    # it only when it next saves a page), and the board's note of the card to focus.
    page.evaluate(
        """() => {
          sessionStorage.setItem("htmx-history-cache", JSON.stringify([{
            url: "/installations/", title: "Installations", scroll: 0,
            content: "<td>Ana Souza 00</td><td>511 Stacy Parkways</td>",
          }]));
          sessionStorage.setItem("board:focus-after-action", JSON.stringify(
            {card: "card-1", action: "assign", until: Date.now() + 10000}
          ));
        }"""
    )
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/accounts/login/$"))

    stored = _stored(page)
    assert set(stored) <= {"htmx-current-path-for-history"}, stored  # htmx's, of the log-in page
    assert SURNAME not in json.dumps(stored)
