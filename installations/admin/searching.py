"""The installation changelist's search, shaped as the partner list's (issue 20).

Django's admin filters the changelist with the search, then orders and pages it, so that a common
word ("Road", in half of all addresses) read and sorted every match before keeping 100: 2.8 s for
the big partner at a million rows, 5 s for all partners. Here, as in the list:

- one bounded query finds at most SEARCH_BOUND + 1 matches of the term alone; within the bound
  those are all of them, and the changelist is filtered to their ids (exact, cheap);
- beyond the bound the changelist is filtered by a condition the database checks row by row
  along the order's index (`filters.matches_along_the_order`), so that actions on "all" still
  reach every match; and its pages come from a walk of the first rows in the changelist's order
  (`filters.first_matches_walked`), the count stopping at the bound, or not taken at all when
  nothing but the partner narrows the term's matches (they are known to be more).

`get_search_results` cannot see the order or the page, which the paginator can: the search
leaves a note on the request (`BeyondBound`) for `searched_paginator` to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from ..filters import (
    SEARCH_BOUND,
    first_matches_walked,
    matches_along_the_order,
    row_matches,
    search_ids,
)
from ..models import Installation
from .counting import NOT_FILTERS, PARTNER_PARAM, CountedPaginator, partner_param
from .mixins import is_id

NOTE = "_installation_search_beyond_bound"


@dataclass(frozen=True)
class BeyondBound:
    value: str
    unsearched: QuerySet  # the changelist's other filters, before the search and the order
    known_over: bool  # nothing but the partner narrows the term's matches: more than the bound


def search_results(request: Any, queryset: QuerySet, term: str) -> QuerySet:
    value = term.strip()
    if not value:
        return queryset
    partner = partner_param(request.GET)
    found = Installation.objects.filter(
        pk__in=search_ids(value, partner, per_half=SEARCH_BOUND + 1)
    ).values_list("pk", flat=True)
    ids = list(found[: SEARCH_BOUND + 1])
    if len(ids) <= SEARCH_BOUND:
        return queryset.filter(pk__in=ids)  # every match of the term: the filters pick theirs
    used = {key for key, value in request.GET.items() if value and key not in NOT_FILTERS}
    known_over = used <= {PARTNER_PARAM, "q"}
    setattr(request, NOTE, BeyondBound(value, queryset, known_over))
    return matches_along_the_order(queryset, value, partner)


def searched_paginator(request: Any, queryset: QuerySet, per_page: int) -> CountedPaginator | None:
    """The paginator of a changelist searched beyond the bound (None for any other)."""
    note: BeyondBound | None = getattr(request, NOTE, None)
    if note is None:
        return None
    page = request.GET.get("p", "1")
    # Pages past the bound's last are refused by the paginator: no walk goes further than it.
    pages = min(int(page) if is_id(page) else 1, -(-SEARCH_BOUND // per_page))
    rows_wanted = pages * per_page
    walked = note.unsearched.order_by(*queryset.query.order_by)
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
