"""The dispatch board in a browser: drag and drop, the same with the keyboard and without
JavaScript, refusals that put the card back, axe, and a phone's 360 px."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from functools import partial

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from installations import services
from installations.board import selectors
from installations.models import Installation
from installations.scheduling.models import TimeOff
from installations.statuses import Status

from .conftest import PHONE, log_in
from .steps import small_targets


def tomorrow() -> date:
    """The day this module's jobs are on: tomorrow, or the Monday after when tomorrow is a
    Sunday, so that another day of its week (another_day) is in the future too: a move into
    today's windows would be refused once they have ended."""
    day = timezone.localdate() + timedelta(days=1)
    return day + timedelta(days=1) if day.isoweekday() == 7 else day


@pytest.fixture(autouse=True)
def _jobs_on_the_boards_day(cast, monkeypatch):
    # A date given in a test still wins (a call's keyword overrides a partial's).
    monkeypatch.setattr(cast, "installation", partial(cast.installation, scheduled_date=tomorrow()))


def board_url(day: date | None = None) -> str:
    year, week, _ = (day or tomorrow()).isocalendar()
    return f"/installations/board/?week={year}-W{week:02d}"


def another_day() -> date:
    """The day after the jobs' day, in the same week (see tomorrow)."""
    return tomorrow() + timedelta(days=1)


def cell(page, handyman, day: date):
    return page.locator(f"ul.cell-jobs[data-handyman='{handyman.pk}'][data-day='{day}']")


def lane(page, day: date):
    return page.locator(f"ul.cell-jobs[data-lane][data-day='{day}']")


def open_board(page, url: str | None = None) -> None:
    log_in(page, "acme")
    page.goto(url or board_url())
    page.wait_for_load_state("networkidle")


def _serious(results) -> list[str]:
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


# --- Dragging ------------------------------------------------------------------------------------


