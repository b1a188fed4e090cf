"""The list's queries match the indexes written for them, on the database this leg runs.

An index the planner cannot use is worse than none: it costs every write and helps no read. A
partial index is only usable when the query's WHERE contains its condition (SQLite compares the
written form, literals included), and a trigram index only when the query's expression is the
index's expression. These tests ask each database's planner, so a change to a filter's shape
that silently stops matching fails here, not in production at a million rows.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.http import QueryDict

from installations import filters, selectors
from installations.filters import InstallationFilter
from installations.lookups import LiteralStatusIn, in_group
from installations.models import Customer, Installation
from installations.statuses import GROUPS, GROUPS_BY_SLUG, Status

from .factories import CustomerFactory, filler_rows


def list_query(partner, query: str):
    filterset = InstallationFilter(
        QueryDict(query), queryset=selectors.installations_for_partner(partner), partner=partner
    )
    assert filterset.is_valid(), filterset.errors
    return filterset.qs[:25]


def plan(queryset) -> str:
    """The planner's choice. On PostgreSQL, with sequential scans and sorts priced out: a table
    of a few rows would otherwise be read whole, which says nothing about the indexes."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            return queryset.explain()
    return queryset.explain()


@pytest.fixture
def mixed(cast):
    for status in Status.values:
        cast.installation(status)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return cast


@pytest.mark.parametrize("group", [group.slug for group in GROUPS])
def test_each_group_page_reads_an_index_in_list_order(mixed, group):
    text = plan(list_query(mixed.partner, f"group={group}"))
    several = len(GROUPS_BY_SLUG[group].statuses) > 1
    assert (f"inst_group_{group}" if several else "inst_partner_status") in text, text
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in text, text  # no sort: the index gives the order


def test_a_group_page_read_backwards_uses_the_same_index(mixed):
    text = plan(list_query(mixed.partner, "group=in_progress&sort=-date"))
    assert "inst_group_in_progress" in text, text


def test_the_unfiltered_page_reads_the_partner_date_index_without_sorting(mixed):
    text = plan(list_query(mixed.partner, ""))
    assert "inst_partner_date" in text, text
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in text, text


def test_search_finds_by_a_part_of_the_customer_name(mixed):
    target = mixed.installation("SCHEDULED")
    found = list(list_query(mixed.partner, f"q={target.customer.name[1:-1]}"))
    assert target in found


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("model", "field", "index"),
    [
        (Customer, "name", "search_customer_name"),
        (Customer, "phone", "search_customer_phone"),
        (Customer, "email", "search_customer_email"),
        (Customer, "address", "search_customer_address"),
        (Installation, "site_address", "search_inst_site_address"),
    ],
)
def test_icontains_on_each_searched_column_can_use_its_trigram_index(mixed, model, field, index):
    # SQLite has no index for a match inside a value (docs/benchmarks.md): PostgreSQL leg only.
    assert connection.vendor == "postgresql"
    queryset = model.objects.filter(**{f"{field}__icontains": "Okonkwo"})
    with transaction.atomic(), connection.cursor() as cursor:
        # Only an index that evaluates the LIKE itself is left to choose.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        text = queryset.explain()
    assert f"Bitmap Index Scan on {index}" in text, text


def test_group_filter_writes_the_statuses_as_the_index_condition_does():
    sql = str(Installation.objects.filter(in_group(GROUPS_BY_SLUG["scheduled"])).query)
    assert "\"status\" IN ('SCHEDULED', 'INSTALLER_ASSIGNED')" in sql


def test_literal_status_filter_refuses_anything_but_a_status():
    queryset = Installation.objects.filter(LiteralStatusIn(F("status"), ["x' OR 1=1 --"]))
    with pytest.raises(ValueError, match="Not statuses"):
        str(queryset.query)


def test_a_search_of_three_characters_or_more_reads_the_fts_tables_on_sqlite(mixed):
    """On SQLite each half of the search is an FTS5 trigram lookup (installations/search.py),
    never a scan of the partner's rows; PostgreSQL's trigram indexes are checked above."""
    plan_text = plan(list_query(mixed.partner, "q=moreau"))
    if connection.vendor == "sqlite":
        assert "search_customer_fts VIRTUAL TABLE INDEX" in plan_text, plan_text
        assert "search_site_fts VIRTUAL TABLE INDEX" in plan_text, plan_text
    else:
        assert "fts" not in plan_text


