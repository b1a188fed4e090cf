"""A search counts its matches up to a bound and then says so (issue 20): the cards, the count and
the pages never read more than the bound's worth of matches, and the rows are the same ones, in
the same order, as an unbounded search would show."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from installations import filters
from installations.admin import counting
from installations.models import Installation
from installations.views import partner as partner_views

from ..factories import CustomerFactory, make_installation
from ..test_search import expected

LIST = reverse("partner:list")
BOUND = 30
ROW = re.compile(r'id="row-(\d+)"')


@pytest.fixture
def small_bound(monkeypatch):
    """The bound, made small enough to pass with a few dozen rows."""
    for module in (filters, partner_views, counting):
        monkeypatch.setattr(module, "SEARCH_BOUND", BOUND)
    return BOUND


def _many(cast, n: int, name: str = "Okonkwo", *, start: int = 0) -> None:
    day = timezone.localdate() + timedelta(days=3)
    for i in range(start, start + n):
        customer = CustomerFactory(partner=cast.partner, name=f"Ada {name} {i}")
        make_installation(
            partner=cast.partner,
            actor=cast.partner_user,
            customer=customer,
            scheduled_date=day + timedelta(days=(i * 7) % 11),
            window_start=time(8 + i % 4),
            window_end=time(13),
        )


def _rows(response) -> list[int]:
    return [int(pk) for pk in ROW.findall(response.content.decode())]


def test_a_search_within_the_bound_is_counted_exactly(client, cast, small_bound):
    _many(cast, 12)
    _many(cast, 3, name="Smith", start=100)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": "okonkwo"})
    page = response.content.decode()
    assert "12 installations." in page
    assert "More than" not in page
    assert re.search(r'card-count">12<', page)  # the Scheduled card counts the matches
    assert _rows(response) == expected(cast.partner, "okonkwo")


def test_a_search_beyond_the_bound_says_more_than_and_pages_only_up_to_it(
    client, cast, small_bound
):
    _many(cast, BOUND + 12)
    client.force_login(cast.partner_user)
    first = client.get(LIST, {"q": "okonkwo"})
    page = first.content.decode()
    assert "More than 30 matches — narrow the search." in page
    assert "page 1 of 2" in page
    # The cards show no number they did not count, and say why.
    assert "card-count" not in page
    assert "so the cards do not count them" in page
    second = client.get(LIST, {"q": "okonkwo", "page": 2})
    later = client.get(LIST, {"q": "okonkwo", "page": 3})  # beyond the bound: the last page
    assert "Narrow the search to see the others." in second.content.decode()
    # The same rows in the same order as the whole search, up to the bound.
    everything = expected(cast.partner, "okonkwo")
    assert _rows(first) + _rows(second) == everything[:BOUND]
    assert _rows(later) == _rows(second)


def test_a_group_under_a_search_beyond_the_bound_counts_its_own_rows(
    client, cast, small_bound, django_assert_max_num_queries
):
    _many(cast, BOUND + 5)
    ben = CustomerFactory(partner=cast.partner, name="Ben Okonkwo")
    assigned = cast.installation("INSTALLER_ASSIGNED", customer=ben)
    client.force_login(cast.partner_user)
    client.get(LIST, {"q": "okonkwo", "status": "INSTALLER_ASSIGNED"})  # warm the session
    with django_assert_max_num_queries(8):
        response = client.get(LIST, {"q": "okonkwo", "status": "INSTALLER_ASSIGNED"})
    page = response.content.decode()
    assert "1 installation." in page and "More than 30 matches" not in page
    assert _rows(response) == [assigned.pk]


def test_a_search_never_counts_every_match(client, cast, small_bound):
    _many(cast, BOUND + 5)
    client.force_login(cast.partner_user)
    client.get(LIST, {"q": "okonkwo"})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST, {"q": "okonkwo", "group": "scheduled"})
    assert response.status_code == 200
    searching = [q["sql"] for q in ctx.captured_queries if "installations_customer" in q["sql"]]
    assert searching, "the search ran no query?"
    for sql in searching:
        assert "LIMIT" in sql.upper(), sql
        assert "GROUP BY" not in sql.upper(), sql  # the old per-status COUNT of every match


def test_the_bound_is_a_thousand_and_said_with_a_separator(client, cast):
    assert filters.SEARCH_BOUND == 1000
    _many(cast, 1)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": "okonkwo"})
    assert response.context["search_bound"] == "1,000"
    assert "1 installation." in response.content.decode()


# --- A common term beyond the bound: found by walking the list's first rows (issue 20) -----------


@pytest.fixture
def short_walk(small_bound, monkeypatch):
    """The walk, made short enough to measure with a few dozen rows: 50 rows for a first page."""
    monkeypatch.setattr(filters, "WALK_PER_ROW", 2)
    monkeypatch.setattr(filters, "MIN_WALK", 50)


def _searches(ctx) -> list[str]:
    """The queries that asked the search's indexes (the bounded hits, or every match)."""
    return [
        q["sql"]
        for q in ctx.captured_queries
        if "search_customer_fts" in q["sql"] or 'FROM "installations_customer" U' in q["sql"]
    ]


