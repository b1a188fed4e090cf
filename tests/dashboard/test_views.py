"""The dashboard page: who sees it, what it shows, the period in the URL, the thresholds form."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from installations.dashboard import services
from installations.dashboard.models import DashboardJob, DashboardThresholds
from installations.dashboard.selectors import DEFAULT_THRESHOLDS
from installations.models import Installation
from installations.statuses import Status

from ..factories import PartnerUserFactory
from .helpers import Clock, made_in_the_past

S = Status
URL = reverse("dashboard:page")
THRESHOLDS = reverse("dashboard:thresholds")


def _form(**changes) -> dict:
    data = {str(s): h for s, h in DEFAULT_THRESHOLDS.items()}
    data.update(changes)
    return data


@pytest.fixture
def partner_client(client, cast):
    client.force_login(cast.partner_user)
    return client


def test_the_page_shows_every_section_with_a_chart_and_its_table(partner_client, cast):
    cast.installation(S.CUSTOMER_APPROVED)
    cast.installation(S.REJECTED)
    page = partner_client.get(URL).content.decode()
    for heading in ("Pipeline over time", "Flow times", "Stuck jobs", "Outcomes", "Per handyman"):
        assert heading in page
    # Every chart has a title and description it is labelled by, and a table of its numbers.
    svgs = re.findall(r'<svg class="chart-svg"[^>]*aria-labelledby="([\w-]+)-title \1-desc"', page)
    assert len(svgs) == 8  # pipeline, 5 flow steps, arrivals, outcomes
    for chart in svgs:
        assert f'<title id="{chart}-title">' in page
        assert f'id="{chart}-caption"' in page
    # The eight charts' tables and the arrival shares.
    assert page.count('<th scope="col">Week of</th>') == 9
    assert "Outside our service area." in page  # the top rejection reason
    assert 'aria-current="page">Last 12 weeks' in page


@pytest.mark.parametrize("weeks", [4, 12, 52])
def test_the_period_comes_from_the_url(partner_client, weeks):
    page = partner_client.get(URL, {"weeks": weeks}).content.decode()
    assert f'aria-current="page">Last {weeks} weeks' in page
    pipeline = page.split('id="pipeline-caption"')[1].split("</table>")[0]
    assert pipeline.count('<th scope="row">') == weeks


@pytest.mark.parametrize("raw", ["7", "abc", "", "-4", "9999999999999999999999"])
def test_a_period_it_does_not_offer_shows_the_default(partner_client, raw):
    response = partner_client.get(URL, {"weeks": raw})
    assert response.status_code == 200
    assert 'aria-current="page">Last 12 weeks' in response.content.decode()


def test_the_default_periods_link_is_the_pages_own_address(partner_client):
    # From /dashboard/, "Last 12 weeks" lands where it is: no second history entry of one page.
    html = partner_client.get(URL, {"weeks": 4}).content.decode()
    assert f'href="{URL}" hx-get="{URL}"' in html
    assert f'href="{URL}?weeks=4"' in html and f'href="{URL}?weeks=52"' in html
    assert f"{URL}?weeks=12" not in html


def test_htmx_gets_the_body_only(partner_client):
    response = partner_client.get(URL, {"weeks": 4}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body and "Pipeline over time" in body


def test_htmx_restoring_history_gets_the_whole_page(partner_client):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    response = partner_client.get(URL, {"weeks": 4}, headers=headers)
    body = response.content.decode()
    assert "<html" in body and "Pipeline over time" in body


def test_another_partners_numbers_are_never_included(partner_client, cast):
    theirs = cast.installation(S.REJECTED, partner=cast.other_partner)
    cast.installation(S.CUSTOMER_APPROVED, partner=cast.other_partner)
    stuck = cast.installation(S.SCHEDULED, partner=cast.other_partner)
    DashboardThresholds.objects.create(partner=cast.partner, hours={"SCHEDULED": 1})
    DashboardJob.objects.filter(pk=stuck.pk).update(since=timezone.now() - timedelta(days=30))
    page = partner_client.get(URL).content.decode()
    assert "Nothing measured in this period yet." in page  # their handyman's times are theirs
    assert "Outside our service area." not in page
    assert theirs.customer.name not in page and stuck.customer.name not in page
    outcome = page.split('id="outcomes-caption"')[1].split("</table>")[0]
    assert re.findall(r"<td>(\d+)</td>", outcome) == ["0"] * (12 * 4)


def test_stuck_jobs_use_the_default_thresholds_and_link_to_each_job(partner_client, cast):
    old = cast.installation(S.SCHEDULED)
    fresh = cast.installation(S.SCHEDULED)
    DashboardJob.objects.filter(pk=old.pk).update(since=timezone.now() - timedelta(hours=73))
    DashboardJob.objects.filter(pk=fresh.pk).update(since=timezone.now() - timedelta(hours=71))
    page = partner_client.get(URL).content.decode()
    stuck = page.split('id="stuck"')[1].split("</section>")[0]
    assert reverse("partner:detail", args=[old.pk]) in stuck
    assert reverse("partner:detail", args=[fresh.pk]) not in stuck
    assert "over 72 hours" in stuck


def test_the_stuck_list_says_how_many_are_stuck_when_it_shows_only_the_oldest(partner_client, cast):
    """Ten links per status, and the number beyond them: a partner with 13 jobs stuck must not
    read the ten shown as all there are."""
    from installations.dashboard.selectors import STUCK_LIMIT

    now = timezone.now()
    for i in range(STUCK_LIMIT + 3):
        job = cast.installation(S.SCHEDULED)
        DashboardJob.objects.filter(pk=job.pk).update(since=now - timedelta(hours=100 + i))
    for i in range(2):
        job = cast.installation(S.EN_ROUTE)
        DashboardJob.objects.filter(pk=job.pk).update(since=now - timedelta(hours=30 - i))
    stuck = partner_client.get(URL).content.decode().split('id="stuck"')[1].split("</section>")[0]
    scheduled, en_route = (
        stuck.split('id="stuck-SCHEDULED"')[1].split('class="stuck-status"')[0],
        stuck.split('id="stuck-EN_ROUTE"')[1].split('class="stuck-status"')[0],
    )
    assert scheduled.count("<li>") == STUCK_LIMIT
    # Jobs without a handyman count from their day: the first ten are the soonest, not the
    # longest waits.
    assert f"The {STUCK_LIMIT} booked soonest of {STUCK_LIMIT + 3} stuck." in scheduled
    assert en_route.count("<li>") == 2
    assert "stuck-count" not in en_route  # the list is all there is


def test_the_stuck_count_stops_at_its_cap_and_says_or_more(partner_client, cast, monkeypatch):
    from installations.dashboard import selectors

    monkeypatch.setattr(selectors, "STUCK_LIMIT", 2)
    monkeypatch.setattr(selectors, "STUCK_COUNT_CAP", 3)
    now = timezone.now()
    for i in range(4):
        job = cast.installation(S.SCHEDULED)
        DashboardJob.objects.filter(pk=job.pk).update(since=now - timedelta(hours=100 + i))
    stuck = partner_client.get(URL).content.decode().split('id="stuck-SCHEDULED"')[1]
    assert "The 2 booked soonest of 3 or more stuck." in stuck


def _assigned_in_the_past(cast, *, days_ago: int, booked_for: date) -> Installation:
    """A job created and assigned `days_ago` days ago, booked for `booked_for` at 09:00, still
    waiting for its handyman to set off."""
    return made_in_the_past(cast, S.INSTALLER_ASSIGNED, days_ago=days_ago, booked_for=booked_for)


def _stuck_scheduled(page: str) -> str:
    return page.split('id="stuck-SCHEDULED"')[1].split('class="stuck-status"')[0]


def _row(section: str, job: Installation) -> str:
    return section.split(reverse("partner:detail", args=[job.pk]))[1].split("</li>")[0]


def test_a_job_created_yesterday_for_tomorrow_without_a_handyman_is_stuck_today(
    partner_client, cast
):
    """Its clock starts a week before its window, not at its creation: it was listed only 72 h
    after it was made, when its day had passed. It says its day, not a wait that began before
    the job existed, in the page and in the fragment htmx swaps in."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    job = made_in_the_past(cast, S.SCHEDULED, days_ago=1, booked_for=tomorrow)
    booked = dateformat.format(tomorrow, "D j M Y")
    for headers in ({}, {"HX-Request": "true"}):
        scheduled = _stuck_scheduled(partner_client.get(URL, headers=headers).content.decode())
        row = _row(scheduled, job)
        assert "booked for <time datetime=" in row and f">{booked}, 09:00–11:00</time> (in " in row
        assert row.endswith(", no handyman yet")
        assert "waiting since" not in row
    assert "with this threshold, listed from 4 days before its window opens." in scheduled


