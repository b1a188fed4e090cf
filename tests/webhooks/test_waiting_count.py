"""A paused endpoint's panel says how many events wait for Resume, in one query for the page."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from installations import services
from installations.models import Installation
from installations.webhooks import delivery
from installations.webhooks import services as hooks
from installations.webhooks.models import WebhookDelivery

from .conftest import add_endpoint, answer

pytestmark = pytest.mark.django_db

SETTINGS = "/installations/settings/"


@pytest.fixture
def acme(cast) -> Client:
    client = Client()
    client.force_login(cast.partner_user)
    return client


def waiting_line(client: Client, endpoint) -> str:
    page = client.get(SETTINGS).content.decode()
    found = re.search(rf'id="endpoint-{endpoint.pk}-waiting">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


def raise_events(cast, count: int) -> None:
    """`count` status changes for the partner's endpoints: one assignment per new job, each on
    its own day (the handyman cannot be in two places)."""
    for _ in range(count):
        day = timezone.localdate() + timedelta(days=1 + Installation.objects.count())
        services.installation_assign(
            installation=cast.installation(scheduled_date=day),
            handyman=cast.handyman,
            actor=cast.partner_user,
        )


def test_a_paused_endpoints_panel_counts_its_waiting_events_in_words(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    assert waiting_line(acme, endpoint) == ""  # active: nothing waits, nothing to say
    hooks.endpoint_pause(endpoint=endpoint)
    assert waiting_line(acme, endpoint) == "No events are waiting."
    raise_events(cast, 1)
    assert waiting_line(acme, endpoint) == "1 event is waiting and will be sent when you resume it."
    raise_events(cast, 2)
    assert (
        waiting_line(acme, endpoint) == "3 events are waiting and will be sent when you resume it."
    )


def test_only_what_resume_will_send_is_counted_as_waiting(acme, cast, receiver, second_receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    other = add_endpoint(cast.partner, second_receiver.url)  # its own count, not this one's
    raise_events(cast, 1)
    assert delivery.deliver(endpoint.deliveries.get().pk) == "delivered"  # sent: not waiting
    hooks.endpoint_pause(endpoint=endpoint)
    hooks.endpoint_pause(endpoint=other)
    raise_events(cast, 2)
    receiver.then(answer(500))
    acme.post(f"{SETTINGS}endpoints/{endpoint.pk}/test/", {"token": str(uuid.uuid4())})
    test = endpoint.deliveries.get(event__type="webhook.test")
    assert delivery.deliver(test.pk) == "retry"  # pending, but a test is never held
    assert waiting_line(acme, endpoint).startswith("2 events are waiting")
    assert waiting_line(acme, other).startswith("3 events are waiting")


def test_events_past_the_wait_limit_are_counted_apart_as_not_to_be_sent(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    hooks.endpoint_pause(endpoint=endpoint)
    raise_events(cast, 3)
    old = timezone.now() - delivery.WAIT_LIMIT - timedelta(minutes=1)
    WebhookDelivery.objects.filter(pk=endpoint.deliveries.order_by("id")[0].pk).update(
        created_at=old
    )
    assert waiting_line(acme, endpoint) == (
        "2 events are waiting and will be sent when you resume it. 1 older event waited more "
        "than 7 days and will not be sent; after Resume, Redeliver sends it."
    )
    WebhookDelivery.objects.update(created_at=old)
    assert waiting_line(acme, endpoint) == (
        "No events are waiting. 3 older events waited more than 7 days and will not be sent; "
        "after Resume, Redeliver sends them."
    )


def test_the_counts_cost_the_same_queries_for_one_paused_endpoint_as_for_many(acme, cast, receiver):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert acme.get(SETTINGS).status_code == 200
        return len(ctx.captured_queries)

    first = add_endpoint(cast.partner, receiver.url)
    hooks.endpoint_pause(endpoint=first)
    raise_events(cast, 1)
    acme.get(SETTINGS)  # warm the session
    one = page_queries()
    for i in range(4):
        hooks.endpoint_pause(endpoint=add_endpoint(cast.partner, f"{receiver.url}/{i}"))
    raise_events(cast, 2)
    assert WebhookDelivery.objects.filter(status="pending").count() == 1 + 2 * 5
    assert page_queries() == one
    assert "2 events are waiting" in acme.get(SETTINGS).content.decode()
