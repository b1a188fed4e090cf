"""Every write to a partner's webhook endpoints and deliveries. The caller has scoped the endpoint
to the signed-in partner (views: `_endpoint_for_partner`)."""

from __future__ import annotations

import base64
import secrets
import uuid
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..errors import TransitionRefused
from ..models import Partner
from ..services import actor_name, once_per_token
from .delivery import LEASE, ROTATION_OVERLAP, WAIT_LIMIT, enqueue
from .events import record_test_event
from .models import WebhookDelivery, WebhookEndpoint

SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes


def new_secret() -> str:
    """A Standard Webhooks signing secret: "whsec_" and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def endpoint_create(
    *,
    partner: Partner,
    url: str,
    event_types: list[str],
    statuses: list[str],
    description: str = "",
    token: uuid.UUID | None = None,
) -> WebhookEndpoint:
    """A new active endpoint with a fresh secret. With the form's one-time `token`, a repeat of
    the same form answers with the endpoint it made (``replayed`` set; its secret is not shown
    again). The token's UNIQUE column decides, as in services.once_per_token."""
    now = timezone.now()
    return once_per_token(
        token,
        lambda: WebhookEndpoint.objects.create(
            partner=partner,
            url=url.strip(),
            description=description.strip(),
            event_types=list(event_types),
            statuses=list(statuses),
            secret=new_secret(),
            creation_token=token,
            created_at=now,
            updated_at=now,
        ),
        find=lambda: WebhookEndpoint.objects.filter(creation_token=token).first(),
        ours=lambda existing: existing.partner_id == partner.pk,
    )


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    event_types: list[str],
    statuses: list[str],
    description: str = "",
) -> WebhookEndpoint:
    edited = {
        "url": url.strip(),
        "description": description.strip(),
        "event_types": list(event_types),
        "statuses": list(statuses),
    }
    if all(getattr(endpoint, name) == value for name, value in edited.items()):
        return endpoint  # the same form sent again (a double click): nothing to change
    for name, value in edited.items():
        setattr(endpoint, name, value)
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["url", "description", "event_types", "statuses", "updated_at"])
    return endpoint


def endpoint_pause(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Pause by hand: nothing is sent; new events and pending deliveries wait for Resume. An
    attempt still resolving or connecting reads the pause before it sends and stops; a request
    already written to the receiver cannot be recalled and finishes. Pausing a paused one is
    done."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.is_active:
            locked.is_active = False
            locked.paused_at = timezone.now()
            locked.paused_reason = "Paused by you."
            locked.save(update_fields=["is_active", "paused_at", "paused_reason"])
    return locked


def endpoint_resume(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> WebhookEndpoint:
    """Resume: the failure count starts again and the deliveries that waited are queued, oldest
    first. Those older than WAIT_LIMIT are given up on (failed, with a sentence). Resuming an
    active endpoint is done and queues nothing, so a double click sends once; a worker racing
    Resume is stopped by deliver's lease."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.is_active:
            return locked
        locked.is_active = True
        locked.paused_at = None
        locked.paused_reason = ""
        locked.failing_since = None
        locked.save(update_fields=["is_active", "paused_at", "paused_reason", "failing_since"])
        pending = locked.deliveries.filter(status=WebhookDelivery.State.PENDING)
        days = WAIT_LIMIT.days
        pending.filter(created_at__lt=now - WAIT_LIMIT).update(
            status=WebhookDelivery.State.FAILED,
            next_attempt_at=None,
            last_error=f"Not sent: it waited more than {days} days for this endpoint to be "
            "resumed. Redeliver sends it now.",
        )
        # Retries are due now; a lease (an attempt under way when it was paused) is kept.
        pending.filter(next_attempt_at__gt=now + LEASE).update(next_attempt_at=None)
        for pk, due in pending.order_by("id").values_list("pk", "next_attempt_at"):
            later = due if due is not None and due > now else None
            transaction.on_commit(partial(enqueue, pk, run_after=later))
    return locked


def endpoint_send_test(
    *, endpoint: WebhookEndpoint, actor: Any, token: uuid.UUID | None = None
) -> WebhookDelivery:
    """Queue one signed `webhook.test` event to this endpoint through the usual delivery (the
    address check, the signature, the retries and the attempt log), even while it is paused.
    With the form's one-time `token`, a repeat of the same form answers with the delivery it
    made (``replayed`` set). The token's UNIQUE column decides (services.once_per_token)."""
    return once_per_token(
        token,
        lambda: record_test_event(
            endpoint=endpoint, requested_by=actor_name(actor), token=token, at=timezone.now()
        ),
        # The first delivery of the event that token made.
        find=lambda: (
            WebhookDelivery.objects.filter(event__creation_token=token).order_by("id").first()
        ),
        # Another endpoint's form, or another partner's: refused.
        ours=lambda existing: existing.endpoint_id == endpoint.pk,
    )


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries, waiting ones included: there is nowhere to send
    them (a task still queued for one finds nothing and skips). Events stay for the partner's
    other endpoints."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, now: datetime | None = None
) -> WebhookEndpoint:
    """A new secret; the one it replaces keeps signing too for ROTATION_OVERLAP (both signatures
    are sent), so that the partner can switch without losing a delivery.

    Rotating again while a rotation is still in its overlap (the secret page reloaded, which
    posts again; a second tab) replaces the new secret only: the secret the partner's receiver
    uses today keeps signing until the first rotation's overlap ends, as its page said. Only
    two signatures are sent, so a secret shown by that first rotation and never used stops."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        overlapping = (
            locked.previous_secret
            and locked.previous_secret_expires_at is not None
            and locked.previous_secret_expires_at > now
        )
        if not overlapping:
            locked.previous_secret = locked.secret
            locked.previous_secret_expires_at = now + ROTATION_OVERLAP
        locked.secret = new_secret()
        locked.updated_at = now
        locked.save(
            update_fields=["previous_secret", "previous_secret_expires_at", "secret", "updated_at"]
        )
    return locked


def delivery_redeliver(*, delivery: WebhookDelivery, actor: Any = None) -> WebhookDelivery:
    """Send a delivery's event to its endpoint again, as a new delivery (same webhook-id, after
    the installation's other deliveries). If one for this event is already pending, that one is
    the answer (a double click sends once)."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        pending = (
            WebhookDelivery.objects.filter(
                event_id=delivery.event_id,
                endpoint=endpoint,
                status=WebhookDelivery.State.PENDING,
            )
            .order_by("id")
            .first()
        )
        if pending is not None:
            pending.replayed = True  # type: ignore[attr-defined]
            return pending
        if not endpoint.is_active and not delivery.event.is_test:  # a test goes out all the same
            raise TransitionRefused(
                "This endpoint is paused: resume it first, then send the delivery again. "
                "Nothing was sent."
            )
        again = WebhookDelivery.objects.create(
            event_id=delivery.event_id,
            endpoint=endpoint,
            installation_id=delivery.installation_id,
            redelivery_of=delivery,
        )
        transaction.on_commit(partial(enqueue, again.pk))
    again.replayed = False  # type: ignore[attr-defined]
    return again
