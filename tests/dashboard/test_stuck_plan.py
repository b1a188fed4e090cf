"""The stuck list on the database this leg runs: every open status read from the
(partner, status, since) index, whatever the rule that set `since` (rollups.waiting_since)."""

from __future__ import annotations

import re

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from installations.dashboard import selectors
from installations.statuses import NON_TERMINAL_STATUSES


def test_each_open_status_is_one_range_of_the_stuck_index(cast):
    for status in NON_TERMINAL_STATUSES:
        cast.installation(status)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    thresholds = selectors.thresholds_for(cast.partner)
    with CaptureQueriesContext(connection) as ctx:
        selectors.stuck_jobs(cast.partner, thresholds)
    (query,) = ctx.captured_queries
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A table of a few rows would otherwise be read whole: say nothing of the indexes.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + query["sql"])
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
        text = "\n".join(str(row[-1]) for row in cursor.fetchall())
    print(text)  # seen with -s
    # Per status: the ten rows and their count, each a range of a stuck index, which gives the
    # order of the ten (nothing read whole and sorted). PostgreSQL takes (status, since) with the
    # partner as a filter on a table this small, (partner, status, since) at a million rows.
    # The id that breaks ties of `since` is sorted only among the ties: SQLite's "right part of
    # ORDER BY", PostgreSQL's "Incremental Sort"; a whole sort is neither.
    assert text.count("dash_job_stuck") >= 2 * len(NON_TERMINAL_STATUSES), text
    lines = text.splitlines()
    assert not [line for line in lines if "TEMP B-TREE FOR ORDER BY" in line], text
    assert not [line for line in lines if re.search(r"(^|->)\s*Sort\s+\(", line)], text
