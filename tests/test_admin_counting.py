"""The installation changelist takes the partner list's query shapes (issue 20): its search is the
list's search, its count comes from the per-partner counters where the filters allow and is
bounded elsewhere, and no page aggregates over every row (installations/admin/counting.py)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from installations import filters, selectors
from installations.admin import counting
from installations.statuses import Status
from installations.views import partner as partner_views

from .factories import CustomerFactory
from .test_search import people  # noqa: F401  (the fixture)

CHANGELIST = reverse("admin:installations_installation_changelist")


def _admin_ids(client, query: str) -> set[int]:
    response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return {i.pk for i in response.context["cl"].result_list}


def _list_ids(partner, text: str) -> set[int]:
    filterset = filters.InstallationFilter(
        QueryDict(mutable=True) | {"q": text},
        queryset=selectors.installations_for_partner(partner),
        partner=partner,
    )
    assert filterset.is_valid()
    return set(filterset.qs.values_list("pk", flat=True))


@pytest.mark.parametrize("text", ["alice", "ÉLODIE", "7700 900", "malmö", "al", "high street"])
def test_admin_search_finds_what_the_list_finds(root_client, people, text):  # noqa: F811
    partner = people.partner
    found = _admin_ids(root_client, f"?partner__id__exact={partner.pk}&q={text}")
    assert found == _list_ids(partner, text)
    assert found  # every term finds someone: otherwise equal sets would prove nothing


def test_admin_search_without_a_partner_finds_every_partners_rows(root_client, people):  # noqa: F811
    found = _admin_ids(root_client, "?q=alice moreau")
    theirs = _list_ids(people.other_partner, "alice moreau")
    assert theirs and theirs <= found and _list_ids(people.partner, "alice moreau") <= found


def test_admin_search_by_number_is_an_exact_lookup(root_client, cast):
    wanted = cast.installation()
    cast.installation(customer=CustomerFactory(partner=cast.partner, phone=f"0{wanted.pk}0"))
    assert _admin_ids(root_client, f"?q=%23{wanted.pk}") == {wanted.pk}


def _changelist_sql(client, query: str) -> list[str]:
    client.get(CHANGELIST + query)  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


UNBOUNDED_COUNT = re.compile(r"COUNT\(", re.IGNORECASE)


@pytest.mark.parametrize(
    "query", ["", "?group=scheduled", "?q=alice", "?status__exact=SCHEDULED&q=alice&handyman=none"]
)
def test_the_changelist_never_aggregates_every_row(root_client, people, query):  # noqa: F811
    for sql in _changelist_sql(root_client, query):
        upper = sql.upper()
        # The date hierarchy's MIN/MAX over the filtered rows is gone.
        assert not re.search(r"\b(MIN|MAX)\(.*SCHEDULED_DATE", upper), sql
        if UNBOUNDED_COUNT.search(sql) and "installations_installation" in sql:
            assert "LIMIT" in upper, sql  # a count that stops at the bound


def test_the_count_comes_from_the_counters_for_a_partner_and_a_group(root_client, cast):
    cast.installation(Status.SCHEDULED)
    cast.installation(Status.EN_ROUTE)
    query = f"?partner__id__exact={cast.partner.pk}&group=scheduled"
    sql = _changelist_sql(root_client, query)
    assert any("installations_partnerstatuscount" in q for q in sql)
    response = root_client.get(CHANGELIST + query)
    assert response.context["cl"].result_count == 1


def test_the_counters_count_exactly_beyond_the_bound(root_client, cast, monkeypatch):
    monkeypatch.setattr(counting, "SEARCH_BOUND", 1)
    cast.installation()
    cast.installation()
    response = root_client.get(CHANGELIST)
    assert response.context["cl"].result_count == 2
    assert "More than" not in response.content.decode()


def test_a_search_beyond_the_bound_says_more_than(root_client, cast, monkeypatch):
    for module in (filters, partner_views, counting):
        monkeypatch.setattr(module, "SEARCH_BOUND", 2)
    for n in range(3):
        cast.installation(customer=CustomerFactory(partner=cast.partner, name=f"Okonkwo {n}"))
    response = root_client.get(CHANGELIST + "?q=okonkwo")
    page = response.content.decode()
    assert response.context["cl"].result_count == 2
    assert "More than 2 installations — narrow the search or the filters." in page
    assert "More than 2 results" in page
