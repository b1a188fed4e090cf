"""The partner list's filters, over the selectors' queryset (never a second visibility rule)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL

from . import search
from .lookups import IdsIn, in_group
from .models import Handyman, Installation, Partner
from .statuses import GROUP_CHOICES, GROUPS_BY_SLUG, Status
from .widgets import FastSelect, HandymanChoiceField

SEARCH_MAX_LENGTH = 100
# A search counts its matches exactly up to here, and beyond says "more than" (issue 20): a
# common surname matches thousands of a large partner's jobs, and counting them all is what
# made every search grow with the data.
SEARCH_BOUND = 1000
# A search of one or two characters has no index to find it (a trigram needs three), so every
# job it looks at is tested in turn: it looks at the partner's newest SHORT_WINDOW jobs (~30 ms
# on SQLite) instead of all of them (0.6 s at 300,000 jobs, seconds at three million), unless
# the person asks for all of them (`everywhere`), knowing it takes longer.
SHORT_WINDOW = 10_000
EVERYWHERE = "everywhere"

# Each sort choice is a complete ordering ending in the primary key, so pages never overlap.
SORTS: dict[str, tuple[str, ...]] = {
    "date": ("scheduled_date", "window_start", "id"),
    "-date": ("-scheduled_date", "-window_start", "-id"),
    "-changed": ("-updated_at", "-id"),
    "changed": ("updated_at", "id"),
}
SORT_CHOICES = [
    ("date", "Date, earliest first"),
    ("-date", "Date, latest first"),
    ("-changed", "Last change, newest first"),
    ("changed", "Last change, oldest first"),
]


# A search beyond the bound first walks this many of the list's rows for each row the page
# shows (at least MIN_WALK): a term found in one row in 40 or more fills the page from the walk.
# Each row walked costs ~10 µs on PostgreSQL (its customer read by primary key), so a rarer term
# pays ~10 ms for the walk before its indexes answer.
WALK_PER_ROW = 40
MIN_WALK = 1000

# `31`, `#31`, `# 31`: a record's number, as every email and page writes it.
RECORD_NUMBER = re.compile(r"^#?\s*(\d{1,18})$", re.ASCII)  # 0-9 only: int("١٢") is 12


def record_number(text: str) -> int | None:
    match = RECORD_NUMBER.match(text.strip())
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class SearchHits:
    """The rows a search matches under the other non-status filters: at most SEARCH_BOUND + 1
    of them as (id, status), in no particular order. Within the bound they are all the matches,
    so the counts are exact and the page reads just these rows; beyond it they are a sample
    that proves only "more than SEARCH_BOUND"."""

    rows: tuple[tuple[int, str], ...]

    @property
    def over_bound(self) -> bool:
        return len(self.rows) > SEARCH_BOUND

    @property
    def ids(self) -> list[int]:
        return [pk for pk, _ in self.rows]

    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, status in self.rows:
            counts[status] = counts.get(status, 0) + 1
        return counts


class WalkedId(Func):
    """`+id`: the same value, but SQLite's planner no longer drives the query from the id list
    of an `id IN (...)`: it walks the ORDER BY's index and checks each row, stopping at the
    page's last row, instead of reading every match and sorting them (issue 20)."""

    template = "+%(expressions)s"
    output_field = IntegerField()


class IsTrue(Func):
    """`(condition) IS TRUE`: the same rows, but PostgreSQL no longer pulls an `IN` up into a
    join (see filter_search)."""

    template = "(%(expressions)s) IS TRUE"
    output_field = BooleanField()


def row_matches(value: str) -> Q:
    """The search (`value` stripped, not empty) as a test of each row and its customer, with no
    index: for rows already in hand (search_beyond_bound), never to find the matches. Case is
    folded as `icontains` folds it, which on SQLite is ASCII letters only, while the FTS index
    folds every letter: there a term with other letters is never tested this way."""
    return _or_number(
        search.customer_contains(value, "customer__") | Q(site_address__icontains=value), value
    )


def _or_number(matched: Q, value: str) -> Q:
    """`matched`, or the record whose number `value` is (`31`, `#31`)."""
    number = record_number(value)
    return matched | Q(pk=number) if number is not None else matched


def search_filter(queryset: QuerySet, value: str, partner: Partner | int | None) -> QuerySet:
    """`queryset` narrowed to the rows whose customer name, phone, email or address, or site
    address, contain `value` (case-folded), or whose number it is (`31`, `#31`). The admin
    searches through this too, with or without a partner."""
    value = value.strip()
    return queryset.filter(pk__in=search_ids(value, partner)) if value else queryset


