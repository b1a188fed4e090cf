"""Reads shared by pages: visibility rules are built in, related rows are joined."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Subquery

from .models import Installation, Partner, PartnerStatusCount
from .statuses import GROUPS, StatusGroup


@dataclass(frozen=True)
class Action:
    name: str
    label: str


def available_actions(installation: Installation, user: Any) -> list[Action]:
    """The actions this user may take on this record now: the state machine's available
    transitions filtered by their permission. The one source every page and check uses."""
    return [
        Action(t.name, t.custom.get("label", t.name))
        for t in installation.get_available_user_status_transitions(user)
    ]


def installations_for_partner(partner: Partner | int) -> QuerySet[Installation]:
    return Installation.objects.filter(partner=partner).select_related("customer", "handyman__user")


# The columns a list row draws and its actions read (the row partial, the state machine's
# permissions, the bulk bar). Reading all sixty of the three joined tables and converting
# each value was a tenth of the list's time (issue 20); a field not named here would be read
# by one more query per row, which the list's pinned query counts catch.
LIST_ROW_FIELDS = (
    "partner_id",
    "customer__name",
    "site_address",
    "scheduled_date",
    "window_start",
    "window_end",
    "handyman__user__first_name",
    "handyman__user__last_name",
    "handyman__user__username",
    "status",
    "kind",
    "version",
)


def list_rows(queryset: QuerySet[Installation]) -> QuerySet[Installation]:
    """`queryset` (the list's filtered rows) reading only what a row draws."""
    return queryset.only(*LIST_ROW_FIELDS)


# The largest id a row can have (BigAutoField): a larger number names nothing.
BIGGEST_ID = 2**63 - 1


def record_with_visits(partner: Partner | int, pk: int) -> QuerySet[Installation]:
    """The partner's installation `pk` with its follow-up visits, its rebookings and its
    customer's other installations: one query, an OR of the primary key, parent, rebooked-from
    and customer indexes (the customer read by a scalar subquery). Another partner's record is
    simply not among the rows. In no order: the caller sorts these few rows, because an ORDER
    BY lets PostgreSQL walk the partner's date index testing the OR on each of its rows."""
    if not 0 < pk <= BIGGEST_ID:
        # No row has it, and the foreign-key comparisons would pass it to the driver as is.
        return Installation.objects.none()
    customer = Installation.objects.filter(pk=pk).order_by().values("customer_id")[:1]
    return (
        installations_for_partner(partner)
        .filter(
            Q(pk=pk) | Q(parent_id=pk) | Q(rebooked_from_id=pk) | Q(customer_id=Subquery(customer))
        )
        .order_by()
    )


@dataclass(frozen=True)
class GroupCount:
    group: StatusGroup
    count: int


def messages_of(installation: Installation) -> QuerySet:
    """The installation's messages as its messages panel lists them, newest first, with the
    person who asked for each re-sent link."""
    return installation.messages.select_related("sent_by")


def status_counts(partner: Partner | int) -> dict[str, int]:
    """How many installations the partner has in each status: one query over at most ten
    counter rows, whatever the number of installations."""
    return dict(PartnerStatusCount.objects.filter(partner=partner).values_list("status", "count"))


def group_counts(
    partner: Partner | int, by_status: dict[str, int] | None = None
) -> list[GroupCount]:
    """The five overview cards, from the per-partner counters."""
    if by_status is None:
        by_status = status_counts(partner)
    return [
        GroupCount(group, sum(by_status.get(status, 0) for status in group.statuses))
        for group in GROUPS
    ]
