"""A paused endpoint: events raised meanwhile wait, unattempted, and Resume sends them once."""

from __future__ import annotations

import json
import socket
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from standardwebhooks import Webhook

from installations import services
from installations.webhooks import delivery, tasks
from installations.webhooks import services as hooks
from installations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent

from .conftest import add_endpoint, answer

pytestmark = pytest.mark.django_db

SETTINGS = "/installations/settings/"


@pytest.fixture
def immediate(settings) -> None:
    # Queued deliveries run when their on_commit callbacks run, as a worker would.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def transitions(receiver) -> list[str]:
    return [json.loads(r.body)["data"]["change"]["transition"] for r in receiver.requests]


def assign_then_pause_then_set_off(cast, endpoint):
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert delivery.deliver(WebhookDelivery.objects.get().pk) == "delivered"
    hooks.endpoint_pause(endpoint=endpoint)
    services.installation_set_off(installation=inst, eta_minutes=20, actor=cast.handyman.user)
    services.installation_arrive(installation=inst, actor=cast.handyman.user)
    return inst


@pytest.mark.usefixtures("jobs_booked_today")
def test_events_raised_while_paused_wait_and_are_sent_signed_in_order_after_resume(
    cast, receiver, immediate, django_capture_on_commit_callbacks
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    assign_then_pause_then_set_off(cast, endpoint)
    waiting = WebhookDelivery.objects.filter(status=WebhookDelivery.State.PENDING).order_by("id")
    assert waiting.count() == 2  # kept, not lost
    assert transitions(receiver) == ["assign"]
    with django_capture_on_commit_callbacks(execute=True):
        hooks.endpoint_resume(endpoint=endpoint)
    assert transitions(receiver) == ["assign", "set_off", "arrive"]  # oldest first
    for got, event in zip(
        receiver.requests[1:], WebhookEvent.objects.order_by("created_at", "id")[1:], strict=True
    ):
        Webhook(endpoint.secret).verify(got.body, got.headers)  # signed at send time
        assert got.headers["webhook-id"] == event.webhook_id and got.body == event.body.encode()
    assert not WebhookDelivery.objects.exclude(status=WebhookDelivery.State.DELIVERED).exists()


def test_nothing_is_attempted_while_paused_by_the_task_the_sweep_or_the_command(
    cast, receiver, django_capture_on_commit_callbacks
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    hooks.endpoint_pause(endpoint=endpoint)
    inst = cast.installation()
    with django_capture_on_commit_callbacks() as queued:
        services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
    waiting = WebhookDelivery.objects.get()
    assert not [c for c in queued if getattr(c, "func", None) is delivery.enqueue]
    assert tasks.deliver_webhook.call(waiting.pk) == "paused"
    assert delivery.deliver_due(now=timezone.now() + timedelta(days=2)) == 0
    call_command("send_contract_reminders", stdout=StringIO())
    assert receiver.requests == []
    assert not WebhookAttempt.objects.exists()
    waiting.refresh_from_db()
    assert waiting.status == WebhookDelivery.State.PENDING and waiting.attempts == 0


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_double_resume_sends_each_waiting_event_once(
    cast, receiver, immediate, django_capture_on_commit_callbacks
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    assign_then_pause_then_set_off(cast, endpoint)
    client = Client()
    client.force_login(cast.partner_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{SETTINGS}endpoints/{endpoint.pk}/resume/").status_code == 302
        assert client.post(f"{SETTINGS}endpoints/{endpoint.pk}/resume/").status_code == 302
    assert transitions(receiver) == ["assign", "set_off", "arrive"]


@pytest.mark.usefixtures("jobs_booked_today")
def test_resume_racing_the_worker_sends_each_waiting_event_once(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    assign_then_pause_then_set_off(cast, endpoint)
    waiting = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.State.PENDING)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    hooks.endpoint_resume(endpoint=endpoint, now=now)
    # The sweep gets there first; the queue entries Resume made arrive afterwards.
    assert delivery.deliver_due(now=now) == 2
    assert [delivery.deliver(pk, now=now) for pk in waiting] == ["skipped", "skipped"]
    assert transitions(receiver) == ["assign", "set_off", "arrive"]


def test_an_attempt_under_way_when_paused_keeps_its_lease_after_resume(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    now = timezone.now()
    leased = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=leased.pk).update(
        attempts=1, next_attempt_at=now + delivery.LEASE
    )  # a worker is sending it right now
    hooks.endpoint_pause(endpoint=endpoint)
    hooks.endpoint_resume(endpoint=endpoint, now=now)
    assert delivery.deliver(leased.pk, now=now) == "skipped"
    assert receiver.requests == []


def test_a_retry_waiting_for_its_time_is_due_at_once_on_resume(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(500), answer(500))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    pk = WebhookDelivery.objects.get().pk
    now = timezone.now()
    assert delivery.deliver(pk, now=now) == "retry"
    assert delivery.deliver(pk, now=now + timedelta(seconds=5)) == "retry"  # next in 5 minutes
    hooks.endpoint_pause(endpoint=endpoint)
    resumed_at = now + timedelta(seconds=10)
    hooks.endpoint_resume(endpoint=endpoint, now=resumed_at)
    assert WebhookDelivery.objects.get(pk=pk).next_attempt_at is None
    assert delivery.deliver(pk, now=resumed_at) == "delivered"
    assert len(receiver.requests) == 3


def pause_during(monkeypatch, endpoint, moment: str) -> None:
    """Click Pause while the worker, having claimed a delivery, resolves the endpoint's name
    (`check_url`) or connects to it (the socket opened, nothing written yet)."""
    if moment == "resolving":
        real_check = delivery.check_url

        def check_url(url, **kwargs):
            hooks.endpoint_pause(endpoint=endpoint)
            return real_check(url, **kwargs)

        monkeypatch.setattr(delivery, "check_url", check_url)
    else:
        real_connect = socket.create_connection

        def create_connection(*args, **kwargs):
            connected = real_connect(*args, **kwargs)
            hooks.endpoint_pause(endpoint=endpoint)
            return connected

        monkeypatch.setattr(socket, "create_connection", create_connection)


@pytest.mark.parametrize("moment", ["resolving", "connecting"])
def test_a_pause_clicked_while_an_attempt_resolves_or_connects_stops_it_before_it_sends(
    cast, receiver, monkeypatch, moment
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    claimed = WebhookDelivery.objects.get()
    pause_during(monkeypatch, endpoint, moment)

    assert delivery.deliver(claimed.pk) == "paused"

    monkeypatch.undo()
    assert receiver.requests == []
    claimed.refresh_from_db()
    # Nothing went out: no attempt counted or logged, no lease kept, no failure counted.
    assert claimed.status == WebhookDelivery.State.PENDING
    assert (claimed.attempts, claimed.next_attempt_at) == (0, None)
    assert not WebhookAttempt.objects.exists()
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.failing_since is None
    assert delivery.deliver_due() == 0  # it waits, like the others
    hooks.endpoint_resume(endpoint=endpoint)
    assert delivery.deliver_due() == 1
    assert transitions(receiver) == ["assign"]


def test_a_test_event_claimed_before_a_pause_still_goes_out(cast, receiver, monkeypatch):
    endpoint = add_endpoint(cast.partner, receiver.url)
    sent = hooks.endpoint_send_test(endpoint=endpoint, actor=cast.partner_user)
    pause_during(monkeypatch, endpoint, "connecting")

    assert delivery.deliver(sent.pk) == "delivered"
    assert json.loads(receiver.requests[0].body)["type"] == "webhook.test"


@pytest.mark.usefixtures("jobs_booked_today")
def test_after_the_systems_own_pause_new_events_wait_and_go_out_on_resume(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(410))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [first] = WebhookDelivery.objects.values_list("pk", flat=True)
    now = timezone.now()
    assert delivery.deliver(first, now=now) == "retry"
    endpoint.refresh_from_db()
    assert not endpoint.is_active  # paused by the system, not the partner
    services.installation_set_off(installation=inst, eta_minutes=20, actor=cast.handyman.user)
    assert WebhookDelivery.objects.count() == 2
    assert delivery.deliver_due(now=now + timedelta(days=1)) == 0
    assert len(receiver.requests) == 1
    hooks.endpoint_resume(endpoint=endpoint, now=now + timedelta(hours=1))
    assert delivery.deliver_due(now=now + timedelta(hours=1)) == 2
    assert transitions(receiver) == ["assign", "assign", "set_off"]


def test_events_older_than_the_wait_limit_are_given_up_at_resume_with_a_sentence(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    hooks.endpoint_pause(endpoint=endpoint)
    first, second = cast.installation(), cast.installation()
    services.installation_assign(
        installation=first, handyman=cast.handyman, actor=cast.partner_user
    )
    services.installation_assign(
        installation=second, handyman=cast.other_handyman, actor=cast.partner_user
    )
    old, recent = WebhookDelivery.objects.order_by("id")
    later = old.created_at + delivery.WAIT_LIMIT + timedelta(minutes=1)
    WebhookDelivery.objects.filter(pk=recent.pk).update(created_at=later - timedelta(days=1))
    hooks.endpoint_resume(endpoint=endpoint, now=later)
    old.refresh_from_db()
    assert old.status == WebhookDelivery.State.FAILED and old.attempts == 0
    assert "waited more than 7 days" in old.last_error
    assert delivery.deliver_due(now=later) == 1
    assert [json.loads(r.body)["data"]["installation"]["id"] for r in receiver.requests] == [
        second.pk
    ]
    client = Client()
    client.force_login(cast.partner_user)
    page = client.get(SETTINGS).content.decode()
    assert "waited more than 7 days" in page
    assert f"deliveries/{old.pk}/redeliver/" in page  # it can still be sent by hand


def test_deleting_a_paused_endpoint_drops_its_waiting_deliveries_and_sends_nothing(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    hooks.endpoint_pause(endpoint=endpoint)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    waiting = WebhookDelivery.objects.get()
    hooks.endpoint_delete(endpoint=endpoint)
    assert not WebhookDelivery.objects.exists()
    assert WebhookEvent.objects.count() == 1  # the event stays for other endpoints
    assert delivery.deliver(waiting.pk) == "skipped"  # a queue entry left behind
    assert receiver.requests == []


def test_the_settings_page_says_events_wait_while_paused_and_go_out_on_resume(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    client = Client()
    client.force_login(cast.partner_user)
    paused = client.post(f"{SETTINGS}endpoints/{endpoint.pk}/pause/", follow=True)
    page = paused.content.decode()
    assert "Events wait and are sent when you resume it" in page  # the flash message
    assert "events wait and are sent when you resume it" in page  # the endpoint's panel
    assert "until you resume it" not in page  # the old, untrue sentence
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    page = client.get(SETTINGS).content.decode()
    assert "Pending" in page and "(waiting for the endpoint to be resumed)" in page
    resumed = client.post(f"{SETTINGS}endpoints/{endpoint.pk}/resume/", follow=True)
    page = resumed.content.decode()
    assert "the events that waited, and new ones, are sent" in page
    assert "waiting for the endpoint to be resumed" not in page
