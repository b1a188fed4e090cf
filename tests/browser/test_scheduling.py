"""Rescheduling and conflicts in a browser: the keyboard on the detail page, Assign anyway in
the list's dialog, days off on the handyman's page without JavaScript."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from installations.models import StatusChange, TimeOff
from installations.statuses import Status

from .conftest import log_in


def _serious(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def test_reschedule_from_the_detail_page_with_the_keyboard(page, cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    new_day = timezone.localdate() + timedelta(days=3)
    log_in(page, "acme")
    page.goto(f"/installations/{inst.pk}/")

    page.get_by_role("button", name="Reschedule").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name=f"Reschedule #{inst.pk}")).to_be_visible()
    date_field = dialog.get_by_label("New date")
    expect(date_field).to_be_focused()  # the dialog puts the keyboard in its first field
    assert _serious(page) == []
    date_field.fill(new_day.isoformat())
    # Tab walks the date's own parts (month, day, year) first, as many as the locale has.
    window = dialog.get_by_label("Arrival window")
    for _ in range(4):
        page.keyboard.press("Tab")
        if window.evaluate("el => el === document.activeElement"):
            break
    expect(window).to_be_focused()
    window.select_option("14:00-16:00")
    page.keyboard.press("Tab")
    expect(dialog.get_by_label("Reason (optional)")).to_be_focused()
    page.keyboard.type("Customer at work")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(rf"/installations/{inst.pk}/#who-{inst.pk}$"))
    year = "" if new_day.year == timezone.localdate().year else f" {new_day.year}"
    day = f"{new_day:%a} {new_day.day} {new_day:%b}{year}"
    expect(page.locator(".timeline")).to_contain_text(f"to {day} 14:00–16:00")
    expect(page.locator(".timeline")).to_contain_text("Reason: Customer at work")
    expect(page.locator("#flash")).to_contain_text(f"Moved #{inst.pk}")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    assert inst.history.filter(kind=StatusChange.Kind.RESCHEDULED).count() == 1


@pytest.mark.allow_page_errors("409 (Conflict)")  # the conflict question answers 409
def test_assign_anyway_after_the_conflict_warning_in_the_list_dialog(page, cast):
    busy = cast.installation(Status.INSTALLER_ASSIGNED)  # Hank, tomorrow 09:00–11:00
    inst = cast.installation(window_start=time(10), window_end=time(12))
    log_in(page, "acme")
    page.goto("/installations/")
    row = page.locator(f"#row-{inst.pk}")
    row.get_by_role("button", name="Assign", exact=True).click()
    dialog = page.locator("#action-dialog")
    dialog.get_by_label(re.compile(r"Hank .*that day")).check()
    dialog.get_by_role("button", name="Assign", exact=True).click()

    warning = dialog.get_by_role("alert")
    expect(warning).to_contain_text(
        f"already has #{busy.pk} {busy.customer.name} 09:00–11:00 that day"
    )
    expect(row).to_contain_text("Unassigned")  # nothing happened yet
    dialog.get_by_role("button", name="Assign anyway").click()

    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("Installer assigned")
    expect(row).to_contain_text("Hank")
    inst.refresh_from_db()
    assert inst.handyman_id == cast.handyman.pk


def test_a_handyman_adds_and_removes_a_day_off_without_javascript(browser, live_server, cast):
    day = timezone.localdate() + timedelta(days=5)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, "hank")
        page.goto("/handyman/")
        section = page.locator("#days-off")
        section.get_by_label("Day off").fill(day.isoformat())
        section.get_by_role("button", name="Add day off").click()
        page.wait_for_url(re.compile(r"/handyman/#days-off-heading$"))
        expect(page.locator("#days-off time")).to_have_attribute("datetime", day.isoformat())
        assert TimeOff.objects.filter(handyman=cast.handyman, day=day).count() == 1
        page.locator("#days-off").get_by_role("button", name=re.compile("Remove")).click()
        page.wait_for_url(re.compile(r"/handyman/#days-off-heading$"))
        expect(page.locator("#days-off")).to_contain_text("No days off planned.")
        assert not TimeOff.objects.exists()
    finally:
        context.close()


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")  # a day in the past
def test_a_day_off_answered_in_place_keeps_the_focus_in_the_section(phone, cast):
    """The answer replaces the section, and the button he pressed with it: focus went to the
    page itself, and the next Tab started again at the top of his jobs."""
    page = phone
    today = timezone.localdate()
    log_in(page, "hank")
    section = page.locator("#days-off")
    heading = section.get_by_role("heading", name="Days off")

    section.get_by_label("Day off").fill((today + timedelta(days=4)).isoformat())
    section.get_by_role("button", name="Add day off").press("Enter")
    expect(section).to_contain_text("is marked off.")
    expect(heading).to_be_focused()

    section.get_by_role("button", name=re.compile("Remove")).press("Enter")
    expect(section).to_contain_text("is a working day again.")
    expect(heading).to_be_focused()

    section.get_by_label("Day off").fill((today - timedelta(days=4)).isoformat())
    section.get_by_role("button", name="Add day off").press("Enter")
    expect(section).to_contain_text("is not in the future")
    expect(section.get_by_label("Day off")).to_be_focused()
    assert not TimeOff.objects.exists()
