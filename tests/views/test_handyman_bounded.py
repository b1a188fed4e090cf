"""The handyman's page is bounded: today (with jobs under way and overdue ones) and the next days
in full cards, everything after behind "Later", a paged list loaded in place or by a plain link.
Its queries and its cards are the same with 5 active jobs or 500."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from installations.models import Installation
from installations.statuses import Status
from installations.views import handyman as handyman_views
from installations.views.handyman import LATER_PAGE, NEXT_CARDS, NEXT_DAYS, TODAY_CARDS

HX = {"HX-Request": "true"}
JOBS = "/handyman/"


@pytest.fixture
def hank(client, cast):
    client.force_login(cast.handyman.user)
    return client


def copies(job: Installation, days: list[date]) -> list[Installation]:
    """The same job again on each of `days` (bulk, so that hundreds cost one INSERT)."""
    row = Installation.objects.filter(pk=job.pk).values().get()
    row.pop("id")
    made = [Installation(**{**row, "scheduled_date": day}) for day in days]
    return Installation.objects.bulk_create(made)


def dated(cast, status: str, day: date) -> Installation:
    """A job of his on `day`, which may have passed (booked then, never started)."""
    job = cast.installation(status, scheduled_date=timezone.localdate())
    Installation.objects.filter(pk=job.pk).update(scheduled_date=day)
    return Installation.objects.get(pk=job.pk)


def cards(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="job-card" id="job-(\d+)"', html)]


def later_rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="later-row">.*?job #(\d+)</li>', html)]


def a_busy_week(cast, later: int) -> Installation:
    """Jobs under way, today's, the next days' and `later` more after them."""
    today = timezone.localdate()
    cast.installation("EN_ROUTE", scheduled_date=today)
    cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=today)
    todays = cast.installation("INSTALLER_ASSIGNED", scheduled_date=today)
    copies(todays, [today + timedelta(days=1), today + timedelta(days=2)])
    copies(todays, [today + timedelta(days=NEXT_DAYS + 1 + i % 60) for i in range(later)])
    return todays


def page_queries(client, url: str = JOBS, **headers) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


# --- Bounded ------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_the_page_reads_as_many_queries_with_500_active_jobs_as_with_5(hank, cast, headers):
    a_busy_week(cast, later=0)
    page_queries(hank, **headers)  # warm-up: sessions, content types
    few, _ = page_queries(hank, **headers)
    a_busy_week(cast, later=495)

    many, html = page_queries(hank, **headers)

    assert many == few
    assert "Later (more than 100 jobs)" in html


def test_500_future_jobs_show_at_most_the_cap_of_cards(hank, cast):
    today = timezone.localdate()
    first = cast.installation("INSTALLER_ASSIGNED", scheduled_date=today + timedelta(days=1))
    copies(first, [today + timedelta(days=1 + i % 40) for i in range(499)])

    html = hank.get(JOBS).content.decode()

    assert len(cards(html)) == NEXT_CARDS
    assert "the rest come first under “Later”" in html


def test_a_backlog_of_old_jobs_never_pushes_todays_jobs_off_the_page(hank, cast):
    today = timezone.localdate()
    old = dated(cast, "INSTALLER_ASSIGNED", today - timedelta(days=1))
    copies(old, [today - timedelta(days=2 + i) for i in range(200)])
    todays = cast.installation("INSTALLER_ASSIGNED", scheduled_date=today)
    under_way = dated(cast, "EN_ROUTE", today - timedelta(days=300))

    html = hank.get(JOBS).content.decode()

    shown = cards(html)
    assert len(shown) == TODAY_CARDS
    assert shown[:2] == [under_way.pk, todays.pk]  # what he is doing now, then today's
    assert old.pk in shown  # the most recent overdue one next
    assert 'href="/handyman/?overdue=1#overdue-list"' in html


# --- Overdue ------------------------------------------------------------------------------------


def test_an_overdue_job_is_listed_with_today_and_flagged(hank, cast):
    today = timezone.localdate()
    overdue = dated(cast, "INSTALLER_ASSIGNED", today - timedelta(days=2))
    tomorrows = cast.installation("INSTALLER_ASSIGNED", scheduled_date=today + timedelta(days=1))

    html = hank.get(JOBS).content.decode()

    tomorrow_heading = html.index(f'id="day-{tomorrows.scheduled_date.isoformat()}-heading"')
    card = html.index(f'id="job-{overdue.pk}"')
    assert html.index('id="today-heading"') < card < tomorrow_heading
    assert "<strong>Overdue:</strong> booked for" in html[card:tomorrow_heading]
    # Still his to start: the step button is there.
    assert f'action="{reverse("handyman:set_off", args=[overdue.pk])}"' in html


def test_the_overdue_list_pages_every_overdue_job(hank, cast):
    today = timezone.localdate()
    old = dated(cast, "INSTALLER_ASSIGNED", today - timedelta(days=1))
    made = copies(old, [today - timedelta(days=2 + i) for i in range(TODAY_CARDS + 10)])

    html = hank.get(f"{JOBS}?overdue=2", headers=HX).content.decode()

    expected = [job.pk for job in made][LATER_PAGE - 1 :]  # newest first; page 1 had 20
    assert later_rows(html) == expected


# --- Later --------------------------------------------------------------------------------------


def test_later_is_a_plain_link_that_htmx_loads_in_place(hank, cast):
    a_busy_week(cast, later=30)

    html = hank.get(JOBS).content.decode()

    assert "Later (30 jobs)" in html
    link = re.search(r'<a [^>]*href="/handyman/\?later=1#later-list"[^>]*>', html)
    assert link, html
    assert 'hx-get="/handyman/?later=1"' in link.group(0)
    assert 'hx-target="#later-list"' in link.group(0)
    assert later_rows(html) == []  # the rows themselves are not read until asked for


def test_the_later_link_without_javascript_opens_the_list_in_the_full_page(hank, cast):
    a_busy_week(cast, later=30)

    html = hank.get(f"{JOBS}?later=1").content.decode()

    assert "<h1>My jobs</h1>" in html
    assert len(later_rows(html)) == LATER_PAGE
    assert 'href="/handyman/?later=2#later-list"' in html
    assert html.index('id="later-heading"') < html.index('id="later-list-heading"')


def test_later_for_htmx_is_the_list_partial_alone(hank, cast):
    a_busy_week(cast, later=30)

    html = hank.get(f"{JOBS}?later=2", headers=HX).content.decode()

    assert html.lstrip().startswith('<div id="later-list"')
    assert "<h1>" not in html and "job-card" not in html
    assert len(later_rows(html)) == 10
    assert 'hx-get="/handyman/?later=1"' in html  # back to the first page


def test_later_pages_continue_after_the_cards_with_no_gap_and_no_repeat(hank, cast):
    today = timezone.localdate()
    first = cast.installation("INSTALLER_ASSIGNED", scheduled_date=today + timedelta(days=1))
    copies(first, [today + timedelta(days=1 + i % 9) for i in range(NEXT_CARDS + 44)])
    every = set(Installation.objects.filter(handyman=cast.handyman).values_list("pk", flat=True))

    shown = cards(hank.get(JOBS).content.decode())
    listed = []
    for n in (1, 2, 3, 4):
        listed += later_rows(hank.get(f"{JOBS}?later={n}", headers=HX).content.decode())

    assert len(shown) + len(listed) == len(every)
    assert set(shown) | set(listed) == every


@pytest.mark.parametrize("raw", ["x", "0", "-3", "99999999999999999999"])
def test_a_garbled_later_page_number_is_answered_with_a_page(hank, cast, raw):
    a_busy_week(cast, later=3)

    response = hank.get(f"{JOBS}?later={raw}", headers=HX)

    assert response.status_code == 200
    assert 'id="later-list"' in response.content.decode()


def test_later_says_when_nothing_is_booked_after_the_next_days(hank, cast):
    cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())

    html = hank.get(JOBS).content.decode()

    assert "Later (0 jobs)" in html
    assert "?later=1" not in html
    assert "Nothing booked after" in html


def test_another_handymans_jobs_are_never_in_his_later_list(hank, cast):
    today = timezone.localdate()
    theirs = cast.installation(
        "INSTALLER_ASSIGNED",
        handyman=cast.other_handyman,
        scheduled_date=today + timedelta(days=NEXT_DAYS + 2),
    )

    html = hank.get(f"{JOBS}?later=1", headers=HX).content.decode()

    assert theirs.pk not in later_rows(html)
    assert "Later (0 jobs)" in hank.get(JOBS).content.decode()


def test_the_finished_list_is_bounded(hank, cast):
    done = cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())
    Installation.objects.filter(pk=done.pk).update(
        status=Status.CUSTOMER_APPROVED, completed_at=timezone.now()
    )
    copies(Installation.objects.get(pk=done.pk), [timezone.localdate()] * 40)

    html = hank.get(JOBS).content.decode()

    assert html.count('class="finished-job"') == 20
    assert "The 20 most recent are shown." in html


@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_the_cards_and_the_finished_list_read_only_the_columns_they_draw(hank, cast, headers):
    a_busy_week(cast, later=0)
    done = dated(cast, "INSTALLER_ASSIGNED", timezone.localdate())
    Installation.objects.filter(pk=done.pk).update(
        status=Status.CUSTOMER_APPROVED, completed_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as ctx:
        html = hank.get(JOBS, headers=headers).content.decode()
    assert cards(html) and 'class="finished-job"' in html
    # The queries that read whole jobs (with their customer's name); none names these columns.
    queries = [q["sql"] for q in ctx.captured_queries]
    job_reads = [sql for sql in queries if '"installations_customer"."name"' in sql]
    assert len(job_reads) == 3  # today's cards, the next days', the finished list
    for sql in job_reads:
        undrawn = ("signature", "link_nonce", "creation_token", "rejection_reason", '"email"')
        assert not [column for column in undrawn if column in sql], sql


# --- The planner --------------------------------------------------------------------------------


def test_the_next_days_and_the_later_count_read_an_index_of_his_jobs_never_the_table(cast):
    """The next days' cards and the "Later" count are ranges of an index led by the handyman
    (inst_handyman_status: handyman, status, date): they read his own rows, never the table."""
    from tests.test_indexes import plan

    today = timezone.localdate()
    for day in (0, 1, 5):
        cast.installation("INSTALLER_ASSIGNED", scheduled_date=today + timedelta(days=day))
    # A table where his jobs are few among many, as in production: on a handful of rows
    # PostgreSQL may as well start from the three customers, which proves nothing either way.
    row = Installation.objects.filter(handyman=cast.handyman).values().first()
    row.pop("id")
    row["handyman_id"] = cast.other_handyman.pk
    Installation.objects.bulk_create(
        Installation(**{**row, "scheduled_date": today + timedelta(days=n % 30)})
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    not_started = handyman_views._not_started(cast.handyman)
    next_days = handyman_views._for_cards(not_started).filter(
        scheduled_date__gt=today, scheduled_date__lte=today + timedelta(days=NEXT_DAYS)
    )
    later = not_started.filter(scheduled_date__gt=today).order_by().values("pk")[:101]

    for queryset in (next_days.order_by("scheduled_date", "window_start", "id")[:16], later):
        text = plan(queryset)
        assert "Seq Scan" not in text and "SCAN installations_installation" not in text, text
        # SQLite takes inst_handyman_status; PostgreSQL any index that starts with the handyman
        # (his status, his completed jobs, the foreign key).
        led_by_him = r"inst_handyman_status|Index Cond: \(+handyman_id = "
        assert re.search(led_by_him, text), text


# --- Live updates -------------------------------------------------------------------------------


def test_a_job_booked_for_later_updates_the_later_count_live_without_a_card(cast):
    from tests.live.test_feed import HANDYMAN_FEED, handyman_stamp, login

    client = login(cast.handyman.user)
    stamp = handyman_stamp(cast.handyman.pk)
    later = cast.installation(
        "INSTALLER_ASSIGNED", scheduled_date=timezone.localdate() + timedelta(days=NEXT_DAYS + 4)
    )

    data = client.get(HANDYMAN_FEED, {"since": stamp, "from": JOBS, "rows": ""}).json()

    assert [p["target"] for p in data["parts"]] == ["job-lists"]
    html = data["parts"][0]["html"]
    assert "Later (1 job)" in html
    assert f'id="job-{later.pk}"' not in html
