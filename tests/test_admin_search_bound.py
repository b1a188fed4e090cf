"""The installation changelist searched beyond the bound (installations/admin/searching.py): its
pages are the first matches in the changelist's order, found by walking its first rows or along
the order's index, never by reading and sorting every match; what an action on "all" reaches is
still every match; and the count is not taken when the matches are known to be more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from installations import filters
from installations.admin import counting, searching
from installations.admin.installation import InstallationAdmin
from installations.models import Installation
from installations.views import partner as partner_views

from .factories import CustomerFactory, make_installation
from .views.test_list_search_bound import _many, _nobodies

CHANGELIST = reverse("admin:installations_installation_changelist")
BOUND = 10
PER_PAGE = 4
ORDER = ("scheduled_date", "window_start", "id")  # the changelist's order (the model's)


@pytest.fixture
def small(monkeypatch):
    """A bound of 10, pages of 4 and a walk of 12 rows for a first page: a few dozen rows act
    out what a million do."""
    for module in (filters, partner_views, counting, searching):
        monkeypatch.setattr(module, "SEARCH_BOUND", BOUND)
    monkeypatch.setattr(filters, "WALK_PER_ROW", 2)
    monkeypatch.setattr(filters, "MIN_WALK", 12)
    monkeypatch.setattr(InstallationAdmin, "list_per_page", PER_PAGE)


@pytest.fixture
def root(client, cast):
    client.force_login(cast.superuser)
    return client


def _okonkwos() -> list[int]:
    """Every match of "okonkwo", in the changelist's order."""
    rows = Installation.objects.filter(customer__name__icontains="okonkwo").order_by(*ORDER)
    return list(rows.values_list("pk", flat=True))


def _rows(response) -> list[int]:
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


def _index_searches(ctx) -> list[str]:
    """The queries that asked the search's indexes (the bounded hits, or every match)."""
    return [
        q["sql"]
        for q in ctx.captured_queries
        if "search_customer_fts" in q["sql"] or 'FROM "installations_customer" U' in q["sql"]
    ]


def _theirs(cast, n: int) -> None:
    """Okonkwos of the other partner too: the changelist of every partner shows them."""
    for i in range(n):
        make_installation(
            partner=cast.other_partner,
            actor=cast.other_partner_user,
            customer=CustomerFactory(partner=cast.other_partner, name=f"Obi Okonkwo {i}"),
            scheduled_date=timezone.localdate() + timedelta(days=4 + i),
        )


def test_a_common_term_pages_through_the_first_matches_in_order_from_a_walk(root, cast, small):
    _many(cast, BOUND + 4)
    _theirs(cast, 3)
    everything = _okonkwos()
    root.get(CHANGELIST, {"q": "okonkwo"})  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        first = root.get(CHANGELIST, {"q": "okonkwo"})
    # Only the bounded hits asked the index; the page came from the walk, not from every match.
    assert len(_index_searches(ctx)) == 1, _index_searches(ctx)
    assert first.context["cl"].result_count == BOUND
    assert f"More than {BOUND} installations" in first.content.decode()
    pages = [_rows(first)] + [_rows(root.get(CHANGELIST, {"q": "okonkwo", "p": p})) for p in (2, 3)]
    # The pages offer the first BOUND matches: the last one stops there.
    assert pages == [everything[0:4], everything[4:8], everything[8:BOUND]]


def test_a_rarer_term_beyond_the_bound_is_found_along_the_order(root, cast, small):
    # The changelist's first 20 rows (earlier days) do not match: the 12-row walk finds none.
    _nobodies(cast, 20, timezone.localdate() + timedelta(days=1))
    _many(cast, BOUND + 4)
    query = {"q": "okonkwo", "partner__id__exact": cast.partner.pk}
    root.get(CHANGELIST, query)
    with CaptureQueriesContext(connection) as ctx:
        response = root.get(CHANGELIST, {**query, "p": 2})
    assert len(_index_searches(ctx)) == 2, _index_searches(ctx)  # the hits, then the page's own
    assert _rows(response) == _okonkwos()[4:8]


def test_what_an_action_on_all_reaches_is_every_match_not_the_page(root, cast, small):
    _many(cast, BOUND + 4)
    response = root.get(CHANGELIST, {"q": "okonkwo"})
    changelist = response.context["cl"]
    assert len(_rows(response)) == PER_PAGE
    assert sorted(changelist.queryset.values_list("pk", flat=True)) == sorted(_okonkwos())