# --- The bounded search (issue 20) ---------------------------------------------------------------


@pytest.fixture
def many_moreaus(mixed, monkeypatch):
    """More matches than the bound (made small): the search is "more than" and the page walks."""
    monkeypatch.setattr(filters, "SEARCH_BOUND", 2)
    for n in range(4):
        customer = CustomerFactory(partner=mixed.partner, name=f"Zed Moreau {n}")
        mixed.installation(customer=customer)
    # Enough other rows that reading the matches and sorting them looks cheaper to SQLite than
    # walking the partner's rows, as it does at a million (the planner must still walk).
    filler_rows(
        mixed.partner, 2000, customer=CustomerFactory(partner=mixed.partner, name="Nobody Here")
    )
    return mixed


def _searching(partner, query: str) -> InstallationFilter:
    filterset = InstallationFilter(
        QueryDict(query), queryset=selectors.installations_for_partner(partner), partner=partner
    )
    assert filterset.is_valid(), filterset.errors
    return filterset


def test_a_search_beyond_the_bound_walks_the_list_index_without_sorting(many_moreaus):
    filterset = _searching(many_moreaus.partner, "q=moreau")
    assert filterset.search_hits().over_bound
    text = plan(filterset.qs[:25])
    assert "inst_partner_date" in text, text
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE FOR ORDER BY" not in text, text  # matches never all read and sorted
    else:
        assert "Sort" not in text, text


def test_a_search_within_the_bound_reads_just_its_matches(mixed):
    target = mixed.installation(customer=CustomerFactory(partner=mixed.partner, name="Zed Moreau"))
    filterset = _searching(mixed.partner, "q=zed moreau")
    assert filterset.search_hits().ids == [target.pk]
    sql = str(filterset.qs.query)
    assert 'installations_customer" U' not in sql and "fts" not in sql  # no second search
    assert [i.pk for i in filterset.qs] == [target.pk]


def test_a_search_within_the_bound_sends_its_matches_as_one_parameter(mixed):
    """Up to SEARCH_BOUND ids chosen from: one JSON array (SQLite) or array (PostgreSQL), not
    a parameter each, which Django converts and binds one by one (issue 20)."""
    found = [
        mixed.installation(customer=CustomerFactory(partner=mixed.partner, name=f"Zed Moreau {n}"))
        for n in range(40)
    ]
    filterset = _searching(mixed.partner, "q=zed moreau")
    assert len(filterset.search_hits().ids) == 40  # as the list view asks, before the rows
    _, params = filterset.qs.query.sql_with_params()
    assert len(params) < 10, params
    expected = sorted(found, key=lambda i: (i.scheduled_date, i.window_start, i.pk))
    assert [i.pk for i in filterset.qs] == [i.pk for i in expected][:25]


def test_the_count_of_a_search_stops_at_the_bound_in_each_half(many_moreaus):
    text = plan(_searching(many_moreaus.partner, "q=moreau").hits_queryset())
    if connection.vendor == "sqlite":
        # Each FTS table is joined to the partner's rows in a co-routine that stops at its
        # LIMIT, never listed whole first (`LIST SUBQUERY` over `SCAN search_..._fts`).
        assert text.count("CO-ROUTINE") >= 2, text
        assert "SCAN f VIRTUAL TABLE" in text, text
        assert "SCAN search_customer_fts" not in text, text
    else:
        # Both halves under a Limit of their own, besides the outer one.
        assert text.count("Limit") >= 3, text


def test_a_search_too_short_for_an_index_still_stops_at_the_bound_in_each_half(many_moreaus):
    """One or two characters: no trigram can find them, so each half tests rows until it has
    its bound. Gathering every match first took 1.6 s for "a" at a million rows on SQLite."""
    filterset = _searching(many_moreaus.partner, "q=e&everywhere=e")  # asked for every job
    sql = str(filterset.hits_queryset().query)
    assert sql.count("LIMIT") >= 3, sql  # each half's own, besides the outer one
    hits = filterset.search_hits()
    assert hits.over_bound
    assert {i.pk for i in filterset.qs[:25]} <= set(
        Installation.objects.filter(partner=many_moreaus.partner)
        .filter(filters.row_matches("e"))
        .values_list("pk", flat=True)
    )


