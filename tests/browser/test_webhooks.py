"""A partner adds a webhook endpoint, sees its secret once, and a handyman's step arrives at the
partner's receiver, signed; the attempt shows on the settings page."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from standardwebhooks import Webhook

from installations.webhooks import delivery
from installations.webhooks.models import WebhookDelivery, WebhookEndpoint

from ..webhooks.conftest import running_receiver
from .conftest import log_in


@pytest.fixture
def receiver():
    with running_receiver() as running:
        yield running


def test_a_partner_adds_an_endpoint_and_a_handymans_step_arrives_signed(
    browser, page, cast, receiver, settings
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True  # this process delivers to the loopback receiver
    job = cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())

    log_in(page, "acme")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description (optional)").fill("Our shop system")
    page.get_by_label("Status changes").check()
    page.get_by_role("button", name="Add endpoint").click()

    expect(page.get_by_role("heading", name="Endpoint added")).to_be_visible()
    secret = page.locator("#webhook-secret").inner_text().strip()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+=*", secret)
    assert WebhookEndpoint.objects.get().secret == secret
    page.get_by_role("link", name="Done").click()
    expect(page.locator("#endpoints")).to_contain_text(receiver.url)
    assert secret not in page.content()  # shown once

    # The handyman sets off on his phone, in his own browser.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    ).new_page()
    log_in(phone, "hank")
    card = phone.locator(f"#job-{job.pk}")
    card.get_by_label("45 min").check()
    card.get_by_role("button", name="On my way").tap()
    expect(card.get_by_role("button", name="Arrived")).to_be_visible()

    # The worker's job, run here: the server wrote the event with the change.
    assert WebhookDelivery.objects.filter(status="pending").count() == 1
    assert delivery.deliver_due() == 1
    [got] = receiver.requests
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "installation.status_changed"
    assert payload["data"]["installation"]["id"] == job.pk
    assert payload["data"]["change"]["to"]["code"] == "EN_ROUTE"

    page.reload()
    deliveries = page.locator("#deliveries")
    expect(deliveries).to_contain_text(f"installation #{job.pk}")
    expect(deliveries).to_contain_text("Delivered")
    expect(deliveries.get_by_role("cell", name="200 (OK)")).to_be_visible()
    expect(deliveries.get_by_role("button", name=re.compile("^Redeliver"))).to_be_visible()