def test_beyond_the_bound_with_only_the_partner_nothing_is_counted(root, cast, small):
    _many(cast, BOUND + 4)
    query = {"partner__id__exact": cast.partner.pk, "q": "okonkwo"}
    root.get(CHANGELIST, query)
    with CaptureQueriesContext(connection) as ctx:
        response = root.get(CHANGELIST, query)
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts == []
    assert response.context["cl"].result_count == BOUND
    assert _rows(response) == _okonkwos()[:PER_PAGE]


def test_another_filter_under_a_common_term_counts_its_own_rows_exactly(
    root, cast, small, django_assert_max_num_queries
):
    _many(cast, BOUND + 4)
    ben = cast.installation(
        "INSTALLER_ASSIGNED", customer=CustomerFactory(partner=cast.partner, name="Ben Okonkwo")
    )
    query = {"q": "okonkwo", "status__exact": "INSTALLER_ASSIGNED"}
    root.get(CHANGELIST, query)  # warm the session
    # The hits, the walk, the count and the page besides the changelist's own: at most 8.
    with django_assert_max_num_queries(8):
        response = root.get(CHANGELIST, query)
    assert response.context["cl"].result_count == 1
    assert "More than" not in response.content.decode()
    assert _rows(response) == [ben.pk]


def test_a_page_number_past_the_bound_walks_no_further_than_its_last_page(
    root, cast, small, monkeypatch
):
    _many(cast, BOUND + 4)
    wanted = []
    walk = searching.first_matches_walked
    monkeypatch.setattr(
        searching,
        "first_matches_walked",
        lambda queryset, value, rows: wanted.append(rows) or walk(queryset, value, rows),
    )
    response = root.get(CHANGELIST, {"q": "okonkwo", "p": 10**12})
    # Django's answer to a page that does not exist; the walk was asked for the last page's
    # rows (3 pages of 4), never for 10¹² pages of them.
    assert response.status_code == 302 and "e=1" in response["Location"]
    assert wanted == [12]


def test_a_page_number_is_read_as_django_reads_it(root, cast, small):
    _many(cast, BOUND + 4)
    # Django's changelist takes "+2" (and " 2") for page 2: the walk must reach as far.
    response = root.get(CHANGELIST, {"q": "okonkwo", "p": "+2"})
    assert _rows(response) == _okonkwos()[4:8]


def test_a_partner_filter_in_a_form_it_does_not_read_still_gets_its_own_count(root, cast, small):
    """ "+<id>" is the partner to Django's lookup; the bounded hits, taken across every partner,
    say nothing of that partner's count, which is then taken: no "more than" it does not have."""
    _many(cast, BOUND + 4)
    _theirs(cast, 3)
    theirs = list(
        Installation.objects.filter(partner=cast.other_partner)
        .order_by(*ORDER)
        .values_list("pk", flat=True)
    )
    response = root.get(
        CHANGELIST, {"q": "okonkwo", "partner__id__exact": f"+{cast.other_partner.pk}"}
    )
    assert response.context["cl"].result_count == 3
    assert "More than" not in response.content.decode()
    assert _rows(response) == theirs


def test_every_partners_rows_are_walked_only_for_a_term_common_in_a_sample(
    root, cast, small, monkeypatch
):
    """No index gives every partner's rows in the changelist's order: walking them means
    sorting the table, worth it only when a sample in storage order says the term is common."""
    _nobodies(cast, 20, timezone.localdate() + timedelta(days=1))
    _many(cast, BOUND + 4)
    walks = []
    walk = searching.first_matches_walked
    monkeypatch.setattr(
        searching, "first_matches_walked", lambda *args: walks.append(args) or walk(*args)
    )
    response = root.get(CHANGELIST, {"q": "okonkwo"})
    assert walks == []  # the first 12 rows stored are nobodies: a rarer term
    assert _rows(response) == _okonkwos()[:PER_PAGE]
    response = root.get(CHANGELIST, {"q": "okonkwo", "partner__id__exact": cast.partner.pk})
    assert len(walks) == 1  # the partner's own rows: its index gives the order
    assert _rows(response) == _okonkwos()[:PER_PAGE]
