"""The installation changelist's count, as the partner list takes it (issue 20): from the
per-partner counters when only the partner, group and status filters apply, otherwise counted up
to SEARCH_BOUND and no further. Django's paginator would COUNT(*) every matching row on every
page, which at ten million rows is the changelist's slowest query."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.admin.options import IS_FACETS_VAR, IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR
from django.core.paginator import Paginator
from django.db.models import QuerySet, Sum
from django.utils.functional import cached_property

from ..filters import SEARCH_BOUND
from ..models import PartnerStatusCount
from ..statuses import GROUPS_BY_SLUG, Status

PARTNER_PARAM = "partner__id__exact"
# The filters the counters stand for, and the parameters that choose no rows at all.
COUNTED_PARAMS = frozenset({PARTNER_PARAM, "group", "status__exact"})
# Django's own names: an error flag ("e") or the facet counts ("_facets") choose no rows either.
NOT_FILTERS = frozenset(
    {
        ALL_VAR,
        ORDER_VAR,
        PAGE_VAR,
        ERROR_FLAG,
        IS_FACETS_VAR,
        IS_POPUP_VAR,
        TO_FIELD_VAR,
        "_changelist_filters",
    }
)


def filters_used(params: Any) -> set[str]:
    """The changelist's parameters that narrow its rows (filters and the search)."""
    return {key for key, value in params.items() if value and key not in NOT_FILTERS}


def partner_param(params: Any) -> int | None:
    """The partner the changelist is filtered to, if any, read as Django's lookup reads it
    ("+1" and " 1" are partner 1): what is assumed of the partner is what Django filters by."""
    try:
        return int(params.get(PARTNER_PARAM, ""))
    except ValueError:
        return None


def changelist_page(params: Any) -> int:
    """The page number as Django's ChangeList parses it."""
    try:
        return int(params.get(PAGE_VAR, 1))
    except ValueError:
        return 1


def counted_statuses(params: Any) -> set[str] | None:
    """The statuses the group and status filters keep, when those (and the partner) are the only
    filters in use; None when another filter or a search narrows the rows further."""
    used = filters_used(params)
    if not used <= COUNTED_PARAMS:
        return None
    if PARTNER_PARAM in used and partner_param(params) is None:
        return None
    statuses = set(Status.values)
    group = GROUPS_BY_SLUG.get(params.get("group", ""))
    if group is not None:
        statuses &= set(group.statuses)
    status = params.get("status__exact", "")
    if status in Status.values:
        statuses &= {status}
    return statuses


def counter_total(partner: int | None, statuses: set[str]) -> int:
    """The rows of these statuses (of this partner, or everyone's): one query over the counters."""
    counters = PartnerStatusCount.objects.filter(status__in=sorted(statuses))
    if partner is not None:
        counters = counters.filter(partner=partner)
    return counters.aggregate(total=Sum("count"))["total"] or 0


class CountedPaginator(Paginator):
    """A paginator told how to count: exactly (the counters), or up to the bound, in which case
    `over_bound` says the rows go on beyond the pages it offers."""

    def __init__(
        self, object_list: QuerySet, per_page: int, counter: Callable[[], int], *, exact: bool
    ) -> None:
        super().__init__(object_list, per_page)
        self._counter = counter
        self._exact = exact
        self.over_bound = False

    @cached_property
    def count(self) -> int:
        counted = self._counter()
        self.over_bound = not self._exact and counted > SEARCH_BOUND
        return SEARCH_BOUND if self.over_bound else counted


def changelist_paginator(request: Any, queryset: QuerySet, per_page: int) -> CountedPaginator:
    statuses = counted_statuses(request.GET)
    if statuses is not None:
        partner = partner_param(request.GET)
        return CountedPaginator(
            queryset, per_page, lambda: counter_total(partner, statuses), exact=True
        )
    # A search or another filter: count up to the bound only.
    return CountedPaginator(
        queryset, per_page, lambda: queryset.order_by()[: SEARCH_BOUND + 1].count(), exact=False
    )
