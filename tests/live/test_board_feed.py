"""The dispatch board follows the field (issue 13): the feed first asks where the changed cards
sit, then answers with the card alone (it stays in its cell) or the cells it left and joined,
the totals of the handymen it touched and the overdue count; never another partner's change,
and a constant number of queries."""

from __future__ import annotations

import json
import re
from datetime import date, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from installations import services
from installations.board.views import cell_where
from installations.live.selectors import partner_stamp
from installations.models import Installation
from installations.scheduling.services import installation_reschedule
from installations.scheduling.text import slot_text
from installations.statuses import Status

from ..factories import HandymanFactory

pytestmark = pytest.mark.django_db

FEED = "/installations/live/"
BOARD = "/installations/board/"


def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


def week_page(day: date | None = None) -> str:
    year, week, _ = (day or tomorrow()).isocalendar()
    return f"{BOARD}?week={year}-W{week:02d}"


def where(handyman_id: int | None, day: date, window: tuple[time, time] | None = None) -> str:
    code = f"{window[0]:%H%M}{window[1]:%H%M}" if window else f"{day:%Y%m%d}"
    return f"{handyman_id or 'u'}-{code}"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ask(client: Client, since: int, rows: dict[int, str], page: str | None = None):
    """The board's second question: where the changed cards sit (`located=1`)."""
    return client.get(
        FEED,
        {
            "since": since,
            "from": page or week_page(),
            "rows": ",".join(f"{pk}:{w}" for pk, w in rows.items()),
            "located": "1",
        },
    )


def parts_of(data) -> dict[str, str]:
    return {p["target"]: p["html"] for p in data["parts"]}


def assign(cast, inst, handyman=None):
    return services.installation_assign(
        installation=inst, handyman=handyman or cast.handyman, actor=cast.partner_user
    )


# --- Asking where --------------------------------------------------------------------------------


def test_the_board_sends_no_cards_and_is_asked_where_the_changed_ones_sit(cast):
    job = cast.installation(Status.SCHEDULED)
    client = login(cast.partner_user)
    html = client.get(week_page()).content.decode()
    # The page opts in (locating: its cards are too many to list in every question).
    stamp = partner_stamp(cast.partner.pk)
    assert re.search(rf'data-live-stamp="{stamp}" data-live-locate', html)
    assert "js/live.js" in html
    assert f'data-live-pk="{job.pk}" data-live-where="{where(None, tomorrow())}"' in html
    assign(cast, job)
    data = client.get(FEED, {"since": stamp, "from": week_page(), "rows": ""}).json()
    assert data == {"stamp": stamp, "locate": [job.pk], "changed": [], "parts": []}


# --- A card that stays, a card that moves --------------------------------------------------------


def test_a_card_that_stays_in_its_cell_is_redrawn_alone_with_its_handymans_totals(cast):
    today = timezone.localdate()  # "On my way" opens on the job's day
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman, scheduled_date=today)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    services.installation_set_off(installation=job, eta_minutes=20, actor=cast.handyman.user)
    # Today's week (tomorrow's, the default, is the next one on a Sunday).
    data = ask(client, stamp, {job.pk: where(cast.handyman.pk, today)}, week_page(today)).json()
    parts = parts_of(data)
    assert list(parts) == [f"card-{job.pk}", f"handyman-{cast.handyman.pk}", "board-overdue"]
    assert "En route" in parts[f"card-{job.pk}"]
    assert parts[f"card-{job.pk}"].startswith(f'<li id="card-{job.pk}"')
    assert "1 job, 2 h this week" in parts[f"handyman-{cast.handyman.pk}"]
    job.refresh_from_db()
    assert data["changed"] == [
        {"pk": job.pk, "version": job.version, "say": f"#{job.pk} {job.customer.name}: En route"}
    ]