def test_the_customer_half_of_a_search_takes_its_jobs_from_the_customer_index_alone(many_moreaus):
    """SQLite: the matching customers are read by id and kept when they are the partner's, and
    their jobs come from the customer index without reading each job's row (checking every
    job's partner read thousands of other partners' rows for a common surname, issue 20)."""
    text = plan(_searching(many_moreaus.partner, "q=moreau").hits_queryset())
    if connection.vendor != "sqlite":
        assert "fts" not in text  # PostgreSQL's trigram indexes: the next test
        return
    assert "SEARCH c USING INTEGER PRIMARY KEY" in text, text
    assert "USING COVERING INDEX installations_installation_customer_id" in text, text


def test_the_customer_half_of_a_search_is_found_by_the_trigram_indexes_not_the_partners_customers(
    many_moreaus,
):
    """PostgreSQL walked a big partner's customers by the partner index, testing each one
    (150 ms at ten million rows), or ANDed the trigram bitmap with that index's million entries:
    the partner is checked on the rows the trigram indexes find (`search.Unindexed`)."""
    filterset = _searching(many_moreaus.partner, "q=moreau")
    text = plan(filterset.hits_queryset())
    assert "installations_customer_partner_id" not in text, text
    if connection.vendor == "postgresql":
        # A table of a few rows never tempts the planner to that index: the condition itself
        # must be one no index on the partner can answer.
        assert '(U0."partner_id" + 0) = ' in str(filterset.hits_queryset().query)


@pytest.mark.postgres
def test_the_handyman_index_carries_the_status_for_the_counts_under_a_handyman_filter(db):
    """The cards' per-status counts under `?handyman=` (`status_counting`, one grouped COUNT)
    need partner, handyman and status: on PostgreSQL `inst_partner_handyman` carries the
    status, and at a million rows the planner reads them from the index alone
    (`Index Only Scan`, 35 → 5 ms for the busiest handyman at ten million) instead of every job
    of his past from the table. A test table of a few thousand rows never shows that plan
    (its pages are not all-visible), so this checks what the database built. SQLite has no
    INCLUDE."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", ["inst_partner_handyman"]
        )
        (definition,) = cursor.fetchone()
    assert definition.endswith(
        "(partner_id, handyman_id, scheduled_date, window_start, id) INCLUDE (status)"
    ), definition


def test_the_assign_dialogs_day_count_probes_the_handyman_index_not_his_whole_past(mixed):
    """Each handyman's jobs on the day (the Assign dialog's "2 jobs that day", and the check of
    a drop's choice): a probe of (handyman, status, date), not a join of every job he ever had,
    which took 0.2 s at a million rows on PostgreSQL."""
    from datetime import timedelta

    from django.utils import timezone

    from installations.forms import PartnerAssignForm

    filler_rows(
        mixed.partner,
        300,
        handyman=mixed.handyman,
        scheduled_date=timezone.localdate() - timedelta(days=90),
        status=Status.CUSTOMER_APPROVED,
    )
    form = PartnerAssignForm(partner=mixed.partner, day=timezone.localdate())
    text = plan(form.fields["handyman"].queryset.filter(pk=mixed.handyman.pk))
    lines = text.splitlines()
    at = next((i for i, line in enumerate(lines) if "inst_handyman_status" in line), None)
    assert at is not None, text
    # The day is part of the index condition (SQLite: "scheduled_date=?"; PostgreSQL: the
    # Index Cond line under the scan), so only that day's entries are read.
    assert "scheduled_date" in " ".join(lines[at : at + 2]), text


def test_the_admins_changelist_of_every_partner_reads_its_date_index_in_its_order(mixed, rf):
    """The admin's installations of every partner, in its default order (the model's): a page
    of 100 is read from `inst_admin_date` in that order instead of sorting every row, which
    took 3 s at a million rows on PostgreSQL (migration 0018). The index is partial on a
    condition only that changelist writes, so no other query's plan can take it."""
    from datetime import timedelta

    from django.contrib import admin
    from django.utils import timezone

    filler_rows(mixed.partner, 300, scheduled_date=timezone.localdate() + timedelta(days=9))
    request = rf.get("/admin/installations/installation/")
    request.user = mixed.superuser
    changelist = admin.site._registry[Installation].get_changelist_instance(request)
    text = plan(changelist.queryset[:100])
    assert "inst_admin_date" in text, text
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in text, text  # no sort: the index gives the order


