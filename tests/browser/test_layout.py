"""Long unbroken words (a real surname, a street name) on every audience's page at 360 px: they
wrap instead of widening the page past a small phone."""

from __future__ import annotations

import pytest

from installations.customer_links import make_token
from installations.statuses import Status
from tests.factories import CustomerFactory

from .conftest import log_in

SURNAME = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessen"


@pytest.mark.parametrize(
    ("who", "status", "path"),
    [
        (None, Status.CUSTOMER_APPROVED, "/c/{token}/"),
        ("acme", Status.CUSTOMER_APPROVED, "/installations/{pk}/"),
        ("hank", Status.INSTALLATION_IN_PROGRESS, "/handyman/{pk}/complete/"),
    ],
)
def test_a_long_surname_wraps_at_360_pixels(browser, live_server, cast, who, status, path):
    customer = CustomerFactory(partner=cast.partner, name=f"Hans {SURNAME}")
    inst = cast.installation(status, customer=customer, handyman=cast.handyman)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        if who:
            log_in(page, who)
        token = make_token(inst) if "{token}" in path else ""
        page.goto(path.format(token=token, pk=inst.pk))
        page.get_by_role("heading", level=1).wait_for()
        assert page.get_by_text(SURNAME).first.is_visible()
        # What sticks out, should it fail: the elements whose right edge is past the screen.
        wide = page.evaluate(
            """[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 361)
            .map(e => e.tagName + '.' + e.className).slice(0, 12)"""
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, wide
    finally:
        context.close()