@pytest.mark.parametrize(
    ("hours", "listed"),
    [
        (100, "from 2 days, 20 hours before its window opens"),
        (168, "once its window opens"),
        (200, "1 day, 8 hours after its window opened"),
    ],
)
def test_the_page_says_when_a_job_without_a_handyman_is_listed_under_the_threshold(
    partner_client, cast, hours, listed
):
    DashboardThresholds.objects.create(partner=cast.partner, hours={"SCHEDULED": hours})
    scheduled = _stuck_scheduled(partner_client.get(URL).content.decode())
    assert f"with this threshold, listed {listed}." in scheduled


def test_a_job_without_a_handyman_booked_three_weeks_ahead_is_not_stuck(partner_client, cast):
    """Created two days ago for a day three weeks away: the office has two more weeks."""
    day = timezone.localdate() + timedelta(days=21)
    job = made_in_the_past(cast, S.SCHEDULED, days_ago=2, booked_for=day)
    scheduled = _stuck_scheduled(partner_client.get(URL).content.decode())
    assert reverse("partner:detail", args=[job.pk]) not in scheduled
    assert "None." in scheduled


def test_jobs_without_a_handyman_are_listed_soonest_day_first(partner_client, cast):
    """Made a week ago for in three days, made an hour ago for tomorrow, one whose day passed:
    the passed day, then tomorrow, then in three days, whatever their creation."""
    today = timezone.localdate()
    later = made_in_the_past(cast, S.SCHEDULED, days_ago=7, booked_for=today + timedelta(days=3))
    soon = made_in_the_past(cast, S.SCHEDULED, days_ago=0.04, booked_for=today + timedelta(1))
    missed = made_in_the_past(cast, S.SCHEDULED, days_ago=9, booked_for=today - timedelta(2))
    scheduled = _stuck_scheduled(partner_client.get(URL).content.decode())
    links = re.findall(r'href="/installations/(\d+)/"', scheduled)
    assert links == [str(missed.pk), str(soon.pk), str(later.pk)]
    assert " ago), no handyman yet" in _row(scheduled, missed)


