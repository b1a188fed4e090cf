"""Staff read endpoints and deliveries in the admin (never the secrets); the periodic command
sweeps deliveries whose queue entry was lost."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from installations import services
from installations.webhooks import delivery
from installations.webhooks.models import WebhookDelivery

from .conftest import add_endpoint, answer

pytestmark = pytest.mark.django_db


def test_staff_read_endpoints_and_deliveries_with_attempts_but_never_the_secret(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(503, body=b"busy"))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    row = WebhookDelivery.objects.get()
    delivery.deliver(row.pk)
    client = Client()
    client.force_login(cast.superuser)
    pages = [
        "/admin/installations/webhookendpoint/",
        f"/admin/installations/webhookendpoint/{endpoint.pk}/change/",
        "/admin/installations/webhookdelivery/",
        f"/admin/installations/webhookdelivery/{row.pk}/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert endpoint.secret not in response.content.decode(), url
    change = client.get(pages[-1]).content.decode()
    assert "503" in change and "busy" in change and "installation.status_changed" in change
    assert client.post(pages[1], {"url": "https://8.8.8.8/"}).status_code == 403  # read-only


def test_the_periodic_command_delivers_what_no_worker_picked_up(cast, receiver):
    add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    call_command("send_contract_reminders", stdout=StringIO())
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDelivery.State.DELIVERED
