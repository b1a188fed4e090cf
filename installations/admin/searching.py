"""The installation changelist's search, shaped as the partner list's (issue 20).

Django's admin filters the changelist with the search, then orders and pages it, so that a common
word ("Road", in half of all addresses) read and sorted every match before keeping 100: 2.8 s for
the big partner at a million rows, 5 s for all partners. Here, as in the list:

- one bounded query finds at most SEARCH_BOUND + 1 matches of the term alone; within the bound
  those are all of them, and the changelist is filtered to their ids (exact, cheap);
- beyond the bound the changelist is filtered by a condition the database checks row by row
  along the partner's index in the changelist's order (`filters.matches_along_the_order`; with
  no partner, no index gives that order and the matches are read and sorted), so that actions
  on "all" still reach every match; and its pages come from a walk of the first rows in the
  changelist's order (`filters.first_matches_walked`), the count stopping at the bound, or not
  taken at all when nothing but the partner narrows the term's matches (they are known to be
  more).

`get_search_results` cannot see the order or the page, which the paginator can: the search
leaves a note on the request (`BeyondBound`) for `searched_paginator` to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from .. import filters
from ..filters import (
    SEARCH_BOUND,
    first_matches_walked,
    matches_along_the_order,
    row_matches,
    search_filter,
    search_ids,
)
from ..models import Installation
from .counting import (
    PARTNER_PARAM,
    CountedPaginator,
    changelist_page,
    filters_used,
    partner_param,
)

NOTE = "_installation_search_beyond_bound"


@dataclass(frozen=True)
class BeyondBound:
    value: str
    unsearched: QuerySet  # the changelist's other filters, before the search and the order
    known_over: bool  # nothing but the partner narrows the term's matches: more than the bound
    partner: int | None


def search_results(request: Any, queryset: QuerySet, term: str) -> QuerySet:
    value = term.strip()
    if not value:
        return queryset
    partner = partner_param(request.GET)
    found = Installation.objects.filter(
        pk__in=search_ids(value, partner, per_half=SEARCH_BOUND + 1)
    )
    if partner is not None:
        found = found.filter(partner=partner)  # search_ids leaves it to its callers
    found = found.values_list("pk", flat=True)
    ids = list(found[: SEARCH_BOUND + 1])
    if len(ids) <= SEARCH_BOUND:
        return queryset.filter(pk__in=ids)  # every match of the term: the filters pick theirs
    known_over = filters_used(request.GET) <= {PARTNER_PARAM, "q"}
    setattr(request, NOTE, BeyondBound(value, queryset, known_over, partner))
    if partner is None:
        # No index gives every partner's rows in the changelist's order: a walk along it
        # would read the whole table, so the matches are read and sorted (those of a common
        # word never are: see searched_paginator).
        return search_filter(queryset, value, None)
    return matches_along_the_order(queryset, value, partner)


def searched_paginator(request: Any, queryset: QuerySet, per_page: int) -> CountedPaginator | None:
    """The paginator of a changelist searched beyond the bound (None for any other)."""
    note: BeyondBound | None = getattr(request, NOTE, None)
    if note is None:
        return None
    # The page the changelist will ask for, read as Django reads it ("+2" is page 2). Pages
    # past the bound's last are refused by the paginator: no walk goes further than it.
    pages = min(max(changelist_page(request.GET), 1), -(-SEARCH_BOUND // per_page))
    rows_wanted = pages * per_page
    walked = note.unsearched.order_by(*queryset.query.order_by)
    first = None
    # Every partner's rows, unfiltered, are sampled first (see _common); any other filter has
    # a count to take, and the query that _common would cost (≤ 8 a page).
    if note.partner is not None or not note.known_over or _common(note):
        first = first_matches_walked(walked, note.value, rows_wanted)
    if first is not None:
        rows, matching = walked.filter(pk__in=first), walked.filter(row_matches(note.value))
    else:
        rows = matching = queryset
    if note.known_over:
        return CountedPaginator(rows, per_page, lambda: SEARCH_BOUND + 1, exact=False)
    return CountedPaginator(
        rows, per_page, lambda: matching.order_by()[: SEARCH_BOUND + 1].count(), exact=False
    )


def _common(note: BeyondBound) -> bool:
    """Whether the term is in at least one row in WALK_PER_ROW of a sample in storage order.
    Every partner's rows have no index in the changelist's order: the walk's first rows would
    be a sort of the whole table, worth it for a common word (5 s -> 0.3 s for "Road" at a
    million rows), not for a rarer term that the walk would not find (+0.2-0.4 s)."""
    sample = note.unsearched.order_by().values("pk")[: filters.MIN_WALK]
    enough = filters.MIN_WALK // filters.WALK_PER_ROW
    found = note.unsearched.filter(pk__in=sample).filter(row_matches(note.value)).order_by()
    return found[:enough].count() >= enough