def _stuck_assigned(page: str) -> str:
    return page.split('id="stuck-INSTALLER_ASSIGNED"')[1].split('class="stuck-status"')[0]


def test_a_job_booked_three_weeks_ahead_is_not_stuck_while_it_waits_for_its_day(
    partner_client, cast
):
    """Assigned 20 days ago for a day three weeks after: it waits for tomorrow, as booked. It
    read as stuck, the 14 days counted from its assignment."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    job = _assigned_in_the_past(cast, days_ago=20, booked_for=tomorrow)
    assigned = _stuck_assigned(partner_client.get(URL).content.decode())
    assert reverse("partner:detail", args=[job.pk]) not in assigned
    assert "None." in assigned


def test_a_job_still_assigned_days_after_its_day_is_stuck_and_says_how_long(
    partner_client, cast, monkeypatch
):
    """Assigned ten days ago for a day four days ago, nobody has set off: stuck, and waiting
    since its window opened, four days and five hours ago at 14:00 (not since its assignment,
    ten days ago). The clock is pinned, on a day far from a change of the clocks: before 09:00
    it had waited only three days and some, and across a change an hour more or less."""
    Clock(monkeypatch, timezone.make_aware(datetime(2026, 12, 9, 14)))
    day = timezone.localdate() - timedelta(days=4)
    job = _assigned_in_the_past(cast, days_ago=10, booked_for=day)
    opened = timezone.make_aware(datetime.combine(day, time(9)))
    assigned = _stuck_assigned(partner_client.get(URL).content.decode())
    row = assigned.split(reverse("partner:detail", args=[job.pk]))[1].split("</li>")[0]
    when = dateformat.format(opened, "j M Y, H:i")
    assert (
        "waiting since <time datetime=" in row and f">{when}</time> (4\xa0days, 5\xa0hours)" in row
    )


def test_the_stuck_count_counts_only_jobs_past_their_day(partner_client, cast, monkeypatch):
    """Three jobs days past their day and two assigned long ago for days still to come: the
    list shows the two that waited longest "of 3", the booked-ahead ones in neither."""
    from installations.dashboard import selectors

    monkeypatch.setattr(selectors, "STUCK_LIMIT", 2)
    today = timezone.localdate()
    late = [
        _assigned_in_the_past(cast, days_ago=10, booked_for=today - timedelta(days=d))
        for d in (4, 5, 6)
    ]
    for d in (1, 2):
        _assigned_in_the_past(cast, days_ago=20, booked_for=today + timedelta(days=d))
    assigned = _stuck_assigned(partner_client.get(URL).content.decode())
    assert "The 2 that have waited longest of 3 stuck." in assigned
    links = re.findall(r'href="/installations/(\d+)/"', assigned)
    assert links == [str(late[2].pk), str(late[1].pk)]  # six and five days past their day


def test_a_partner_changes_their_thresholds_and_only_theirs(partner_client, cast):
    fresh = cast.installation(S.SCHEDULED)
    DashboardJob.objects.filter(pk=fresh.pk).update(since=timezone.now() - timedelta(hours=5))
    response = partner_client.post(THRESHOLDS, {**_form(SCHEDULED=4), "weeks": "4"})
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?weeks=4#stuck"
    assert DashboardThresholds.objects.get(partner=cast.partner).hours["SCHEDULED"] == 4
    assert not DashboardThresholds.objects.filter(partner=cast.other_partner).exists()
    page = partner_client.get(URL).content.decode()
    assert reverse("partner:detail", args=[fresh.pk]) in page.split('id="stuck"')[1]
    assert 'value="4"' in page
    # The other partner still reads the defaults.
    other = partner_client.__class__()
    other.force_login(cast.other_partner_user)
    assert "over 72 hours" in other.get(URL).content.decode()


def _seen(page: str) -> str:
    return re.search(r'name="seen" value="([^"]*)"', page).group(1)


def test_thresholds_someone_saved_meanwhile_are_not_overwritten_unseen(partner_client, cast):
    # Two people in the office: the second form, opened before the first was saved, put every
    # hour of its page back (Scheduled 72 over a colleague's 10) without a word.
    seen = _seen(partner_client.get(URL).content.decode())
    colleague = PartnerUserFactory(partner=cast.partner).user
    services.dashboard_thresholds_update(
        partner=cast.partner, actor=colleague, hours=_form(SCHEDULED=10)
    )
    response = partner_client.post(THRESHOLDS, {**_form(EN_ROUTE=5), "seen": seen})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved other thresholds while you were editing" in page
    assert "Scheduled: 10 hours" in page
    assert re.search(r'name="EN_ROUTE" value="5"', page)  # the hours typed are kept
    assert DashboardThresholds.objects.get(partner=cast.partner).hours["SCHEDULED"] == 10
    # Sent again from that answer, it is a choice made knowingly: saved.
    again = partner_client.post(THRESHOLDS, {**_form(EN_ROUTE=5), "seen": _seen(page)})
    assert again.status_code == 302
    saved = DashboardThresholds.objects.get(partner=cast.partner).hours
    assert (saved["SCHEDULED"], saved["EN_ROUTE"]) == (72, 5)
    # The same hours sent again from the first page (Back, resend) are answered as done.
    same = partner_client.post(THRESHOLDS, {**_form(EN_ROUTE=5), "seen": seen})
    assert same.status_code == 302


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "", "99999999"])
def test_bad_thresholds_are_refused_with_422_and_change_nothing(partner_client, cast, bad):
    DashboardThresholds.objects.create(partner=cast.partner, hours={"SCHEDULED": 10})
    response = partner_client.post(THRESHOLDS, _form(EN_ROUTE=bad))
    assert response.status_code == 422
    assert "nothing was saved" in response.content.decode()
    assert DashboardThresholds.objects.get(partner=cast.partner).hours == {"SCHEDULED": 10}


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "2.5", "", "99999999"])
def test_a_bad_threshold_is_said_in_the_pages_own_words(partner_client, bad):
    # Django's stock "Ensure this value is less than or equal to 8760." or "This field is
    # required." under "En route": the service's sentence says what to write instead.
    page = partner_client.post(THRESHOLDS, _form(EN_ROUTE=bad)).content.decode()
    assert "Give a whole number of hours from 1 to 8760." in page
    for stock in ("Ensure this value", "This field is required", "Enter a whole number"):
        assert stock not in page


def test_the_first_refused_threshold_takes_the_focus_and_no_other_field_does(partner_client):
    # The form is halfway down a long page: its answer opened at the top of the charts.
    page = partner_client.post(THRESHOLDS, _form(EN_ROUTE="0", CONTRACT_SENT="x")).content.decode()
    assert page.count("autofocus") == 1
    assert re.search(r'<input[^>]*name="EN_ROUTE"[^>]*autofocus', page)
    # The page as first drawn takes no focus away from its top.
    assert "autofocus" not in partner_client.get(URL).content.decode()


def test_the_page_is_a_404_for_handymen_and_staff(client, cast):
    for user in (cast.handyman.user, cast.staff):
        client.force_login(user)
        assert client.get(URL).status_code == 404
        assert client.post(THRESHOLDS, _form()).status_code == 404


def test_the_header_links_to_the_dashboard(partner_client):
    page = partner_client.get(URL).content.decode()
    assert f'<a href="{URL}" aria-current="page">Dashboard</a>' in page


def test_the_query_count_is_the_same_for_every_period_and_pinned(partner_client, cast):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cast.installation(S.CUSTOMER_APPROVED)
    cast.installation(S.CANCELLED)
    partner_client.get(URL)
    cache.clear()

    def counts() -> list[int]:
        out = []
        for weeks in (4, 12, 52):
            with CaptureQueriesContext(connection) as ctx:
                partner_client.get(URL, {"weeks": weeks})
            out.append(len(ctx.captured_queries))
        return out

    # Session, user, partner; counters, status days, weekly histograms, reasons, thresholds;
    # the stuck jobs (one bounded range per open status, in one UNION ALL query); the
    # per-handyman histograms and the handymen's names, which are then kept for five minutes.
    assert counts() == [10, 10, 10]
    assert counts() == [8, 8, 8]


def test_reading_the_per_handyman_table_costs_the_same_with_2_and_with_20_handymen(
    partner_client, cast
):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import HandymanFactory

    def grow(k: int) -> None:
        for _ in range(k):
            handyman = HandymanFactory()
            handyman.partners.add(cast.partner)
            cast.installation(S.CUSTOMER_APPROVED, handyman=handyman)

    def read() -> tuple[int, int]:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            page = partner_client.get(URL).content.decode()
        table = page.split('id="handymen-caption"')[1].split("</table>")[0]
        return len(ctx.captured_queries), table.count('<th scope="row">')

    partner_client.get(URL)
    grow(2)
    small = read()
    grow(18)
    large = read()
    assert (small[1], large[1]) == (2 + 1, 20 + 1)  # and the whole period's row
    assert small[0] == large[0] == 10


def test_the_per_handyman_table_is_kept_five_minutes_then_read_again(partner_client, cast):
    from django.core.cache import cache

    cast.installation(S.INSTALLATION_IN_PROGRESS, handyman=cast.handyman)
    assert "Hank" in partner_client.get(URL).content.decode()
    cast.installation(S.INSTALLATION_IN_PROGRESS, handyman=cast.other_handyman)
    page = partner_client.get(URL).content.decode()
    table = page.split('id="handymen-caption"')[1].split("</table>")[0]
    assert "Hana" not in table  # kept
    assert "Refreshed every five minutes" in page
    cache.clear()  # what five minutes do
    table = partner_client.get(URL).content.decode().split('id="handymen-caption"')[1]
    assert "Hana" in table.split("</table>")[0]


def test_stuck_jobs_are_the_oldest_of_each_open_status_up_to_the_limit_in_one_query(cast):
    # The one UNION ALL query gives what one query per status would: each status's jobs past
    # its threshold, oldest first, at most STUCK_LIMIT, with their times as aware datetimes.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from installations.dashboard import selectors
    from installations.statuses import NON_TERMINAL_STATUSES

    now = timezone.now()
    for i in range(selectors.STUCK_LIMIT + 3):
        job = cast.installation(S.SCHEDULED)
        DashboardJob.objects.filter(pk=job.pk).update(since=now - timedelta(hours=100 + i))
    for i in range(2):
        job = cast.installation(S.EN_ROUTE)
        DashboardJob.objects.filter(pk=job.pk).update(since=now - timedelta(hours=30 - i))
    thresholds = selectors.thresholds_for(cast.partner)
    with CaptureQueriesContext(connection) as ctx:
        found = selectors.stuck_jobs(cast.partner, thresholds, now=now)
    assert len(ctx.captured_queries) == 1
    assert [s.status for s in found] == [str(s) for s in NON_TERMINAL_STATUSES]
    for stuck in found:
        expected = list(
            DashboardJob.objects.filter(
                partner=cast.partner,
                status=stuck.status,
                since__lt=now - timedelta(hours=thresholds[stuck.status]),
            )
            .order_by("since")
            .values_list("installation_id", "since")[: selectors.STUCK_LIMIT]
        )
        assert [(j.pk, j.since) for j in stuck.jobs] == expected, stuck.status
    by_status = {s.status: s.jobs for s in found}
    assert len(by_status[S.SCHEDULED]) == selectors.STUCK_LIMIT
    assert by_status[S.SCHEDULED][0].customer


def test_the_stuck_list_shows_the_same_ten_when_more_got_stuck_at_the_same_moment(
    partner_client, cast
):
    """Jobs that reached their status at one moment (an import, a bulk action) tie on "since".
    On PostgreSQL a rewritten row is written anew at the end of its table: the list took "any
    ten" of the tied jobs, so rewriting three of them changed which ten it showed."""
    from installations.dashboard.selectors import STUCK_LIMIT

    moment = timezone.now() - timedelta(days=30)
    jobs = [cast.installation(S.SCHEDULED) for _ in range(STUCK_LIMIT + 2)]
    DashboardJob.objects.filter(pk__in=[job.pk for job in jobs]).update(since=moment)
    for job in jobs[:3]:
        rewritten = DashboardJob.objects.filter(pk=job.pk)
        rewritten.update(since=moment + timedelta(seconds=1))
        rewritten.update(since=moment)
    page = partner_client.get(URL).content.decode()
    scheduled = page.split('id="stuck-SCHEDULED"')[1].split('class="stuck-status"')[0]
    shown = [int(pk) for pk in re.findall(r'href="/installations/(\d+)/"', scheduled)]
    assert shown == [job.pk for job in jobs[:STUCK_LIMIT]]


