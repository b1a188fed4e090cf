"""Every history entry (status change, reschedule, override) and every edit of an open record's
fields may be a webhook event."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from ..signals import history_recorded, installation_edited
from .events import record_edit_event, record_history_event


@receiver(history_recorded, dispatch_uid="webhooks.history_event")
def history_event(sender: Any, *, change: Any, installation: Any, **kwargs: Any) -> None:
    record_history_event(change=change, installation=installation)


@receiver(installation_edited, dispatch_uid="webhooks.edit_event")
def edit_event(
    sender: Any, *, installation: Any, changes: Any = None, by: str = "", **kwargs: Any
) -> None:
    record_edit_event(
        installation=installation, changes=changes or {}, by=by, at=installation.updated_at
    )
