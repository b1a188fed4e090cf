"""A partner adds a webhook endpoint, sees its secret once, and a handyman's step arrives at the
partner's receiver, signed; the attempt shows on the settings page. "Send a test event" queues
one delivery, however many times it is clicked at once."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect
from standardwebhooks import Webhook

from installations.webhooks import delivery
from installations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from installations.webhooks.services import endpoint_send_test

from ..webhooks.conftest import add_endpoint, answer, running_receiver
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


QUEUED = re.compile(r"(A test event was|This test event was already) queued for")


def hold_posts(page, url_end: str, count: int) -> list[str]:
    """Hold the page's POSTs to `url_end` until `count` were made, then send each to the server
    in order and answer the browser with the server's answers. A second click while the first
    answer is on its way cancels the first navigation in the browser, but a request already
    carried by the network still reaches the server: holding makes that happen every time.
    (A fast double click Chromium folds into one submission, so it tests nothing.)"""
    held: list = []
    bodies: list[str] = []

    def hold(route) -> None:
        held.append(route)
        bodies.append(route.request.post_data or "")
        if len(held) < count:
            return
        for each in held:
            answer = each.fetch(max_redirects=0)
            with contextlib.suppress(Exception):  # the browser gave up on the earlier ones
                each.fulfill(response=answer)

    page.route(re.compile(re.escape(url_end) + "$"), hold)
    return bodies


@pytest.mark.parametrize("clicks", [1, 2])
def test_send_a_test_event_says_so_and_queues_one_delivery_even_on_a_double_click(
    page, cast, receiver, clicks
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    log_in(page, "acme")
    page.goto("/installations/settings/")
    url_end = f"/installations/settings/endpoints/{endpoint.pk}/test/"
    posted = hold_posts(page, url_end, clicks)

    button = page.get_by_role("button", name=f"Send a test event to {receiver.url}")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    for _ in range(clicks):  # the mouse, as a person: the second lands before the first's answer
        with page.expect_request(lambda request: request.url.endswith(url_end)):
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    expect(page.locator("#flash")).to_contain_text(QUEUED)
    expect(page.locator("#flash")).to_contain_text(receiver.url)
    assert len(posted) == clicks and len(set(posted)) == 1  # one form, sent `clicks` times
    [queued] = WebhookDelivery.objects.filter(event__type=WebhookEvent.TEST)
    assert queued.endpoint_id == endpoint.pk and queued.status == "pending"
    tasks = DBTaskResult.objects.filter(task_path="installations.webhooks.tasks.deliver_webhook")
    assert [task.args_kwargs["args"] for task in tasks] == [[queued.pk]]
    # Its row is on the page, waiting for the worker.
    expect(page.locator(f"#delivery-{queued.pk}")).to_contain_text("webhook.test")


@pytest.mark.parametrize("width", [360, 1280])
def test_the_endpoint_forms_checkboxes_sit_in_a_column_beside_their_words(browser, cast, width):
    # The narrow form's `input { width: 100% }` made each checkbox as wide as its words, so the
    # boxes wandered across the fieldset and the words wrapped after one or two.
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    log_in(page, "acme")
    page.goto("/installations/settings/endpoints/new/")
    for name in ("event_types", "statuses"):
        boxes = [b.bounding_box() for b in page.locator(f"input[name={name}]").all()]
        assert all(box is not None and box["width"] <= 24 for box in boxes), boxes
        assert len({round(box["x"]) for box in boxes if box}) == 1, boxes
    context.close()


def test_on_a_phone_each_attempts_error_is_on_screen_not_scrolled_off_to_the_side(
    browser, cast, receiver
):
    # The attempts table scrolled sideways inside its card at 360 px: the Error column, the one
    # a partner reads, started off screen.
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(500, b"database is down for maintenance " * 4))
    endpoint_send_test(endpoint=endpoint, actor=cast.partner_user)
    delivery.deliver(WebhookDelivery.objects.get().pk, now=timezone.now())
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    log_in(page, "acme")
    page.goto("/installations/settings/")
    error = page.locator("tr.attempt td[data-label=Error]")
    expect(error).to_contain_text("It answered: “database is down")
    box = error.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    table = page.locator("table.webhook-attempts")
    assert table.evaluate("e => e.scrollWidth <= e.clientWidth")
    context.close()
