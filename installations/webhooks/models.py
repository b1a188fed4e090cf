"""Webhook endpoints, the events written with each change, and each endpoint's deliveries."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = ["WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent"]


class WebhookEndpoint(models.Model):
    """Where a partner wants events sent. Paused endpoints get no new deliveries and send none."""

    class EventType(models.TextChoices):
        STATUS_CHANGED = "installation.status_changed", "Status changes"
        RESCHEDULED = "installation.rescheduled", "Date or window moved"
        # Fields changed with no status change and no move (those two have their own types): an
        # edit of the address or notes, or a staff correction of a finished record.
        UPDATED = "installation.updated", "Details edited, or corrected by our staff"
        MESSAGE_FAILED = "message.failed", "A message to a customer could not be delivered"

    partner = models.ForeignKey(
        "installations.Partner", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField("URL", max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # Status codes a status change must reach to be sent; empty: every status change.
    statuses = models.JSONField(default=list, blank=True)
    # Standard Webhooks secrets ("whsec_" + base64). They must be readable to sign with.
    secret = models.CharField(max_length=100)
    # After a rotation the old secret signs too (both signatures sent) until it expires.
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    paused_reason = models.CharField(max_length=300, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # Set by the first failed attempt after a success; a day of failures pauses the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True)
    creation_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["partner", "is_active"], name="webhook_endpoint_partner")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str, to_status: str = "") -> bool:
        if event_type not in self.event_types:
            return False
        if event_type == self.EventType.STATUS_CHANGED and self.statuses:
            return to_status in self.statuses
        return True

    def signing_secrets(self, now) -> list[str]:
        secrets = [self.secret]
        expires = self.previous_secret_expires_at
        if self.previous_secret and expires is not None and now < expires:
            secrets.append(self.previous_secret)
        return secrets

    def event_labels(self) -> list[str]:
        labels = dict(self.EventType.choices)
        return [labels[t] for t in self.event_types if t in labels]


class WebhookEvent(models.Model):
    """One thing that happened, written in the change's own transaction. The body is stored as
    the exact bytes that are signed and sent, so a redelivery sends the same payload."""

    # Sent to one endpoint when its partner asks ("Send a test event"), whatever the endpoint's
    # chosen events, and even while it is paused: not a choice of EventType.
    TEST = "webhook.test"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(
        "installations.Partner", on_delete=models.CASCADE, related_name="webhook_events"
    )
    installation = models.ForeignKey(
        "installations.Installation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_events",
    )
    type = models.CharField(max_length=64)
    body = models.TextField()
    # A test event's form token: a resent "Send a test event" form makes one event.
    creation_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "created_at"], name="webhook_event_partner")]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"

    @property
    def webhook_id(self) -> str:
        # The same for every attempt and redelivery: receivers deduplicate on it.
        return f"msg_{self.public_id.hex}"

    @property
    def is_test(self) -> bool:
        return self.type == self.TEST


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Copied from the event: deliveries for one installation and endpoint go out in id order.
    installation = models.ForeignKey(
        "installations.Installation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # "Is an earlier one for this installation still pending?", asked before each send.
            models.Index(
                fields=["endpoint", "installation", "id"],
                condition=Q(status="pending"),
                name="webhook_delivery_queue",
            ),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"

    @property
    def held_by_pause(self) -> bool:
        """A paused endpoint's deliveries wait for Resume, except the test events its partner
        sends to check the receiver before resuming (reads the endpoint and the event)."""
        return not self.endpoint.is_active and not self.event.is_test


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as the partner sees it on the settings page."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]} at {self.started_at:%Y-%m-%d %H:%M:%S}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error