def test_handymen_of_the_same_name_are_listed_in_the_same_order_every_time(partner_client, cast):
    """The per-handyman table is sorted by name; two handymen who share one kept the order in
    which the database's grouping handed their rows over (a hash on PostgreSQL), so their rows
    could swap from one reading to the next. The older handyman comes first."""
    from django.core.cache import cache
    from django.db import connection

    from tests.factories import HandymanFactory, UserFactory

    namesakes = []
    for jobs in range(1, 5):
        user = UserFactory(first_name="Sam", last_name="Jones")
        handyman = HandymanFactory(user=user, partners=[cast.partner])
        namesakes.append(handyman)
        for _ in range(jobs):
            cast.installation(S.CUSTOMER_APPROVED, handyman=handyman)
    if connection.vendor == "postgresql":
        # A partner's real table (thousands of rows a week) is grouped by hashing, not sorting:
        # as it is here.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
    cache.clear()
    page = partner_client.get(URL).content.decode()
    table = page.split('id="handymen-caption"')[1].split("</table>")[0]
    rows = [row for row in table.split("<tr>") if '<th scope="row">Sam Jones</th>' in row]
    # Handyman k has k jobs: each row counts its arrivals in its last column.
    assert [re.findall(r" of (\d+)</td></tr>", row) for row in rows] == [["1"], ["2"], ["3"], ["4"]]


