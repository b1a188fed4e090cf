"""The bulk bar on a 360-pixel phone: one compact line while rows are ticked, its actions one tap
(or one key) away, and without JavaScript a plain form that does not follow the scroll."""

from __future__ import annotations

from playwright.sync_api import expect

from installations.models import Installation
from installations.statuses import Status

from .conftest import PHONE, log_in
from .steps import COUNT_SWAPS, height, later_rows, row_box, small_targets, swaps

# The bar follows the scroll: it may take at most this share of the screen while closed.
MAX_SHARE = 0.3


def test_the_bar_is_one_short_line_on_a_phone_and_its_actions_open_from_it(phone, cast):
    rows = later_rows(cast, 8)
    phone.add_init_script(COUNT_SWAPS)
    log_in(phone, "acme")
    phone.goto("/installations/")
    row_box(phone, rows[0]).check()
    row_box(phone, rows[1]).check()
    bar = phone.locator("#bulk-form")
    expect(bar).to_contain_text("2 selected.")
    assert height(bar) <= MAX_SHARE * PHONE["height"], height(bar)
    # It still follows the scroll, still short.
    phone.mouse.wheel(0, 600)
    expect(bar).to_be_in_viewport()
    assert height(bar) <= MAX_SHARE * PHONE["height"]

    # The actions are one tap away, and the bar says what it holds.
    actions = bar.get_by_text("Actions", exact=True)
    expect(actions).to_be_visible()
    expect(bar.get_by_role("button", name="Assign selected")).to_be_hidden()
    actions.tap()
    expect(bar.get_by_label("Assign to")).to_be_visible()
    expect(bar.get_by_role("button", name="Reject selected")).to_be_visible()
    expect(bar.get_by_role("button", name="Export selected")).to_be_visible()
    # Open, it never covers the whole screen: what it holds scrolls inside it.
    assert height(bar) < PHONE["height"]
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # A refresh of the cards meanwhile (another action's news) leaves it open.
    phone.evaluate("document.body.dispatchEvent(new CustomEvent('installations-changed'))")
    swaps(phone, 1)
    expect(bar.get_by_label("Assign to")).to_be_visible()

    bar.get_by_label("Assign to").select_option(label=cast.handyman.display_name)
    bar.get_by_role("button", name="Assign selected").click()
    expect(phone.locator("#bulk-result")).to_contain_text("2 assigned")
    for inst in rows[:2]:
        expect(phone.locator(f"#row-{inst.pk}")).to_contain_text("Installer assigned")


def test_the_actions_open_with_the_keyboard_with_the_focus_shown(phone, cast):
    rows = later_rows(cast, 3)
    log_in(phone, "acme")
    phone.goto("/installations/")
    row_box(phone, rows[0]).focus()
    phone.keyboard.press("Space")
    bar = phone.locator("#bulk-form")
    expect(bar).to_contain_text("1 selected.")
    summary = bar.locator("summary")
    summary.focus()
    expect(summary).to_be_focused()
    outline = summary.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"  # the portal's :focus-visible ring (a focus() call counts as keyboard)
    phone.keyboard.press("Enter")
    expect(bar.get_by_label("Reason for rejecting")).to_be_visible()
    phone.keyboard.press("Tab")
    expect(bar.get_by_label("Assign to")).to_be_focused()
    # Escape-free: Enter on the summary again closes it, and the bar is one line again.
    summary.focus()
    phone.keyboard.press("Enter")
    expect(bar.get_by_label("Assign to")).to_be_hidden()
    assert height(bar) <= MAX_SHARE * PHONE["height"]


def test_without_javascript_the_bar_on_a_phone_is_a_plain_form_in_the_page(browser, cast):
    rows = later_rows(cast, 3)
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "acme")
        page.goto("/installations/")
        bar = page.locator("#bulk-form")
        # Every control shown, in the page's flow: it does not follow the scroll over the rows.
        expect(bar.get_by_label("Assign to")).to_be_visible()
        assert bar.evaluate("e => getComputedStyle(e).position") != "sticky"
        # ...and "Actions", in the bar, folds them away without a script.
        summary = bar.locator("summary")
        expect(summary).to_be_visible()
        bar_box, summary_box = bar.bounding_box(), summary.bounding_box()
        assert bar_box and summary_box
        assert bar_box["y"] <= summary_box["y"] < bar_box["y"] + bar_box["height"]
        summary.click()
        expect(bar.get_by_label("Assign to")).to_be_hidden()
        summary.click()
        row_box(page, rows[0]).check()
        bar.get_by_label("Assign to").select_option(label=cast.handyman.display_name)
        bar.get_by_role("button", name="Assign selected").click()
        expect(page.locator("#flash[role=status]")).to_contain_text("1 assigned")
        assert Installation.objects.get(pk=rows[0].pk).status == Status.INSTALLER_ASSIGNED
    finally:
        context.close()


def test_select_all_on_a_phone_is_in_the_bar_and_not_an_unseen_stop_for_tab(phone, cast):
    # The table's head is hidden on a phone (each row is a card): its "Select all on this page"
    # was out of sight yet reached by Tab, and no thumb could select a page at once.
    rows = later_rows(cast, 3)
    log_in(phone, "acme")
    phone.goto("/installations/")
    head_box = phone.locator("#bulk-all")
    expect(head_box).to_be_hidden()
    assert head_box.evaluate("e => getComputedStyle(e.parentElement).display") == "none"

    row_box(phone, rows[0]).check()
    bar = phone.locator("#bulk-form")
    every = bar.get_by_label("Select all 3 on this page")
    expect(every).to_be_visible()
    assert not every.is_checked()
    assert height(bar) <= MAX_SHARE * PHONE["height"], height(bar)
    assert not [t for t in small_targets(phone) if "Select all" in t]
    bar.get_by_text("Select all 3 on this page").tap()
    for inst in rows:
        expect(row_box(phone, inst)).to_be_checked()
    expect(bar).to_contain_text("3 selected.")
    expect(every).to_be_checked()
    # Unticking a row leaves it half-ticked, as the table head's box on a wider screen.
    row_box(phone, rows[1]).uncheck()
    expect(bar).to_contain_text("2 selected.")
    assert every.evaluate("e => e.indeterminate")
