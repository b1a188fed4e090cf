"""Reads for the webhook settings pages, scoped to one partner."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from ..models import Partner
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 25


def endpoints_for_partner(partner: Partner) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(partner=partner).order_by("created_at", "id")


def recent_deliveries(
    partner: Partner, *, endpoint: WebhookEndpoint | None = None, limit: int = RECENT_DELIVERIES
) -> list[WebhookDelivery]:
    """The newest deliveries of the partner's endpoints with their attempts (three queries)."""
    deliveries = WebhookDelivery.objects.filter(endpoint__partner=partner)
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    return list(
        deliveries.select_related("event", "endpoint")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("started_at", "id"))
        )
        .order_by("-created_at", "-id")[:limit]
    )


def delivery_for_partner(partner: Partner, endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    return WebhookDelivery.objects.select_related("endpoint", "event").get(
        pk=delivery_id, endpoint_id=endpoint_id, endpoint__partner=partner
    )
