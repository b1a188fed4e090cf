"""Reads for the webhook settings pages, scoped to one partner."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Partner
from .delivery import WAIT_LIMIT
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

RECENT_DELIVERIES = 25


def endpoints_for_partner(partner: Partner) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(partner=partner).order_by("created_at", "id")


def _count(deliveries: QuerySet[WebhookDelivery]) -> Coalesce:
    counted = deliveries.order_by().values("endpoint").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def endpoints_with_waiting(
    partner: Partner, *, now: datetime | None = None
) -> QuerySet[WebhookEndpoint]:
    """The partner's endpoints, each with `waiting`: the deliveries held for Resume that Resume
    will send, and `too_old`: those held past WAIT_LIMIT, which Resume gives up on (as
    services.endpoint_resume decides). A test event is never held. One query for every
    endpoint, through the pending deliveries' partial index."""
    cutoff = (now or timezone.now()) - WAIT_LIMIT
    held = WebhookDelivery.objects.filter(
        endpoint=OuterRef("pk"), status=WebhookDelivery.State.PENDING
    ).exclude(event__type=WebhookEvent.TEST)
    return endpoints_for_partner(partner).annotate(
        waiting=_count(held.filter(created_at__gte=cutoff)),
        too_old=_count(held.filter(created_at__lt=cutoff)),
    )


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
