"""The bulk bar on a desktop (1280×800): while rows are ticked it follows the scroll in two short
lines, the count and every action beside it, each labelled and reached with the keyboard, and it
never hides what has the focus; without JavaScript it is as short, and still a plain form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from installations.models import Installation
from installations.statuses import Status

from .conftest import log_in
from .steps import height, later_rows, row_box, serious_axe_violations

DESKTOP = {"width": 1280, "height": 800}
# Two lines of 44-pixel controls and the bar's frame; it was 230 (a quarter of the screen).
MAX_HEIGHT = 120


def _controls(bar) -> list:
    """Every action's controls, in the order Tab reaches them."""
    return [
        bar.get_by_label("Assign to"),
        bar.get_by_label("Assign even where the handyman already has a job at that time"),
        bar.get_by_role("button", name="Assign selected"),
        bar.get_by_label("Reason for rejecting"),
        bar.get_by_role("button", name="Reject selected"),
        bar.get_by_role("button", name="Export selected"),
    ]


@pytest.fixture
def desktop(browser):
    page = browser.new_page(viewport=DESKTOP)
    yield page
    page.close()


def test_with_rows_ticked_the_bar_follows_the_scroll_in_two_short_lines_with_every_action(
    desktop, cast
):
    rows = later_rows(cast, 12)
    log_in(desktop, "acme")
    desktop.goto("/installations/")
    row_box(desktop, rows[0]).check()
    row_box(desktop, rows[1]).check()
    bar = desktop.locator("#bulk-form")
    expect(bar).to_contain_text("2 selected.")

    # Far down the list it is still at the top of the screen, and short.
    row_box(desktop, rows[-1]).scroll_into_view_if_needed()
    desktop.mouse.wheel(0, 2000)
    expect(bar).to_be_in_viewport()
    box = bar.bounding_box()
    assert box is not None and box["y"] <= 1
    assert height(bar) <= MAX_HEIGHT
    for control in _controls(bar):
        expect(control).to_be_visible()
        expect(control).to_be_in_viewport()
    assert desktop.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert serious_axe_violations(desktop) == []


def test_every_action_in_the_bar_is_reached_with_the_keyboard(desktop, cast):
    rows = later_rows(cast, 12)
    log_in(desktop, "acme")
    desktop.goto("/installations/")
    for inst in rows[:2]:
        row_box(desktop, inst).focus()
        desktop.keyboard.press("Space")
    bar = desktop.locator("#bulk-form")
    expect(bar).to_contain_text("2 selected.")
    row_box(desktop, rows[-1]).focus()  # far down the list: the bar follows the scroll

    first, *others = _controls(bar)
    first.focus()
    expect(first).to_be_focused()
    for control in others:
        desktop.keyboard.press("Tab")
        expect(control).to_be_focused()
        expect(control).to_be_in_viewport()

    bar.get_by_label("Reason for rejecting").focus()
    desktop.keyboard.type("Outside our service area")
    desktop.keyboard.press("Tab")
    desktop.keyboard.press("Enter")
    expect(desktop.locator("#flash[role=status]")).to_contain_text("2 rejected")
    for inst in rows[:2]:
        expect(desktop.locator(f"#row-{inst.pk}")).to_contain_text("Rejected")


def test_without_javascript_the_desktop_bar_is_as_short_and_still_a_plain_form(browser, cast):
    rows = later_rows(cast, 3)
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "acme")
        page.goto("/installations/")
        bar = page.locator("#bulk-form")
        # Its longer sentence wraps beside the actions rather than adding a line.
        expect(bar).to_contain_text("Tick the installations to change")
        assert height(bar) <= MAX_HEIGHT
        for control in _controls(bar):
            expect(control).to_be_visible()
        row_box(page, rows[0]).check()
        bar.get_by_label("Assign to").select_option(label=cast.handyman.display_name)
        bar.get_by_role("button", name="Assign selected").click()
        expect(page.locator("#flash[role=status]")).to_contain_text("1 assigned")
        assert Installation.objects.get(pk=rows[0].pk).status == Status.INSTALLER_ASSIGNED
    finally:
        context.close()


def test_at_a_tablets_width_the_bar_is_one_line_with_actions_as_on_a_phone(browser, cast):
    rows = later_rows(cast, 3)
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        log_in(page, "acme")
        page.goto("/installations/")
        row_box(page, rows[0]).check()
        bar = page.locator("#bulk-form")
        expect(bar).to_contain_text("1 selected.")
        # Two lines would be four here: the count and "Actions", which opens the rest.
        assert height(bar) <= 60
        expect(bar.get_by_role("button", name="Assign selected")).to_be_hidden()
        bar.locator("summary").focus()
        page.keyboard.press("Enter")
        for control in _controls(bar):
            expect(control).to_be_visible()
    finally:
        page.close()


# True when the bulk bar, following the scroll, covers the middle of what has the focus.
FOCUS_UNDER_BAR = """() => {
  const el = document.activeElement;
  const bar = document.getElementById("bulk-form");
  if (!el || !bar || bar.contains(el)) return false;
  const box = el.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return Boolean(hit && bar.contains(hit));
}"""


def test_going_back_up_the_list_with_the_keyboard_the_bar_never_hides_the_focus(desktop, cast):
    rows = later_rows(cast, 12)
    log_in(desktop, "acme")
    desktop.goto("/installations/")
    row_box(desktop, rows[0]).check()
    bar = desktop.locator("#bulk-form")
    expect(bar).to_contain_text("1 selected.")
    row_box(desktop, rows[-1]).focus()
    # Shift+Tab walks up the rows' boxes, links and buttons; each is scrolled to below the bar.
    for _ in range(40):
        desktop.keyboard.press("Shift+Tab")
        assert not desktop.evaluate(FOCUS_UNDER_BAR), desktop.evaluate(
            "document.activeElement.outerHTML.slice(0, 120)"
        )