def test_two_partners_asked_one_after_the_other_each_see_their_own_stuck_jobs(cast):
    # The statement is compiled once per process with stand-ins (selectors._stuck_statement):
    # each asking puts in its own partner and its own thresholds.
    from installations.dashboard import selectors

    mine = cast.installation(S.SCHEDULED)
    theirs = cast.installation(S.SCHEDULED, partner=cast.other_partner)
    for job in (mine, theirs):
        DashboardJob.objects.filter(pk=job.pk).update(since=timezone.now() - timedelta(hours=5))
    four_hours = {**DEFAULT_THRESHOLDS, "SCHEDULED": 4}
    six_hours = {**DEFAULT_THRESHOLDS, "SCHEDULED": 6}

    def scheduled(partner, thresholds):
        (found,) = [s for s in selectors.stuck_jobs(partner, thresholds) if s.status == "SCHEDULED"]
        return [job.pk for job in found.jobs]

    assert scheduled(cast.partner, four_hours) == [mine.pk]
    assert scheduled(cast.other_partner, four_hours) == [theirs.pk]
    assert scheduled(cast.partner, six_hours) == []
    assert sorted(scheduled(None, four_hours)) == sorted([mine.pk, theirs.pk])


def _table(page: str, chart: str) -> dict[str, list[str]]:
    """A chart's table of numbers: week label -> its cells."""
    body = page.split(f'id="{chart}-caption"')[1].split("</table>")[0]
    return {
        label: re.findall(r"<td>([^<]*)</td>", cells)
        for label, cells in re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', body)
    }


