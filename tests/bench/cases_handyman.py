"""Bench case of the handyman's page for a real day (issue 20): a handyman with 5–10 jobs today
(jobs under way count as today's, as on his page), found by a query when the case runs. The busy
handyman's case in measure.py shows the page is bounded; this one is the target "≤ 1.3× bare"."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, Q
from django.test import Client
from django.utils import timezone

from installations.models import Handyman, Installation
from installations.views.handyman import ACTIVE_STATUSES, UNDER_WAY_STATUSES

REAL_DAY = (5, 10)
NAME = "handyman page, a real day"


def real_day_case(add: Callable[[str, Client, str | None, str], None], url: str | None) -> None:
    today = timezone.localdate()
    per_handyman = (
        Installation.objects.filter(handyman__isnull=False, status__in=ACTIVE_STATUSES)
        .filter(Q(scheduled_date=today) | Q(status__in=UNDER_WAY_STATUSES))
        .values("handyman_id")
        .annotate(n=Count("*"))
        .order_by("-n", "handyman_id")
    )
    found = per_handyman.filter(n__gte=REAL_DAY[0], n__lte=REAL_DAY[1]).first()
    if found is None:
        most = per_handyman.values_list("n", flat=True).first() or 0
        add(
            NAME,
            Client(),
            None,
            f"no handyman has {REAL_DAY[0]}–{REAL_DAY[1]} jobs today in these data (the most "
            f"is {most}): the generator spreads each day's jobs over all the handymen",
        )
        return
    client = Client()
    client.force_login(Handyman.objects.select_related("user").get(pk=found["handyman_id"]).user)
    add(f"{NAME} ({found['n']} jobs today)", client, url, "handyman:jobs does not resolve yet")
