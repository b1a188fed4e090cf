"""Bench cases of the dispatch board (issue 12): the big partner's week and day, and a drop.

Targets: the week ≤ 3× the bare 25-row render's median (measured in the same run), a drop (an
assign posted as board.js posts it: the list's view, `target=row`, the card's version) ≤ the
list's own transition cost. Each case records its ratio in `note` so the report shows it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse

from installations.board.selectors import HANDYMEN_PER_PAGE
from installations.board.views import FIRST_ROWS
from installations.models import Handyman, Installation
from installations.statuses import Status


def board_cases(
    client: Client,
    partner_id: int,
    timed: Callable[..., dict],
    page: Callable[[Client, str], tuple[Callable, Callable]],
    *,
    bare: dict,
) -> list[dict]:
    """measure.py's `timed` and `page`, and its bare-render case (run just before)."""
    bare_ms = bare.get("median_ms")
    repeats = int(os.environ.get("BENCH_REPEATS", 30)) + 3  # measure.py's REPEATS + WARMUP
    board = reverse("board:week")
    results = []
    rest = f"{board}?after={FIRST_ROWS}"
    for name, url in (
        (f"board: week (big partner, the first {FIRST_ROWS} of 25 handymen)", board),
        (f"board: week, the other {HANDYMEN_PER_PAGE - FIRST_ROWS} rows (as they scroll in)", rest),
        ("board: week, all 25 rows at once (?rows=all, no JavaScript)", f"{board}?rows=all"),
        ("board: day by window (big partner)", f"{board}?day={_today()}"),
        ("board: week, search", f"{board}?q=Okonkwo"),
    ):
        do, check = page(client, url)
        if url == rest:  # asked by htmx, as the page asks for them

            def do(url: str = url) -> Any:
                return client.get(url, headers={"HX-Request": "true"})

        result = timed(name, do, check, paired=True)
        result["url"] = url
        if "median_ms" in result and (result.get("over_bare") or bare_ms):
            ratio = result.get("over_bare") or result["median_ms"] / bare_ms
            target = " (target ≤ 3×)" if url == board else ""
            result["note"] = f"{ratio:.1f}× the bare render{target}"
        results.append(result)
        _say(result)
    results.append(_drop_case(client, partner_id, timed=timed, repeats=repeats))
    _say(results[-1])
    return results


def _today() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()


def _drop_case(
    client: Client, partner_id: int, *, timed: Callable[..., dict], repeats: int
) -> dict:
    """Drop an Unassigned card on a handyman: POST partner:assign as board.js does. The jobs are
    in the future (no day off, no conflict confirmation needed: confirm_conflict=1 as a
    confirmed drop sends it)."""
    handyman = Handyman.objects.filter(partners=partner_id).order_by("pk").first()
    fresh = list(
        Installation.objects.filter(partner_id=partner_id, status=Status.SCHEDULED)
        .order_by("-scheduled_date", "-id")
        .values_list("pk", "version")[: repeats + 10]
    )
    if handyman is None or len(fresh) < repeats + 10:
        return {"name": "board: drop (assign)", "skipped": "not enough SCHEDULED rows"}
    queue = iter(fresh)

    def do():
        pk, version = next(queue)
        return client.post(
            reverse("partner:assign", args=[pk]),
            {
                "handyman": handyman.pk,
                "version": version,
                "target": "row",
                "next": reverse("board:week"),
                "confirm_conflict": "1",
            },
            headers={"HX-Request": "true"},
        )

    def check(response: Any) -> str | None:
        return None if response.status_code == 200 else f"HTTP {response.status_code}"

    return timed("board: drop (assign, through the list's view)", do, check)


def _say(result: dict) -> None:
    line = result.get("skipped") or (
        f"{result['median_ms']} ms median, {result['queries']} queries"
        + (f" ({result['note']})" if result.get("note") else "")
    )
    print(f"  {result['name']}: {line}", file=sys.stderr, flush=True)
