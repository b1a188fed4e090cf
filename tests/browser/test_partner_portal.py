"""The partner list in a browser: cards and filters without reloads, dialogs, 409s, no-JS, axe."""

from __future__ import annotations

import re
from datetime import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from installations import services
from installations.statuses import Status

from .conftest import log_in
from .steps import start_choosing_a_handyman


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_a_card_filters_the_table_without_a_reload_and_back_restores(page, cast):
    errors = _console_errors(page)
    scheduled = cast.installation("SCHEDULED")
    en_route = cast.installation("EN_ROUTE")
    log_in(page, "acme")
    page.goto("/installations/")
    expect(page.locator("tbody.installation")).to_have_count(2)
    page.evaluate("window.__noReload = 'still here'")

    # With the keyboard: the focus stays on the card after the swap.
    page.get_by_role("link", name=re.compile("En Route")).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?group=en_route"))
    expect(page.locator("#card-en_route")).to_be_focused()
    expect(page.locator("tbody.installation")).to_have_count(1)
    expect(page.locator(f"#row-{en_route.pk}")).to_be_visible()
    expect(page.locator(".card.is-active")).to_contain_text("En Route")
    assert page.evaluate("window.__noReload") == "still here"

    page.get_by_role("link", name=re.compile("Rejected")).click()
    page.wait_for_url(re.compile(r"\?group=rejected"))
    expect(page.get_by_text("No installations match these filters.")).to_be_visible()
    assert page.evaluate("window.__noReload") == "still here"

    page.go_back()
    page.wait_for_url(re.compile(r"\?group=en_route"))
    expect(page.locator("tbody.installation")).to_have_count(1)
    expect(page.locator(".card.is-active")).to_contain_text("En Route")
    page.go_back()
    page.wait_for_url(re.compile(r"/installations/$"))
    expect(page.locator("tbody.installation")).to_have_count(2)
    expect(page.locator(f"#row-{scheduled.pk}")).to_be_visible()
    expect(page.locator(".card.is-active")).to_have_count(0)
    assert not [e for e in errors if "Content Security Policy" in e]


def test_the_filter_form_swaps_the_table_and_pushes_the_url(page, cast):
    cast.installation("SCHEDULED")
    assigned = cast.installation("INSTALLER_ASSIGNED")
    log_in(page, "acme")
    page.goto("/installations/")
    page.evaluate("window.__noReload = 1")
    page.get_by_label("Exact status").select_option("INSTALLER_ASSIGNED")
    page.wait_for_url(re.compile(r"status=INSTALLER_ASSIGNED"))
    expect(page.locator("tbody.installation")).to_have_count(1)
    expect(page.locator(f"#row-{assigned.pk}")).to_be_visible()
    assert page.evaluate("window.__noReload") == 1
    # The bookmarked URL renders the same filtered list on a fresh load.
    page.reload()
    expect(page.locator("tbody.installation")).to_have_count(1)
    expect(page.get_by_label("Exact status")).to_have_value("INSTALLER_ASSIGNED")


