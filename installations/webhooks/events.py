"""Webhook events, written inside the transaction of the change that causes them: one event row
and one delivery row per endpoint of the installation's partner that wants it, paused or not.
Nothing is written when no endpoint wants the event. Delivery to an active endpoint is queued on
commit (a rolled-back change sends nothing); a paused endpoint's delivery waits, pending, until
services.endpoint_resume queues it. The payload is built here, once, and stored as the exact
bytes that are signed.

A test event ("Send a test event") is written here too, for the one endpoint it is asked for."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..history_text import handymen_named_in
from ..models import Installation, Message, StatusChange
from ..statuses import Status, group_of
from .delivery import enqueue
from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

STATUS_CHANGED = WebhookEndpoint.EventType.STATUS_CHANGED.value
RESCHEDULED = WebhookEndpoint.EventType.RESCHEDULED.value
MESSAGE_FAILED = WebhookEndpoint.EventType.MESSAGE_FAILED.value
UPDATED = WebhookEndpoint.EventType.UPDATED.value

# The fields whose old and new values an `installation.updated` event carries: the booking and
# its outcome as the partner and our staff state them, all shown on the partner's own record
# page. Any other field that changed (the handyman's completion notes, the name the customer
# signed with) is named in "fields" without its values: those are other people's words and
# evidence, which the partner reads on its page rather than in every receiver's logs.
VALUE_FIELDS = frozenset(
    {
        "site_address",
        "notes",
        "scheduled_date",
        "window_start",
        "window_end",
        "handyman",
        "partner_reference",
        "rejection_reason",
        "cancellation_reason",
    }
)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _status(code: str) -> dict[str, str] | None:
    if not code:
        return None
    return {"code": code, "label": str(Status(code).label)}


def installation_data(installation: Installation) -> dict[str, Any]:
    group = group_of(installation.status)
    handyman = installation.handyman
    return {
        "id": installation.pk,
        "status": _status(installation.status),
        "group": {"slug": group.slug, "label": str(group.label)},
        "scheduled_date": installation.scheduled_date.isoformat(),
        "window": {
            "start": installation.window_start.strftime("%H:%M"),
            "end": installation.window_end.strftime("%H:%M"),
        },
        "handyman": {"name": handyman.display_name} if handyman is not None else None,
        "customer": {"name": installation.customer.name},
        "partner_reference": installation.partner_reference or None,
    }


def change_data(change: StatusChange) -> dict[str, Any]:
    return {
        "id": change.pk,
        "kind": change.kind,
        "transition": change.transition or None,
        "by": change.actor_name,
        "at": _iso(change.created_at),
        "from": _status(change.from_status),
        "to": _status(change.to_status),
        "reason": change.reason,
        "changes": change.changes or {},
    }


def _field_name(field: str) -> str:
    return "handyman" if field == "handyman_id" else field  # an override may name either


def _shown(field: str, value: Any, handymen: dict[int, str]) -> Any:
    """A changed value as the payload shows it (`changes` hold them as services._plain made
    them: ids for records, str() for dates and times)."""
    if value in (None, ""):
        return None
    if field == "handyman":
        return {"name": handymen.get(value, "")}
    if field in ("window_start", "window_end"):
        return str(value)[:5]  # "09:00", as installation_data's window
    return value


def edit_data(
    *,
    change_id: int | None,
    kind: str,
    by: str,
    at: datetime,
    changes: dict[str, list[Any]],
    reason: str = "",
) -> dict[str, Any]:
    """The `change` of an `installation.updated` event. A staff correction of a finished record
    (kind "override") carries its reason: the partner's record page shows it beside the change."""
    handymen = handymen_named_in([changes])
    fields = [_field_name(f) for f in changes]
    return {
        "id": change_id,  # the history entry; an edit of an open record has none
        "kind": kind,
        "staff_correction": kind == StatusChange.Kind.OVERRIDE,
        "by": by,
        "at": _iso(at),
        "reason": reason or None,
        "fields": fields,
        "changes": {
            name: [_shown(name, old, handymen), _shown(name, new, handymen)]
            for field, (old, new) in changes.items()
            if (name := _field_name(field)) in VALUE_FIELDS
        },
    }


