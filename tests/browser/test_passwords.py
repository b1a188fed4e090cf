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


def _change(page) -> None:
    page.get_by_label("Old password").fill("test-pass-123")
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password confirmation").fill(NEW)


def test_changing_the_password_again_after_going_back_is_answered_as_done(page, cast):
    log_in(page, "acme")
    page.goto("/accounts/password/")
    _change(page)
    page.get_by_role("button", name="Change my password").dblclick()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    # Not sure it worked, the person goes back and sends the same form again.
    page.go_back()
    _change(page)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_asking_for_a_link_again_after_going_back_sends_one_with_javascript_off(browser, cast):
    from django_tasks_db.models import DBTaskResult

    phone = browser.new_page(
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    phone.goto("/accounts/password/forgotten/")
    for _ in range(2):  # a double tap, then back and the same address again
        phone.get_by_label("Email").fill(cast.partner_user.email)
        phone.get_by_role("button", name="Send me a link").dblclick()
        expect(phone.get_by_role("heading", name="Check your email")).to_be_visible()
        phone.go_back()
    assert DBTaskResult.objects.filter(task_path__endswith="send_reset_link").count() == 1
