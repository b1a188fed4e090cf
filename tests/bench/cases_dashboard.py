"""Bench cases of the partner dashboard (issue 15): the big partner's page for the default and
the longest period, and the staff's view of all partners. The rollups were filled by the
generator (tests/bench/generate.py runs the rebuild after the load)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import NoReverseMatch, reverse


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def dashboard_cases(
    add: Callable[[str, Client, str | None, str], None], partner: Client, superuser: Any
) -> None:
    """Measured before the transition cases, which change the big partner's rows."""
    staff = Client()
    staff.force_login(superuser)
    page = _url("dashboard:page")
    missing = "dashboard:page does not resolve yet"
    add("dashboard (12 weeks)", partner, page, missing)
    add("dashboard ?weeks=52", partner, page and f"{page}?weeks=52", missing)
    admin = _url("admin:installations_partnerdashboard_dashboard")
    add("admin dashboard, all partners", staff, admin, "the dashboard admin is not registered")
