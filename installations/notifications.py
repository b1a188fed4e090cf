"""Messages that follow a change. Rows are created inside the change's own transaction, so that a
rolled-back change sends nothing and a committed one is never forgotten."""

from __future__ import annotations

from typing import Any


def queue_for_change(*, installation: Any, change: Any) -> None:
    """Create the messages a status change promises. (Filled in by the notifications work.)"""
    return None


def message_retry(*, message: Any) -> None:
    """Staff ask for a failed message to be tried again. (Filled in by the notifications work.)"""
    raise NotImplementedError
