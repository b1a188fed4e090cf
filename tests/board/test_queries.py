"""The board's queries: a constant number, whatever the week holds (issue 12: at most 8; the full
page reads the live feed's stamp, issue 13, in the same query as the overdue count)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from installations.statuses import Status

from ..factories import HandymanFactory

BOARD = reverse("board:week")
MOST = 8  # the full page reads the live feed's stamp with the overdue count, in one query


def fill(cast, k: int) -> None:
    """k handymen of the partner, each with jobs across the week, and k unassigned jobs."""
    today = timezone.localdate()
    for i in range(k):
        handyman = HandymanFactory()
        handyman.partners.add(cast.partner)
        day = today + timedelta(days=1 + i % 5)
        cast.installation(Status.INSTALLER_ASSIGNED, handyman=handyman, scheduled_date=day)
        cast.installation(Status.EN_ROUTE, handyman=handyman, scheduled_date=day)
        cast.installation(Status.SCHEDULED, scheduled_date=day)


def queries(client, **params) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(BOARD, params)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_a_week_costs_the_same_few_queries_with_2_or_20_handymen_and_their_jobs(client, cast):
    client.force_login(cast.partner_user)
    week = (timezone.localdate() + timedelta(days=1)).strftime("%G-W%V")
    fill(cast, 2)
    client.get(BOARD)  # warm the session
    small = queries(client, week=week)
    fill(cast, 18)
    large = queries(client, week=week)
    assert len(small) == len(large), "\n".join(large)
    assert len(large) <= MOST, "\n".join(large)


def test_filters_and_the_day_view_cost_no_more(client, cast):
    client.force_login(cast.partner_user)
    fill(cast, 3)
    client.get(BOARD)
    day = (timezone.localdate() + timedelta(days=1)).isoformat()
    for params in ({"q": "a"}, {"group": "scheduled", "hide_finished": "on"}, {"day": day}):
        assert len(queries(client, **params)) <= MOST, params


def test_the_rows_fetched_as_they_scroll_into_view_cost_the_same_few_queries(client, cast):
    client.force_login(cast.partner_user)
    week = (timezone.localdate() + timedelta(days=1)).strftime("%G-W%V")
    fill(cast, 8)
    client.get(BOARD)

    def rows_queries() -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(BOARD, {"week": week, "after": 6}, headers={"HX-Request": "true"})
        assert response.status_code == 200 and b"handyman-row" in response.content
        return [q["sql"] for q in ctx.captured_queries]

    small = rows_queries()
    fill(cast, 15)
    large = rows_queries()
    # Session, user, the handymen page, their jobs, their days off: no lane, no count.
    assert len(small) == len(large) == 5, "\n".join(large)
