"""Events written with each change and delivered, signed, retried, in order, to a real receiver."""

from __future__ import annotations

import json
import time
from contextlib import suppress
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from installations import notifications, services
from installations import tasks as installation_tasks
from installations.models import Installation, Message, StatusChange
from installations.statuses import Status
from installations.webhooks import delivery, tasks
from installations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from installations.webhooks.services import (
    endpoint_rotate_secret,
    endpoint_send_test,
    new_secret,
)
from tests.factories import MessageFactory

from .conftest import add_endpoint, answer, endless_body, sleep_then_answer

pytestmark = pytest.mark.django_db


def deliver_all(now=None) -> list[str]:
    now = now or timezone.now()
    pks = WebhookDelivery.objects.order_by("id").values_list("pk", flat=True)
    return [delivery.deliver(pk, now=now) for pk in list(pks)]


def headers_of(received) -> dict[str, str]:
    return {k: v for k, v in received.headers.items() if k.startswith("webhook-")}


# --- What is written, and when --------------------------------------------------------------------


def test_a_status_change_arrives_signed_with_the_installation_and_the_history_entry(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    Installation.objects.filter(pk=inst.pk).update(partner_reference="SHOP-77")  # as at import
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)

    assert deliver_all() == ["delivered"]
    [got] = receiver.requests
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "installation.status_changed"
    data = payload["data"]
    assert data["installation"] == {
        "id": inst.pk,
        "status": {"code": "INSTALLER_ASSIGNED", "label": Status.INSTALLER_ASSIGNED.label},
        "group": data["installation"]["group"],
        "scheduled_date": inst.scheduled_date.isoformat(),
        "window": {"start": "09:00", "end": "11:00"},
        "handyman": {"name": cast.handyman.display_name},
        "customer": {"name": inst.customer.name},
        "partner_reference": "SHOP-77",
    }
    assert data["installation"]["group"]["slug"]
    change = data["change"]
    assert change["transition"] == "assign"
    assert change["from"]["code"] == "SCHEDULED" and change["to"]["code"] == "INSTALLER_ASSIGNED"
    assert change["by"] == cast.partner_user.get_full_name()
    assert change["at"].endswith("Z")
    event = WebhookEvent.objects.get()
    assert got.headers["webhook-id"] == event.webhook_id
    assert got.body == event.body.encode()
    assert got.headers["content-type"] == "application/json"
    # Another secret does not verify it.
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(got.body, got.headers)