def test_assign_through_the_dialog_swaps_the_row_and_refreshes_the_cards(page, cast):
    inst = cast.installation("SCHEDULED")
    # Another window than `inst`'s: both end up with Hana, which would otherwise be a conflict.
    moving = cast.installation(
        "EN_ROUTE", handyman=cast.handyman, window_start=time(13), window_end=time(15)
    )
    log_in(page, "acme")
    page.goto("/installations/")
    expect(page.locator(".card-blue .card-count")).to_have_text("1")
    expect(page.locator(".card-amber .card-count")).to_have_text("1")
    row = page.locator(f"#row-{inst.pk}")
    expect(row).to_contain_text("Unassigned")

    row.get_by_role("button", name="Assign", exact=True).click()
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Assign a handyman")).to_be_visible()
    dialog.get_by_label(re.compile(r"Hana .*that day")).check()
    dialog.get_by_role("button", name="Assign", exact=True).click()

    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Installer assigned")
    expect(row).to_contain_text("Hana")
    expect(row.get_by_role("button", name="Reassign")).to_be_visible()
    expect(row.get_by_role("button", name="Assign", exact=True)).to_have_count(0)
    inst.refresh_from_db()
    assert inst.status == Status.INSTALLER_ASSIGNED and inst.handyman == cast.other_handyman

    # Reassigning the job on its way moves it from the En Route card to the Scheduled card.
    other_row = page.locator(f"#row-{moving.pk}")
    other_row.get_by_role("button", name="Reassign").click()
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile(r"Hana .*that day")).check()
    dialog.get_by_role("button", name="Reassign").click()
    expect(dialog).to_be_hidden()
    expect(other_row).to_contain_text("Installer assigned")
    expect(page.locator(".card-blue .card-count")).to_have_text("2")
    expect(page.locator(".card-amber .card-count")).to_have_text("0")
    # Keyboard users keep their place: focus is on the replaced row.
    expect(other_row).to_be_focused()


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")  # no handyman chosen yet
def test_reassign_from_the_detail_page(page, cast):
    inst = cast.installation("INSTALLER_ASSIGNED", handyman=cast.handyman)
    log_in(page, "acme")
    page.goto(f"/installations/{inst.pk}/")
    page.get_by_role("button", name="Reassign").click()
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    # The current handyman is not offered; submitting without a choice keeps the error in the
    # dialog (no bare /reassign/ page).
    expect(dialog.get_by_label(re.compile(r"Hank .*that day"))).to_have_count(0)
    dialog.get_by_role("button", name="Reassign").click()
    expect(dialog.get_by_text("Choose a handyman.")).to_be_visible()
    assert page.url.endswith(f"/installations/{inst.pk}/")
    dialog.get_by_label(re.compile(r"Hana .*that day")).check()
    dialog.get_by_role("button", name="Reassign").click()
    page.wait_for_url(re.compile(rf"/installations/{inst.pk}/#who-{inst.pk}$"))
    expect(page.locator(".facts").first).to_contain_text("Hana")
    expect(page.locator(".timeline")).to_contain_text(
        f"Reassigned from {cast.handyman.display_name} to {cast.other_handyman.display_name}"
    )
    expect(page.locator("#flash")).to_contain_text("Reassigned")
    expect(page.get_by_role("heading", level=1)).to_be_focused()


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")
def test_reject_needs_a_reason_then_moves_the_row_and_the_cards(page, cast):
    inst = cast.installation("SCHEDULED")
    log_in(page, "acme")
    page.goto("/installations/")
    expect(page.locator(".card-blue .card-count")).to_have_text("1")
    expect(page.locator(".card-red .card-count")).to_have_text("0")
    row = page.locator(f"#row-{inst.pk}")
    row.get_by_role("button", name="Reject").click()
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()

    # Without a reason: the dialog stays open with the error, nothing changes.
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog.get_by_text("Please give a reason for the rejection.")).to_be_visible()
    expect(dialog).to_be_visible()
    expect(row).to_contain_text("Scheduled")

    dialog.get_by_label("Reason for rejecting").fill("The customer moved away.")
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Rejected")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.locator(".card-blue .card-count")).to_have_text("0")
    expect(page.locator(".card-red .card-count")).to_have_text("1")
    inst.refresh_from_db()
    assert inst.rejection_reason == "The customer moved away."


def test_the_dialog_closes_on_escape(page, cast):
    inst = cast.installation("SCHEDULED")
    log_in(page, "acme")
    page.goto("/installations/")
    button = page.locator(f"#row-{inst.pk}").get_by_role("button", name="Reject")
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Reason for rejecting")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()


@pytest.mark.allow_page_errors("409 (Conflict)")
def test_a_stale_action_shows_its_message_next_to_the_row(page, cast):
    inst = cast.installation("SCHEDULED")
    log_in(page, "acme")
    page.goto("/installations/")
    row = page.locator(f"#row-{inst.pk}")
    row.get_by_role("button", name="Reject").click()
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    # Meanwhile someone else assigns it.
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    dialog.get_by_label("Reason for rejecting").fill("Too far away.")
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog).to_be_hidden()
    alert = row.get_by_role("alert")
    expect(alert).to_contain_text("Someone else changed this installation")
    expect(row).to_contain_text("Installer assigned")
    expect(row.get_by_role("button", name="Reassign")).to_be_visible()
    inst.refresh_from_db()
    assert inst.status == Status.INSTALLER_ASSIGNED


@pytest.mark.allow_page_errors("409 (Conflict)")
def test_a_button_for_an_action_no_longer_allowed_shows_the_row_as_it_is(page, cast):
    inst = cast.installation("SCHEDULED")
    log_in(page, "acme")
    page.goto("/installations/")
    services.installation_reject(installation=inst, reason="Gone.", actor=cast.partner_user)
    row = page.locator(f"#row-{inst.pk}")
    row.get_by_role("button", name="Assign", exact=True).click()
    expect(row.get_by_role("alert")).to_contain_text(
        f"#{inst.pk} was rejected, so rebook it if it should still go ahead."
    )
    expect(row).to_contain_text("Rejected")
    expect(page.locator("#action-dialog")).to_be_hidden()