def _drawn(page: str, chart: str) -> dict[tuple[str, str], tuple[float, str]]:
    """A bar chart's drawn segments: (week, series) -> (height, the number its title says)."""
    svg = page.split(f'<title id="{chart}-title">')[1].split("</svg>")[0]
    return {
        (week, html.unescape(series)): (float(h), n)
        for h, week, series, n in re.findall(
            r'height="([\d.]+)"[^>]*class="segment"><title>Week of ([^,]+), ([^:]+): (\d+)</title>',
            svg,
        )
    }


def test_the_charts_numbers_are_the_jobs_counted_straight_from_the_history(
    partner_client, cast, monkeypatch
):
    import random

    from installations.dashboard.charts import PLOT_H
    from installations.dashboard.presenters import (
        ARRIVAL_SERIES,
        OUTCOME_SERIES,
        PIPELINE_SERIES,
    )
    from installations.dashboard.rollups import monday
    from installations.models import StatusChange
    from installations.statuses import GROUPS

    from .helpers import Clock, random_changes

    start = timezone.now() - timedelta(weeks=10)
    clock = Clock(monkeypatch, start)
    done = random_changes(cast, random.Random(15), clock, 110)
    assert done["approve"] and done["cancel"] + done["reject"]  # not a page of zeros

    page = partner_client.get(URL).content.decode()

    today = timezone.localdate(clock.now)
    weeks = [monday(today) - timedelta(weeks=k) for k in range(11, -1, -1)]
    group = {s: g.slug for g in GROUPS for s in g.statuses}
    changes = [
        c
        for c in StatusChange.objects.filter(installation__partner=cast.partner).order_by(
            "created_at", "id"
        )
        if c.kind in ("created", "transition") and c.from_status != c.to_status
    ]
    pipeline, outcomes = _table(page, "pipeline"), _table(page, "outcomes")
    for week in weeks:
        label = f"{week.day} {week:%b}"
        end = week + timedelta(days=7)
        # Counted the slow way: each job's status at the week's end, and what ended in it.
        status_at_end = {}
        ended = {"approved": 0, "cancelled": 0, "rejected": 0}
        for c in changes:
            day = timezone.localdate(c.created_at)
            if day < end:
                status_at_end[c.installation_id] = c.to_status
            if week <= day < end:
                kind = {S.CUSTOMER_APPROVED: "approved", S.CANCELLED: "cancelled"}.get(c.to_status)
                if c.to_status == S.REJECTED:
                    kind = "rejected"
                if kind:
                    ended[kind] += 1
        open_at_end = dict.fromkeys(("scheduled", "en_route", "in_progress"), 0)
        for status in status_at_end.values():
            if group[status] in open_at_end:
                open_at_end[group[status]] += 1
        expected = [
            *open_at_end.values(),
            ended["approved"],
            ended["cancelled"] + ended["rejected"],
        ]
        assert pipeline[label] == [str(n) for n in [*expected, sum(expected)]], label
        by_outcome = [ended["approved"], ended["cancelled"], ended["rejected"]]
        assert outcomes[label] == [str(n) for n in [*by_outcome, sum(by_outcome)]], label

    # Arrivals against the window, from each job's own arrival time and booked window.
    tz = timezone.get_current_timezone()
    arrived = {(week, part): 0 for week in weeks for part in ("before", "inside", "after")}
    for job in Installation.objects.filter(partner=cast.partner, arrived_at__isnull=False):
        opens = datetime.combine(job.scheduled_date, job.window_start, tz)
        closes = datetime.combine(job.scheduled_date, job.window_end, tz)
        if job.arrived_at < opens:
            key = (monday(timezone.localdate(opens)), "before")  # counted when the window opens
        elif job.arrived_at > closes:
            key = (monday(timezone.localdate(job.arrived_at)), "after")
        else:
            key = (monday(timezone.localdate(job.arrived_at)), "inside")
        if key in arrived:
            arrived[key] += 1
    arrivals = _table(page, "arrivals")
    assert sum(arrived.values()) > 0
    for week in weeks:
        counts = [arrived[(week, part)] for part in ("before", "inside", "after")]
        assert arrivals[f"{week.day} {week:%b}"] == [str(n) for n in [*counts, sum(counts)]]

    # What is drawn says and measures what the table says: one height per job.
    for chart, series in (
        ("pipeline", PIPELINE_SERIES),
        ("outcomes", OUTCOME_SERIES),
        ("arrivals", ARRIVAL_SERIES),
    ):
        table, drawn = _table(page, chart), _drawn(page, chart)
        svg = page.split(f'id="{chart}-title"')[1].split("</svg>")[0]
        top = int(re.findall(r'class="tick">(\d+)</text>', svg)[-1])  # the axis's top
        assert sum(int(cells[-1]) for cells in table.values()) > 0
        for label, cells in table.items():
            for s, cell in zip(series, cells, strict=False):
                if cell == "0":
                    assert (label, s.label) not in drawn
                    continue
                height, said = drawn[(label, s.label)]
                assert said == cell
                assert height == pytest.approx(PLOT_H * int(cell) / top, abs=0.1)


