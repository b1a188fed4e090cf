"""Reads shared by pages: visibility rules are built in, related rows are joined."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

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


@dataclass(frozen=True)
class GroupCount:
    group: StatusGroup
    count: int


def group_counts(partner: Partner | int) -> list[GroupCount]:
    """The five overview cards, in one query over the per-partner counters."""
    by_status = dict(
        PartnerStatusCount.objects.filter(partner=partner).values_list("status", "count")
    )
    return [
        GroupCount(group, sum(by_status.get(status, 0) for status in group.statuses))
        for group in GROUPS
    ]