def test_a_job_assigned_from_the_lane_leaves_it_and_joins_the_handymans_cell(cast):
    job = cast.installation(Status.SCHEDULED)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, job, cast.other_handyman)
    data = ask(client, stamp, {job.pk: where(None, tomorrow())}).json()
    parts = parts_of(data)
    lane = f"cell-{where(None, tomorrow())}"
    hana = f"cell-{where(cast.other_handyman.pk, tomorrow())}"
    assert set(parts) == {lane, hana, f"handyman-{cast.other_handyman.pk}", "board-overdue"}
    assert f'id="card-{job.pk}"' not in parts[lane]
    assert parts[lane].startswith(f'<td id="{lane}">')
    assert f'id="card-{job.pk}"' in parts[hana] and "Installer assigned" in parts[hana]
    assert f'data-live-where="{where(cast.other_handyman.pk, tomorrow())}"' in parts[hana]
    assert "1 job, 2 h" in parts[f"handyman-{cast.other_handyman.pk}"]
    assert [p["pks"] for p in data["parts"] if p["target"] == lane] == [[job.pk]]
    assert [c["pk"] for c in data["changed"]] == [job.pk]


def test_under_a_two_letter_search_a_changed_job_stays_on_the_board_however_many_are_newer(
    cast, monkeypatch
):
    """The list looks at the newest jobs only for one or two characters; the board (and so its
    feed) looks at every job of its days."""
    from installations import filters

    from ..factories import CustomerFactory

    monkeypatch.setattr(filters, "SHORT_WINDOW", 2)
    job = cast.installation(
        Status.SCHEDULED, customer=CustomerFactory(partner=cast.partner, name="Ann Wu")
    )
    for _ in range(3):
        cast.installation(Status.SCHEDULED)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, job, cast.other_handyman)
    data = ask(client, stamp, {job.pk: where(None, tomorrow())}, week_page() + "&q=Wu").json()
    hana = f"cell-{where(cast.other_handyman.pk, tomorrow())}"
    assert f'id="card-{job.pk}"' in parts_of(data)[hana]


def test_a_reassigned_job_moves_rows_and_both_handymens_totals_follow(cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    services.installation_reassign(
        installation=job, handyman=cast.other_handyman, actor=cast.partner_user
    )
    parts = parts_of(ask(client, stamp, {job.pk: where(cast.handyman.pk, tomorrow())}).json())
    assert f'id="card-{job.pk}"' not in parts[f"cell-{where(cast.handyman.pk, tomorrow())}"]
    assert f'id="card-{job.pk}"' in parts[f"cell-{where(cast.other_handyman.pk, tomorrow())}"]
    assert "No jobs this week" in parts[f"handyman-{cast.handyman.pk}"]
    assert "1 job, 2 h this week" in parts[f"handyman-{cast.other_handyman.pk}"]


def test_the_board_says_who_has_a_moved_job_and_when_not_just_details_changed(cast):
    # A screen reader heard "#5 Amy Lee: details changed" for a reassignment: on a plan of who
    # is where when, nothing said where the card had gone.
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    later = cast.installation(Status.SCHEDULED)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    services.installation_reassign(
        installation=job, handyman=cast.other_handyman, actor=cast.partner_user
    )
    installation_reschedule(
        installation=later,
        actor=cast.partner_user,
        scheduled_date=tomorrow() + timedelta(days=7),
        window_start=time(13),
        window_end=time(15),
    )
    rows = {job.pk: where(cast.handyman.pk, tomorrow()), later.pk: where(None, tomorrow())}
    said = {c["pk"]: c["say"] for c in ask(client, stamp, rows).json()["changed"]}
    day = slot_text(tomorrow(), time(9), time(11))
    next_week = slot_text(tomorrow() + timedelta(days=7), time(13), time(15))
    assert said == {
        job.pk: f"#{job.pk} {job.customer.name}: details changed, now with "
        f"{cast.other_handyman.display_name} on {day}",
        later.pk: f"#{later.pk} {later.customer.name}: details changed, now unassigned on "
        f"{next_week}",
    }
    # A status that moved is said first, as on every page.
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, later)
    data = ask(client, stamp, {}, page=week_page(tomorrow() + timedelta(days=7))).json()
    assert [c["say"] for c in data["changed"]] == [
        f"#{later.pk} {later.customer.name}: Installer assigned, now with "
        f"{cast.handyman.display_name} on {next_week}"
    ]


