"""A person's own password in a real browser: asking for a link from the log-in page, choosing a
new password through it on a phone, and changing it from the name in the header."""

from __future__ import annotations

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from .conftest import log_in
from .steps import serious_axe_violations

NEW = "a-much-longer-secret-42"


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_forgotten_password_is_asked_for_from_the_log_in_page_on_a_phone(phone, cast):
    phone.goto("/accounts/login/")
    phone.get_by_role("link", name="Forgot your password?").click()
    expect(phone.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    _no_sideways_scroll(phone)
    assert serious_axe_violations(phone) == []
    phone.get_by_label("Email").fill(cast.partner_user.email)
    phone.get_by_role("button", name="Send me a link").click()
    expect(phone.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(phone.get_by_text("It works for one hour, once.")).to_be_visible()


def test_a_new_password_is_chosen_through_the_link_on_a_phone_and_logs_in(phone, cast):
    user = cast.partner_user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    phone.goto(f"/accounts/password/reset/{uid}/{default_token_generator.make_token(user)}/")
    expect(phone.get_by_role("heading", name="Choose a new password")).to_be_visible()
    _no_sideways_scroll(phone)
    assert serious_axe_violations(phone) == []
    phone.get_by_label("New password", exact=True).fill("12345678")
    phone.get_by_label("New password confirmation").fill("12345678")
    phone.get_by_role("button", name="Save the new password").click()
    expect(phone.get_by_text("This password is too common.")).to_be_visible()
    phone.get_by_label("New password", exact=True).fill(NEW)
    phone.get_by_label("New password confirmation").fill(NEW)
    phone.get_by_role("button", name="Save the new password").click()
    expect(phone.get_by_role("heading", name="Your new password is saved")).to_be_visible()
    log_in(phone, "acme", NEW)
    expect(phone.get_by_role("button", name="Log out")).to_be_visible()


def test_a_password_is_changed_from_the_name_in_the_header(page, cast):
    log_in(page, "acme")
    page.get_by_role("link", name="change your password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    assert serious_axe_violations(page) == []
    page.get_by_label("Old password").fill("test-pass-123")
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password confirmation").fill(NEW)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()  # still signed in
