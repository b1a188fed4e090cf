"""The change feed's reads: a page's stamp, and what changed in a scope since a stamp."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from .models import LiveChange, LiveCounter
from .services import handyman_scope, partner_scope

# More changes than this since a page's stamp: the page is told to reload instead (a tab that
# slept through a busy afternoon gets a fresh page, not a thousand swaps).
MAX_CHANGES = 200


def stamp(scope: str) -> int:
    """The scope's current number (0 before its first change). Pages read it BEFORE their data,
    so a change committed in between is delivered again rather than missed."""
    return LiveCounter.objects.filter(scope=scope).values_list("seq", flat=True).first() or 0


def partner_stamp(partner_id: int) -> int:
    return stamp(partner_scope(partner_id))


def handyman_stamp(handyman_id: int) -> int:
    return stamp(handyman_scope(handyman_id))


@dataclass(frozen=True)
class Changes:
    owner_id: int  # the partner's (or handyman's) id
    stamp: int  # the newest number seen (the `since` asked for when nothing changed)
    installation_ids: list[int]  # distinct, in the order of their last change
    gap: bool  # numbers were pruned (or too many changes): the page must reload


def _changes(rows_of_scope: Any, owner_id: int, since: int) -> Changes:
    # One query, a range scan of the scope's (owner, seq) unique index.
    found = list(
        rows_of_scope.filter(seq__gt=since)
        .order_by("seq")
        .values_list("seq", "installation_id")[: MAX_CHANGES + 1]
    )
    latest: dict[int, None] = {}
    for _, pk in found:
        latest.pop(pk, None)  # an installation counts where it last changed
        latest[pk] = None
    # Numbers are gap-free: a first number after since + 1 means pruned rows in between.
    gap = bool(found) and (found[0][0] != since + 1 or len(found) > MAX_CHANGES)
    return Changes(
        owner_id=owner_id,
        stamp=found[-1][0] if found else since,
        installation_ids=list(latest),
        gap=gap,
    )


def partner_changes(*, partner_id: int, since: int) -> Changes:
    """What changed for the partner after `since`."""
    return _changes(LiveChange.objects.filter(partner_id=partner_id), partner_id, since)


def handyman_changes(*, handyman_id: int, since: int) -> Changes:
    """What changed in the handyman's jobs (and jobs he just lost) after `since`."""
    return _changes(LiveChange.objects.filter(handyman_id=handyman_id), handyman_id, since)


def partner_page_feed(user: Any) -> dict[str, Any] | None:
    """What a partner page puts in its opt-in element: the feed's URL and its stamp. Call it
    BEFORE reading the page's data (see stamp)."""
    profile = getattr(user, "partner_profile", None)
    if profile is None:
        return None
    return {"url": reverse("live:partner"), "stamp": partner_stamp(profile.partner_id)}


def handyman_page_feed(handyman: Any) -> dict[str, Any]:
    return {"url": reverse("live:handyman"), "stamp": handyman_stamp(handyman.pk)}
