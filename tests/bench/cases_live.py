"""Issue 13, live updates: what the change feed costs (registered in measure.py with one line).

- two floors: a bare ``HttpResponse`` (no database, no session) and the same behind
  ``login_required`` (the session and user every signed-in request reads);
- the partner's and the handyman's feed at rest (a 304), and the partner's feed with one
  changed row on the page;
- "500 partner pages open at once, at rest": 500 feed requests from 50 signed-in browsers,
  the CPU time this process spends on them (SQLite's work included: it runs in-process),
  as a share of one core per polling interval (2.5 s while visible; 5 s shown too).
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import include, path

from installations import services
from installations.live import selectors as live_selectors
from installations.live.selectors import (
    handyman_page_feed,
    handyman_stamp,
    partner_page_feed,
    partner_stamp,
)
from installations.models import Installation, partner_id_of
from installations.statuses import TERMINAL_STATUSES

VISIBLE_INTERVAL_S = 2.5  # static/js/live.js VISIBLE_MS
PAGES_OPEN = 500
BROWSERS = 50


def _floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=304)


urlpatterns = [
    path("bench/live-floor/", _floor),
    path("bench/live-floor-login/", login_required(_floor)),
    path("", include("tests.bench.urls")),
]


def cases(timed: Callable[..., dict], partner_user: Any, handyman: Any) -> list[dict]:
    with override_settings(ROOT_URLCONF="tests.bench.cases_live"):
        return _cases(timed, partner_user, handyman)


def _get(client: Client, url: str, want: int) -> tuple[Callable, Callable]:
    def check(response: Any) -> str | None:
        if response.status_code != want:
            return f"{url} answered HTTP {response.status_code}, not {want}"
        return None

    return (lambda: client.get(url)), check


def _cases(timed: Callable[..., dict], partner_user: Any, handyman: Any) -> list[dict]:
    partner_id = partner_id_of(partner_user)
    partner = Client()
    partner.force_login(partner_user)
    field = Client()
    field.force_login(handyman.user)
    # As live.js asks: the feed URL the page carries (with its signed key), plus the stamp.
    feed, field_feed = partner_page_feed(partner_user)["url"], handyman_page_feed(handyman)["url"]
    results = [
        timed("live: floor, bare HttpResponse", *_get(Client(), "/bench/live-floor/", 304)),
        timed("live: floor, signed in", *_get(partner, "/bench/live-floor-login/", 304)),
    ]
    # The page shows 25 rows: the feed is asked with them, as live.js does.
    rows = ",".join(
        str(pk)
        for pk in Installation.objects.filter(partner_id=partner_id)
        .order_by("scheduled_date", "window_start", "id")
        .values_list("pk", flat=True)[:25]
    )
    at_rest = f"{feed}&since={partner_stamp(partner_id)}&from=/installations/&rows={rows}"
    results.append(timed("live: partner feed at rest (304)", *_get(partner, at_rest, 304)))
    # The same with the one-second memo always expired: the one indexed query every server
    # pays at most once a second per partner (live.selectors.NEWEST_MAX_AGE).
    memo_age, live_selectors.NEWEST_MAX_AGE = live_selectors.NEWEST_MAX_AGE, 0.0
    try:
        results.append(
            timed("live: partner feed at rest, memo expired", *_get(partner, at_rest, 304))
        )
    finally:
        live_selectors.NEWEST_MAX_AGE = memo_age
    field_rest = f"{field_feed}&since={handyman_stamp(handyman.pk)}&from=/handyman/&rows="
    results.append(timed("live: handyman feed at rest (304)", *_get(field, field_rest, 304)))
    # Without the page's key (an old page, or a key past its age): through the session.
    by_session = at_rest.replace("?key=", "?old=")
    results.append(timed("live: partner feed at rest, by session", *_get(partner, by_session, 304)))

    # One row of the page changes: the feed renders that row and the cards. (The first page of
    # a generated partner may hold only finished rows: take an open one and put it on the page.)
    row = (
        Installation.objects.filter(partner_id=partner_id)
        .exclude(status__in=TERMINAL_STATUSES)
        .order_by("-id")
        .first()
    )
    if row is not None:
        before = partner_stamp(partner_id)
        services.installation_update(installation=row, actor=partner_user, notes="Gate code 4711")
        one = f"{feed}&since={before}&from=/installations/&rows={row.pk},{rows}"
        results.append(timed("live: partner feed, one changed row", *_get(partner, one, 200)))
    results.append(_five_hundred_pages(partner_user, feed, rows))
    floor = results[0].get("median_ms")
    for case in results[2:6]:
        if floor and case.get("median_ms"):
            case["note"] = f"{case['median_ms'] / floor:.1f}× the bare floor"
    return results


def _five_hundred_pages(partner_user: Any, feed: str, rows: str) -> dict:
    """500 open pages, each asking once per interval, nothing changed: the CPU one interval
    costs, measured over the 500 requests."""
    browsers = []
    for _ in range(BROWSERS):
        client = Client()
        client.force_login(partner_user)
        browsers.append(client)
    since = partner_stamp(partner_id_of(partner_user))
    url = f"{feed}&since={since}&from=/installations/&rows={rows}"
    for client in browsers:  # warm
        client.get(url)
    cpu0, wall0 = clock.process_time(), clock.perf_counter()
    codes = {browsers[i % BROWSERS].get(url).status_code for i in range(PAGES_OPEN)}
    cpu = clock.process_time() - cpu0
    wall = clock.perf_counter() - wall0
    if codes != {304}:
        return {"name": "live: 500 pages at rest", "skipped": f"answered {sorted(codes)}"}
    share = cpu / VISIBLE_INTERVAL_S
    return {
        "name": "live: 500 pages at rest, one interval",
        "note": (
            f"{cpu * 1000:.0f} ms CPU for {PAGES_OPEN} requests ({wall * 1000:.0f} ms wall): "
            f"{share:.0%} of one core at a {VISIBLE_INTERVAL_S} s interval, "
            f"{share * VISIBLE_INTERVAL_S / 5:.0%} at 5 s"
        ),
        "n": PAGES_OPEN,
        "median_ms": round(wall * 1000 / PAGES_OPEN, 3),
        "p95_ms": round(wall * 1000 / PAGES_OPEN, 3),
        "queries": 1,
        "sql_ms": 0,
        "cpu_share_of_one_core": round(share, 3),
    }
