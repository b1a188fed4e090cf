"""The staff admin in a browser: the installation list fits a 1366 px laptop screen; the
rate-limit blocks page fits a phone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from installations.models import Customer
from installations.ratelimit import services as ratelimit
from installations.scheduling.models import TimeOff
from installations.statuses import Status
from tests.factories import CustomerFactory

from .conftest import log_in
from .steps import serious_axe_violations

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


def test_the_blocks_page_fits_a_phone_and_its_row_button_lifts_a_block(phone, cast):
    for _ in range(3):  # the default limit of links per email address
        ratelimit.ratelimit_hit(limit=ratelimit.limit("reset-email"), subject="ann@example.com")
    log_in(phone, "root")
    phone.goto("/admin/installations/ratecount/")
    expect(phone.get_by_role("heading", name="Rate-limit blocks in force")).to_be_visible()
    # The table scrolls inside its box, as Django's lists do; the page does not.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert serious_axe_violations(phone) == []
    lift = phone.get_by_role("button", name="Lift the block: Password-reset requests for ann")
    lift.scroll_into_view_if_needed()
    lift.click()
    expect(phone.locator(".messagelist")).to_contain_text("Lifted: Password-reset requests")
    expect(phone.locator("#result_list")).to_have_count(0)  # no block left to list


STAFF_PAGES = (
    "/admin/",
    "/admin/installations/installation/",
    "/admin/installations/installation/?q=Smith",
    "/admin/installations/statuschange/",
    "/admin/installations/partner/",
    "/admin/installations/customer/",
    "/admin/auth/user/",
)


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_the_staff_pages_pass_axe_on_a_laptop(page, cast, url):
    """Django admin's search box (a magnifier for its label) and links told apart by colour
    alone failed axe on the changelists; only the blocks page had been mended."""
    cast.installation(Status.INSTALLER_ASSIGNED)
    page.set_viewport_size(LAPTOP)
    log_in(page, "root")
    page.goto(url)
    assert serious_axe_violations(page) == []


@pytest.mark.parametrize("status", [Status.INSTALLER_ASSIGNED, Status.CUSTOMER_APPROVED])
def test_an_installations_change_page_passes_axe_on_a_laptop(page, cast, status):
    """The change page of an open job (its status buttons) and of a finished, locked one (its
    override notice), with no console error of its own: the page guard is on."""
    job = cast.installation(status)
    page.set_viewport_size(LAPTOP)
    log_in(page, "root")
    page.goto(f"/admin/installations/installation/{job.pk}/change/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert serious_axe_violations(page, read_stylesheets=False) == []


def _people_page(cast, which: str) -> str:
    if which == "handyman":
        # A day off already marked: its row has a delete box as well as the new row's date.
        TimeOff.objects.create(handyman=cast.handyman, day=timezone.localdate() + timedelta(7))
        return f"/admin/installations/handyman/{cast.handyman.pk}/change/"
    return {
        "new handyman": "/admin/installations/handyman/add/",
        "partner": f"/admin/installations/partner/{cast.partner.pk}/change/",
        "user": f"/admin/auth/user/{cast.staff.pk}/change/",
        "new group": "/admin/auth/group/add/",
    }[which]


@pytest.mark.parametrize("which", ["handyman", "new handyman", "partner", "user", "new group"])
def test_the_people_pages_pass_axe_on_a_laptop(page, cast, which):
    """The rows of a tabular inline (a handyman's days off, a partner's users) had inputs named
    only by their column's heading, the two-box picker (partners, groups, permissions) icons
    with an aria-label and no role, and a user's last login two unlabelled inputs."""
    url = _people_page(cast, which)
    page.set_viewport_size(LAPTOP)
    log_in(page, "root")
    page.goto(url)
    page.wait_for_load_state("load")  # the picker is drawn on "load"
    assert serious_axe_violations(page, read_stylesheets=False) == []


TABLET = {"width": 768, "height": 1024}


@pytest.mark.parametrize("size", [TABLET, {"width": 360, "height": 800}])
def test_an_installations_history_scrolls_by_keyboard_on_a_tablet_and_a_phone(page, cast, size):
    """Django's responsive styles make the eight-column history scroll sideways inside its group
    below 1024 px: a box no key could reach or scroll (axe: scrollable-region-focusable)."""
    job = cast.installation(Status.INSTALLER_ASSIGNED)
    # One long word the cells cannot wrap (as an e-mail address for a name is): the table is
    # wider than the screen whatever names the factories drew.
    job.history.update(actor_name="installations.office.manager@acme-appliances.example.com")
    page.set_viewport_size(size)
    log_in(page, "root")
    page.goto(f"/admin/installations/installation/{job.pk}/change/")
    assert serious_axe_violations(page, read_stylesheets=False) == []
    history = page.get_by_role("region", name="Status history")
    assert history.evaluate("e => e.scrollWidth > e.clientWidth")  # it has somewhere to go
    history.focus()
    page.keyboard.press("ArrowRight")
    # Chromium scrolls smoothly: the box moves over a few frames after the key.
    page.wait_for_function("() => document.querySelector('.inline-scroller').scrollLeft > 0")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("size", [TABLET, {"width": 360, "height": 800}])
@pytest.mark.parametrize("url", ["/admin/installations/partner/", "/admin/auth/group/"])
def test_a_lists_search_box_and_button_fit_beside_the_navigation(page, cast, size, url):
    """Below 1024 px Django's styles keep the search's label, box and button on one line: with
    the navigation open on a tablet the box was a sliver and the Search button off screen."""
    page.set_viewport_size(size)
    log_in(page, "root")
    page.goto(url)
    viewport = page.evaluate("document.documentElement.clientWidth")
    box = page.locator("#searchbar").bounding_box()
    button = page.locator("#changelist-search input[type=submit]").bounding_box()
    assert box is not None and button is not None
    assert box["width"] >= 120, box
    assert button["x"] + button["width"] <= viewport, (button, viewport)


def focused_note_says(page) -> str:
    """The error note has the focus; what it is described by (the sentences that say why)."""
    note = page.locator(".errornote")
    expect(note).to_be_focused()
    return page.evaluate(
        "ids => ids.split(' ').map(id => document.getElementById(id).textContent).join(' ')",
        note.get_attribute("aria-describedby"),
    )


@pytest.mark.allow_page_errors("409")
def test_a_refused_save_puts_the_focus_on_the_note_that_says_why(page, cast):
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith", phone="0700 000001")
    log_in(page, "root")
    page.goto(f"/admin/installations/customer/{customer.pk}/change/")
    # An ordinary page keeps the browser's focus.
    assert page.evaluate("document.activeElement === document.body")
    Customer.objects.filter(pk=customer.pk).update(phone="0700 999999")  # another window
    page.locator("#id_name").fill("Ann Smith-Jones")
    page.locator("input[name=_save]").click()

    said = focused_note_says(page)
    assert "Someone else changed this customer while you had this page open" in said
    expect(page.locator("#id_name")).to_have_value("Ann Smith-Jones")


@pytest.mark.allow_page_errors("409")
def test_a_refused_row_puts_the_focus_on_the_note_too(page, cast):
    off = TimeOff.objects.create(handyman=cast.handyman, day=timezone.localdate() + timedelta(5))
    log_in(page, "root")
    page.goto(f"/admin/installations/handyman/{cast.handyman.pk}/change/")
    TimeOff.objects.filter(pk=off.pk).delete()  # another window
    page.locator("input[name=_save]").click()

    said = focused_note_says(page)
    assert "row 1 was deleted" in said
    assert serious_axe_violations(page, read_stylesheets=False) == []
