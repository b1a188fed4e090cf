"""The partner's dispatch board: which jobs land where, the lane, the filters, the actions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from installations.board import selectors as board_selectors
from installations.board.cards import render_cards
from installations.board.views import (
    FIRST_ROWS,
    Period,
    build_cards,
    card_actions_for,
    partner_link,
)
from installations.models import Installation
from installations.statuses import Status

from ..dashboard.helpers import Clock
from ..factories import HandymanFactory, UserFactory

BOARD = reverse("board:week")


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


@pytest.fixture
def partner_client(client, cast):
    client.force_login(cast.partner_user)
    return client


def get(client, **params):
    response = client.get(BOARD, params)
    assert response.status_code == 200, response.content[:500]
    return response


def cards_by_place(response) -> dict[str, list[int]]:
    """{"hank 2026-12-03": [pks], "lane 2026-12-03": [pks]} from what the view drew."""
    places: dict[str, list[int]] = {}
    for cell in response.context["lane_cells"]:
        places[f"lane {cell.column.key}"] = [c.job.pk for c in cell.cards]
    for row in response.context["rows"]:
        for cell in row.cells:
            key = f"{row.handyman.user.username} {cell.column.key}"
            places[key] = [c.job.pk for c in cell.cards]
    return places


def move(inst: Installation, **fields) -> None:
    """Put a job on another day than services allow (the past), as time would."""
    Installation.objects.filter(pk=inst.pk).update(**fields)


# --- Where jobs land ---------------------------------------------------------------------------


def test_an_assigned_job_is_a_card_in_its_handymans_row_and_its_days_cell(partner_client, cast):
    day = tomorrow()
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.other_handyman)
    places = cards_by_place(get(partner_client, week=week_of(day)))
    assert places[f"hana {day}"] == [job.pk]
    assert job.pk not in places[f"hank {day}"]
    assert all(job.pk not in pks for key, pks in places.items() if key != f"hana {day}")


def test_the_unassigned_lane_holds_the_scheduled_jobs_of_the_shown_week_only(partner_client, cast):
    day = tomorrow()
    this_week = cast.installation(Status.SCHEDULED)
    next_week = cast.installation(Status.SCHEDULED, scheduled_date=day + timedelta(days=7))
    places = cards_by_place(get(partner_client, week=week_of(day)))
    assert places[f"lane {day}"] == [this_week.pk]
    assert next_week.pk not in sum(places.values(), [])
    later = cards_by_place(get(partner_client, week=week_of(day + timedelta(days=7))))
    assert later[f"lane {day + timedelta(days=7)}"] == [next_week.pk]


def test_the_week_is_todays_iso_week_by_default(partner_client):
    response = get(partner_client)
    today = timezone.localdate()
    assert response.context["period"] == Period.week_of(today)
    assert response.context["period"].start.weekday() == 0
    assert len(response.context["columns"]) == 7


@pytest.mark.parametrize(
    ("now", "today"),
    [
        # 23:30 UTC on the Sunday summer time starts is 00:30 on Monday in London.
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30)),
        # 23:30 UTC on the Sunday it ends is still Sunday there (UTC+0 again).
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),
    ],
)
def test_today_and_its_week_are_the_portals_local_ones_across_a_clock_change(
    partner_client, cast, monkeypatch, settings, now, today
):
    settings.TIME_ZONE = "Europe/London"
    with timezone.override("Europe/London"):
        Clock(monkeypatch, now)
        late = cast.installation(Status.SCHEDULED, scheduled_date=today)
        move(late, scheduled_date=today - timedelta(days=1))
        response = get(partner_client)
    assert response.context["period"] == Period.week_of(today)
    assert [c.day for c in response.context["columns"] if c.is_today] == [today]
    # Yesterday's job never assigned is overdue: the local yesterday, not UTC's.
    assert response.context["overdue"] == 1
    assert f"date_to={today - timedelta(days=1)}" in response.content.decode()
    days = [c.day for c in get(partner_client, day=today.isoformat()).context["columns"]]
    assert set(days) == {today}


def test_previous_and_next_links_move_a_week_and_keep_the_filters(partner_client):
    response = get(partner_client, week="2027-W05", q="smith")
    html = response.content.decode()
    assert response.context["period"].start == date(2027, 2, 1)
    assert "week=2027-W04" in html and "week=2027-W06" in html
    assert "q=smith&amp;week=2027-W06" in html or "week=2027-W06&amp;q=smith" in html
    # Across a year's end: 2026 has 53 ISO weeks.
    assert "week=2027-W01" in get(partner_client, week="2026-W53").content.decode()


def test_a_week_that_does_not_exist_is_said_and_todays_week_shown(partner_client):
    response = get(partner_client, week="2026-W99")
    html = response.content.decode()
    assert "Choose a week written like 2026-W49" in html
    assert response.context["period"] == Period.week_of(timezone.localdate())


def test_a_day_view_has_the_arrival_windows_as_columns(partner_client, cast):
    day = tomorrow()
    early = cast.installation(Status.INSTALLER_ASSIGNED)  # 09:00–11:00 (the factory's)
    odd = cast.installation(
        Status.SCHEDULED, window_start=time(7, 30), window_end=time(9, 0), scheduled_date=day
    )
    response = get(partner_client, day=day.isoformat())
    windows = [c.window for c in response.context["columns"]]
    # The standard two-hour windows, and each other window a job of that day has, in order.
    assert windows[0] == (time(7, 30), time(9))
    assert (time(8), time(10)) in windows and (time(9), time(11)) in windows
    assert windows == sorted(windows)
    places = cards_by_place(response)
    assert places[f"hank {(time(9), time(11))}"] == [early.pk]
    assert places[f"lane {(time(7, 30), time(9))}"] == [odd.pk]
    assert "Whole week" in response.content.decode()


@pytest.mark.parametrize(
    ("hour", "first_open"),
    [(7, (time(8), time(10))), (10, (time(10), time(12))), (15, (time(14), time(16))), (19, None)],
)
def test_todays_day_view_marks_its_first_window_not_yet_over(
    partner_client, monkeypatch, hour, first_open
):
    # A phone shows one window a screen and opens on this one (board.js), not on 08:00–10:00.
    today = timezone.localdate()
    now = timezone.make_aware(datetime.combine(today, time(hour)))
    monkeypatch.setattr("installations.scheduling.rules.local_now", lambda: now)
    html = get(partner_client, day=today.isoformat()).content.decode()
    marked = re.findall(r'<th scope="col" class="is-today is-now">\s*(\S+)', html)
    assert marked == ([f"{first_open[0]:%H:%M}–{first_open[1]:%H:%M}"] if first_open else [])
    # Another day, or the week: no window is "now".
    tomorrows = get(partner_client, day=(today + timedelta(days=1)).isoformat())
    assert "is-now" not in tomorrows.content.decode()
    assert "is-now" not in get(partner_client).content.decode()


def test_the_help_says_a_touch_screen_drags_after_a_press_and_hold(partner_client):
    # A swipe scrolls the board on a phone (SortableJS waits 200 ms on touch): a dispatcher who
    # swiped a card saw the board move instead, with nothing saying why.
    html = get(partner_client).content.decode()
    assert "on a touch screen, press and hold the card first" in html


def test_the_lane_shows_a_few_jobs_a_day_and_links_the_rest_to_the_list(partner_client, cast):
    day = tomorrow()
    for _ in range(board_selectors.LANE_PER_DAY + 2):
        cast.installation(Status.SCHEDULED)
    response = get(partner_client, week=week_of(day))
    cell = next(c for c in response.context["lane_cells"] if c.column.day == day)
    assert len(cell.cards) == board_selectors.LANE_PER_DAY
    assert cell.more == 2
    html = response.content.decode()
    assert "2 more on this day" in html
    assert f"status=SCHEDULED&amp;date_from={day}&amp;date_to={day}" in html


def test_overdue_counts_jobs_of_earlier_days_never_assigned_and_links_to_them(partner_client, cast):
    overdue = cast.installation(Status.SCHEDULED)
    move(overdue, scheduled_date=timezone.localdate() - timedelta(days=3))
    assigned_late = cast.installation(Status.INSTALLER_ASSIGNED)
    move(assigned_late, scheduled_date=timezone.localdate() - timedelta(days=3))
    cast.installation(Status.SCHEDULED)  # tomorrow: not overdue
    other = cast.installation(Status.SCHEDULED, partner=cast.other_partner)
    move(other, scheduled_date=timezone.localdate() - timedelta(days=3))
    response = get(partner_client, week="2030-W10")  # whatever week is shown
    assert response.context["overdue"] == 1
    html = response.content.decode()
    assert "1 unassigned job from earlier days" in html
    yesterday = timezone.localdate() - timedelta(days=1)
    link = f"{reverse('partner:list')}?status=SCHEDULED&amp;date_to={yesterday}&amp;sort=date"
    assert link in html
    listed = partner_client.get(link.replace("&amp;", "&"))
    assert f'id="row-{overdue.pk}"' in listed.content.decode()
    assert f'id="row-{assigned_late.pk}"' not in listed.content.decode()


# --- What a card shows -------------------------------------------------------------------------


def test_a_card_shows_window_customer_town_and_status_with_its_groups_colour_and_label(
    partner_client, cast
):
    job = cast.installation(Status.EN_ROUTE, site_address="12 Mill Lane, Oxbridge")
    html = get(partner_client, week=week_of(tomorrow())).content.decode()
    start = html.index(f'id="card-{job.pk}"')
    card = html[start : html.index("</li>", start)]
    assert "job-amber" in card
    assert "09:00–11:00" in card
    assert job.customer.name in card
    assert "Oxbridge" in card and "Mill Lane" not in card
    assert 'class="badge badge-amber"' in card and "En route" in card
    assert f'data-version="{job.version}"' in card


def test_follow_up_visits_are_marked(partner_client, cast):
    parent = cast.installation(Status.INSTALLATION_COMPLETED)
    follow_up = cast.installation(Status.SCHEDULED)
    move(follow_up, kind=Installation.Kind.FOLLOW_UP, parent=parent)
    html = get(partner_client, week=week_of(tomorrow())).content.decode()
    card = html[html.index(f'id="card-{follow_up.pk}"') :]
    assert '<span class="tag">Follow-up</span>' in card[: card.index("</li>")]
    first = html[html.index(f'id="card-{parent.pk}"') :]
    assert "Follow-up" not in first[: first.index("</li>")]


def test_finished_jobs_are_faded_and_a_toggle_in_the_url_hides_them(partner_client, cast):
    done = cast.installation(Status.CUSTOMER_APPROVED)
    open_job = cast.installation(Status.INSTALLER_ASSIGNED)
    html = get(partner_client, week=week_of(tomorrow())).content.decode()
    tag = html[html.index(f'id="card-{done.pk}"') :].split(">")[0]
    assert "is-finished" in tag
    hidden = get(partner_client, week=week_of(tomorrow()), hide_finished="on")
    pks = sum(cards_by_place(hidden).values(), [])
    assert done.pk not in pks and open_job.pk in pks
    box = hidden.content.decode().split('name="hide_finished"')[1].split(">")[0]
    assert "checked" in box


def test_search_and_status_group_filter_the_cards_like_the_list(partner_client, cast):
    wanted = cast.installation(Status.INSTALLER_ASSIGNED)
    other = cast.installation(Status.INSTALLER_ASSIGNED)
    en_route = cast.installation(Status.EN_ROUTE)
    week = week_of(tomorrow())
    found = sum(cards_by_place(get(partner_client, week=week, q=wanted.customer.name)).values(), [])
    assert wanted.pk in found and other.pk not in found
    grouped = sum(cards_by_place(get(partner_client, week=week, group="en_route")).values(), [])
    assert grouped == [en_route.pk]


def test_a_two_letter_search_finds_the_boards_jobs_however_many_jobs_are_newer(
    partner_client, cast, monkeypatch
):
    """The list looks at the newest jobs only for a search of one or two characters; the board
    is bounded by its days already, so it looks at every job of them."""
    from installations import filters

    from ..factories import CustomerFactory

    monkeypatch.setattr(filters, "SHORT_WINDOW", 2)
    wu = CustomerFactory(partner=cast.partner, name="Ann Wu")
    old = cast.installation(Status.INSTALLER_ASSIGNED, customer=wu)
    for _ in range(3):  # newer jobs: the list's window of two would leave Ann Wu's out
        cast.installation(Status.INSTALLER_ASSIGNED)
    found = sum(cards_by_place(get(partner_client, week=week_of(tomorrow()), q="Wu")).values(), [])
    assert found == [old.pk]


def test_a_filter_it_cannot_use_is_said_and_shows_no_cards(partner_client, cast):
    cast.installation(Status.INSTALLER_ASSIGNED)
    response = get(partner_client, week=week_of(tomorrow()), group="nonsense")
    assert sum(cards_by_place(response).values(), []) == []
    assert "Choose a status group from the list." in response.content.decode()


def test_rows_show_name_phone_as_a_tel_link_and_jobs_and_hours_booked(partner_client, cast):
    cast.installation(Status.INSTALLER_ASSIGNED)  # 2 h
    cast.installation(
        Status.INSTALLER_ASSIGNED, window_start=time(12), window_end=time(15, 30)
    )  # 3 h 30
    cancelled = cast.installation(Status.INSTALLER_ASSIGNED)
    move(cancelled, status=Status.CANCELLED)  # not booked time
    html = get(partner_client, week=week_of(tomorrow())).content.decode()
    row = html[html.index(f'id="handyman-{cast.handyman.pk}"') :]
    row = row[: row.index("</th>")]
    assert "Hank" in row
    assert 'href="tel:+447700900123"' in row
    assert "2 jobs, 5 h 30 this week" in row


def test_hours_booked_are_the_same_whether_or_not_a_filter_narrows_the_cards(partner_client, cast):
    # Unfiltered, the totals come from the cards already read; filtered, from their own query.
    cast.installation(Status.INSTALLER_ASSIGNED)  # 2 h
    cast.installation(
        Status.EN_ROUTE, window_start=time(12), window_end=time(15, 30)
    )  # 3 h 30, not in the "scheduled" group
    rejected = cast.installation(Status.INSTALLER_ASSIGNED)
    move(rejected, status=Status.REJECTED)  # not booked time
    for params in ({}, {"group": "scheduled"}, {"hide_finished": "on"}, {"q": "zzz-nobody"}):
        html = get(partner_client, week=week_of(tomorrow()), **params).content.decode()
        row = html[html.index(f'id="handyman-{cast.handyman.pk}"') :]
        assert "2 jobs, 5 h 30 this week" in row[: row.index("</th>")], params


def test_another_partners_jobs_and_handymen_never_appear(partner_client, cast):
    theirs = cast.installation(Status.INSTALLER_ASSIGNED, partner=cast.other_partner)
    theirs_open = cast.installation(Status.SCHEDULED, partner=cast.other_partner)
    only_theirs = HandymanFactory(user=UserFactory(username="olga", first_name="Olga"))
    only_theirs.partners.add(cast.other_partner)
    response = get(partner_client, week=week_of(tomorrow()))
    shown = sum(cards_by_place(response).values(), [])
    assert theirs.pk not in shown and theirs_open.pk not in shown
    names = [row.handyman.user.username for row in response.context["rows"]]
    assert names == ["hana", "hank"]  # hank serves both partners: his row shows ours only
    html = response.content.decode()
    assert theirs.customer.name not in html and "Olga" not in html


def test_handymen_are_shown_25_at_a_time(partner_client, cast):
    for i in range(26):
        user = UserFactory(username=f"zz{i:02d}", first_name=f"Zz{i:02d}")
        HandymanFactory(user=user).partners.add(cast.partner)
    first = get(partner_client, rows="all")
    assert len(first.context["rows"]) == 25
    assert "Next handymen" in first.content.decode()
    # By first name: Hana, Hank, Zz00 … Zz22 on the first page; the rest on the second.
    second = get(partner_client, page=2)
    assert [r.handyman.user.username for r in second.context["rows"]] == ["zz23", "zz24", "zz25"]
    assert "Previous handymen" in second.content.decode()
    beyond = get(partner_client, page=9).content.decode()
    assert "No more handymen on this page." in beyond and "Back to the first handymen" in beyond


# --- Acting ------------------------------------------------------------------------------------


def test_cards_offer_the_actions_the_state_machine_allows_with_their_version(partner_client, cast):
    open_job = cast.installation(Status.SCHEDULED)
    assigned = cast.installation(Status.INSTALLER_ASSIGNED)
    done = cast.installation(Status.CUSTOMER_APPROVED)
    html = get(partner_client, week=week_of(tomorrow())).content.decode()

    def card(inst):
        start = html.index(f'id="card-{inst.pk}"')
        return html[start : html.index("</li>", start)]

    assign = reverse("partner:assign", args=[open_job.pk])
    assert f'action="{assign}"' in card(open_job) and "data-draggable" in card(open_job)
    assert f'name="version" value="{open_job.version}"' in card(open_job)
    assert f'action="{reverse("partner:reassign", args=[assigned.pk])}"' in card(assigned)
    assert "<form" not in card(done) and "data-draggable" not in card(done)


def test_a_card_that_cannot_move_carries_the_sentence_the_scheduling_room_answers(
    partner_client, cast
):
    # board.js says it when such a card is dropped on another day, never words of its own.
    on_the_way = cast.installation(Status.EN_ROUTE, scheduled_date=tomorrow())
    assigned = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=tomorrow())
    html = get(partner_client, week=week_of(tomorrow())).content.decode()

    def card(inst):
        start = html.index(f'id="card-{inst.pk}"')
        return html[start : html.index(">", start)]

    said = (
        f"#{on_the_way.pk} has a handyman on the way, so it can no longer be rescheduled. "
        "Nothing was changed."
    )
    assert f'data-refused-reschedule="{said}"' in card(on_the_way)
    page = partner_client.get(reverse("scheduling:reschedule", args=[on_the_way.pk]))
    assert page.status_code == 409 and said in page.content.decode()
    # It can be given to another handyman: nothing to refuse there.
    assert "data-refused-reassign" not in card(on_the_way)
    assert "data-refused" not in card(assigned)


def test_without_javascript_a_cards_assign_form_comes_back_to_the_board(partner_client, cast):
    job = cast.installation(Status.SCHEDULED)
    board_url = f"{BOARD}?week={week_of(tomorrow())}"
    page = partner_client.get(
        reverse("partner:assign", args=[job.pk]), {"version": job.version, "next": board_url}
    )
    assert page.status_code == 200
    response = partner_client.post(
        reverse("partner:assign", args=[job.pk]),
        {"handyman": cast.other_handyman.pk, "version": job.version, "next": board_url},
    )
    assert response.status_code == 302 and response["Location"] == board_url
    places = cards_by_place(get(partner_client, week=week_of(tomorrow())))
    assert places[f"hana {tomorrow()}"] == [job.pk]


def test_a_drop_on_a_handyman_of_another_partner_is_refused_by_the_server(partner_client, cast):
    job = cast.installation(Status.SCHEDULED)
    stranger = HandymanFactory()
    stranger.partners.add(cast.other_partner)
    response = partner_client.post(
        reverse("partner:assign", args=[job.pk]),
        {"handyman": stranger.pk, "version": job.version, "target": "row"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    job.refresh_from_db()
    assert job.status == Status.SCHEDULED and job.handyman_id is None


def test_htmx_gets_the_board_part_only(partner_client, cast):
    cast.installation(Status.SCHEDULED)
    response = partner_client.get(BOARD, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')
    assert "<html" not in html


def test_a_feed_redraws_a_card_exactly_as_the_board_drew_it(partner_client, cast):
    job = cast.installation(Status.SCHEDULED)
    url = f"{BOARD}?week={week_of(tomorrow())}"
    board_html = partner_client.get(url).content.decode()
    start = board_html.index(f'<li id="card-{job.pk}"')
    on_board = board_html[start : board_html.index("</li>", start) + 5]
    rows = board_selectors.jobs(Installation.objects.filter(pk=job.pk))
    cards = build_cards(rows, actions=card_actions_for(cast.partner_user), link=partner_link())
    assert render_cards(cards, next_url=url, where=f"u-{tomorrow():%Y%m%d}") == on_board


def test_the_nav_and_the_list_link_to_the_board(partner_client):
    html = partner_client.get(reverse("partner:list")).content.decode()
    # The sections' line of links, its copy in the phone's "Menu" (one of the two is shown) and
    # the list's own link.
    assert html.count(f'href="{BOARD}"') == 3
    board = get(partner_client).content.decode()
    assert f'href="{BOARD}" aria-current="page"' in board


# --- Days off ------------------------------------------------------------------------------------


def test_a_handymans_days_off_are_greyed_and_his_jobs_there_flagged(partner_client, cast):
    from installations.scheduling.models import TimeOff

    day = tomorrow()
    stuck = cast.installation(Status.INSTALLER_ASSIGNED)  # booked before he marked the day off
    done = cast.installation(Status.CUSTOMER_APPROVED)  # finished: nothing to move
    elsewhere = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.other_handyman)
    TimeOff.objects.create(handyman=cast.handyman, day=day)
    response = get(partner_client, week=week_of(day))
    row = next(r for r in response.context["rows"] if r.handyman == cast.handyman)
    assert [c.day_off for c in row.cells] == [c.column.day == day for c in row.cells]
    other = next(r for r in response.context["rows"] if r.handyman == cast.other_handyman)
    assert not any(c.day_off for c in other.cells)
    flagged = {
        c.job.pk
        for r in response.context["rows"]
        for cell in r.cells
        for c in cell.cards
        if c.day_off
    }
    assert flagged == {stuck.pk}
    html = response.content.decode()
    assert "Day off: move or reassign this job" in html
    assert done.pk not in flagged and elsewhere.pk not in flagged
    assert 'data-day-off aria-label="Hank' in html and "is-day-off" in html


def test_cards_offer_reschedule_where_the_scheduling_rules_allow_it(partner_client, cast):
    from installations.scheduling.rules import RESCHEDULABLE

    jobs = {
        status: cast.installation(status)
        for status in (Status.SCHEDULED, Status.INSTALLER_ASSIGNED, Status.EN_ROUTE)
    }
    html = get(partner_client, week=week_of(tomorrow())).content.decode()
    for status, job in jobs.items():
        start = html.index(f'id="card-{job.pk}"')
        card = html[start : html.index("</li>", start)]
        assert ('data-action="reschedule"' in card) == (status in RESCHEDULABLE), status


# --- Rows that arrive as they are seen ---------------------------------------------------------


def more_handymen(cast, k: int) -> None:
    for i in range(k):
        user = UserFactory(username=f"zz{i:02d}", first_name=f"Zz{i:02d}")
        HandymanFactory(user=user).partners.add(cast.partner)


def test_the_week_draws_its_first_rows_and_a_row_that_fetches_the_others(partner_client, cast):
    more_handymen(cast, 8)  # with Hana and Hank: ten on the page
    response = get(partner_client, week=week_of(tomorrow()))
    html = response.content.decode()
    assert len(response.context["rows"]) == FIRST_ROWS
    more = html[html.index('id="board-more-rows"') :]
    more = more[: more.index("</tr>")]
    assert f"Show the other {10 - FIRST_ROWS} handymen of this page" in more
    # With JavaScript, fetched when it scrolls into view (or is clicked); without, a link to
    # the whole page.
    assert f'hx-get="{BOARD}?week={week_of(tomorrow())}&amp;after={FIRST_ROWS}"' in more
    assert 'hx-trigger="revealed, click"' in more
    assert f'href="{BOARD}?week={week_of(tomorrow())}&amp;rows=all"' in more


def test_the_other_rows_come_alone_with_their_cards(partner_client, cast):
    more_handymen(cast, 8)
    late = HandymanFactory(user=UserFactory(username="zzzz", first_name="Zzzz"))
    late.partners.add(cast.partner)
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=late)
    response = partner_client.get(
        BOARD, {"week": week_of(tomorrow()), "after": FIRST_ROWS}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<tr class="handyman-row">') == 11 - FIRST_ROWS
    assert f'id="card-{job.pk}"' in html and "Zzzz" in html
    # Rows only: no page, no lane, no second loader.
    assert "<html" not in html and "Unassigned" not in html and "board-more-rows" not in html


def test_without_javascript_the_link_draws_every_row_of_the_page(partner_client, cast):
    more_handymen(cast, 8)
    response = get(partner_client, week=week_of(tomorrow()), rows="all")
    assert len(response.context["rows"]) == 10
    assert "board-more-rows" not in response.content.decode()


def test_the_day_view_draws_every_row_at_once(partner_client, cast):
    more_handymen(cast, 8)
    response = get(partner_client, day=tomorrow().isoformat())
    assert len(response.context["rows"]) == 10
    assert "board-more-rows" not in response.content.decode()


def test_a_full_page_asked_with_after_still_starts_at_the_first_row(partner_client, cast):
    more_handymen(cast, 8)
    response = get(partner_client, week=week_of(tomorrow()), after=FIRST_ROWS)
    names = [row.handyman.user.username for row in response.context["rows"]]
    assert names[:2] == ["hana", "hank"] and len(names) == FIRST_ROWS
    assert "Unassigned" in response.content.decode()