def _nobodies(cast, n: int, day) -> None:
    nobody = CustomerFactory(partner=cast.partner, name="Nobody Here", address="1 Elm Street")
    for _ in range(n):
        make_installation(
            partner=cast.partner,
            actor=cast.partner_user,
            customer=nobody,
            site_address="1 Elm Street",
            scheduled_date=day,
        )


def test_a_common_term_beyond_the_bound_fills_the_page_from_the_rows_it_walks(
    client, cast, short_walk, django_assert_max_num_queries
):
    _many(cast, BOUND + 15)
    client.force_login(cast.partner_user)
    client.get(LIST, {"q": "okonkwo"})  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(LIST, {"q": "okonkwo"})
    assert len(ctx.captured_queries) <= 8
    # Only the bounded hits asked the index; the page came from the walk, not from every match.
    assert len(_searches(ctx)) == 1, _searches(ctx)
    assert "More than 30 matches" in first.content.decode()
    second = client.get(LIST, {"q": "okonkwo", "page": 2})
    everything = expected(cast.partner, "okonkwo")
    assert _rows(first) == everything[:25]
    assert _rows(second) == everything[25:BOUND]


def test_a_rarer_term_beyond_the_bound_is_found_through_its_indexes(client, cast, short_walk):
    # The list's first 60 rows (earlier days) do not match: the 50-row walk finds nothing.
    _nobodies(cast, 60, timezone.localdate() + timedelta(days=1))
    _many(cast, BOUND + 5)
    client.force_login(cast.partner_user)
    client.get(LIST, {"q": "okonkwo"})
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST, {"q": "okonkwo"})
    assert len(_searches(ctx)) == 2, _searches(ctx)  # the hits, then the page's own
    assert _rows(response) == expected(cast.partner, "okonkwo")[:25]


def test_a_group_under_a_common_term_counts_along_the_walk(client, cast, short_walk):
    _many(cast, BOUND + 15)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": "okonkwo", "group": "scheduled"})
    page = response.content.decode()
    assert "More than 30 matches" in page
    assert _rows(response) == expected(cast.partner, "okonkwo")[:25]
    response = client.get(LIST, {"q": "okonkwo", "status": "INSTALLER_ASSIGNED"})
    assert "0 installations." in response.content.decode() or not _rows(response)


def test_the_walk_never_answers_otherwise_than_the_indexes_even_for_letters_beyond_ascii(
    client, cast, short_walk
):
    """SQLite's LIKE folds ASCII letters only, its FTS index every letter: a term like "ödön"
    must not be tested row by row there, or "ÖDÖN" would drop out of the page."""
    day = timezone.localdate() + timedelta(days=3)
    for i in range(2 * BOUND):  # the walk's 50 rows hold 25 written "ödön"
        name = "Ada ÖDÖN" if i % 2 else "Ada ödön"
        make_installation(
            partner=cast.partner,
            actor=cast.partner_user,
            customer=CustomerFactory(partner=cast.partner, name=f"{name} {i}"),
            scheduled_date=day,
        )
    by_index = filters.search_filter(
        Installation.objects.filter(partner=cast.partner), "ödön", cast.partner
    ).order_by(*filters.SORTS["date"])
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": "ödön"})
    assert len(by_index) > BOUND
    assert _rows(response) == [row.pk for row in by_index[:25]]


def test_the_rows_a_page_wants_follow_the_page_and_stop_at_the_bound():
    from django.http import QueryDict

    assert partner_views._rows_wanted(QueryDict("")) == 25
    assert partner_views._rows_wanted(QueryDict("page=3")) == 75
    assert partner_views._rows_wanted(QueryDict("page=3&per_page=50")) == 150
    assert partner_views._rows_wanted(QueryDict("page=999999")) == 1000  # the last page's end
    assert partner_views._rows_wanted(QueryDict("page=x")) == 25
    assert partner_views._rows_wanted(QueryDict("page=0")) == 25


def test_a_search_within_the_bound_pages_through_every_match_in_order(client, cast):
    """The page picks its rows from the matches' ids and sort columns alone, up to the end of
    the page asked for (filters.search_within_bound): the second page is matches 26 to 30."""
    _many(cast, 30)
    client.force_login(cast.partner_user)
    everything = expected(cast.partner, "okonkwo")
    first = client.get(LIST, {"q": "okonkwo"})
    second = client.get(LIST, {"q": "okonkwo", "page": 2})
    assert _rows(first) == everything[:25]
    assert _rows(second) == everything[25:30]
    by_date = client.get(LIST, {"q": "okonkwo", "sort": "-date"})
    assert _rows(by_date) == list(reversed(everything))[:25]
