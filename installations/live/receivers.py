"""Every change a partner or handyman can see numbers itself in the change feed."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from ..models import Installation, StatusChange
from ..signals import history_recorded, installation_edited
from .services import live_record


def _handymen_left(change: StatusChange) -> list[int | None]:
    """The handymen a change took the job away from: a reassignment names them; an admin
    override that changed the handyman keeps the old id in its `changes`."""
    left = [change.from_handyman_id]
    for key in ("handyman", "handyman_id"):
        pair = (change.changes or {}).get(key)
        if isinstance(pair, list | tuple) and pair and isinstance(pair[0], int):
            left.append(pair[0])
    return left


@receiver(history_recorded, dispatch_uid="live_history_recorded")
def number_history_entry(
    sender: Any, change: StatusChange, installation: Installation, **kwargs: Any
) -> None:
    live_record(
        installation=installation,
        handyman_ids=_handymen_left(change),
        status_changed=change.from_status != change.to_status,
    )


@receiver(installation_edited, dispatch_uid="live_installation_edited")
def number_edit(sender: Any, installation: Installation, **kwargs: Any) -> None:
    live_record(installation=installation, status_changed=False)