def test_without_javascript_the_form_still_filters_and_actions_work(browser, live_server, cast):
    cast.installation("SCHEDULED")
    assigned = cast.installation("INSTALLER_ASSIGNED")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, "acme")
        page.goto("/installations/")
        expect(page.locator("tbody.installation")).to_have_count(2)
        page.get_by_label("Exact status").select_option("INSTALLER_ASSIGNED")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(re.compile(r"status=INSTALLER_ASSIGNED"))
        expect(page.locator("tbody.installation")).to_have_count(1)
        expect(page.locator(f"#row-{assigned.pk}")).to_be_visible()

        # The Reassign button is a link to a plain page with the same form.
        page.locator(f"#row-{assigned.pk}").get_by_role("button", name="Reassign").click()
        page.wait_for_url(re.compile(rf"/installations/{assigned.pk}/reassign/"))
        page.get_by_label(re.compile(r"Hana .*that day")).check()
        page.get_by_role("button", name="Reassign").click()
        page.wait_for_url(
            re.compile(rf"/installations/\?.*status=INSTALLER_ASSIGNED.*#row-{assigned.pk}$")
        )
        expect(page.locator(f"#row-{assigned.pk}")).to_contain_text("Hana")
        expect(page.locator("#flash[role=status]")).to_contain_text("Reassigned")
    finally:
        context.close()


def _serious(results) -> list[str]:
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def test_axe_finds_no_serious_violations_on_list_detail_and_new(page, cast):
    inst = cast.installation("EN_ROUTE")
    cast.installation("SCHEDULED")
    cast.installation("REJECTED")
    log_in(page, "acme")
    axe = Axe()
    for path in ("/installations/", f"/installations/{inst.pk}/", "/installations/new/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert _serious(axe.run(page)) == [], path
    # The open dialog too.
    page.goto("/installations/")
    page.locator(f"#row-{inst.pk}").get_by_role("button", name="Reassign").click()
    expect(page.locator("#action-dialog")).to_be_visible()
    assert _serious(axe.run(page)) == []


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")
def test_schedule_a_new_installation_and_land_on_its_page(page, cast):
    log_in(page, "acme")
    page.goto("/installations/new/")
    page.get_by_label("New customer's name").fill("Nina Newcomer")
    page.get_by_label("New customer's phone").fill("07700 900123")
    page.get_by_label("Site address").fill("12 Harbour Road")
    page.get_by_label("Date", exact=True).fill("")
    page.get_by_role("button", name="Schedule installation").click()
    # Missing date: inline error, nothing lost.
    expect(page.get_by_text("Choose a date.")).to_be_visible()
    expect(page.get_by_label("New customer's name")).to_have_value("Nina Newcomer")
    page.get_by_label("Date", exact=True).fill("2099-01-15")
    page.get_by_label("Arrival window").select_option(label="10:00–12:00")
    page.get_by_role("button", name="Schedule installation").click()
    page.wait_for_url(re.compile(r"/installations/\d+/#who-\d+$"))
    expect(page.locator("#flash")).to_contain_text("is scheduled on")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nina Newcomer")
    expect(page.locator(".page-head .badge")).to_contain_text("Scheduled")


def test_the_list_is_usable_at_360_pixels(browser, live_server, cast):
    cast.installation("SCHEDULED")
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, "acme")
        page.goto("/installations/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360
        expect(page.get_by_role("button", name="Assign", exact=True)).to_be_visible()
    finally:
        context.close()


def test_the_record_page_with_long_message_addresses_fits_360_pixels(browser, live_server, cast):
    """An e-mail address or a delivery error is one long word: it wraps in its cell instead of
    widening the record page past a small phone (the messages table was 518 px wide)."""
    from installations.models import Message
    from tests.factories import MessageFactory

    inst = cast.installation("INSTALLER_ASSIGNED")
    MessageFactory(
        installation=inst,
        recipient="alexandra.konstantinopoulou-whitfield@installations-example.co.uk",
        template="assigned",
        subject="Your installer is booked",
        body="Booked.",
        status=Message.State.FAILED,
        last_error="SMTPRecipientsRefused:550-5.1.1-mailbox-unavailable-for-this-address",
    )
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, "acme")
        page.goto(f"/installations/{inst.pk}/#messages-panel")
        expect(page.get_by_role("cell", name=re.compile("konstantinopoulou"))).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        violations = Axe().run(page, context="#messages-panel").response["violations"]
        assert violations == []
    finally:
        context.close()


