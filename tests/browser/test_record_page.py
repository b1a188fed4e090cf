"""The record page in a browser: "Re-send link to customer" answers in place, keeps the
keyboard's focus on its button and says its sentence in the page's live region; a refused
follow-up or rebooking opens at its form and errors, not at the top of the record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from installations.models import Installation
from installations.statuses import Status

from .conftest import PHONE, log_in
from .steps import COUNT_SWAPS, swaps


def test_resending_the_link_keeps_the_focus_on_the_button_and_says_so(page, cast):
    job = cast.installation(Status.CONTRACT_SENT)
    page.add_init_script(COUNT_SWAPS)
    log_in(page, "acme")
    page.goto(f"/installations/{job.pk}/")
    resend = page.get_by_role("button", name="Re-send link to customer")
    resend.focus()
    page.keyboard.press("Enter")
    swaps(page, 1)
    sentence = f"A new link was sent to {job.customer.name}."
    expect(page.locator("#messages-panel")).to_contain_text(sentence)
    # The panel was drawn anew: the focus is on its new button, not at the top of the page.
    expect(page.get_by_role("button", name="Re-send link to customer")).to_be_focused()
    expect(page.locator("#flash")).to_contain_text(sentence)


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")
@pytest.mark.parametrize(
    ("status", "form", "button"),
    [
        (Status.INSTALLATION_COMPLETED, "form[action*='/follow-up/']", "Book follow-up visit"),
        (Status.REJECTED, "form[action*='/rebook/']", "Rebook"),
    ],
)
def test_a_refused_visit_form_opens_at_its_errors_on_a_phone(phone, cast, status, form, button):
    job = cast.installation(status)
    log_in(phone, "acme")
    phone.goto(f"/installations/{job.pk}/")
    phone.locator(form).get_by_label("Date").fill("2020-01-01")
    phone.locator(form).get_by_role("button", name=button).click()
    error = phone.locator(form).locator(".errorlist")
    expect(error).to_contain_text("Choose today or a later date.")
    # The record's page is thousands of pixels tall on a phone: it opened at the form.
    expect(error).to_be_in_viewport()
    assert phone.evaluate("scrollY") > PHONE["height"]


def test_an_expected_arrival_that_passes_while_the_record_is_open_says_so(page, cast):
    """The office keeps the record open: at 10:41 it must not still say "expected at 10:40"."""
    job = cast.installation(Status.EN_ROUTE, scheduled_date=timezone.localdate())
    now = timezone.now()
    Installation.objects.filter(pk=job.pk).update(expected_arrival_at=now + timedelta(minutes=1))
    page.clock.install(time=now)
    log_in(page, "acme")
    page.goto(f"/installations/{job.pk}/")
    estimate = page.locator("dt:text-is('Arrival estimate') + dd")
    expect(estimate).to_contain_text("expected at")
    expect(estimate.get_by_text("was expected by")).to_be_hidden()

    page.clock.fast_forward("02:00")

    expect(estimate.get_by_text("was expected by")).to_be_visible()
    expect(estimate).to_contain_text("that time has passed")
    expect(estimate).not_to_contain_text("expected at")


@pytest.mark.parametrize(
    "lead", [timedelta(hours=3), -timedelta(hours=3)], ids=["device-ahead", "device-behind"]
)
def test_an_expected_arrival_on_the_record_passes_by_the_servers_clock(page, cast, lead):
    """An office computer whose clock is hours off: "expected at 10:40" turns at 10:40 by the
    server, as a reload would say it."""
    job = cast.installation(Status.EN_ROUTE, scheduled_date=timezone.localdate())
    now = timezone.now()
    Installation.objects.filter(pk=job.pk).update(expected_arrival_at=now + timedelta(minutes=3))
    page.clock.install(time=now + lead)
    log_in(page, "acme")
    page.goto(f"/installations/{job.pk}/")
    estimate = page.locator("dt:text-is('Arrival estimate') + dd")
    expect(estimate).to_contain_text("expected at")

    page.clock.fast_forward("00:31")  # looked at once: by the server's clock, still to come
    expect(estimate.get_by_text("was expected by")).to_be_hidden()

    page.clock.fast_forward("03:00")
    expect(estimate.get_by_text("was expected by")).to_be_visible()
    expect(estimate).not_to_contain_text("expected at")
