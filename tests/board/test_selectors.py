"""The board's reads use the list's indexes (asked of the planner, as tests/test_indexes.py does),
and each is one query whatever the rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from installations import selectors as core
from installations.board import selectors
from installations.models import Installation
from installations.statuses import Status

from ..factories import HandymanFactory, filler_rows


@pytest.fixture
def mixed(cast):
    for status in Status.values:
        cast.installation(status)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return cast


def plan_of(read) -> str:
    """Run `read` (one query) and ask the planner about the SQL it sent."""
    with CaptureQueriesContext(connection) as ctx:
        read()
    assert len(ctx.captured_queries) == 1, ctx.captured_queries
    sql = ctx.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Tiny tables: price out what a few rows would make cheapest, as test_indexes does.
            for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
                cursor.execute(f"SET LOCAL {setting} = off")
            cursor.execute(f"EXPLAIN {sql}")
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(str(row[-1]) for row in cursor.fetchall())


# Either index reads only the partner's SCHEDULED rows in date order: SQLite picks the first,
# PostgreSQL may pick the scheduled group's partial index.
SCHEDULED_INDEXES = ("inst_partner_status", "inst_group_scheduled")


def assert_handyman_index(text: str) -> None:
    """SQLite takes the (partner, handyman, date) index; PostgreSQL, on a handful of rows, may
    start from the handyman foreign key instead: an index by handyman either way, never a scan
    of the table."""
    if connection.vendor == "sqlite":
        assert "inst_partner_handyman" in text, text
    else:
        assert "Seq Scan on installations_installation" not in text, text
        assert "inst_partner_handyman" in text or "handyman_id" in text.split("Index Cond")[1], text


def week():
    start = timezone.localdate()
    return start, start + timedelta(days=6)


def test_the_handymens_jobs_read_the_partner_handyman_index_in_its_order(mixed):
    start, end = week()
    jobs = core.installations_for_partner(mixed.partner)
    ids = [mixed.handyman.pk, mixed.other_handyman.pk]
    text = plan_of(lambda: selectors.handymen_jobs(jobs, handyman_ids=ids, start=start, end=end))
    assert_handyman_index(text)
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in text, text


def test_the_lane_reads_the_partner_status_index(mixed):
    start, end = week()
    jobs = core.installations_for_partner(mixed.partner)
    text = plan_of(lambda: selectors.unassigned_lane(jobs, start=start, end=end, per_day=8))
    assert any(index in text for index in SCHEDULED_INDEXES), text


def test_the_overdue_count_reads_the_partner_status_index(mixed):
    # A partner's past is mostly finished jobs: walking its dates would read them all. (With one
    # row of each status PostgreSQL finds both indexes equally cheap and may take either.)
    filler_rows(
        mixed.partner,
        500,
        scheduled_date=timezone.localdate() - timedelta(days=30),
        status=Status.CUSTOMER_APPROVED,
    )
    today = timezone.localdate()
    for read in (
        lambda: selectors.overdue_unassigned(mixed.partner, today=today),
        # The full page reads it with the live feed's stamp, in one query of its own.
        lambda: selectors.stamp_and_overdue(mixed.partner.pk, today=today),
    ):
        text = plan_of(read)
        assert any(index in text for index in SCHEDULED_INDEXES), text


def test_booked_hours_read_the_partner_handyman_index(mixed):
    start, end = week()
    ids = [mixed.handyman.pk]
    text = plan_of(lambda: selectors.booked(mixed.partner, handyman_ids=ids, start=start, end=end))
    assert_handyman_index(text)


def test_the_lane_keeps_the_first_jobs_of_each_day_and_counts_them_all(cast):
    day = timezone.localdate() + timedelta(days=1)
    jobs = [cast.installation(Status.SCHEDULED) for _ in range(4)]
    cast.installation(Status.INSTALLER_ASSIGNED)  # not in the lane
    lane = selectors.unassigned_lane(
        core.installations_for_partner(cast.partner), start=day, end=day, per_day=3
    )
    assert [j.pk for j in lane.jobs] == [j.pk for j in jobs[:3]]
    assert lane.totals == {day: 4}


def test_the_stamp_query_counts_exactly_the_overdue_jobs_the_list_would(cast):
    """stamp_and_overdue writes overdue_unassigned's condition in SQL again (for speed): they
    must agree on every kind of row that could be confused with an overdue one."""
    today = timezone.localdate()
    past = today - timedelta(days=3)
    earlier = [
        cast.installation(Status.SCHEDULED),
        cast.installation(Status.SCHEDULED),
        cast.installation(Status.INSTALLER_ASSIGNED),  # has a handyman: not overdue
        cast.installation(Status.SCHEDULED, partner=cast.other_partner),  # not ours
    ]
    Installation.objects.filter(pk__in=[j.pk for j in earlier]).update(scheduled_date=past)
    cast.installation(Status.SCHEDULED, scheduled_date=today)  # today is not overdue

    _, counted = selectors.stamp_and_overdue(cast.partner.pk, today=today)
    assert counted == selectors.overdue_unassigned(cast.partner, today=today) == 2


def test_booked_counts_jobs_and_window_hours_but_not_cancelled_or_rejected(cast):
    day = timezone.localdate() + timedelta(days=1)
    cast.installation(Status.INSTALLER_ASSIGNED)
    cast.installation(Status.EN_ROUTE)
    rejected = cast.installation(Status.INSTALLER_ASSIGNED)
    type(rejected).objects.filter(pk=rejected.pk).update(status=Status.CANCELLED)
    found = selectors.booked(cast.partner, handyman_ids=[cast.handyman.pk], start=day, end=day)
    assert found[cast.handyman.pk] == selectors.Booked(2, 240)
    assert found[cast.handyman.pk].hours == "4 h"
    assert selectors.Booked(1, 90).hours == "1 h 30"


def test_the_handymen_page_tells_whether_there_is_a_next_one_without_counting(cast):
    for _ in range(selectors.HANDYMEN_PER_PAGE):
        HandymanFactory().partners.add(cast.partner)
    with CaptureQueriesContext(connection) as ctx:
        first = selectors.board_handymen(cast.partner, page=1)
    assert len(ctx.captured_queries) == 1
    assert len(first.handymen) == 25 and first.has_next and not first.has_previous
    second = selectors.board_handymen(cast.partner, page=2)
    assert len(second.handymen) == 2 and not second.has_next and second.first == 26