def test_only_the_unfiltered_admin_changelist_writes_the_date_index_condition(cast, rf):
    """Statuses follow the dates: a walk of every partner's rows in date order looking for the
    jobs under way read most of the table (0.2 → 1.3 s at a million rows on PostgreSQL), so a
    filter or a search keeps the plans it had, and only the plain changelist (sorted or paged)
    is offered inst_admin_date."""
    from django.contrib import admin
    from django.core.exceptions import EmptyResultSet

    model_admin = admin.site._registry[Installation]

    def sql(query: str) -> str:
        request = rf.get(f"/admin/installations/installation/?{query}")
        request.user = cast.superuser
        try:
            return str(model_admin.get_changelist_instance(request).queryset.query)
        except EmptyResultSet:  # a search that found nothing: no SQL to write
            return ""

    condition = '"version" IS NOT NULL'
    # Django's error flag (after a bad lookup) and the facet switch choose no rows either.
    for query in ("", "o=-4", "p=2", "e=1", "_facets=True"):
        assert condition in sql(query), query
    for query in (
        "group=in_progress",
        "status__exact=EN_ROUTE",
        f"partner__id__exact={cast.partner.pk}",
        f"q={cast.installation().customer.name.split()[0]}",
        "handyman=none",
    ):
        assert condition not in sql(query), query


def test_the_record_page_reads_the_record_and_its_visits_through_their_own_indexes(mixed):
    """The record, its follow-ups, its rebookings and its customer's other installations are
    one query (issue 20: ≤ 8 a page): an OR the planner must answer from the primary key and
    the parent, rebooked-from and customer indexes, not by reading the partner's rows."""
    filler_rows(mixed.partner, 300)
    record = mixed.installation(Status.SCHEDULED)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        constraints = connection.introspection.get_constraints(cursor, Installation._meta.db_table)
    by_customer = next(
        name
        for name, c in constraints.items()
        if c["index"] and c["columns"] == ["customer_id"] and not c.get("unique")
    )
    text = plan(selectors.record_with_visits(mixed.partner, record.pk))
    for index in ("inst_parent", "inst_rebooked_from", by_customer):
        assert index in text, text
    assert ("MULTI-INDEX OR" if connection.vendor == "sqlite" else "BitmapOr") in text, text


def test_a_short_search_reads_only_the_newest_jobs_by_their_id_range(many_moreaus, monkeypatch):
    """One or two characters: no index finds them, so the search tests the newest jobs only,
    read as a range of ids (as `id IN (the window)`, PostgreSQL hashed the window and read every
    job of the partner to probe it: 217 ms at a million)."""
    monkeypatch.setattr(filters, "SHORT_WINDOW", 100)
    filterset = _searching(many_moreaus.partner, "q=ze")
    assert filterset.window_left_jobs_out
    text = plan(filterset.hits_queryset())
    assert "fts" not in text and "trgm" not in text, text
    if connection.vendor == "sqlite":
        # Through the partner's or the customers' index (at a million, the partner's), never
        # every job: the range of ids is in the index's search.
        assert "SCAN installations_installation" not in text, text
        assert re.search(r"SEARCH installations_installation USING .*rowid>\?\)", text), text
    else:
        assert re.search(r"Index Cond: \(.*id >= \d+", text), text


def test_where_a_short_searchs_window_starts_is_read_from_the_partners_own_index_entries(mixed):
    """PostgreSQL's index of the partner key keeps a partner's entries in the table's order, so
    "the partner's 10,000th newest job" walked the primary key back through every other
    partner's newer jobs; the index of (partner, id) (migration 0032) reads the partner's own.
    SQLite's index of the key ends in the row id already."""
    filler_rows(mixed.partner, 200)
    mixed.installation(partner=mixed.other_partner)
    filler_rows(mixed.other_partner, 3000)  # newer jobs of another partner
    text = plan(_searching(mixed.partner, "q=ze").window_edge())
    if connection.vendor == "sqlite":
        index = r"COVERING INDEX \S*partner_id\S* \(partner_id=\?\)"
        assert re.search(rf"SEARCH installations_installation USING {index}", text), text
        assert "TEMP B-TREE" not in text, text
    else:
        assert "inst_partner_id" in text and "Sort" not in text, text