# --- Issue 11: repeats, confirmations, layout ----------------------------------------------------


def test_a_double_click_on_assign_in_the_dialog_is_answered_as_done(page, cast):
    inst = cast.installation("SCHEDULED")
    log_in(page, "acme")
    page.goto("/installations/")
    row = page.locator(f"#row-{inst.pk}")
    row.get_by_role("button", name="Assign", exact=True).click()
    dialog = page.locator("#action-dialog")
    dialog.get_by_label(re.compile(r"Hana .*that day")).check()
    dialog.get_by_role("button", name="Assign", exact=True).dblclick()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Installer assigned")
    page.wait_for_load_state("networkidle")
    expect(row.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text("Someone else changed")).to_have_count(0)
    assert inst.history.filter(transition="assign").count() == 1


def test_back_to_the_list_after_an_action_shows_the_whole_list(page, cast):
    inst, other = cast.installation("SCHEDULED"), cast.installation("SCHEDULED")
    log_in(page, "acme")
    page.goto("/installations/")
    row = page.locator(f"#row-{inst.pk}")
    dialog, _ = start_choosing_a_handyman(row.get_by_role("button", name="Assign", exact=True))
    # The answer swaps the row, and the cards refresh themselves from the list's own URL.
    with page.expect_response(lambda r: r.request.headers.get("hx-target") == "cards"):
        dialog.get_by_role("button", name="Assign", exact=True).click()
    expect(row).to_contain_text("Installer assigned")
    page.locator(f"#row-{other.pk}").get_by_role(
        "link", name=re.compile(other.customer.name)
    ).click()
    page.wait_for_url(re.compile(rf"/installations/{other.pk}/$"))
    page.go_back()
    page.wait_for_url(re.compile(r"/installations/$"))
    # The page, not the cards' fragment the browser last fetched at this URL.
    expect(page).to_have_title(re.compile("Installations"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(f"#row-{inst.pk}")).to_contain_text("Hana")
    expect(page.locator(f"#row-{other.pk}")).to_be_visible()


def test_an_action_confirms_in_the_live_region_with_focus_on_the_row(page, cast):
    inst = cast.installation("SCHEDULED")
    log_in(page, "acme")
    page.goto("/installations/")
    row = page.locator(f"#row-{inst.pk}")
    row.get_by_role("button", name="Reject").click()
    dialog = page.locator("#action-dialog")
    dialog.get_by_label("Reason for rejecting").fill("Too far.")
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog).to_be_hidden()
    region = page.locator("#flash[role=status][aria-live=polite]")
    expect(region).to_contain_text(f"#{inst.pk}")
    expect(region).to_contain_text("is rejected")
    expect(row).to_contain_text("is rejected")
    expect(row).to_be_focused()


def _column_widths(page) -> list[float]:
    return page.evaluate(
        "[...document.querySelectorAll('table.installations thead th')]"
        ".map(th => th.getBoundingClientRect().width)"
    )


@pytest.mark.allow_page_errors("409 (Conflict)")  # the stale rows answer 409 on purpose
def test_a_conflict_alert_does_not_squash_the_table(browser, live_server, cast):
    for width in (1280, 360):
        inst = cast.installation("SCHEDULED")
        cast.installation("SCHEDULED")
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            log_in(page, "acme")
            page.goto("/installations/")
            before = _column_widths(page)
            row = page.locator(f"#row-{inst.pk}")
            row.get_by_role("button", name="Reject").click()
            dialog = page.locator("#action-dialog")
            expect(dialog.get_by_label("Reason for rejecting")).to_be_visible()
            # The second width's job lands on the first one's slot: a known, confirmed overlap.
            services.installation_assign(
                installation=inst, handyman=cast.handyman, actor=cast.staff, confirm_conflict=True
            )
            dialog.get_by_label("Reason for rejecting").fill("Too far away.")
            dialog.get_by_role("button", name="Reject").click()
            expect(row.get_by_role("alert")).to_contain_text("Someone else changed")
            after = _column_widths(page)
            table = page.locator("table.installations").bounding_box()
            alert = row.get_by_role("alert").bounding_box()
            assert table is not None and alert is not None
            # The sentence has a full-width line of its own under the row (not a narrow
            # actions cell that pushes the other columns aside).
            assert alert["width"] >= table["width"] * 0.85, (alert, table)
            if width == 1280:
                assert all(a >= b * 0.6 for a, b in zip(after, before, strict=True)), (
                    before,
                    after,
                )
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            context.close()