def _body(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    # Compact and stable: the stored string is what is signed and sent, byte for byte.
    payload = {"type": event_type, "timestamp": _iso(at), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def _write(
    *,
    partner_id: int,
    installation: Installation | None,
    event_type: str,
    at: datetime,
    data: Any,
    to_status: str = "",
) -> WebhookEvent | None:
    endpoints = [
        endpoint
        # Paused ones too: their deliveries wait for Resume instead of being lost.
        for endpoint in WebhookEndpoint.objects.filter(partner_id=partner_id)
        if endpoint.wants(event_type, to_status)
    ]
    if not endpoints:
        return None
    event = WebhookEvent.objects.create(
        partner_id=partner_id,
        installation=installation,
        type=event_type,
        body=_body(event_type, at, data() if callable(data) else data),
        created_at=at,
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            event=event,
            endpoint=endpoint,
            installation=installation,
            created_at=at,
        )
        for endpoint in endpoints
    )
    active = {endpoint.pk for endpoint in endpoints if endpoint.is_active}
    for delivery in deliveries:
        if delivery.endpoint_id in active:
            transaction.on_commit(partial(enqueue, delivery.pk))
    return event


def record_test_event(
    *, endpoint: WebhookEndpoint, requested_by: str, token: uuid.UUID | None, at: datetime
) -> WebhookDelivery:
    """One test event for one endpoint, whatever events it chose and even while it is paused
    (the partner checks the receiver before resuming), queued on commit like every delivery.
    A repeated `token` raises IntegrityError (the caller's savepoint decides)."""
    data = {"endpoint": {"url": endpoint.url}, "requested_by": requested_by}
    event = WebhookEvent.objects.create(
        partner_id=endpoint.partner_id,
        type=WebhookEvent.TEST,
        body=_body(WebhookEvent.TEST, at, data),
        creation_token=token,
        created_at=at,
    )
    delivery = WebhookDelivery.objects.create(event=event, endpoint=endpoint, created_at=at)
    transaction.on_commit(partial(enqueue, delivery.pk))
    return delivery


def _event_type(change: StatusChange) -> str | None:
    if change.kind == StatusChange.Kind.RESCHEDULED:
        return RESCHEDULED
    if change.kind == StatusChange.Kind.TRANSITION:
        return STATUS_CHANGED
    if change.kind == StatusChange.Kind.OVERRIDE:
        if change.from_status != change.to_status:
            return STATUS_CHANGED  # staff moved the status by hand: still a status change
        return UPDATED  # a staff correction of a finished record's fields
    return None  # creation (not sent)


def _history_data(change: StatusChange, installation: Installation) -> dict[str, Any]:
    data: dict[str, Any] = {"installation": installation_data(installation)}
    if change.kind == StatusChange.Kind.OVERRIDE and change.from_status == change.to_status:
        data["change"] = edit_data(
            change_id=change.pk,
            kind=change.kind,
            by=change.actor_name,
            at=change.created_at,
            changes=change.changes or {},
            reason=change.reason,
        )
    else:
        data["change"] = change_data(change)
    return data


def record_history_event(*, change: StatusChange, installation: Installation) -> None:
    """The history_recorded receiver's work (inside the change's transaction)."""
    event_type = _event_type(change)
    if event_type is None:
        return
    _write(
        partner_id=installation.partner_id,
        installation=installation,
        event_type=event_type,
        at=change.created_at,
        to_status=change.to_status,
        data=lambda: _history_data(change, installation),
    )


EDITED = "edited"  # the `kind` of an edit of an open record, which has no history entry


def record_edit_event(
    *, installation: Installation, changes: dict[str, list[Any]], by: str, at: datetime
) -> None:
    """The installation_edited receiver's work (inside the edit's transaction): the fields an
    edit of an open record changed, as {field: [old, new]}. An edit that changed nothing is not
    an event."""
    if not changes:
        return
    _write(
        partner_id=installation.partner_id,
        installation=installation,
        event_type=UPDATED,
        at=at,
        data=lambda: {
            "installation": installation_data(installation),
            "change": edit_data(change_id=None, kind=EDITED, by=by, at=at, changes=changes),
        },
    )


def record_message_failed(message: Message) -> None:
    """A message we promised could not be delivered after every retry (inside the transaction
    that marks it failed)."""
    installation = (
        Installation.objects.select_related("customer", "handyman__user")
        .filter(pk=message.installation_id)
        .first()
        if message.installation_id
        else None
    )
    _write(
        partner_id=message.partner_id,
        installation=installation,
        event_type=MESSAGE_FAILED,
        at=timezone.now(),
        data=lambda: {
            "installation": installation_data(installation) if installation else None,
            "message": {
                "id": message.pk,
                "channel": message.channel,
                "recipient": message.recipient,
                "template": message.template,
                "attempts": message.attempts,
                "error": message.last_error,
            },
        },
    )
