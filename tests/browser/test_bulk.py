"""The bulk bar in a browser: 30 rows assigned at once with 2 refused and still selected, with the
mouse, with the keyboard alone, and without JavaScript."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from installations import services
from installations.models import Installation
from installations.statuses import Status

from .conftest import log_in

LIST_50 = "/installations/?per_page=50"


def _spread(cast, n: int, start: int = 2) -> list[Installation]:
    """Scheduled rows on successive days from the day after tomorrow: one handyman takes them all
    without an overlap, also with the other statuses' jobs (tomorrow, 09:00-11:00)."""
    day = timezone.localdate()
    return [cast.installation(scheduled_date=day + timedelta(days=start + i)) for i in range(n)]


def _box(page, inst: Installation):
    return page.get_by_label(f"Select #{inst.pk} {inst.customer.name}", exact=True)


def _change_two_meanwhile(cast, rows: list[Installation]) -> tuple[Installation, Installation]:
    """Someone else acts on two rows after the page was drawn: one is assigned (a wrong status
    now), one is edited (still Scheduled, but the page's version is stale)."""
    taken, edited = rows[4], rows[17]
    services.installation_assign(installation=taken, handyman=cast.handyman, actor=cast.staff)
    services.installation_update(installation=edited, actor=cast.staff, notes="Call first")
    return taken, edited


def test_assigning_30_rows_from_the_bar_reports_28_changed_and_2_refused_still_selected(page, cast):
    # On successive days: one handyman can take them all without an overlap to confirm.
    day = timezone.localdate()
    rows = [cast.installation(scheduled_date=day + timedelta(days=1 + i)) for i in range(30)]
    log_in(page, "acme")
    page.goto(LIST_50)
    page.evaluate("window.__noReload = 'still here'")
    bar = page.locator("#bulk-form")
    # The bar appears with the first ticked row, and counts.
    expect(bar).to_be_hidden()
    _box(page, rows[0]).check()
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("1 selected.")
    page.get_by_label("Select all on this page").check()
    expect(bar).to_contain_text("30 selected.")
    taken, edited = _change_two_meanwhile(cast, rows)

    bar.get_by_label("Assign to").select_option(label=cast.other_handyman.display_name)
    bar.get_by_role("button", name="Assign selected").click()

    summary = f"28 assigned to {cast.other_handyman.display_name}; 2 not changed"
    expect(page.locator("#flash[role=status]")).to_contain_text(summary)
    result = page.locator("#bulk-result")
    expect(result).to_be_focused()
    expect(result.get_by_role("listitem")).to_have_count(2)
    expect(result).to_contain_text(
        f"#{taken.pk} {taken.customer.name}: changed by someone else "
        "(it is now “Installer assigned”)"
    )
    expect(result).to_contain_text(
        f"#{edited.pk} {edited.customer.name}: changed by someone else (it is now “Scheduled”)"
    )
    # The refused rows stay selected, with their reason beside them; the others show their
    # new status; the bar counts the two left.
    expect(_box(page, taken)).to_be_checked()
    expect(_box(page, edited)).to_be_checked()
    expect(page.locator("input[data-bulk-row]:checked")).to_have_count(2)
    expect(page.locator(f"#row-{edited.pk}")).to_contain_text("Not changed: changed by someone")
    expect(bar).to_contain_text("2 selected.")
    for inst in rows:
        if inst not in (taken, edited):
            expect(page.locator(f"#row-{inst.pk}")).to_contain_text("Installer assigned")
    assert page.evaluate("window.__noReload") == "still here"
    assert Installation.objects.filter(handyman=cast.other_handyman).count() == 28

    # The stale row, still Scheduled, can be acted on again from its fresh version.
    _box(page, taken).uncheck()
    bar.get_by_label("Assign to").select_option(label=cast.other_handyman.display_name)
    bar.get_by_role("button", name="Assign selected").click()
    expect(page.locator("#flash[role=status]")).to_contain_text(
        f"1 assigned to {cast.other_handyman.display_name}"
    )
    expect(page.locator(f"#row-{edited.pk}")).to_contain_text("Installer assigned")


