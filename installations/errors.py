"""Words every layer shares. Kept below services, notifications and views so that none of them
has to import another lazily to reach them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Installation


class TransitionRefused(Exception):
    """The one domain error: a change that cannot happen now (stale page, a status that no longer
    allows it, or an actor without the right). ``message`` is a sentence for a person."""

    def __init__(self, message: str, *, installation: Installation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.installation = installation
