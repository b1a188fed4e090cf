"""The change feed's reads: a page's stamp, and what changed in a scope since a stamp."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.core import signing
from django.db import connection
from django.urls import reverse

from .models import LiveChange, LiveCounter
from .services import handyman_scope, partner_scope

# More changes than this since a page's stamp: the page is told to reload instead (a tab that
# slept through a busy afternoon gets a fresh page, not a thousand swaps).
MAX_CHANGES = 200

# The page's feed key: which scope it follows, signed for the user it was drawn for. It lets the
# feed answer "nothing changed" without reading the session (see views.at_rest); it never
# unlocks a row: anything with changes goes through the login.
FEED_KEY_SALT = "installations.live.feed-key"
FEED_KEY_MAX_AGE = 12 * 3600  # a page older than a working day asks through its session


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
    # Those whose status moved since the stamp; the others only had their details changed.
    status_changed: frozenset[int] = frozenset()


def _changes(rows_of_scope: Any, owner_id: int, since: int) -> Changes:
    # One query, a range scan of the scope's (owner, seq) unique index.
    found = list(
        rows_of_scope.filter(seq__gt=since)
        .order_by("seq")
        .values_list("seq", "installation_id", "status_changed")[: MAX_CHANGES + 1]
    )
    latest: dict[int, None] = {}
    for _, pk, _status_changed in found:
        latest.pop(pk, None)  # an installation counts where it last changed
        latest[pk] = None
    # Numbers are gap-free: a first number after since + 1 means pruned rows in between.
    gap = bool(found) and (found[0][0] != since + 1 or len(found) > MAX_CHANGES)
    return Changes(
        owner_id=owner_id,
        stamp=found[-1][0] if found else since,
        installation_ids=list(latest),
        status_changed=frozenset(pk for _, pk, moved in found if moved),
        gap=gap,
    )


def partner_changes(*, partner_id: int, since: int) -> Changes:
    """What changed for the partner after `since`."""
    return _changes(LiveChange.objects.filter(partner_id=partner_id), partner_id, since)


def handyman_changes(*, handyman_id: int, since: int) -> Changes:
    """What changed in the handyman's jobs (and jobs he just lost) after `since`."""
    return _changes(LiveChange.objects.filter(handyman_id=handyman_id), handyman_id, since)


def feed_key(*, user_id: int, kind: str, owner_id: int) -> str:
    return signing.dumps([user_id, kind, owner_id], salt=FEED_KEY_SALT, compress=False)


def feed_key_owner(key: str, kind: str) -> int | None:
    """The partner's (kind "p") or handyman's ("h") id a genuine, recent key follows."""
    try:
        _user_id, key_kind, owner_id = signing.loads(
            key, salt=FEED_KEY_SALT, max_age=FEED_KEY_MAX_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    return owner_id if key_kind == kind and isinstance(owner_id, int) else None


# "The newest number of this scope is N", as read from the database, kept in this process for
# at most NEWEST_MAX_AGE seconds. Every open page asks every few seconds; with this, each app
# server asks the database about a scope at most about once a second however many pages follow
# it, and a refresh at rest costs no query at all. It is a cache of a database read, never the
# truth: a change committed by this process forgets its scopes at once (services.live_record),
# one committed by another server is seen within NEWEST_MAX_AGE (well inside the 5 s promise).
NEWEST_MAX_AGE = 1.0
_newest: dict[tuple[str, int], tuple[float, int]] = {}


def forget_newest(kind: str, owner_id: int) -> None:
    _newest.pop((kind, owner_id), None)


def forget_all() -> None:
    """Every scope is asked of the database again (tests: each starts with nothing memoised)."""
    _newest.clear()


def changed_since(*, kind: str, owner_id: int, since: int) -> bool:
    """Has anything changed in the scope after `since`? At most one indexed query (the scope's
    counter, by its unique key), in plain SQL: this is the question every open page asks every
    few seconds, so not even the ORM's compile; none while the newest number read is fresh."""
    key = (kind, owner_id)
    now = clock.monotonic()
    known = _newest.get(key)
    if known is not None and now - known[0] < NEWEST_MAX_AGE:
        return known[1] > since
    table = connection.ops.quote_name(LiveCounter._meta.db_table)
    scope = partner_scope(owner_id) if kind == "p" else handyman_scope(owner_id)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq FROM {table} WHERE scope = %s", [scope])
        row = cursor.fetchone()
    newest = int(row[0]) if row else 0
    if len(_newest) > 100_000:  # a bound on memory whatever the number of scopes
        _newest.clear()
    _newest[key] = (now, newest)
    return newest > since


def _page_feed(
    name: str, user: Any, kind: str, owner_id: int, seq: int | None = None
) -> dict[str, Any]:
    key = feed_key(user_id=user.pk, kind=kind, owner_id=owner_id)
    if seq is None:
        seq = stamp(partner_scope(owner_id) if kind == "p" else handyman_scope(owner_id))
    return {"url": f"{reverse(name)}?key={quote(key)}", "stamp": seq}


def partner_page_feed(
    user: Any, *, locate: bool = False, seq: int | None = None
) -> dict[str, Any] | None:
    """What a partner page puts in its opt-in element: the feed's URL (with the page's key) and
    its stamp. Call it BEFORE reading the page's data (see stamp). `locate`: the page shows too
    many records to list them all in every question (the board); it says where the changed ones
    sit only when the feed asks (views.Locate). `seq`: the stamp, when the page read it with
    its first query (the board: board.selectors.stamp_and_overdue)."""
    profile = getattr(user, "partner_profile", None)
    if profile is None:
        return None
    return {**_page_feed("live:partner", user, "p", profile.partner_id, seq), "locate": locate}


def handyman_page_feed(handyman: Any) -> dict[str, Any]:
    return _page_feed("live:handyman", handyman.user, "h", handyman.pk)