def test_the_event_is_written_in_the_changes_transaction_and_rolls_back_with_it(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
        assert WebhookEvent.objects.count() == 1  # written inside, with the change
        raise Boom
    assert WebhookEvent.objects.count() == 0
    assert WebhookDelivery.objects.count() == 0


def test_the_delivery_is_queued_on_commit_and_the_worker_task_delivers_it(
    cast, receiver, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    with django_capture_on_commit_callbacks(execute=True):
        services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.State.DELIVERED


@pytest.mark.usefixtures("jobs_booked_today")
def test_only_the_events_an_endpoint_chose_are_written_for_it(cast, receiver):
    inst = cast.installation()
    arrived_only = add_endpoint(
        cast.partner,
        receiver.url,
        event_types=["installation.status_changed"],
        statuses=[Status.EN_ROUTE],
    )
    failures_only = add_endpoint(cast.partner, receiver.url, event_types=["message.failed"])
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert WebhookEvent.objects.count() == 0  # nobody wanted it: nothing written
    services.installation_set_off(installation=inst, eta_minutes=20, actor=cast.handyman.user)
    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [arrived_only.pk]
    assert not failures_only.deliveries.exists()


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_paused_endpoint_keeps_new_deliveries_and_sends_none_until_resumed(cast, receiver):
    from installations.webhooks import services as hooks

    endpoint = add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    hooks.endpoint_pause(endpoint=endpoint)
    services.installation_set_off(installation=inst, eta_minutes=20, actor=cast.handyman.user)
    assert WebhookDelivery.objects.count() == 2  # the change while paused waits for Resume
    assert deliver_all() == ["paused", "paused"]
    assert receiver.requests == []
    hooks.endpoint_resume(endpoint=endpoint)
    assert deliver_all() == ["delivered", "delivered"]


def test_a_reschedule_entry_is_sent_as_installation_rescheduled_with_its_changes(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    with transaction.atomic():
        change = StatusChange.objects.create(
            installation=inst,
            kind=StatusChange.Kind.RESCHEDULED,
            from_status=inst.status,
            to_status=inst.status,
            actor=cast.partner_user,
            actor_name="acme",
            reason="Customer asked",
            changes={"window_start": ["09:00", "13:00"], "window_end": ["11:00", "15:00"]},
        )
        services._recorded(change, inst)
    deliver_all()
    payload = Webhook(endpoint.secret).verify(
        receiver.requests[0].body, receiver.requests[0].headers
    )
    assert payload["type"] == "installation.rescheduled"
    assert payload["data"]["change"]["changes"]["window_start"] == ["09:00", "13:00"]
    assert payload["data"]["change"]["reason"] == "Customer asked"


def test_the_reschedule_service_sends_installation_rescheduled(cast, receiver):
    from datetime import time

    from installations.scheduling.services import installation_reschedule

    endpoint = add_endpoint(cast.partner, receiver.url, event_types=["installation.rescheduled"])
    inst = cast.installation()
    new_date = inst.scheduled_date + timedelta(days=2)
    installation_reschedule(
        installation=inst,
        actor=cast.partner_user,
        scheduled_date=new_date,
        window_start=time(13),
        window_end=time(15),
        reason="Customer asked",
    )
    assert deliver_all() == ["delivered"]
    got = receiver.requests[0]
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "installation.rescheduled"
    data = payload["data"]
    assert data["installation"]["scheduled_date"] == new_date.isoformat()
    assert data["installation"]["window"] == {"start": "13:00", "end": "15:00"}
    assert data["change"]["kind"] == "rescheduled" and data["change"]["reason"] == "Customer asked"
    assert data["change"]["changes"]["scheduled_date"] == [
        inst.scheduled_date.isoformat(),
        new_date.isoformat(),
    ]


def test_a_message_that_finally_fails_is_sent_as_message_failed(cast, receiver, monkeypatch):
    endpoint = add_endpoint(cast.partner, receiver.url, event_types=["message.failed"])
    inst = cast.installation()
    message = MessageFactory(
        installation=inst,
        recipient=inst.customer.email,
        attempts=notifications.MAX_ATTEMPTS - 1,
    )

    def refuse(message):
        raise ConnectionError("SMTP down")

    monkeypatch.setattr(notifications, "_send", refuse)
    assert notifications.deliver(message.pk) == "failed"
    deliver_all()
    payload = Webhook(endpoint.secret).verify(
        receiver.requests[0].body, receiver.requests[0].headers
    )
    assert payload["type"] == "message.failed"
    assert payload["data"]["message"]["id"] == message.pk
    assert "SMTP down" in payload["data"]["message"]["error"]
    assert payload["data"]["installation"]["id"] == inst.pk


# --- Retries, order, pause -----------------------------------------------------------------------


def test_a_failing_delivery_is_retried_with_growing_delays_for_more_than_a_day(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    receiver.then(*[answer(500)] * 20)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    start = now = timezone.now()
    delays, outcomes = [], []
    while True:
        outcome = delivery.deliver(pk, now=now)
        outcomes.append(outcome)
        row = WebhookDelivery.objects.get(pk=pk)
        if outcome != "retry":
            break
        # Not before its time: a delivery is never tried early.
        assert delivery.deliver(pk, now=row.next_attempt_at - timedelta(seconds=1)) == "skipped"
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert outcomes[-1] == "failed"
    assert len(outcomes) == delivery.MAX_ATTEMPTS == len(receiver.requests)
    assert delays == sorted(delays) and len(set(delays)) == len(delays)  # growing
    assert now - start > timedelta(days=1)
    assert WebhookAttempt.objects.filter(delivery_id=pk, status_code=500).count() == len(outcomes)
    assert "500" in WebhookDelivery.objects.get(pk=pk).last_error


def test_retries_wait_5_seconds_5_minutes_30_minutes_then_2_5_10_and_14_hours(cast, receiver):
    # The schedule itself, not only its shape: 8 attempts over 31.5 hours.
    add_endpoint(cast.partner, receiver.url)
    receiver.then(*[answer(500)] * 8)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    now, delays = timezone.now(), []
    while delivery.deliver(pk, now=now) == "retry":
        due = WebhookDelivery.objects.get(pk=pk).next_attempt_at
        delays.append(due - now)
        now = due
    assert delays == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        timedelta(hours=10),
        timedelta(hours=14),
    ]
    assert WebhookDelivery.objects.get(pk=pk).status == WebhookDelivery.State.FAILED
    assert len(receiver.requests) == 8


def test_a_failed_attempt_queues_its_retry_for_the_time_it_is_due(
    cast, receiver, django_capture_on_commit_callbacks
):
    # A queue that can hold a task until a given time (the database queue, here the dummy one)
    # gets the retry at once, for its time: the sweep is only the safety net.
    add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(500))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    backend = tasks.deliver_webhook.get_backend()
    assert backend.supports_defer
    backend.results.clear()
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.deliver(pk, now=now) == "retry"
    [queued] = backend.results
    assert list(queued.args) == [pk]
    assert queued.task.run_after == now + timedelta(seconds=5)


@pytest.mark.usefixtures("jobs_booked_today")
def test_deliveries_for_one_installation_go_in_order_and_others_do_not_wait(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    first, other = cast.installation(), cast.installation()
    services.installation_assign(
        installation=first, handyman=cast.handyman, actor=cast.partner_user
    )
    services.installation_set_off(installation=first, eta_minutes=20, actor=cast.handyman.user)
    services.installation_assign(
        installation=other, handyman=cast.other_handyman, actor=cast.partner_user
    )
    assigned, set_off, other_assigned = WebhookDelivery.objects.order_by("id")
    receiver.then(answer(503))
    now = timezone.now()
    assert deliver_all(now) == ["retry", "waiting", "delivered"]
    # The later event for the same installation waits even when the sweep finds it due.
    assert delivery.deliver_due(now=now + timedelta(seconds=1)) == 0
    assert delivery.deliver_due(now=now + timedelta(seconds=10)) == 2
    kinds = [json.loads(r.body)["data"]["change"]["transition"] for r in receiver.requests]
    ids = [json.loads(r.body)["data"]["installation"]["id"] for r in receiver.requests]
    assert list(zip(ids, kinds, strict=True)) == [
        (first.pk, "assign"),
        (other.pk, "assign"),
        (first.pk, "assign"),
        (first.pk, "set_off"),
    ]


@pytest.mark.usefixtures("jobs_booked_today")
def test_when_a_delivery_arrives_the_next_one_for_that_installation_is_queued(
    cast, receiver, django_capture_on_commit_callbacks
):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    services.installation_set_off(installation=inst, eta_minutes=20, actor=cast.handyman.user)
    assigned, set_off = WebhookDelivery.objects.order_by("id")
    assert delivery.deliver(set_off.pk) == "waiting"
    backend = tasks.deliver_webhook.get_backend()
    backend.results.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery.deliver(assigned.pk) == "delivered"
    # The one waiting behind it goes now, not at the next sweep.
    assert [list(queued.args) for queued in backend.results] == [[set_off.pk]]


def test_a_delivery_being_sent_is_not_claimed_again_by_another_worker(cast, receiver, monkeypatch):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    now = timezone.now()
    real_check, calls, second = delivery.check_url, [], []

    def check_url(url, **kwargs):
        # A second worker (the sweep, a duplicate queue entry) reaches the row a second after
        # the first claimed it and while the first is still sending.
        calls.append(url)
        if len(calls) == 1:
            second.append(delivery.deliver(pk, now=now + timedelta(seconds=1)))
        return real_check(url, **kwargs)

    monkeypatch.setattr(delivery, "check_url", check_url)
    assert delivery.deliver(pk, now=now) == "delivered"
    assert second == ["skipped"]
    assert len(receiver.requests) == 1


def test_a_delivery_a_dead_worker_left_claimed_is_sent_again_two_minutes_after_the_claim(
    cast, receiver, monkeypatch
):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    claimed = timezone.now()

    def dies(url, **kwargs):
        raise RuntimeError("killed")  # the worker dies after its claim, before it sends

    with monkeypatch.context() as patched:
        patched.setattr(delivery, "check_url", dies)
        with pytest.raises(RuntimeError):
            delivery.deliver(pk, now=claimed)
    assert delivery.deliver_due(now=claimed + timedelta(minutes=2, seconds=-1)) == 0
    assert delivery.deliver_due(now=claimed + timedelta(minutes=2)) == 1
    assert len(receiver.requests) == 1


def test_a_sweep_stamps_each_attempt_with_the_time_it_ran_not_the_sweeps_start(
    cast, receiver, monkeypatch
):
    # The sweep's one clock made the second attempt start (and its lease end) 0.8 s too early;
    # behind slow receivers, minutes, and its lease was over before it was sent.
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(sleep_then_answer(0.8))
    for _ in range(2):
        endpoint_send_test(endpoint=endpoint, actor=cast.partner_user)
    claims = []
    real_deliver = delivery.deliver

    def deliver(pk, *, now):
        claims.append(now)
        return real_deliver(pk, now=now)

    monkeypatch.setattr(delivery, "deliver", deliver)
    assert delivery.deliver_due() == 2
    first, second = WebhookAttempt.objects.order_by("id")
    assert second.started_at - first.started_at >= timedelta(seconds=0.75)
    assert claims[1] - claims[0] >= timedelta(seconds=0.75)


@pytest.mark.usefixtures("jobs_booked_today")
def test_an_endpoint_failing_for_a_day_is_paused_and_the_partner_is_emailed(cast, receiver):
    from django.core import mail

    cast.partner.email = "office@acme.example"
    cast.partner.save()
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(*[answer(500)] * 20)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    now = timezone.now()
    while delivery.deliver(pk, now=now) == "retry":
        endpoint.refresh_from_db()
        if now - endpoint.failing_since < timedelta(days=1):
            assert endpoint.is_active
        now = WebhookDelivery.objects.get(pk=pk).next_attempt_at
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "(a day or more)" in endpoint.paused_reason
    notice = Message.objects.get(template="webhook_paused")
    assert notice.recipient == "office@acme.example"
    assert notifications.deliver(notice.pk) == "sent"
    assert receiver.url in mail.outbox[-1].body and "paused" in mail.outbox[-1].subject
    # Events raised while it is paused wait, unattempted, for the partner to resume it.
    services.installation_set_off(installation=inst, eta_minutes=20, actor=cast.handyman.user)
    waiting = WebhookDelivery.objects.exclude(pk=pk).get()
    assert delivery.deliver(waiting.pk, now=now) == "paused"
    assert waiting.attempt_log.count() == 0


def test_a_success_resets_the_day_of_failures(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(500))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    now = timezone.now()
    assert deliver_all(now) == ["retry"]
    endpoint.refresh_from_db()
    assert endpoint.failing_since == now
    assert delivery.deliver_due(now=now + timedelta(seconds=6)) == 1
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_failure_a_whole_day_after_the_first_pauses_the_endpoint_and_not_a_second_sooner(
    cast, receiver
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(*[answer(500)] * 3)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    first = timezone.now()
    for moment, active in [
        (first, True),
        (first + timedelta(days=1, seconds=-1), True),
        (first + timedelta(days=1), False),
    ]:
        WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=None)  # due at `moment`
        assert delivery.deliver(pk, now=moment) == "retry"
        endpoint.refresh_from_db()
        assert endpoint.is_active is active, moment - first


def test_the_pause_notice_is_queued_to_be_sent_at_once(
    cast, receiver, django_capture_on_commit_callbacks
):
    cast.partner.email = "office@acme.example"
    cast.partner.save()
    add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(410))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    backend = installation_tasks.deliver_message.get_backend()
    backend.results.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver_all() == ["retry"]
    notice = Message.objects.get(template="webhook_paused")
    queued = [list(r.args) for r in backend.results if r.task.name == "deliver_message"]
    assert queued == [[notice.pk]]


def test_410_gone_pauses_the_endpoint_at_once(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(410))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == ["retry"]
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.paused_reason


# --- Secrets -------------------------------------------------------------------------------------


def test_rotating_again_during_the_overlap_keeps_the_secret_in_use_until_it_ends(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    in_use = endpoint.secret
    first_at = timezone.now()
    endpoint_rotate_secret(endpoint=endpoint, now=first_at)
    # The secret page reloaded (it posts again) an hour later.
    endpoint = endpoint_rotate_secret(endpoint=endpoint, now=first_at + timedelta(hours=1))
    assert endpoint.previous_secret == in_use
    assert endpoint.previous_secret_expires_at == first_at + timedelta(hours=24)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    delivery.deliver(pk, now=first_at + timedelta(hours=2))
    got = receiver.requests[-1]
    Webhook(in_use).verify(got.body, got.headers)
    Webhook(endpoint.secret).verify(got.body, got.headers)

    # After the overlap a rotation starts a new one from the secret then in use.
    later = first_at + timedelta(hours=25)
    rotated = endpoint_rotate_secret(endpoint=endpoint, now=later)
    assert rotated.previous_secret == endpoint.secret
    assert rotated.previous_secret_expires_at == later + timedelta(hours=24)


def test_a_rotation_at_the_very_moment_the_overlap_ends_keeps_the_secret_in_use_signing(
    cast, receiver
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    endpoint = endpoint_rotate_secret(endpoint=endpoint, now=timezone.now())
    in_use = endpoint.secret
    ends = endpoint.previous_secret_expires_at
    # The replaced secret signs no more from `ends` on: a rotation then is a new one, from the
    # secret in use, not a reload of the first (which would leave only the new secret signing).
    rotated = endpoint_rotate_secret(endpoint=endpoint, now=ends)
    assert rotated.previous_secret == in_use
    assert rotated.previous_secret_expires_at == ends + timedelta(hours=24)
    assert rotated.signing_secrets(ends) == [rotated.secret, in_use]


@pytest.mark.usefixtures("jobs_booked_today")
def test_after_a_rotation_both_secrets_verify_for_24_hours_then_only_the_new_one(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    old = endpoint.secret
    inst = cast.installation()
    rotated_at = timezone.now()
    endpoint = endpoint_rotate_secret(endpoint=endpoint, now=rotated_at)
    new = endpoint.secret
    assert new != old and new.startswith("whsec_")
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    delivery.deliver(pk, now=rotated_at + timedelta(hours=23))
    got = receiver.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(got.body, got.headers)
    Webhook(new).verify(got.body, got.headers)

    services.installation_set_off(installation=inst, eta_minutes=20, actor=cast.handyman.user)
    later = WebhookDelivery.objects.order_by("-id").first()
    delivery.deliver(later.pk, now=rotated_at + timedelta(hours=24, seconds=1))
    got = receiver.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(got.body, got.headers)


def test_a_secret_is_standard_webhooks_shaped_and_random(cast, receiver):
    import base64

    one = add_endpoint(cast.partner, receiver.url).secret
    two = add_endpoint(cast.partner, receiver.url).secret
    assert one != two
    for secret in (one, two):
        assert secret.startswith("whsec_")
        assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 64


# --- What the sender refuses to do ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "result"), [(199, "retry"), (200, "delivered"), (299, "delivered"), (300, "retry")]
)
def test_only_an_answer_from_200_to_299_counts_as_delivered(cast, receiver, status, result):
    add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(status))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == [result]
    assert WebhookAttempt.objects.get().status_code == status


@pytest.mark.parametrize(
    ("status", "redirect"), [(299, False), (300, True), (399, True), (400, False)]
)
def test_every_3xx_answer_and_only_those_is_told_as_a_redirect_not_followed(
    cast, receiver, status, redirect
):
    add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(status))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    deliver_all()
    assert ("not followed" in WebhookAttempt.objects.get().error) is redirect


def test_a_redirect_is_not_followed_and_counts_as_a_failure(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(302, headers={"Location": f"http://127.0.0.1:{receiver.port}/other"}))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == ["retry"]
    assert [r.path for r in receiver.requests] == ["/hooks"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302 and "not followed" in attempt.error


def test_an_endless_response_is_read_only_up_to_the_limit(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    receiver.then(endless_body)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == ["delivered"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 200 and attempt.error == ""
    assert attempt.duration_ms < delivery.TOTAL_SECONDS * 1000
    assert len(attempt.response_excerpt) <= delivery.EXCERPT_CHARS


def test_the_attempt_keeps_the_first_300_characters_of_the_receivers_answer(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(500, b"a" * 300 + b"b" * 100))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == ["retry"]
    assert WebhookAttempt.objects.get().response_excerpt == "a" * 300


def test_a_silent_receiver_times_out_and_is_retried(cast, receiver, monkeypatch):
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.3)
    add_endpoint(cast.partner, receiver.url)
    receiver.then(sleep_then_answer(1.5))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == ["retry"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and "timeout" in attempt.error
    assert attempt.duration_ms < 1400


def drip_headers(handler) -> None:
    """A 200 whose header lines come one every 0.2 s, each well inside the socket timeout."""
    with suppress(OSError):  # the sender hung up: that is the point
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(50):
            handler.wfile.write(b"X-Slow: yes\r\n")
            handler.wfile.flush()
            time.sleep(0.2)
        handler.wfile.write(b"Content-Length: 0\r\n\r\n")
    handler.close_connection = True


def test_a_receiver_dripping_its_headers_is_cut_off_at_the_total_time_and_retried(
    cast, receiver, monkeypatch
):
    # Each line arrives inside TIMEOUT_SECONDS: only the whole attempt's limit stops it (it
    # took the full 10 s here, and for ever with no end to the lines).
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(delivery, "TOTAL_SECONDS", 1.0)
    add_endpoint(cast.partner, receiver.url)
    receiver.then(drip_headers)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == ["retry"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error == "No complete answer within 1 seconds (timeout)."
    assert attempt.duration_ms < 2500


def broken_chunks_after_200(handler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    handler.wfile.flush()
    handler.close_connection = True


def test_a_200_whose_body_breaks_off_counts_as_delivered_and_is_not_sent_again(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    receiver.then(broken_chunks_after_200)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == ["delivered"]
    assert WebhookAttempt.objects.get().status_code == 200
    assert len(receiver.requests) == 1


def test_a_refused_connection_is_a_failure_with_its_reason(cast, receiver):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    add_endpoint(cast.partner, f"http://127.0.0.1:{closed_port}/hooks")
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert deliver_all() == ["retry"]
    assert "Connection failed" in WebhookAttempt.objects.get().error


# --- One partner never receives another's events -------------------------------------------------


def test_each_partner_receives_and_sees_only_its_own_events(
    cast, receiver, second_receiver, monkeypatch
):
    from django.test import Client

    receivers = {cast.partner.pk: receiver, cast.other_partner.pk: second_receiver}
    for partner in (cast.partner, cast.other_partner):
        add_endpoint(partner, receivers[partner.pk].url)
    jobs = {
        partner.pk: cast.installation("EN_ROUTE", partner=partner)
        for partner in (cast.partner, cast.other_partner)
    }
    monkeypatch.setattr(notifications, "_send", lambda m: (_ for _ in ()).throw(OSError("down")))
    for inst in jobs.values():  # message.failed for each partner's job too
        message = MessageFactory(
            installation=inst,
            attempts=notifications.MAX_ATTEMPTS - 1,
        )
        notifications.deliver(message.pk)
    deliver_all()
    for partner in (cast.partner, cast.other_partner):
        got = receivers[partner.pk].requests
        secret = partner.webhook_endpoints.get().secret
        types = set()
        for request in got:
            payload = Webhook(secret).verify(request.body, request.headers)
            assert payload["data"]["installation"]["id"] == jobs[partner.pk].pk
            types.add(payload["type"])
        assert types == {"installation.status_changed", "message.failed"}
        assert len(got) == 3  # assign, set off, the failed message
        # The settings page lists this partner's deliveries only.
        client = Client()
        user = cast.partner_user if partner == cast.partner else cast.other_partner_user
        client.force_login(user)
        page = client.get("/installations/settings/").content.decode()
        other = next(i for pk, i in jobs.items() if pk != partner.pk)
        assert f"installation #{jobs[partner.pk].pk}" in page
        assert f"installation #{other.pk}" not in page
        assert receivers[partner.pk].url in page
        assert next(r for pk, r in receivers.items() if pk != partner.pk).url not in page
