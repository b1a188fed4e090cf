"""The blocks staff see and lift (admin/blocks.py): a counter at or over its limit in a window
that has not ended refuses its subject's next request until the window ends. Each counter is
described in words from the registry of limits (services.LIMITS), never shown by its raw key,
and lifted by deleting it: the subject's next request starts a new count."""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import services
from .models import RateCount
from .services import LIMITS, Kind, Subject


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 10


@dataclass(frozen=True)
class Block:
    """One counter in words. `what` names the limit and its subject: an address, an email
    address, an installation's customer link (by the installation's number) or an account."""

    pk: int
    what: str
    count: int
    allowed: int | None  # None: a limit no longer in the registry
    ends_at: datetime
    in_force: bool
    state: str  # "Blocked", "Under its limit", "Window ended"

    @property
    def requests(self) -> str:
        return f"{self.count} of {self.allowed}" if self.allowed is not None else str(self.count)

    @property
    def until(self) -> str:
        """When the window ends, in the portal's time zone (TIME_ZONE), named."""
        local = timezone.localtime(self.ends_at)
        return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"

    @property
    def sentence(self) -> str:
        return f"{self.what}: {self.requests} requests, until {self.until}"


def _split(key: str) -> tuple[Kind | None, str]:
    name, _, subject = key.partition(":")
    return LIMITS.get(name), subject


def _subject_words(kind: Kind, subject: str, names: dict[int, str]) -> str:
    if kind.subject is Subject.ADDRESS:
        return f"from the address {subject}"
    if kind.subject is Subject.EMAIL:
        return f"for {subject}"
    if kind.subject is Subject.INSTALLATION:
        return f"of installation #{subject}"
    name = names.get(int(subject)) if _is_id(subject) else None
    return f"of {name} (user #{subject})" if name else f"of user #{subject} (no longer exists)"


def describe(rows: Iterable[RateCount], *, now: datetime | None = None) -> list[Block]:
    """The rows in words, in their order; one query for the names of the accounts among them."""
    rows = list(rows)
    now = now or services._now()
    user_ids = set()
    for row in rows:
        kind, subject = _split(row.key)
        if kind is not None and kind.subject is Subject.USER and _is_id(subject):
            user_ids.add(int(subject))
    names: dict[int, str] = {}
    if user_ids:
        User = get_user_model()
        names = dict(User.objects.filter(pk__in=user_ids).values_list("pk", User.USERNAME_FIELD))
    return [_block(row, names, now) for row in rows]


def _block(row: RateCount, names: dict[int, str], now: datetime) -> Block:
    kind, subject = _split(row.key)
    if kind is None:
        # A key this code does not know may hold anything, a secret too: named by a hash.
        digest = hashlib.sha256(row.key.encode()).hexdigest()[:12]
        what, allowed = f"A limit the portal no longer counts (key {digest}…)", None
    else:
        what, allowed = f"{kind.counts} {_subject_words(kind, subject, names)}", kind.limit().count
    ended = row.ends_at <= now
    full = allowed is not None and row.count >= allowed
    state = "Window ended" if ended else "Blocked" if full else "Under its limit"
    return Block(
        pk=row.pk,
        what=what,
        count=row.count,
        allowed=allowed,
        ends_at=row.ends_at,
        in_force=full and not ended,
        state=state,
    )


def in_force(now: datetime | None = None) -> Q:
    """The counters that refuse their subject's next request now (as ratelimit_hit reads them):
    at or over their limit, as the settings say it now, in a window that has not ended."""
    full = [
        Q(key__startswith=f"{kind.name}:", count__gte=kind.limit().count)
        for kind in LIMITS.values()
    ]
    return reduce(operator.or_, full) & Q(ends_at__gt=now or services._now())


def matching(term: str) -> Q:
    """Counters a staff member's search term finds: a part of the address or email address in
    the key; an address as the limits count it (an IPv6 address finds its /64); an account's
    email address or name (its password changes are counted by its id); an installation's
    number, with or without "#" (its customer link's counters)."""
    term = term.strip()
    found = Q(key__icontains=term)
    counted = services.counted_address(term)
    if counted != term[:45]:
        found |= Q(key__icontains=counted)
    User = get_user_model()
    users = User.objects.filter(Q(email__iexact=term) | Q(**{User.USERNAME_FIELD: term}))
    keys = [f"password-change:{pk}" for pk in users.values_list("pk", flat=True)[:20]]
    number = term.removeprefix("#")
    if _is_id(number):
        keys += [
            f"{kind.name}:{int(number)}"
            for kind in LIMITS.values()
            if kind.subject is Subject.INSTALLATION
        ]
    if keys:
        found |= Q(key__in=keys)
    return found


@dataclass(frozen=True)
class Lifted:
    blocks: list[Block]  # what was lifted, as it stood
    missing: int  # asked for but gone: lifted already, or swept when its window ended


def blocks_lift(*, ids: Collection[int], actor: Any) -> Lifted:
    """Delete the counters in one transaction and write one admin log entry for each, saying
    what was lifted. Counters already gone are counted, not an error: a second click (or a
    colleague's) finds the block lifted."""
    content_type = ContentType.objects.get_for_model(RateCount)
    with transaction.atomic():
        rows = list(RateCount.objects.select_for_update().filter(pk__in=ids).order_by("-pk"))
        lifted = describe(rows)
        RateCount.objects.filter(pk__in=[row.pk for row in rows]).delete()
        LogEntry.objects.bulk_create(
            [
                LogEntry(
                    user_id=actor.pk,
                    content_type=content_type,
                    object_id=str(block.pk),
                    object_repr=block.what[:200],
                    action_flag=DELETION,
                    change_message=(
                        f"Lifted the block: {block.sentence}."
                        if block.in_force
                        else f"Cleared the counter ({block.state.lower()}): {block.sentence}."
                    ),
                )
                for block in lifted
            ]
        )
    return Lifted(blocks=lifted, missing=len(set(ids)) - len(rows))
