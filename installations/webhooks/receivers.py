"""Every history entry (status change, reschedule, override) may be a webhook event."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from ..signals import history_recorded
from .events import record_history_event


@receiver(history_recorded, dispatch_uid="webhooks.history_event")
def history_event(sender: Any, *, change: Any, installation: Any, **kwargs: Any) -> None:
    record_history_event(change=change, installation=installation)
