"""Logging in: over-long credentials get the normal answer, and one address cannot try name after
name (issue 21, items 4 and 7)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings

from .factories import PASSWORD

WRONG = "Please enter a correct username and password"
LONG_NAME = "n" * 300


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True


def _login(client, username: str, password: str = "nope", address: str = "203.0.113.7"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


@pytest.mark.parametrize(
    ("username", "password"),
    [(LONG_NAME, "nope"), ("x" * 10_000, "nope"), ("acme", "p" * 10_000), (LONG_NAME, "p" * 5000)],
)
def test_over_long_credentials_get_the_normal_wrong_name_or_password_answer(
    client, cast, username, password
):
    response = _login(client, username, password)
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_over_long_name_counts_as_a_failed_attempt(client, cast):
    _login(client, LONG_NAME)
    attempt = AccessAttempt.objects.get()
    assert attempt.failures_since_start == 1
    assert attempt.username == LONG_NAME[:255]


def test_an_over_long_name_on_the_admin_login_gets_its_normal_answer(client, cast):
    response = client.post(
        "/admin/login/", {"username": LONG_NAME, "password": "nope"}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()


@pytest.mark.postgres
def test_a_300_character_name_answers_the_login_page_on_postgresql(client, cast):
    # PostgreSQL enforces axes' varchar(255); SQLite never did, so only this leg can see a 500.
    assert "postgresql" in django_settings.DATABASES["default"]["ENGINE"]
    response = _login(client, LONG_NAME)
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert AccessAttempt.objects.get().failures_since_start == 1


def test_thirty_names_from_one_address_are_refused_and_other_addresses_are_not(client, cast):
    answers = [_login(client, f"guess{n}").status_code for n in range(30)]
    limit = django_settings.AXES_ADDRESS_FAILURE_LIMIT
    # As with axes' own limit, the failure that reaches it is answered with the pause.
    assert answers[: limit - 1] == [200] * (limit - 1)
    assert set(answers[limit - 1 :]) == {429}
    # Even the right password is refused from that address while the pause lasts...
    response = _login(client, "acme", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # ...while a person elsewhere logs in as usual.
    response = _login(client, "acme", PASSWORD, address="198.51.100.20")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(cast.partner_user.pk)


def test_a_few_typos_from_a_shared_office_address_lock_nobody_else(client, cast):
    # Four people behind one address each mistype once: below both limits.
    for name in ["acme", "beta", "staff", "hank"]:
        assert _login(client, name).status_code == 200
    assert _login(client, "acme", PASSWORD).status_code == 302


@pytest.mark.parametrize("value", ["foo", "partner:list", "//evil.example", "\r\nX:1", "/\\evil"])
def test_login_with_a_next_that_is_not_a_path_goes_to_the_default_page(client, cast, value):
    response = client.post(
        "/accounts/login/", {"username": "acme", "password": PASSWORD, "next": value}
    )
    assert response.status_code == 302
    assert response["Location"] == django_settings.LOGIN_REDIRECT_URL


def test_login_follows_a_same_site_next(client, cast):
    response = client.post(
        "/accounts/login/", {"username": "acme", "password": PASSWORD, "next": "/installations/"}
    )
    assert response["Location"] == "/installations/"
    page = client.get("/accounts/login/?next=foo")  # signed in: straight on, to the default
    assert page["Location"] == django_settings.LOGIN_REDIRECT_URL
