"""Every page of the portal on a 360-pixel phone and on a desktop's screen, under the real server
with DEBUG off: each page a partner's user, a handyman and a customer's link can reach (found by
following their links, as tests/test_every_link.py does) fits the screen without scrolling
sideways, has no serious or critical axe finding and, on the phone, no control smaller than a
thumb (44×44 CSS pixels); the page guard
fails any console error or refused script. The feature tests check their own pages in depth;
this one makes sure no page is left out, and that each one's first Tab is its skip link to
its main content. Findings over all pages end in one readable list."""

from __future__ import annotations

import pytest

from tests.test_every_form_twice import build
from tests.test_every_link import crawl

from .conftest import log_in
from .steps import serious_axe_violations, small_targets

# Who signs in as each audience in the browser (the cast's people).
USERNAMES = {"partner": "acme", "handyman": "hank", "customer": None}
PER_KIND = 2  # each kind of page (its numbers and query aside) at most twice: time, not depth
# At least this many pages each audience must have had checked, so the sweep cannot test nothing.
MINIMUM_CHECKED = {"partner": 20, "handyman": 5, "customer": 2}

WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)
  .slice(0, 6)"""

FIRST_STOP = """() => [document.activeElement.className,
  document.activeElement.getAttribute('href'), document.querySelectorAll('main#main').length]"""


def _kinds(pages: list[str]) -> list[str]:
    import re

    seen: dict[str, int] = {}
    kept = []
    for page in pages:
        kind = re.sub(r"\d+", "N", page.split("?")[0]) + ("?" if "?" in page else "")
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= PER_KIND:
            kept.append(page)
    return kept


SCREENS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("audience_name", list(USERNAMES))
def test_every_page_fits_a_phone_with_thumb_sized_controls_and_no_serious_axe_finding(
    browser, live_server, cast, audience_name, screen
):
    audiences, _ = build(cast)
    audience = audiences[audience_name]
    problems, _, pages = crawl(audience.client, audience.pages, htmx_answers=False)
    assert not problems, problems  # tests/test_every_link.py says more
    pages = _kinds(pages)

    phone = screen == "phone"
    context = browser.new_context(
        base_url=live_server.url, viewport=SCREENS[screen], has_touch=phone
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    findings: list[str] = []
    try:
        if USERNAMES[audience_name]:
            log_in(page, USERNAMES[audience_name])
        for address in pages:
            page.goto(address)
            page.wait_for_load_state("networkidle")
            if page.evaluate("document.documentElement.scrollWidth") > SCREENS[screen]["width"]:
                findings.append(
                    f"{address}: wider than the screen: {page.evaluate(WIDER_THAN_SCREEN)}"
                )
            if phone and (small := small_targets(page)):
                findings.append(f"{address}: controls smaller than 44×44: {small[:6]}")
            if axe := serious_axe_violations(page):
                findings.append(f"{address}: axe: {axe}")
            # The keyboard's first stop is the way past the header, to a main that exists (a
            # page that starts in its first field, Django's password pages, starts past it).
            if page.evaluate("() => document.activeElement === document.body"):
                page.keyboard.press("Tab")
                first = page.evaluate(FIRST_STOP)
                if first != ["skip-link", "#main", 1]:
                    findings.append(f"{address}: the first Tab reaches {first}, not the skip link")
    finally:
        context.close()
    print(f"\n{audience_name} ({screen}): {len(pages)} pages checked")
    assert len(pages) >= MINIMUM_CHECKED[audience_name], pages
    assert not findings, f"{len(findings)} pages fall short:\n" + "\n".join(findings)
