"""The change feed's one write: number a change in every scope that can see it.

Called by the receivers inside the writing transaction. Scopes are bumped partner first, then
handymen in ascending id, so two transactions never wait on each other's counters in a cycle."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from ..models import Installation
from .models import LiveChange, LiveCounter


def partner_scope(partner_id: int) -> str:
    return f"p:{partner_id}"


def handyman_scope(handyman_id: int) -> str:
    return f"h:{handyman_id}"


def _next_seq(scope: str) -> int:
    # One statement that creates or bumps the counter and returns the new number; the row it
    # writes stays locked until our commit, which is what makes the numbers commit-ordered.
    table = connection.ops.quote_name(LiveCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, seq) VALUES (%s, 1) "
            f"ON CONFLICT (scope) DO UPDATE SET seq = {table}.seq + 1 RETURNING seq",
            [scope],
        )
        return int(cursor.fetchone()[0])


# A scope keeps its last KEEP numbered changes. A page further behind than MAX_CHANGES
# (selectors) is told to reload anyway, so nothing older is ever read; and a page whose stamp is
# older than what is kept sees the gap (its first number is not since + 1) and reloads too.
KEEP = 1_000
PRUNE_EVERY = 500  # every 500th number of a scope deletes what fell out of its last KEEP


def _prune(row: LiveChange) -> None:
    # The scope's counter row is locked by this transaction: no other writer of this scope
    # runs meanwhile. One range of the (scope owner, seq) unique index.
    owner = {"partner_id": row.partner_id} if row.partner_id else {"handyman_id": row.handyman_id}
    LiveChange.objects.filter(**owner, seq__lte=row.seq - KEEP).delete()


def live_record(
    *,
    installation: Installation,
    handyman_ids: Iterable[int | None] = (),
    status_changed: bool = True,
) -> None:
    """Number a change to `installation` for its partner and for each handyman who sees it
    (the one it is with now and any it just left); `status_changed`: whether it moved the
    status (what the pages say of it)."""
    handymen = sorted({pk for pk in (installation.handyman_id, *handyman_ids) if pk is not None})
    rows = [
        LiveChange(
            partner_id=installation.partner_id,
            seq=_next_seq(partner_scope(installation.partner_id)),
            installation_id=installation.pk,
            status_changed=status_changed,
        )
    ]
    rows += [
        LiveChange(
            handyman_id=pk,
            seq=_next_seq(handyman_scope(pk)),
            installation_id=installation.pk,
            status_changed=status_changed,
        )
        for pk in handymen
    ]
    LiveChange.objects.bulk_create(rows)
    for row in rows:
        if row.seq % PRUNE_EVERY == 0:
            _prune(row)
    # This process's feed answers "nothing new" from a read up to a second old (selectors):
    # its own changes are news at once (forgotten now, and again once committed, in case the
    # feed was asked in between).
    scopes = [("p", installation.partner_id), *(("h", pk) for pk in handymen)]
    _forget(scopes)
    transaction.on_commit(lambda: _forget(scopes))


def _forget(scopes: list[tuple[str, int]]) -> None:
    from .selectors import forget_newest  # selectors imports this module

    for kind, owner_id in scopes:
        forget_newest(kind, owner_id)