def test_dragging_a_card_from_unassigned_onto_a_handyman_assigns_it(page, cast):
    job = cast.installation(Status.SCHEDULED)
    open_board(page)
    card = page.locator(f"#card-{job.pk}")
    expect(lane(page, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()
    card.drag_to(cell(page, cast.other_handyman, tomorrow()))
    expect(page.locator("#flash")).to_contain_text(f"is assigned to #{job.pk}")
    target = cell(page, cast.other_handyman, tomorrow())
    expect(target.locator(f"#card-{job.pk}")).to_contain_text("Installer assigned")
    job.refresh_from_db()
    assert job.status == Status.INSTALLER_ASSIGNED and job.handyman == cast.other_handyman
    # The board was drawn again: the card carries the new version.
    expect(target.locator(f"#card-{job.pk}")).to_have_attribute("data-version", str(job.version))


def test_dragging_between_handymen_reassigns(page, cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    open_board(page)
    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.other_handyman, tomorrow()))
    expect(page.locator("#flash")).to_contain_text(f"Reassigned #{job.pk}")
    expect(cell(page, cast.other_handyman, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert job.handyman == cast.other_handyman


def test_dragging_a_card_to_another_day_reschedules_it(page, cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    open_board(page)
    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.handyman, another_day()))
    expect(page.locator("#flash")).to_contain_text(f"Moved #{job.pk}")
    expect(cell(page, cast.handyman, another_day()).locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert job.scheduled_date == another_day() and job.handyman == cast.handyman
    assert job.history.filter(kind="rescheduled").count() == 1


def test_dragging_from_unassigned_to_another_days_handyman_moves_and_assigns_it(page, cast):
    job = cast.installation(Status.SCHEDULED)
    open_board(page)
    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.other_handyman, another_day()))
    expect(page.locator("#flash")).to_contain_text(f"Moved #{job.pk}")
    expect(page.locator("#flash")).to_contain_text(
        f"{cast.other_handyman.display_name} is assigned to it."
    )
    card = cell(page, cast.other_handyman, another_day()).locator(f"#card-{job.pk}")
    expect(card).to_be_visible()
    job.refresh_from_db()
    assert (job.scheduled_date, job.handyman, job.status) == (
        another_day(),
        cast.other_handyman,
        Status.INSTALLER_ASSIGNED,
    )
    expect(card).to_have_attribute("data-version", str(job.version))


def test_in_the_day_view_dragging_to_another_window_reschedules_it(page, cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)  # 09:00–11:00
    open_board(page, f"/installations/board/?day={tomorrow()}")
    target = page.locator(
        f"ul.cell-jobs[data-handyman='{cast.handyman.pk}'][data-window-start='14:00']"
    )
    page.locator(f"#card-{job.pk}").drag_to(target)
    expect(page.locator("#flash")).to_contain_text(f"Moved #{job.pk}")
    expect(target.locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert (job.window_start, job.window_end) == (time(14), time(16))


@pytest.mark.allow_page_errors("409 (Conflict)")
def test_a_drop_on_another_handymans_day_is_one_change_checked_for_him(page, cast):
    day = another_day()
    theirs = cast.installation(
        Status.INSTALLER_ASSIGNED, handyman=cast.other_handyman, scheduled_date=day
    )
    job = cast.installation(Status.SCHEDULED)  # tomorrow, the same window, unassigned
    open_board(page)
    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.other_handyman, day))
    confirm = page.locator("#board-confirm")
    # Asked before anything is written, about Hana on the new day.
    expect(confirm).to_contain_text(f"{cast.other_handyman.display_name} already has #{theirs.pk}")
    confirm.get_by_role("button", name="Cancel").click()
    expect(page.locator("#flash")).to_contain_text("Nothing was changed.")
    job.refresh_from_db()
    assert (job.scheduled_date, job.status, job.version) == (tomorrow(), Status.SCHEDULED, 1)
    expect(lane(page, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()

    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.other_handyman, day))
    confirm.get_by_role("button", name=re.compile("anyway")).click()
    expect(page.locator("#flash")).to_contain_text(
        f"{cast.other_handyman.display_name} is assigned to it."
    )
    expect(cell(page, cast.other_handyman, day).locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert (job.scheduled_date, job.handyman, job.version) == (day, cast.other_handyman, 3)


@pytest.mark.allow_page_errors("409 (Conflict)")
def test_a_conflict_asks_first_and_assigns_only_when_confirmed(page, cast):
    cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.other_handyman)  # 09:00–11:00
    job = cast.installation(Status.SCHEDULED)  # the same window, unassigned
    open_board(page)
    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.other_handyman, tomorrow()))
    confirm = page.locator("#board-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("already has")
    # Cancel: nothing changes and the card goes back.
    confirm.get_by_role("button", name="Cancel").click()
    expect(confirm).to_be_hidden()
    expect(lane(page, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("Nothing was changed.")
    expect(page.locator(f"#card-{job.pk}")).not_to_have_attribute("aria-busy", "true")
    job.refresh_from_db()
    assert job.status == Status.SCHEDULED

    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.other_handyman, tomorrow()))
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Assign anyway").click()
    expect(page.locator("#flash")).to_contain_text(f"is assigned to #{job.pk}")
    expect(cell(page, cast.other_handyman, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert job.handyman == cast.other_handyman


@pytest.mark.allow_page_errors("409 (Conflict)")
def test_a_stale_board_gets_the_sentence_and_the_card_goes_back(page, cast):
    job = cast.installation(Status.SCHEDULED)
    open_board(page)
    # Meanwhile someone else assigns it.
    services.installation_assign(installation=job, handyman=cast.handyman, actor=cast.partner_user)
    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.other_handyman, tomorrow()))
    expect(page.locator("#flash")).to_contain_text("Someone else changed this installation")
    expect(lane(page, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert job.handyman == cast.handyman


@pytest.mark.allow_page_errors("ERR_FAILED")
def test_a_drop_whose_answer_is_lost_does_not_say_nothing_was_changed(page, cast):
    # The request reached the server and the job was assigned; only the answer was lost (a
    # tunnel, a weak signal). The board said "nothing was changed", and put the card back.
    job = cast.installation(Status.SCHEDULED)
    open_board(page)

    def lose_the_answer(route):
        route.fetch()  # the server does the work
        route.abort()  # and the page never hears back

    page.route("**/assign/", lose_the_answer)
    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.other_handyman, tomorrow()))
    flash = page.locator("#flash")
    expect(flash).to_contain_text("lost the connection before the server answered")
    expect(flash).not_to_contain_text("nothing was changed")
    job.refresh_from_db()
    assert job.handyman == cast.other_handyman
    # The live feed then shows where the job really is.
    expect(cell(page, cast.other_handyman, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()


def test_a_job_whose_handyman_set_off_dropped_on_another_day_says_why_and_goes_back(page, cast):
    job = cast.installation(Status.EN_ROUTE, handyman=cast.handyman)
    open_board(page)
    page.locator(f"#card-{job.pk}").drag_to(cell(page, cast.handyman, another_day()))
    expect(page.locator("#flash")).to_contain_text(
        f"#{job.pk} has a handyman on the way, so it can no longer be rescheduled. "
        "Nothing was changed."
    )
    expect(cell(page, cast.handyman, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert job.scheduled_date == tomorrow()


def test_a_day_off_is_greyed_and_a_drop_there_is_refused_with_a_sentence(page, cast):
    job = cast.installation(Status.SCHEDULED)
    TimeOff.objects.create(handyman=cast.other_handyman, day=tomorrow())
    open_board(page)
    off = cell(page, cast.other_handyman, tomorrow())
    expect(page.locator("td.is-day-off")).to_have_count(1)
    expect(page.locator("td.is-day-off")).to_contain_text("Day off")
    page.locator(f"#card-{job.pk}").drag_to(off)
    expect(page.locator("#flash")).to_contain_text("is off on")
    expect(lane(page, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()
    job.refresh_from_db()
    assert job.status == Status.SCHEDULED


def test_finished_jobs_cannot_be_dragged(page, cast):
    done = cast.installation(Status.CUSTOMER_APPROVED)
    open_board(page)
    card = page.locator(f"#card-{done.pk}")
    expect(card).to_have_class(re.compile("is-finished"))
    card.drag_to(cell(page, cast.other_handyman, tomorrow()))
    expect(cell(page, cast.handyman, tomorrow()).locator(f"#card-{done.pk}")).to_be_visible()
    done.refresh_from_db()
    assert done.handyman == cast.handyman


# --- Without dragging ----------------------------------------------------------------------------


def test_the_keyboard_opens_the_same_assign_dialog_and_escape_gives_the_focus_back(page, cast):
    job = cast.installation(Status.SCHEDULED)
    open_board(page)
    button = page.locator(f"#card-{job.pk}").get_by_role("button", name="Assign")
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()

    page.keyboard.press("Space")
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile(r"Hana .*that day")).check()
    dialog.get_by_role("button", name="Assign").press("Enter")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#flash")).to_contain_text(f"is assigned to #{job.pk}")
    expect(cell(page, cast.other_handyman, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()
    assert page.url.endswith(board_url())


def test_the_keyboard_reschedules_through_the_same_dialog(page, cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    open_board(page)
    button = page.locator(f"#card-{job.pk}").get_by_role("button", name="Reschedule")
    button.focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("New date").fill(another_day().isoformat())
    dialog.get_by_label("Arrival window").select_option(label="12:00–14:00")
    dialog.get_by_role("button", name="Reschedule").press("Enter")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#flash")).to_contain_text(f"Moved #{job.pk}")
    expect(cell(page, cast.handyman, another_day()).locator(f"#card-{job.pk}")).to_contain_text(
        "12:00–14:00"
    )


def test_after_a_keyboard_reschedule_the_focus_is_on_the_card_in_its_new_place(page, cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    open_board(page)
    page.locator(f"#card-{job.pk}").get_by_role("button", name="Reschedule").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#action-dialog")
    dialog.get_by_label("New date").fill(another_day().isoformat())
    dialog.get_by_label("Arrival window").select_option(label="12:00–14:00")
    dialog.get_by_role("button", name="Reschedule").press("Enter")

    expect(page.locator("#flash")).to_contain_text(f"Moved #{job.pk}")
    moved = cell(page, cast.handyman, another_day()).locator(f"#card-{job.pk}")
    # The board is drawn again; the keyboard goes on from the card, not the top of the page.
    expect(moved.get_by_role("button", name="Reschedule")).to_be_focused()


def test_after_a_keyboard_assign_the_focus_is_on_the_card_under_its_handyman(page, cast):
    job = cast.installation(Status.SCHEDULED)
    open_board(page)
    page.locator(f"#card-{job.pk}").get_by_role("button", name="Assign").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("#action-dialog")
    dialog.get_by_label(re.compile(r"Hana .*that day")).check()
    dialog.get_by_role("button", name="Assign").press("Enter")

    expect(page.locator("#flash")).to_contain_text(f"is assigned to #{job.pk}")
    assigned = cell(page, cast.other_handyman, tomorrow()).locator(f"#card-{job.pk}")
    # Its Assign button is gone (it has a handyman now): the focus is on the card's own link.
    expect(assigned.locator(f"#job-{job.pk}")).to_be_focused()
    # A board opened afterwards starts at the top as usual.
    page.goto(board_url())
    page.wait_for_load_state("networkidle")
    expect(assigned.locator(f"#job-{job.pk}")).not_to_be_focused()


def test_without_javascript_the_cards_buttons_are_plain_forms_back_to_the_board(browser, cast):
    job = cast.installation(Status.SCHEDULED)
    # Another window than the first job's: Hana gets both without a conflict.
    assigned = cast.installation(
        Status.INSTALLER_ASSIGNED,
        handyman=cast.handyman,
        window_start=time(13),
        window_end=time(15),
    )
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "acme")
    page.goto(board_url())
    page.locator(f"#card-{job.pk}").get_by_role("button", name="Assign").click()
    page.wait_for_url(re.compile(rf"/installations/{job.pk}/assign/"))
    page.get_by_label(re.compile(r"Hana .*that day")).check()
    page.get_by_role("button", name="Assign").click()
    page.wait_for_url(re.compile(r"/installations/board/\?week="))
    expect(page.locator("#flash")).to_contain_text(f"is assigned to #{job.pk}")
    expect(cell(page, cast.other_handyman, tomorrow()).locator(f"#card-{job.pk}")).to_be_visible()

    page.locator(f"#card-{assigned.pk}").get_by_role("button", name="Reassign").click()
    page.get_by_label(re.compile(r"Hana .*that day")).check()
    page.get_by_role("button", name="Reassign").click()
    page.wait_for_url(re.compile(r"/installations/board/\?week="))
    moved = cell(page, cast.other_handyman, tomorrow()).locator(f"#card-{assigned.pk}")
    expect(moved).to_be_visible()
    assert Installation.objects.get(pk=assigned.pk).handyman == cast.other_handyman

    # Reschedule: the scheduling room's plain page, and back.
    page.locator(f"#card-{assigned.pk}").get_by_role("button", name="Reschedule").click()
    page.get_by_label("New date").fill(another_day().isoformat())
    page.get_by_role("button", name="Reschedule").click()
    page.wait_for_url(re.compile(r"/installations/board/\?week="))
    moved = cell(page, cast.other_handyman, another_day()).locator(f"#card-{assigned.pk}")
    expect(moved).to_be_visible()

    # The filters and the period links are plain links and forms too.
    page.get_by_label("Hide finished jobs").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"hide_finished=on"))
    year, week, _ = (tomorrow() + timedelta(days=7)).isocalendar()
    page.get_by_role("link", name="Next week").click()
    page.wait_for_url(
        re.compile(
            rf"week={year}-W{week:02d}.*hide_finished=on|hide_finished=on.*week={year}-W{week:02d}"
        )
    )
    context.close()


# --- Rows that arrive as they are seen ----------------------------------------------------------


def eight_more_handymen(cast) -> list:
    """Ten handymen in all: the week draws the first six at once, the rest on demand."""
    from tests.factories import HandymanFactory, UserFactory

    found = []
    for i in range(8):
        handyman = HandymanFactory(user=UserFactory(username=f"zz{i:02d}", first_name=f"Zz{i:02d}"))
        handyman.partners.add(cast.partner)
        found.append(handyman)
    return found


def test_the_other_handymen_arrive_as_their_rows_scroll_into_view_and_take_drops(page, cast):
    last = eight_more_handymen(cast)[-1]
    job = cast.installation(Status.SCHEDULED)
    page.set_viewport_size({"width": 1280, "height": 420})
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    open_board(page)
    rows = page.locator("tr.handyman-row")
    expect(rows).to_have_count(6)
    page.locator("#board-more-rows").scroll_into_view_if_needed()
    expect(rows).to_have_count(10)
    expect(page.locator("#board-more-rows")).to_have_count(0)
    # A late row is a drop target like the others (a screen tall enough for both ends).
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.locator(f"#card-{job.pk}").drag_to(cell(page, last, tomorrow()))
    expect(cell(page, last, tomorrow()).locator(f"#card-{job.pk}")).to_contain_text(
        "Installer assigned"
    )
    # The board drawn again after the drop keeps all ten rows: asked with rows=all, not drawn
    # short and fetched again (the page would jump under the user's hand).
    page.wait_for_load_state("networkidle")
    expect(rows).to_have_count(10)
    assert [url for url in asked if "rows=all" in url], asked
    assert len([url for url in asked if "after=" in url]) == 1, asked
    job.refresh_from_db()
    assert job.handyman == last


def test_the_keyboard_fetches_the_other_handymen_and_goes_on_from_the_first(page, cast):
    eight_more_handymen(cast)
    page.set_viewport_size({"width": 1280, "height": 420})
    open_board(page)
    link = page.get_by_role("link", name="Show the other 4 handymen of this page")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.locator("tr.handyman-row")).to_have_count(10)
    first_new = page.locator("tr.handyman-row").nth(6)
    expect(first_new.locator("a[href], button").first).to_be_focused()


# --- Accessibility, phones -----------------------------------------------------------------------


def test_axe_finds_no_serious_violations_on_the_board(page, cast):
    cast.installation(Status.SCHEDULED)
    cast.installation(Status.EN_ROUTE)
    cast.installation(Status.CUSTOMER_APPROVED)
    TimeOff.objects.create(handyman=cast.other_handyman, day=tomorrow())
    open_board(page)
    axe = Axe()
    assert _serious(axe.run(page)) == []
    page.goto(f"/installations/board/?day={tomorrow()}")
    assert _serious(axe.run(page)) == []


def test_the_board_is_usable_at_360_pixels_a_day_per_screen(browser, cast):
    job = cast.installation(Status.SCHEDULED)
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "acme")
    page.goto(board_url())
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # One day fills the screen beside the handymen's names; the board scrolls by day.
    first_day = page.locator(".board-grid thead th").nth(1).bounding_box()
    assert first_day is not None and first_day["width"] >= 200
    card = page.locator(f"#card-{job.pk}")
    card.scroll_into_view_if_needed()
    expect(card.get_by_role("button", name="Assign")).to_be_visible()
    assert Axe().run(page).response["violations"] is not None
    assert _serious(Axe().run(page)) == []
    context.close()


@pytest.mark.parametrize("view", ["week", "day"])
def test_every_control_of_the_board_is_a_thumbs_44_pixels_on_a_phone(browser, cast, view):
    # Cards' buttons were 32 px high, the days' and the customers' links 16 to 24, the filters'
    # box and links 23: a thumb aiming at "Reschedule" hit "Reassign" or the card's name. (The
    # site's header is every page's, not the board's.)
    for status in (Status.SCHEDULED, Status.INSTALLER_ASSIGNED, Status.CUSTOMER_APPROVED):
        cast.installation(status)
    for _ in range(selectors.LANE_PER_DAY + 1):  # and "1 more on this day"
        cast.installation(Status.SCHEDULED)
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, "acme")
    page.goto(board_url() if view == "week" else f"/installations/board/?day={tomorrow()}")
    expect(page.locator(".job-actions button").first).to_be_attached()
    assert small_targets(page, within="main") == []


@pytest.mark.parametrize("view", ["week", "day"])
def test_a_long_status_stays_inside_its_card_on_a_desktop(page, cast, view):
    # "Installation in progress" is wider than a week's day column at 1280 px: it wraps inside
    # the card instead of running over its border and into the next day.
    jobs = [cast.installation(s) for s in (Status.INSTALLATION_IN_PROGRESS, Status.EN_ROUTE)]
    open_board(page, board_url() if view == "week" else f"/installations/board/?day={tomorrow()}")
    for job in jobs:
        card = page.locator(f"#card-{job.pk}").bounding_box()
        badge = page.locator(f"#card-{job.pk} .badge").bounding_box()
        assert card is not None and badge is not None
        assert badge["x"] + badge["width"] <= card["x"] + card["width"] + 0.5


def test_on_a_phone_the_week_opens_on_today_not_on_monday(browser, cast):
    # A day is a screen wide: on a Friday, Monday's empty column filled the first screen and
    # today's jobs were four swipes away.
    cast.installation(Status.SCHEDULED, scheduled_date=timezone.localdate())
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True)
    page = context.new_page()
    log_in(page, "acme")
    page.goto("/installations/board/")
    page.wait_for_load_state("networkidle")
    today = page.locator(".board-grid thead th.is-today").bounding_box()
    assert today is not None and today["x"] >= 0 and today["x"] + today["width"] <= 361, today
    context.close()


def test_on_a_phone_todays_day_view_opens_on_its_first_window_not_yet_over(browser, cast):
    # It opened on 08:00–10:00, whatever the hour: at 15:00 the windows still to come were
    # three swipes away. A job of today late in the evening makes a window that is not over yet
    # at any hour the suite runs (until its last second).
    job = cast.installation(Status.SCHEDULED, scheduled_date=timezone.localdate())
    Installation.objects.filter(pk=job.pk).update(
        window_start=time(23), window_end=time(23, 59, 59)
    )
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, "acme")
    page.goto(f"/installations/board/?day={timezone.localdate()}")
    page.wait_for_load_state("networkidle")
    now = page.locator(".board-grid thead th.is-now")
    expect(now).to_have_count(1)
    box = now.bounding_box()
    names = page.locator(".board-grid thead th.board-corner").bounding_box()
    assert box is not None and names is not None
    assert box["x"] >= names["x"] + names["width"] - 1 and box["x"] + box["width"] <= 361, box
