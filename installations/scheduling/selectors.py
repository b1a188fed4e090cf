"""Scheduling reads the board and the pages share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Exists, OuterRef, QuerySet

from ..models import Handyman, Installation, Partner
from .models import TimeOff
from .rules import BUSY_STATUSES


def days_off(handyman_ids: Iterable[int], start: date, end: date) -> set[tuple[int, date]]:
    """(handyman_id, day) for every day off of these handymen from `start` to `end` inclusive:
    one query, for the board to grey its cells."""
    return set(
        TimeOff.objects.filter(
            handyman_id__in=list(handyman_ids), day__gte=start, day__lte=end
        ).values_list("handyman_id", "day")
    )


def jobs_on_days_off(partner: Partner | int, start: date, end: date) -> QuerySet[Installation]:
    """The partner's open jobs from `start` to `end` whose handyman has since marked that day off:
    the board flags them so that the partner moves or reassigns them. One query."""
    blocked = TimeOff.objects.filter(
        handyman_id=OuterRef("handyman_id"), day=OuterRef("scheduled_date")
    )
    return (
        Installation.objects.filter(
            partner=partner,
            scheduled_date__gte=start,
            scheduled_date__lte=end,
            status__in=BUSY_STATUSES,
            handyman__isnull=False,
        )
        .filter(Exists(blocked))
        .select_related("customer", "handyman__user")
        .order_by("scheduled_date", "window_start", "id")
    )


def upcoming_days_off(handyman: Handyman, today: date) -> QuerySet[TimeOff]:
    """The handyman's days off from today on, for his own page."""
    return TimeOff.objects.filter(handyman=handyman, day__gte=today).order_by("day")


def jobs_kept_on(handyman: Handyman | int, day: date) -> list[Installation]:
    """His jobs still to be done on `day`: a day off does not take them off him."""
    return list(
        Installation.objects.filter(
            handyman=handyman, scheduled_date=day, status__in=BUSY_STATUSES
        ).order_by("window_start", "pk")
    )
