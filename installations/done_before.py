"""What a person did, remembered in their own session, for when no row can say it: a deleted
row leaves nothing to find, and an added one cannot be told from someone else's. Their double
click, resent form or second tab is then answered as done; anyone else meets the ordinary
answer (a 404, an add). The admin's add pages and the webhook endpoint's delete use it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

KEPT = 20  # per ledger: the last few actions, enough for any repeat


def remember(request: HttpRequest, ledger: str, key: str, value: Any) -> None:
    """Keep `value` (JSON-serialisable) under `key` in the session's `ledger`."""
    entries = {**request.session.get(ledger, {}), key: value}
    request.session[ledger] = dict(list(entries.items())[-KEPT:])


def recalled(request: HttpRequest, ledger: str, key: str) -> Any:
    """What was kept under `key`, or None."""
    return request.session.get(ledger, {}).get(key)
