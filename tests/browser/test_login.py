from __future__ import annotations

from .conftest import log_in


def test_a_partner_user_logs_in_through_the_labelled_form(page, cast):
    # No console error, CSP violation or broken file on the way: the page guard checks that.
    log_in(page, "acme")
    assert "/accounts/login/" not in page.url
    assert page.get_by_role("button", name="Log out").is_visible()


def test_a_wrong_password_shows_a_message(page, cast):
    log_in(page, "acme", "wrong-password")
    assert "/accounts/login/" in page.url
    assert page.get_by_role("alert").is_visible()
