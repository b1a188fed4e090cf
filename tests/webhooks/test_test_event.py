"""“Send a test event”: one signed webhook.test event to one endpoint, the usual way."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from standardwebhooks import Webhook

from installations import services
from installations.webhooks import delivery
from installations.webhooks import services as hooks
from installations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent

from .conftest import add_endpoint, answer

pytestmark = pytest.mark.django_db

SETTINGS = "/installations/settings/"


@pytest.fixture
def immediate(settings) -> None:
    # Queued deliveries run when their on_commit callbacks run, as a worker would.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def acme(cast) -> Client:
    client = Client()
    client.force_login(cast.partner_user)
    return client


def send_url(endpoint) -> str:
    return f"{SETTINGS}endpoints/{endpoint.pk}/test/"


def token_on_page(client: Client, endpoint) -> str:
    """The one-time token of the endpoint's "Send a test event" form, as the page draws it."""
    page = client.get(SETTINGS).content.decode()
    found = re.search(rf'action="{send_url(endpoint)}">.*?name="token" value="([^"]+)"', page, re.S)
    assert found, "no Send a test event form for this endpoint"
    return found.group(1)


def test_a_test_event_is_signed_sent_and_shown_in_the_delivery_log(
    acme, cast, receiver, immediate, django_capture_on_commit_callbacks
):
    # Chose only message.failed: the test goes out whatever events the endpoint receives.
    endpoint = add_endpoint(cast.partner, receiver.url, event_types=["message.failed"])
    token = token_on_page(acme, endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.post(send_url(endpoint), {"token": token}, follow=True)
    assert response.redirect_chain == [(SETTINGS, 302)]
    page = response.content.decode()
    assert f"A test event was queued for {receiver.url}." in page
    assert "Its answer shows under “Recent deliveries” below" in page
    [got] = receiver.requests
    event = WebhookEvent.objects.get()
    Webhook(endpoint.secret).verify(got.body, got.headers)  # the usual signature
    assert got.headers["webhook-id"] == event.webhook_id and got.body == event.body.encode()
    body = json.loads(got.body)
    assert body["type"] == "webhook.test"
    assert body["data"] == {
        "endpoint": {"url": receiver.url},
        "requested_by": cast.partner_user.get_full_name() or cast.partner_user.get_username(),
    }
    sent = WebhookDelivery.objects.get()
    assert sent.status == WebhookDelivery.State.DELIVERED and sent.endpoint == endpoint
    assert WebhookAttempt.objects.get().status_code == 200  # the attempt log
    page = acme.get(SETTINGS).content.decode()
    assert (
        "<strong>webhook.test</strong>" in page and '<td data-label="Answer">200 (OK)</td>' in page
    )


def test_a_double_click_or_a_resent_form_queues_one_test_event(
    acme, cast, receiver, django_capture_on_commit_callbacks
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    token = token_on_page(acme, endpoint)
    with django_capture_on_commit_callbacks() as queued:
        first = acme.post(send_url(endpoint), {"token": token})
        again = acme.post(send_url(endpoint), {"token": token}, follow=True)
    assert first.status_code == 302
    assert WebhookEvent.objects.count() == 1 and WebhookDelivery.objects.count() == 1
    assert len([c for c in queued if getattr(c, "func", None) is delivery.enqueue]) == 1
    assert "This test event was already queued" in again.content.decode()
    # The page draws a new token: a deliberate second test is another event.
    acme.post(send_url(endpoint), {"token": token_on_page(acme, endpoint)})
    assert WebhookEvent.objects.count() == 2


def test_a_token_used_for_one_endpoint_cannot_send_to_another(acme, cast, receiver):
    one = add_endpoint(cast.partner, receiver.url)
    two = add_endpoint(cast.partner, receiver.url + "/2")
    token = str(uuid.uuid4())
    assert acme.post(send_url(one), {"token": token}).status_code == 302
    response = acme.post(send_url(two), {"token": token})
    assert response.status_code == 409
    assert "This form was already used" in response.content.decode()
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [one.pk]


def test_another_partners_endpoint_is_404_and_nothing_is_sent(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    beta = Client()
    beta.force_login(cast.other_partner_user)
    assert beta.post(send_url(endpoint), {"token": str(uuid.uuid4())}).status_code == 404
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_only_a_post_sends_a_test(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    reopened = acme.get(send_url(endpoint))  # the address reopened from the history
    assert reopened.status_code == 302 and reopened["Location"] == SETTINGS
    assert acme.put(send_url(endpoint)).status_code == 405
    assert not WebhookEvent.objects.exists()


def test_an_unreadable_token_is_refused_with_a_sentence_and_sends_nothing(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    response = acme.post(send_url(endpoint), {"token": "not-a-token"})
    assert response.status_code == 422
    assert "reload the page and try again" in response.content.decode()
    assert not WebhookEvent.objects.exists()


def test_a_paused_endpoint_gets_the_test_while_its_waiting_events_stay(
    acme, cast, receiver, immediate, django_capture_on_commit_callbacks
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    hooks.endpoint_pause(endpoint=endpoint)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    waiting = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = acme.post(send_url(endpoint), {"token": str(uuid.uuid4())}, follow=True)
    assert "though it is paused: only the test is sent" in response.content.decode()
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["webhook.test"]
    waiting.refresh_from_db()
    assert waiting.status == WebhookDelivery.State.PENDING and waiting.attempts == 0
    endpoint.refresh_from_db()
    assert not endpoint.is_active  # testing does not resume it


def test_a_failing_test_is_retried_on_the_usual_schedule_even_while_paused(
    acme, cast, receiver, django_capture_on_commit_callbacks
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    hooks.endpoint_pause(endpoint=endpoint)
    receiver.then(answer(500))
    acme.post(send_url(endpoint), {"token": str(uuid.uuid4())})
    test = WebhookDelivery.objects.get()
    now = timezone.now()
    with django_capture_on_commit_callbacks() as queued:
        assert delivery.deliver(test.pk, now=now) == "retry"
    retry = [c for c in queued if getattr(c, "func", None) is delivery.enqueue]
    assert retry and retry[0].keywords["run_after"] == now + delivery.RETRY_DELAYS[0]
    page = acme.get(SETTINGS).content.decode()
    assert (
        '<td data-label="Answer">500</td>' in page
        and "waiting for the endpoint to be resumed" not in page
    )
    assert delivery.deliver_due(now=now + timedelta(seconds=10)) == 1  # the sweep sends it too
    assert [r.headers["webhook-id"] for r in receiver.requests] == [test.event.webhook_id] * 2


def test_a_test_to_an_address_that_is_not_public_is_not_sent_and_says_why(
    acme, cast, receiver, settings
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    acme.post(send_url(endpoint), {"token": str(uuid.uuid4())})
    settings.WEBHOOKS_ALLOW_LOOPBACK = False  # production: the receiver's loopback is refused
    assert delivery.deliver(WebhookDelivery.objects.get().pk) == "retry"
    assert receiver.requests == []
    error = WebhookAttempt.objects.get().error
    assert error.startswith("Not sent:") and "a loopback address" in error


def test_a_failed_test_can_be_redelivered_while_paused(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    hooks.endpoint_pause(endpoint=endpoint)
    acme.post(send_url(endpoint), {"token": str(uuid.uuid4())})
    first = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=first.pk).update(status=WebhookDelivery.State.FAILED)
    response = acme.post(f"{SETTINGS}endpoints/{endpoint.pk}/deliveries/{first.pk}/redeliver/")
    assert response.status_code == 302
    again = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert delivery.deliver(again.pk) == "delivered"
