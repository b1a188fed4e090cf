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
USERNAMES = {"partner": "acme", "handyman": "hank", "customer": None, "staff": "root"}
# Each kind of page (its numbers and query aside) at most twice, once in the admin: time, not depth.
PER_KIND = {"staff": 1}
# At least this many pages each audience must have had checked, so the sweep cannot test nothing.
MINIMUM_CHECKED = {"partner": 20, "handyman": 5, "customer": 2, "staff": 30}

WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)
  .slice(0, 6)"""

# The skip link's class, and whether what it skips to is on the page (Django's admin has its own).
FIRST_STOP = """() => { const a = document.activeElement, to = a.getAttribute('href') || '';
  return [a.className, to.startsWith('#') && !!document.getElementById(to.slice(1))]; }"""
SKIP_LINKS = {"skip-link", "skip-to-content-link"}


def _kinds(pages: list[str], most: int) -> list[str]:
    import re

    seen: dict[str, int] = {}
    kept = []
    for page in pages:
        kind = re.sub(r"\d+", "N", page.split("?")[0]) + ("?" if "?" in page else "")
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= most:
            kept.append(page)
    return kept


SCREENS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


# Staff work at a desk: Django's admin on a phone is Django's own (its lists scroll inside
# their box), and its controls were never meant for a thumb.
CHECKS = [
    (who, screen) for who in USERNAMES for screen in SCREENS if (who, screen) != ("staff", "phone")
]


@pytest.mark.parametrize(("audience_name", "screen"), CHECKS)
def test_every_page_fits_a_phone_with_thumb_sized_controls_and_no_serious_axe_finding(
    browser, live_server, cast, audience_name, screen
):
    audiences, _ = build(cast)
    audience = audiences[audience_name]
    problems, _, pages = crawl(audience.client, audience.pages, htmx_answers=False)
    assert not problems, problems  # tests/test_every_link.py says more
    pages = _kinds(pages, PER_KIND.get(audience_name, 2))

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
            # Django admin's forms.css has an @import axe cannot preload under the CSP.
            if axe := serious_axe_violations(page, read_stylesheets=audience_name != "staff"):
                findings.append(f"{address}: axe: {axe}")
            # The keyboard's first stop is the way past the header, to a main that exists (a
            # page that starts in its first field, Django's password pages, starts past it).
            if page.evaluate("() => document.activeElement === document.body"):
                page.keyboard.press("Tab")
                first = page.evaluate(FIRST_STOP)
                if first[0] not in SKIP_LINKS or not first[1]:
                    findings.append(f"{address}: the first Tab reaches {first}, not the skip link")
    finally:
        context.close()
    print(f"\n{audience_name} ({screen}): {len(pages)} pages checked")
    assert len(pages) >= MINIMUM_CHECKED[audience_name], pages
    assert not findings, f"{len(findings)} pages fall short:\n" + "\n".join(findings)
