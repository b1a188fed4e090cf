"""installation.updated: an edit of an open record's details, or a staff correction of a finished
one, reaches the partner's endpoints that chose it, with the fields that changed."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from installations import services
from installations.scheduling.services import installation_reschedule
from installations.statuses import Status
from installations.webhooks import delivery
from installations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from installations.webhooks.services import endpoint_pause, endpoint_resume

from ..test_admin import change_form_data, change_url
from .conftest import add_endpoint

pytestmark = pytest.mark.django_db

UPDATED = "installation.updated"


def deliver_all() -> list[str]:
    now = timezone.now()
    pks = WebhookDelivery.objects.order_by("id").values_list("pk", flat=True)
    return [delivery.deliver(pk, now=now) for pk in list(pks)]


def updates() -> list[dict]:
    return [
        json.loads(event.body) for event in WebhookEvent.objects.filter(type=UPDATED).order_by("id")
    ]


def test_an_edit_of_an_open_record_arrives_signed_with_old_and_new_values(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url, event_types=[UPDATED])
    inst = cast.installation(Status.INSTALLER_ASSIGNED, notes="Ring twice")
    old_address = inst.site_address

    services.installation_update(
        installation=inst, actor=cast.partner_user, notes="Gate code 4711", site_address="1 New St"
    )

    assert deliver_all() == ["delivered"]
    [got] = receiver.requests
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == UPDATED
    data = payload["data"]
    assert data["installation"]["id"] == inst.pk
    assert data["installation"]["status"]["code"] == "INSTALLER_ASSIGNED"
    assert data["installation"]["handyman"] == {"name": cast.handyman.display_name}
    assert data["change"] == {
        "id": None,
        "kind": "edited",
        "staff_correction": False,
        "by": cast.partner_user.get_full_name(),
        "at": data["change"]["at"],
        "reason": None,
        "fields": ["notes", "site_address"],
        "changes": {
            "notes": ["Ring twice", "Gate code 4711"],
            "site_address": [old_address, "1 New St"],
        },
    }
    assert data["change"]["at"].endswith("Z")
    assert payload["timestamp"] == data["change"]["at"]


def test_an_edit_that_changes_nothing_sends_nothing_and_a_repeated_edit_sends_one(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation(notes="Ring twice")

    services.installation_update(installation=inst, actor=cast.partner_user, notes="Ring twice")
    assert updates() == []

    for _ in range(2):  # a double submit of the same edit
        services.installation_update(installation=inst, actor=cast.partner_user, notes="Gate 4")
    [sent] = updates()
    assert sent["data"]["change"]["changes"] == {"notes": ["Ring twice", "Gate 4"]}
    assert WebhookDelivery.objects.count() == 1


def test_a_resent_admin_change_form_sends_one_event(client, cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation(notes="As it was")
    client.force_login(cast.superuser)
    data = change_form_data(inst, notes="Dog in the garden")

    for _ in range(2):
        assert client.post(change_url(inst), data).status_code == 302

    inst.refresh_from_db()
    assert inst.notes == "Dog in the garden"
    [sent] = updates()
    assert sent["data"]["change"]["fields"] == ["notes"]
    assert sent["data"]["change"]["by"].endswith("(staff)")


def test_a_staff_correction_says_so_with_its_reason_and_the_values_the_partner_owns(
    client, cast, receiver
):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation(Status.CUSTOMER_APPROVED, notes="As it was")
    WebhookEvent.objects.all().delete()
    client.force_login(cast.superuser)
    data = change_form_data(
        inst,
        handyman=str(cast.other_handyman.pk),
        notes="Corrected",
        completion_notes="Fitted, tested, customer happy.",
        override_reason="The job was done by Hana, not Hank.",
    )

    for _ in range(2):  # the override form sent twice
        assert client.post(change_url(inst), data).status_code == 302

    [sent] = updates()
    assert sent["data"]["installation"]["handyman"] == {"name": cast.other_handyman.display_name}
    change = sent["data"]["change"]
    entry = inst.history.order_by("-id").first()
    assert change["id"] == entry.pk
    assert change["kind"] == "override"
    assert change["staff_correction"] is True
    assert change["reason"] == "The job was done by Hana, not Hank."
    assert change["by"] == entry.actor_name
    assert sorted(change["fields"]) == ["completion_notes", "handyman", "notes"]
    # The handyman's own notes are named only: they are his words, read on the record page.
    assert change["changes"] == {
        "handyman": [
            {"name": cast.handyman.display_name},
            {"name": cast.other_handyman.display_name},
        ],
        "notes": ["As it was", "Corrected"],
    }
    assert "Fitted, tested" not in WebhookEvent.objects.get(type=UPDATED).body
    assert deliver_all() == ["delivered"]


def test_a_correction_of_dates_and_windows_shows_them_as_the_installation_does(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation(Status.CANCELLED)
    new_day = inst.scheduled_date - timedelta(days=1)
    services.installation_override(
        installation=inst,
        actor=cast.superuser,
        reason="Typed the wrong day",
        changes={"scheduled_date": new_day, "window_start": inst.window_start.replace(hour=8)},
    )

    [sent] = updates()
    assert sent["data"]["change"]["changes"] == {
        "scheduled_date": [inst.scheduled_date.isoformat(), new_day.isoformat()],
        "window_start": [inst.window_start.strftime("%H:%M"), "08:00"],
    }


def test_only_the_installations_partners_endpoints_that_chose_updates_get_them(
    cast, receiver, second_receiver
):
    statuses_only = add_endpoint(
        cast.partner, receiver.url, event_types=["installation.status_changed"]
    )
    updates_only = add_endpoint(cast.partner, second_receiver.url, event_types=[UPDATED])
    add_endpoint(cast.other_partner, receiver.url)  # every event, another partner's
    inst = cast.installation()

    services.installation_update(installation=inst, actor=cast.partner_user, notes="Gate 4")

    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [updates_only.pk]
    assert not statuses_only.deliveries.exists()


def test_a_move_is_sent_as_rescheduled_and_not_again_as_updated(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    installation_reschedule(
        installation=inst,
        actor=cast.partner_user,
        scheduled_date=inst.scheduled_date + timedelta(days=1),
        window_start=inst.window_start,
        window_end=inst.window_end,
    )
    assert list(WebhookEvent.objects.values_list("type", flat=True)) == ["installation.rescheduled"]


def test_the_update_is_written_in_the_edits_transaction_and_rolls_back_with_it(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        services.installation_update(installation=inst, actor=cast.partner_user, notes="Gate 4")
        assert len(updates()) == 1
        raise Boom

    assert updates() == []
    assert not WebhookDelivery.objects.exists()


def test_an_update_to_a_paused_endpoint_waits_and_goes_out_on_resume(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    endpoint_pause(endpoint=endpoint)
    inst = cast.installation()

    services.installation_update(installation=inst, actor=cast.partner_user, notes="Gate 4")

    assert deliver_all() == ["paused"]
    assert receiver.requests == []
    endpoint_resume(endpoint=endpoint)
    assert deliver_all() == ["delivered"]
    assert json.loads(receiver.requests[0].body)["type"] == UPDATED


def test_an_endpoint_can_choose_updates_alone_and_its_page_says_so(client, cast, receiver):
    client.force_login(cast.partner_user)
    page = client.get("/installations/settings/endpoints/new/").content.decode()
    assert f'value="{UPDATED}"' in page
    assert "Details edited, or corrected by our staff" in page

    data = {"url": receiver.url, "event_types": [UPDATED], "token": str(uuid.uuid4())}
    assert client.post("/installations/settings/endpoints/new/", data).status_code == 201
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == [UPDATED]
    settings_page = client.get("/installations/settings/").content.decode()
    assert "Events: Details edited, or corrected by our staff." in settings_page
    assert "<code>installation.updated</code>" in settings_page

    edit = f"/installations/settings/endpoints/{endpoint.pk}/edit/"
    assert client.post(edit, {"url": receiver.url, "event_types": []}).status_code == 422
    endpoint.refresh_from_db()
    assert endpoint.event_types == [UPDATED]