def test_a_job_rescheduled_out_of_the_week_disappears_from_its_cell(cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    installation_reschedule(
        installation=job,
        actor=cast.partner_user,
        scheduled_date=tomorrow() + timedelta(days=7),
        window_start=time(9),
        window_end=time(11),
    )
    data = ask(client, stamp, {job.pk: where(cast.handyman.pk, tomorrow())}).json()
    parts = parts_of(data)
    assert set(parts) == {
        f"cell-{where(cast.handyman.pk, tomorrow())}",
        f"handyman-{cast.handyman.pk}",
        "board-overdue",
    }
    assert f'id="card-{job.pk}"' not in parts[f"cell-{where(cast.handyman.pk, tomorrow())}"]
    assert "No jobs this week" in parts[f"handyman-{cast.handyman.pk}"]
    # Announced: it was on this board.
    assert [c["pk"] for c in data["changed"]] == [job.pk]


def test_a_new_job_of_the_week_enters_its_lane_cell_and_one_of_another_week_is_ignored(cast):
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    job = cast.installation(Status.SCHEDULED)
    later = cast.installation(Status.SCHEDULED, scheduled_date=tomorrow() + timedelta(days=7))
    data = ask(client, stamp, {}).json()
    parts = parts_of(data)
    assert set(parts) == {f"cell-{where(None, tomorrow())}", "board-overdue"}
    assert f'id="card-{job.pk}"' in parts[f"cell-{where(None, tomorrow())}"]
    assert [c["pk"] for c in data["changed"]] == [job.pk]
    assert later.customer.name not in json.dumps(data)


def test_a_job_that_leaves_the_filter_disappears(cast):
    job = cast.installation(Status.SCHEDULED)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, job)
    page = f"{week_page()}&group=new"
    parts = parts_of(ask(client, stamp, {job.pk: where(None, tomorrow())}, page=page).json())
    assert f'id="card-{job.pk}"' not in json.dumps(parts)
    assert f"cell-{where(None, tomorrow())}" in parts


def test_the_overdue_count_follows(cast):
    late = cast.installation(Status.SCHEDULED)
    Installation.objects.filter(pk=late.pk).update(
        scheduled_date=timezone.localdate() - timedelta(days=3)
    )
    client = login(cast.partner_user)
    assert "1 unassigned job from earlier days" in client.get(week_page()).content.decode()
    stamp = partner_stamp(cast.partner.pk)
    services.installation_reject(
        installation=Installation.objects.get(pk=late.pk), actor=cast.partner_user, reason="Gone"
    )
    parts = parts_of(ask(client, stamp, {}).json())
    assert parts["board-overdue"] == '<div id="board-overdue"></div>'


# --- The day view --------------------------------------------------------------------------------


def test_the_day_view_moves_a_card_between_windows(cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)  # 09:00–11:00
    client = login(cast.partner_user)
    page = f"{BOARD}?day={tomorrow()}"
    html = client.get(page).content.decode()
    old = where(cast.handyman.pk, tomorrow(), (time(9), time(11)))
    assert f'data-live-where="{old}"' in html and f'id="cell-{old}"' in html
    stamp = partner_stamp(cast.partner.pk)
    installation_reschedule(
        installation=job,
        actor=cast.partner_user,
        scheduled_date=tomorrow(),
        window_start=time(14),
        window_end=time(16),
    )
    parts = parts_of(ask(client, stamp, {job.pk: old}, page=page).json())
    new = where(cast.handyman.pk, tomorrow(), (time(14), time(16)))
    assert f'id="card-{job.pk}"' not in parts[f"cell-{old}"]
    assert f'id="card-{job.pk}"' in parts[f"cell-{new}"]
    assert "1 job, 2 h this day" in parts[f"handyman-{cast.handyman.pk}"]


