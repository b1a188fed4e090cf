"""The dispatch board follows the field in a browser (issue 13): a handyman's step in another
browser changes his card within 5 s while the partner's open dialog stays open with its choice
and focus; a job assigned in another tab leaves the Unassigned lane and joins the handyman's row,
where it can be dragged again; the day view moves a card between windows."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from django.utils import timezone
from playwright.sync_api import expect

from installations import services
from installations.live.selectors import partner_stamp
from installations.scheduling.services import installation_reschedule
from installations.statuses import Status

from .conftest import log_in
from .steps import set_off_in_the_field, start_choosing_a_handyman

WITHIN_5_S = 5_000


def week_url(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"/installations/board/?week={year}-W{week:02d}"


def cell(page, handyman, day: date):
    return page.locator(f"ul.cell-jobs[data-handyman='{handyman.pk}'][data-day='{day}']")


def lane(page, day: date):
    return page.locator(f"ul.cell-jobs[data-lane][data-day='{day}']")


def a_day_with_a_later_one_in_its_week() -> date:
    """Tomorrow, or the Monday after when tomorrow is a Sunday: the day after it is then in the
    same week and in the future (a move into today's windows is refused once they end)."""
    day = timezone.localdate() + timedelta(days=1)
    return day + timedelta(days=1) if day.isoweekday() == 7 else day


def test_a_card_follows_the_handyman_in_another_browser_while_a_dialog_stays_open(browser, cast):
    today = timezone.localdate()
    waiting = cast.installation(Status.SCHEDULED, scheduled_date=today)
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman, scheduled_date=today)
    office = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(office, "acme")
    office.goto(week_url(today))
    office.wait_for_load_state("networkidle")
    office.evaluate("window.__noReload = 'still here'")
    card = cell(office, cast.handyman, today).locator(f"#card-{job.pk}")
    expect(card).to_contain_text("Installer assigned")

    # The office opens the Assign dialog of the waiting job and starts choosing.
    dialog, choice = start_choosing_a_handyman(
        office.locator(f"#card-{waiting.pk}").get_by_role("button", name="Assign")
    )

    # Meanwhile, in the field: "On my way".
    set_off_in_the_field(browser, job)

    expect(card).to_contain_text("En route", timeout=WITHIN_5_S)
    expect(office.locator("#flash")).to_contain_text(f"#{job.pk} {job.customer.name}: En route")
    # What the office was doing is as it was: the dialog, its choice, the focus; no reload.
    expect(dialog).to_be_visible()
    expect(choice).to_be_checked()
    expect(choice).to_be_focused()
    assert office.evaluate("window.__noReload") == "still here"
    # And the dialog still works.
    dialog.get_by_role("button", name="Assign", exact=True).click()
    expect(cell(office, cast.other_handyman, today).locator(f"#card-{waiting.pk}")).to_be_visible()