def search_ids(
    value: str, partner: Partner | int | None, *, per_half: int | None = None
) -> QuerySet | RawSQL:
    """The ids of the installations matching `value` (stripped, not empty).

    Shaped as `id IN (matching customers' installations UNION matching sites)` rather than
    one OR across the customer join: each half can use its own index (trigram GIN indexes
    on PostgreSQL, see migration 0002), so a rare term reads the few rows it matches instead
    of every installation of the partner (1.1 s → ~10 ms at 300,000 rows). On SQLite each
    half reads an FTS5 trigram table instead (installations/search.py).

    With `per_half`, each half stops after that many ids: the union then holds every match, or
    proves there are at least `per_half`. SQLite cannot bound the halves of a compound query
    below three characters, where `icontains` reads every row anyway."""
    number = record_number(value)
    mine = Installation.objects.order_by()
    if partner is not None:
        mine = mine.filter(partner=partner)
    if per_half is not None and search.uses_fts(value):
        matches: QuerySet | RawSQL = search.bounded_fts_ids(partner, value, per_half)
        if number is None:
            return matches
        theirs = Q(pk=number) if partner is None else Q(pk=number, partner=partner)
        return Installation.objects.filter(Q(pk__in=matches) | theirs).values("pk")
    bound = per_half if connection.features.supports_slicing_ordering_in_compound else None
    customers = search.matching_customers(partner, value)
    by_customer = mine.filter(customer__in=customers.values("pk")).values("pk")
    by_site = search.matching_sites(mine, value).values("pk")
    if bound is not None:
        by_customer, by_site = by_customer[:bound], by_site[:bound]
    elif per_half is not None:
        # SQLite under three characters: no index finds the matches, and a compound query
        # cannot stop its halves, so each half is bounded inside its own subquery ("a"
        # matched 300,000 rows of the big partner, all gathered first: 1.6 s).
        bounded = Installation.objects.order_by().values("pk")
        by_customer = bounded.filter(pk__in=by_customer[:per_half])
        by_site = bounded.filter(pk__in=by_site[:per_half])
    matches = by_customer.union(by_site)
    if number is not None:
        # The record's own number, scoped like every other match.
        matches = matches.union(mine.filter(pk=number).values("pk"))
    return matches


def first_matches_walked(queryset: QuerySet, value: str, rows_wanted: int) -> list[int] | None:
    """The ids of the first `rows_wanted` rows of `queryset` (ordered) that match `value`, found
    by walking its first `WALK_PER_ROW` × `rows_wanted` rows and testing each one (its customer
    by primary key, five `icontains`); None when the walk does not fill them.

    A common term ("Road" is in half of all addresses) is found in the first rows: reading
    every match first, as a rarer term must, took 0.8 s at a million rows and 8.5 s at ten
    million (issue 20). A rarer term (under one row in WALK_PER_ROW) does not fill the page from
    the walk; it is then matched through its indexes (`matches_along_the_order`), whose cost
    grows with the matches, which are then few."""
    if connection.vendor == "sqlite" and not value.isascii():
        return None  # see row_matches
    window = queryset.values("pk")[: max(WALK_PER_ROW * rows_wanted, MIN_WALK)]
    first = list(
        queryset.filter(pk__in=window)
        .filter(row_matches(value))
        .values_list("pk", flat=True)[:rows_wanted]
    )
    return first if len(first) >= rows_wanted else None


def matches_along_the_order(
    queryset: QuerySet, value: str, partner: Partner | int | None
) -> QuerySet:
    """`queryset` (ordered) narrowed to the matches of `value`, shaped so that the database
    walks the order's index checking each row against the set of matches (ids on SQLite,
    customers on PostgreSQL) and stops at the page's last row: thousands of matches, sparse in
    that order, are never all read and sorted."""
    if connection.vendor == "sqlite":
        ids = search_ids(value, partner)
        return queryset.alias(walked_id=WalkedId(F("pk"))).filter(walked_id__in=ids)
    # PostgreSQL would turn `IN` into a join of every match and sort them; as a plain
    # condition it is a hashed subplan checked along the walk. The set is of customers,
    # not of their jobs (2,500 ids instead of 7,400 found through a second index for a
    # surname at 10 M), and the walked row's own site address is tested as it passes.
    customers = search.matching_customers(partner, value).values("pk")
    matched = _or_number(Q(customer_id__in=customers) | Q(site_address__icontains=value), value)
    return queryset.filter(IsTrue(ExpressionWrapper(matched, BooleanField())))


class InstallationFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The “to” date must be on or after the “from” date.")
        group, status = cleaned.get("group"), cleaned.get("status")
        if group and status and status not in GROUPS_BY_SLUG[group].statuses:
            # Nothing can match both: say so instead of showing an empty list without a reason.
            self.add_error(
                "status",
                f"“{Status(status).label}” is not in the “{GROUPS_BY_SLUG[group].label}” group, "
                "so nothing can match both. Choose a status of that group, or all statuses.",
            )
        return cleaned


class HandymanChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = HandymanChoiceField


class InstallationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Customer name, phone, email or address, or a number like #31.",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        error_messages={
            "max_length": f"Search for at most {SEARCH_MAX_LENGTH} characters.",
        },
    )
    group = django_filters.ChoiceFilter(
        label="Status group",
        widget=FastSelect,
        choices=GROUP_CHOICES,
        method="filter_group",
        empty_label="All groups",
        error_messages={"invalid_choice": "Choose a status group from the list."},
    )
    status = django_filters.ChoiceFilter(
        label="Exact status",
        widget=FastSelect,
        choices=Status.choices,
        empty_label="All statuses",
        error_messages={"invalid_choice": "Choose a status from the list."},
    )
    handyman = HandymanChoiceFilter(
        label="Handyman",
        queryset=Handyman.objects.none(),
        empty_label="Any handyman",
        error_messages={"invalid_choice": "Choose a handyman from the list."},
    )
    unassigned = django_filters.BooleanFilter(
        label="Unassigned only",
        method="filter_unassigned",
        widget=forms.CheckboxInput,
    )
    date_from = django_filters.DateFilter(
        label="From date",
        field_name="scheduled_date",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2026-05-31."},
    )
    date_to = django_filters.DateFilter(
        label="To date",
        field_name="scheduled_date",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter a date like 2026-05-31."},
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by",
        widget=FastSelect,
        choices=SORT_CHOICES,
        method="filter_sort",
        empty_label=None,
        error_messages={"invalid_choice": "Choose a sort order from the list."},
    )

    class Meta:
        model = Installation
        fields: list[str] = []
        form = InstallationFilterForm

    def __init__(
        self, data=None, queryset=None, *, partner: Partner, window: bool = True, **kwargs
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        self.partner = partner
        self._hits: SearchHits | None = None
        # How many rows of the list the page shows up to (page × size): set by the list view.
        self.rows_wanted = 25
        self._within_bound: list[int] | None = None
        self._beyond_bound: str | None = None
        self._count_queryset: QuerySet | None = None
        # Only the handymen who serve this partner can be chosen.
        self.filters["handyman"].queryset = partner.handymen.select_related("user")
        self.short_term = self._short_term()
        # Whether the short term's window leaves some of the partner's jobs unsearched.
        self.window_left_jobs_out = False
        if self.short_term and window:
            # The window as a range of ids, not `IN (its ids)`: PostgreSQL hashed those and
            # still read every job of the partner to probe them (217 ms). Its start is read from
            # the index of (partner, id), the partner's own entries alone.
            edge = list(self.window_edge())
            if len(edge) > 1:
                self.queryset = self.queryset.filter(pk__gte=edge[0])
                self.window_left_jobs_out = True

    def window_edge(self) -> QuerySet:
        """The ids of the partner's SHORT_WINDOW-th and next newest jobs: where a short search's
        window starts, and whether it leaves any out (tests/test_indexes.py reads its plan)."""
        newest = self.queryset.order_by("-pk").values_list("pk", flat=True)
        return newest[SHORT_WINDOW - 1 : SHORT_WINDOW + 1]

    def _short_term(self) -> str:
        """The search when it is one or two characters: tested row by row, in the list within
        its window of the newest jobs (SHORT_WINDOW; without `window`, the board's days bound
        it already). A record's number (`7`) is still found wherever it is: the list names it
        above the rows (views.partner._record_number)."""
        term = str(self.data.get("q", "")).strip() if self.is_bound else ""
        if not 0 < len(term) < search.TRIGRAM:
            return ""
        # Asked for every job for this very term; another short term gets the window again.
        return "" if str(self.data.get(EVERYWHERE, "")).strip() == term else term

    def _matching(self, queryset: QuerySet, value: str) -> QuerySet:
        """`queryset` narrowed to the search's matches: through the indexes, or for a short
        term (whose index would read every job) by testing each row of its window."""
        if self.short_term:
            return queryset.filter(row_matches(value))
        return search_filter(queryset, value, self.partner)

    # The filters the cards themselves stand for (and the order, which counts nothing).
    STATUS_FILTERS = frozenset({"group", "status", "sort"})

    @property
    def narrows_beyond_status(self) -> bool:
        """Whether any filter other than the group/status/sort is in use."""
        return any(v for k, v in self.form.cleaned_data.items() if k not in self.STATUS_FILTERS)

    def _other_filters(self) -> QuerySet:
        """The queryset under every filter but the group, status and sort."""
        queryset = self.queryset
        for name, value in self.form.cleaned_data.items():
            if name not in self.STATUS_FILTERS:
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def counts_by_status(self) -> dict[str, int] | None:
        """How many rows match the other filters, per status: what each card counts, so that a
        card and the list it opens always agree. None when no other filter applies (the
        per-partner counters already know); otherwise one grouped COUNT. Under a search the
        view asks `search_hits` instead, which never counts beyond the bound."""
        if not self.narrows_beyond_status:
            return None
        return dict(self.status_counting().values_list("status", "n"))

    def status_counting(self) -> QuerySet:
        """The grouped COUNT `counts_by_status` runs (tests/test_indexes.py reads its plan)."""
        return self._other_filters().order_by().values_list("status").annotate(n=Count("pk"))

    @property
    def searching(self) -> bool:
        return bool((self.form.cleaned_data.get("q") or "").strip())

    def search_hits(self) -> SearchHits:
        """Under a search, one query for at most SEARCH_BOUND + 1 matching rows (the other
        filters applied, the group and status not), in no order, so it stops at the bound
        however many rows match. The page then reads exactly these rows (see filter_search)."""
        if self._hits is None:
            self._hits = SearchHits(tuple(self.hits_queryset()))
        return self._hits

    def hits_queryset(self) -> QuerySet:
        """The query `search_hits` runs (tests/test_indexes.py reads its plan)."""
        data = self.form.cleaned_data
        if any(v for k, v in data.items() if k not in self.STATUS_FILTERS | {"q"}):
            # Other filters too: the matches they keep may lie anywhere among the term's.
            queryset = self._other_filters()
        elif self.short_term:
            queryset = self._matching(self.queryset, self.short_term)
        else:
            # The search alone: each half of it stops at the bound.
            ids = search_ids(data["q"].strip(), self.partner, per_half=SEARCH_BOUND + 1)
            queryset = self.queryset.filter(pk__in=ids)
        return queryset.order_by().values_list("pk", "status")[: SEARCH_BOUND + 1]

    def count_up_to(self, bound: int) -> int:
        """The list's rows, counted up to `bound` + 1 and no further."""
        queryset = self.qs  # filtering first decides how a search past the bound is read
        if self._count_queryset is not None:
            # A common term (see search_beyond_bound): count along the list's order, testing
            # each row, so the count stops after bound + 1 rows that match.
            return self._count_queryset[: bound + 1].count()
        return queryset.order_by()[: bound + 1].count()

    def selected_statuses(self) -> set[str]:
        """The statuses the group and exact-status filters leave in the list."""
        data = self.form.cleaned_data
        statuses = set(Status.values)
        if data.get("group"):
            statuses &= set(GROUPS_BY_SLUG[data["group"]].statuses)
        if data.get("status"):
            statuses &= {data["status"]}
        return statuses

    def count(self, by_status: dict[str, int]) -> int:
        """The number of rows in the list, from the per-status counts of the other filters."""
        return sum(by_status.get(status, 0) for status in self.selected_statuses())

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS["date"])
        # Both decided here, once the other filters and the order are on the queryset.
        if self._within_bound is not None:
            queryset = self.search_within_bound(queryset, self._within_bound)
        elif self._beyond_bound is not None:
            queryset = self.search_beyond_bound(queryset, self._beyond_bound)
        return queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        hits = self._hits
        if hits is not None and not hits.over_bound:
            self._within_bound = hits.ids  # see filter_queryset
            return queryset
        value = value.strip()
        if hits is not None:
            self._beyond_bound = value  # see filter_queryset
            return queryset
        return self._matching(queryset, value)

    def search_within_bound(self, queryset: QuerySet, ids: list[int]) -> QuerySet:
        """Every match is known (at most SEARCH_BOUND ids): the page's rows are the first
        `rows_wanted` of them in the list's order, chosen from the ids and their sort columns
        alone; only those few are then read with their customer and handyman (joining all 700
        matches of a surname before sorting them took 9 of the page's 12 ms at a million rows
        on PostgreSQL)."""
        if not ids:
            return queryset.none()
        first = queryset.filter(IdsIn(F("pk"), ids)).values("pk")[: self.rows_wanted]
        return queryset.filter(pk__in=first)

    def search_beyond_bound(self, queryset: QuerySet, value: str) -> QuerySet:
        """More than SEARCH_BOUND rows match: the page's rows without reading every match
        (`first_matches_walked`, else `matches_along_the_order`)."""
        first = first_matches_walked(queryset, value, self.rows_wanted)
        if first is None and self.short_term:
            return self._matching(queryset, value)
        if first is None:
            return matches_along_the_order(queryset, value, self.partner)
        self._count_queryset = queryset.filter(row_matches(value))
        return queryset.filter(pk__in=first)

    def filter_group(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(in_group(GROUPS_BY_SLUG[value]))

    def filter_unassigned(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(handyman__isnull=True) if value else queryset

    def filter_sort(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.order_by(*SORTS[value])