def test_the_bar_offers_only_what_every_selected_row_allows(page, cast):
    scheduled = cast.installation()
    en_route = cast.installation(Status.EN_ROUTE)
    log_in(page, "acme")
    page.goto("/installations/")
    bar = page.locator("#bulk-form")
    _box(page, scheduled).check()
    expect(bar.get_by_role("button", name="Assign selected")).to_be_visible()
    expect(bar.get_by_role("button", name="Reject selected")).to_be_visible()
    _box(page, en_route).check()
    expect(bar.get_by_role("button", name="Assign selected")).to_be_hidden()
    expect(bar.get_by_role("button", name="Reject selected")).to_be_hidden()
    # Export suits any row: it is the one action left in common.
    expect(bar.get_by_role("button", name="Export selected")).to_be_visible()
    expect(page.locator("#bulk-live")).to_contain_text("2 selected. Actions: Export.")
    # ...and the bar says why the others are gone.
    expect(bar.get_by_text("No action is open to every selected installation")).to_be_visible()
    _box(page, en_route).uncheck()
    expect(bar.get_by_role("button", name="Reject selected")).to_be_visible()
    expect(bar.get_by_text("No action is open to every selected installation")).to_be_hidden()


def test_with_the_keyboard_alone(page, cast):
    rows = _spread(cast, 3)
    log_in(page, "acme")
    page.goto("/installations/")
    _box(page, rows[0]).focus()
    page.keyboard.press("Space")
    _box(page, rows[1]).focus()
    page.keyboard.press("Space")
    expect(page.locator("#bulk-form")).to_contain_text("2 selected.")
    announced = "2 selected. Actions: Assign, Reject, Export."
    expect(page.locator("#bulk-live")).to_contain_text(announced)

    page.get_by_label("Reason for rejecting").focus()
    page.keyboard.type("Outside our service area")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Reject selected")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.locator("#flash[role=status]")).to_contain_text("2 rejected")
    expect(page.locator("#bulk-result")).to_be_focused()
    for inst in rows[:2]:
        expect(page.locator(f"#row-{inst.pk}")).to_contain_text("Rejected")
    expect(page.locator(f"#row-{rows[2].pk}")).to_contain_text("Scheduled")


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")  # the reason left out on purpose
def test_without_javascript_the_bar_is_a_plain_form(browser, live_server, cast):
    rows = _spread(cast, 3)
    wrong = cast.installation(Status.EN_ROUTE)
    untouched = _spread(cast, 1, start=9)[0]  # keeps Reject open on the page afterwards
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, "acme")
        page.goto("/installations/")
        bar = page.locator("#bulk-form")
        expect(bar).to_be_visible()
        # A box that could do nothing without JavaScript is not offered.
        expect(page.get_by_label("Select all on this page")).to_be_hidden()
        for inst in [*rows, wrong]:
            _box(page, inst).check()
        bar.get_by_label("Assign to").select_option(label=cast.handyman.display_name)
        bar.get_by_role("button", name="Assign selected").click()

        page.wait_for_url(re.compile(r"/installations/#bulk-result$"))
        summary = f"3 assigned to {cast.handyman.display_name}; 1 not changed"
        expect(page.locator("#flash[role=status]")).to_contain_text(summary)
        expect(page.locator("#bulk-result")).to_contain_text(
            f"#{wrong.pk} {wrong.customer.name}: it has a handyman on the way, so reassign it "
            "to send someone else"
        )
        expect(_box(page, wrong)).to_be_checked()
        for inst in rows:
            expect(_box(page, inst)).not_to_be_checked()
            expect(page.locator(f"#row-{inst.pk}")).to_contain_text("Installer assigned")

        # No reason: the server refuses the lot, changes nothing, keeps the selection.
        bar.get_by_role("button", name="Reject selected").click()
        expect(page.locator("#bulk-errors")).to_contain_text(
            "Please give a reason for the rejection."
        )
        expect(_box(page, wrong)).to_be_checked()
        assert Installation.objects.get(pk=untouched.pk).status == Status.SCHEDULED
    finally:
        context.close()


def _serious(results) -> list[str]:
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def test_the_bar_and_its_result_pass_axe_and_fit_a_360px_screen(browser, cast):
    rows = _spread(cast, 3)
    page = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    log_in(page, "acme")
    page.goto("/installations/")
    _box(page, rows[0]).check()
    _box(page, rows[1]).check()
    bar = page.locator("#bulk-form")
    expect(bar).to_be_visible()
    # On a phone the actions open from the bar's one line (tests/browser/test_bulk_phone.py);
    # open, their controls wrap: nothing scrolls sideways.
    bar.get_by_text("Actions", exact=True).click()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert bar.evaluate("e => e.scrollWidth <= e.clientWidth")
    axe = Axe()
    assert _serious(axe.run(page)) == []
    services.installation_reject(installation=rows[1], reason="Duplicate", actor=cast.staff)
    bar.get_by_label("Assign to").select_option(label=cast.handyman.display_name)
    bar.get_by_role("button", name="Assign selected").click()
    expect(page.locator("#bulk-result")).to_contain_text("1 not changed")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert _serious(axe.run(page)) == []