EMPTY_CHARTS = {
    "pipeline": (
        "No jobs in these weeks: none open at a week’s end, approved, rejected or cancelled."
    ),
    "flow-created_assigned": "No job was assigned in these weeks.",
    "flow-assigned_arrived": "No handyman arrived at a job in these weeks.",
    "flow-on_site": "No job was finished on site in these weeks.",
    "flow-completed_signed": "No contract was signed after a job was finished in these weeks.",
    "flow-signed_approved": "No job was approved in these weeks.",
    "arrivals": "No handyman arrived at a job in these weeks.",
    "outcomes": "No job was approved, cancelled or rejected in these weeks.",
}


def test_a_chart_with_nothing_to_show_says_so_in_words_instead_of_empty_axes(partner_client):
    page = partner_client.get(URL).content.decode()

    assert 'class="chart-svg"' not in page  # no axes with nothing on them
    for chart, words in EMPTY_CHARTS.items():
        assert f'<p class="chart-empty" id="{chart}-empty">{words}</p>' in page
        assert f'id="{chart}-caption"' in page  # its table of numbers stays


def test_only_the_charts_with_nothing_to_show_say_so(partner_client, cast):
    from installations import services

    from ..factories import make_installation

    job = make_installation(partner=cast.partner, actor=cast.partner_user)
    # Created and cancelled: no step measured, nobody arrived.
    services.installation_cancel(installation=job, reason="Moved", actor=cast.staff)

    page = partner_client.get(URL).content.decode()

    drawn = set(re.findall(r'<title id="([\w-]+)-title">', page))
    assert drawn == {"pipeline", "outcomes"}
    empty = set(re.findall(r'<p class="chart-empty" id="([\w-]+)-empty">', page))
    assert empty == set(EMPTY_CHARTS) - drawn