def test_the_day_view_counts_a_job_in_a_window_it_has_no_column_for(cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    client = login(cast.partner_user)
    page = f"{BOARD}?day={tomorrow()}"
    stamp = partner_stamp(cast.partner.pk)
    installation_reschedule(
        installation=job,
        actor=cast.partner_user,
        scheduled_date=tomorrow(),
        window_start=time(8),
        window_end=time(12),  # the morning: not a two-hour column
    )
    data = ask(
        client, stamp, {job.pk: where(cast.handyman.pk, tomorrow(), (time(9), time(11)))}, page
    ).json()
    assert data["entered"] == [job.pk]
    assert f"cell-{where(cast.handyman.pk, tomorrow(), (time(8), time(12)))}" not in parts_of(data)


# --- Never another partner's ---------------------------------------------------------------------


def test_another_partners_change_never_reaches_this_boards_feed(cast):
    mine = cast.installation(Status.SCHEDULED)
    theirs = cast.installation(Status.SCHEDULED, partner=cast.other_partner)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    services.installation_assign(
        installation=theirs, handyman=cast.handyman, actor=cast.other_partner_user
    )
    # Even when the page claims to show their card in Hank's cell (he serves both partners).
    rows = {theirs.pk: where(None, tomorrow()), mine.pk: where(cast.handyman.pk, tomorrow())}
    assert ask(client, stamp, rows).status_code == 304
    body = json.dumps(ask(client, 0, rows).json())
    assert theirs.customer.name not in body
    assert f"card-{theirs.pk}" not in body
    assert f"#{theirs.pk} " not in body


# --- Queries -------------------------------------------------------------------------------------


def _change(cast, k: int) -> tuple[int, dict[int, str]]:
    """k jobs, half in the lane and half with new handymen, then each of them changed."""
    jobs = []
    for i in range(k):
        day = tomorrow() if i % 2 else timezone.localdate() + timedelta(days=2)
        handyman = HandymanFactory()
        handyman.partners.add(cast.partner)
        jobs.append((cast.installation(Status.SCHEDULED, scheduled_date=day), handyman))
    stamp = partner_stamp(cast.partner.pk)
    rows = {}
    for job, handyman in jobs:
        rows[job.pk] = where(None, job.scheduled_date)
        services.installation_assign(installation=job, handyman=handyman, actor=cast.partner_user)
    return stamp, rows


@pytest.mark.parametrize("k", [2, 20])
def test_the_boards_feed_answer_costs_the_same_queries_for_2_or_20_changed_cards(
    cast, k, django_assert_num_queries
):
    client = login(cast.partner_user)
    stamp, rows = _change(cast, k)
    client.get(FEED)  # the session, read once before we count
    # session, user, the feed's numbers, the changed jobs, which match the filters, the
    # handymen page, their jobs, the lane, booked hours, days off, the overdue count
    with django_assert_num_queries(11):
        response = ask(client, stamp, rows, page=week_page(timezone.localdate() + timedelta(2)))
    data = response.json()
    html = "".join(p["html"] for p in data["parts"])
    on_week = [pk for pk in rows if f'id="card-{pk}"' in html]
    assert data["changed"] and len(on_week) == len(data["changed"])


def test_cell_where_names_the_lane_and_the_handymans_rows():
    from installations.board.views import Column

    day = date(2026, 12, 3)
    assert cell_where(None, Column(day, day)) == "u-20261203"
    assert cell_where(17, Column((time(9), time(11)), day, (time(9), time(11)))) == "17-09001100"