def test_a_job_assigned_in_another_tab_leaves_the_lane_and_joins_the_handymans_row(browser, cast):
    day = a_day_with_a_later_one_in_its_week()
    job = cast.installation(Status.SCHEDULED, scheduled_date=day)
    board = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    other_tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(board, "acme")
    board.goto(week_url(day))
    board.wait_for_load_state("networkidle")
    board.evaluate("window.__noReload = 'still here'")
    expect(lane(board, day).locator(f"#card-{job.pk}")).to_be_visible()
    booked = board.locator(f"#handyman-{cast.other_handyman.pk} .handyman-booked")
    expect(booked).to_contain_text("No jobs this week")

    # A colleague assigns it to Hana from the list, in another browser.
    log_in(other_tab, "acme")
    other_tab.goto("/installations/")
    other_tab.locator(f"#row-{job.pk}").get_by_role("button", name="Assign", exact=True).click()
    other_tab.locator("#action-dialog").get_by_label(re.compile(r"Hana .*that day")).check()
    other_tab.locator("#action-dialog").get_by_role("button", name="Assign", exact=True).click()
    expect(other_tab.locator(f"#row-{job.pk}")).to_contain_text("Hana")

    moved = cell(board, cast.other_handyman, day).locator(f"#card-{job.pk}")
    expect(moved).to_contain_text("Installer assigned", timeout=WITHIN_5_S)
    expect(lane(board, day).locator(f"#card-{job.pk}")).to_have_count(0)
    expect(board.locator(f"#card-{job.pk}")).to_have_count(1)
    expect(booked).to_contain_text("1 job, 2 h this week")
    # What a screen reader hears says where the card went.
    expect(board.locator("#flash")).to_contain_text(
        f"#{job.pk} {job.customer.name}: Installer assigned, "
        f"now with {cast.other_handyman.display_name} on "
    )
    assert board.evaluate("window.__noReload") == "still here"

    # The swapped-in cell is a drop source again: drag the card to another day of Hana's.
    later = day + timedelta(days=1)
    moved.drag_to(cell(board, cast.other_handyman, later))
    expect(board.locator("#flash")).to_contain_text(f"Moved #{job.pk}")
    expect(cell(board, cast.other_handyman, later).locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert job.scheduled_date == later


def test_a_change_in_the_list_being_dragged_from_waits_for_the_drop(page, cast):
    day = timezone.localdate() + timedelta(days=1)
    dragged = cast.installation(Status.SCHEDULED, scheduled_date=day)
    neighbour = cast.installation(
        Status.SCHEDULED, scheduled_date=day, window_start=time(13), window_end=time(15)
    )
    log_in(page, "acme")
    page.goto(week_url(day))
    page.wait_for_load_state("networkidle")
    card = page.locator(f"#card-{dragged.pk}")
    start = card.bounding_box()
    target = cell(page, cast.other_handyman, day).bounding_box()
    assert start is not None and target is not None
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + 40, steps=5)
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 20, steps=10)
    # Meanwhile the neighbour in the lane (the list the drag started in) is assigned.
    services.installation_assign(
        installation=neighbour, handyman=cast.handyman, actor=cast.partner_user
    )
    stamp = str(partner_stamp(cast.partner.pk))
    # Plain reads while the pointer is held, no locator waits.
    page.wait_for_timeout(WITHIN_5_S + 1_000)
    assert page.evaluate("document.getElementById('live-feed').dataset.liveStamp") == stamp
    assert f"#{neighbour.pk} " in page.evaluate("document.getElementById('flash').textContent")
    # Arrived, but the lane's list waits: the drag is not broken under the pointer.
    in_lane = f"ul.cell-jobs[data-lane][data-day='{day}'] #card-{neighbour.pk}"
    assert page.evaluate(f'document.querySelectorAll("{in_lane}").length') == 1
    page.mouse.up()
    # The drop is over: the held change is shown (the lane no longer has the neighbour).
    expect(cell(page, cast.handyman, day).locator(f"#card-{neighbour.pk}")).to_be_visible()
    expect(lane(page, day).locator(f"#card-{neighbour.pk}")).to_have_count(0)
    expect(page.locator("[data-live-hold]")).to_have_count(0)


def test_the_day_view_moves_a_card_to_its_new_window(page, cast):
    day = timezone.localdate() + timedelta(days=1)
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman, scheduled_date=day)
    log_in(page, "acme")
    page.goto(f"/installations/board/?day={day}")
    page.wait_for_load_state("networkidle")
    row = f"ul.cell-jobs[data-handyman='{cast.handyman.pk}']"
    expect(page.locator(f"{row}[data-window-start='09:00'] #card-{job.pk}")).to_be_visible()
    installation_reschedule(
        installation=job,
        actor=cast.partner_user,
        scheduled_date=day,
        window_start=time(14),
        window_end=time(16),
    )
    moved = page.locator(f"{row}[data-window-start='14:00'] #card-{job.pk}")
    expect(moved).to_contain_text("14:00–16:00", timeout=WITHIN_5_S)
    expect(page.locator(f"#card-{job.pk}")).to_have_count(1)
    expect(page.locator(f"{row}[data-window-start='09:00'] #card-{job.pk}")).to_have_count(0)


def test_a_dialog_opened_from_a_card_that_was_swapped_gives_the_focus_to_its_new_self(page, cast):
    day = timezone.localdate() + timedelta(days=1)
    job = cast.installation(Status.SCHEDULED, scheduled_date=day)
    log_in(page, "acme")
    page.goto(week_url(day))
    page.wait_for_load_state("networkidle")
    page.locator(f"#card-{job.pk}").get_by_role("button", name="Assign").click()
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    version = page.locator(f"#card-{job.pk}").get_attribute("data-version")
    services.installation_update(installation=job, actor=cast.partner_user, notes="Gate 1234")
    # The card is redrawn (a newer version) while the dialog stays open.
    expect(page.locator(f"#card-{job.pk}")).not_to_have_attribute(
        "data-version", version or "", timeout=WITHIN_5_S
    )
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#card-{job.pk}").get_by_role("button", name="Assign")).to_be_focused()
