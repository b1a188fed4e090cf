"""The staff admin in a browser: the installation list fits a 1366 px laptop screen."""

from __future__ import annotations

from installations.statuses import Status

from .conftest import log_in

LAPTOP = {"width": 1366, "height": 768}


def test_the_installation_list_keeps_its_last_column_on_a_1366_px_screen(page, cast):
    # Long names, as real ones are: cells must wrap, not push the last column out of view.
    for status in (Status.SCHEDULED, Status.INSTALLER_ASSIGNED, Status.INSTALLATION_IN_PROGRESS):
        inst = cast.installation(status)
        inst.customer.name = "Maximilian Alexander Featherstonehaugh-Worthington"
        inst.customer.save()
    cast.partner.name = "Acme Appliances and Kitchen Installations Ltd"
    cast.partner.save()
    page.set_viewport_size(LAPTOP)
    log_in(page, "root")
    page.goto("/admin/installations/installation/")

    last_cells = page.locator("#result_list tr > :last-child")
    assert last_cells.count() == 4  # the header and three rows
    viewport = page.evaluate("document.documentElement.clientWidth")
    for i in range(last_cells.count()):
        box = last_cells.nth(i).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport, (i, box, viewport)
    # Django puts the table in a box that scrolls sideways: it must not need to.
    results = page.locator("#changelist .results")
    assert results.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport
