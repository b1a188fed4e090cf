"""A person's own password: changed when signed in, and chosen anew through an emailed link when
forgotten (installations/accounts/)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from installations.ratelimit.models import RateCount

from .factories import PASSWORD, UserFactory

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
NEW = "a-much-longer-secret-42"
SENT = "If an account has the address you gave"
ONE_HOUR_AND_A_BIT = timedelta(hours=1, minutes=1)


@pytest.fixture(autouse=True)
def _mail_sent_at_once(settings):
    settings.TASKS = IMMEDIATE  # the worker's part runs in the request, so the mail is here


def _ask(client, email: str, address: str = "203.0.113.7"):
    return client.post("/accounts/password/forgotten/", {"email": email}, REMOTE_ADDR=address)


def _link(message) -> str:
    site = re.escape(django_settings.SITE_URL)
    return re.search(site + r"(/accounts/password/reset/\S+/)", message.body).group(1)


def _choose(client, link: str, password: str = NEW):
    page = client.get(link, follow=True)  # Django moves the token from the address to the session
    assert page.status_code == 200
    url = page.redirect_chain[-1][0]
    return url, client.post(url, {"new_password1": password, "new_password2": password})


def test_a_forgotten_password_is_chosen_anew_through_the_emailed_link(client, cast):
    user = cast.handyman.user
    response = _ask(client, user.email.upper())  # the address as typed, any case
    assert response.status_code == 302
    assert SENT in client.get(response["Location"]).content.decode()
    [message] = mail.outbox
    assert message.to == [user.email]
    assert "one hour" in message.body and user.get_username() in message.body
    _, saved = _choose(client, _link(message))
    assert saved.status_code == 302
    assert client.login(username=user.get_username(), password=NEW)


def test_the_request_queues_the_account_and_the_worker_makes_the_link(client, cast, settings):
    """The page answers without waiting on a mail server (which would tell an address with an
    account from one without), and the queue's row holds no token."""
    from django_tasks_db.models import DBTaskResult

    from installations.accounts.mail import send_reset_link

    settings.TASKS = DATABASE
    user = cast.handyman.user
    assert _ask(client, user.email).status_code == 302
    assert mail.outbox == []
    [queued] = DBTaskResult.objects.filter(task_path=send_reset_link.module_path)
    assert queued.args_kwargs == {"args": [user.pk], "kwargs": {}}
    assert send_reset_link.call(user.pk) is True
    _, saved = _choose(client, _link(mail.outbox[0]))
    assert saved.status_code == 302


def test_the_answer_is_the_same_for_an_address_with_no_account(client, cast):
    known = _ask(client, cast.partner_user.email)
    unknown = _ask(client, "nobody-here@example.com")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1


def test_an_inactive_account_gets_no_link(client, cast):
    user = UserFactory(username="gone", is_active=False)
    _ask(client, user.email)
    assert mail.outbox == []


def test_a_link_works_once(client, cast):
    _ask(client, cast.partner_user.email)
    link = _link(mail.outbox[0])
    _choose(client, link)
    page = client.get(link, follow=True).content.decode()
    assert "This link no longer works" in page
    assert 'name="new_password1"' not in page


@pytest.mark.parametrize(
    ("later", "works"), [(timedelta(minutes=50), True), (ONE_HOUR_AND_A_BIT, False)]
)
def test_a_link_works_for_an_hour(client, cast, later, works):
    _ask(client, cast.partner_user.email)
    link = _link(mail.outbox[0])
    sent = datetime.now()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(PasswordResetTokenGenerator, "_now", lambda self: sent + later)
        page = client.get(link, follow=True).content.decode()
    assert ('name="new_password1"' in page) is works
    assert ("This link no longer works" in page) is not works


def test_a_weak_new_password_is_refused_with_the_reason_and_nothing_changes(client, cast):
    user = cast.partner_user
    _ask(client, user.email)
    url, response = _choose(client, _link(mail.outbox[0]), password="12345678")
    assert response.status_code == 200
    page = response.content.decode()
    assert "This password is too common" in page or "entirely numeric" in page
    assert 'aria-invalid="true"' in page
    assert client.login(username=user.get_username(), password=PASSWORD)


def test_asking_again_and_again_is_paused_with_a_sentence(cast, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 2
    # A script that keeps no cookies (a browser's own repeat is answered as done, below).
    for _ in range(2):
        assert _ask(Client(), cast.partner_user.email).status_code == 302
    refused = _ask(Client(), cast.partner_user.email)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "no more links are sent" in refused.content.decode()
    assert len(mail.outbox) == 2


def test_one_address_cannot_ask_for_link_after_link_for_many_accounts(client, cast, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 3
    for n in range(3):
        _ask(client, f"someone{n}@example.com")
    assert _ask(client, cast.partner_user.email).status_code == 429
    assert mail.outbox == []
    # Another address is not paused by it.
    assert _ask(client, cast.partner_user.email, address="198.51.100.9").status_code == 302


def test_a_bad_email_address_is_said_and_counts_against_nothing(client, cast):
    response = _ask(client, "not an address")
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not RateCount.objects.exists()


def test_a_new_password_saved_through_the_link_ends_the_log_in_pause_of_that_name(
    client, cast, settings
):
    settings.AXES_ENABLED = True
    user = cast.partner_user
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": user.get_username(), "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
        )
    assert AccessAttempt.objects.filter(username=user.get_username()).exists()
    _ask(client, user.email)
    _choose(client, _link(mail.outbox[0]))
    assert not AccessAttempt.objects.filter(username=user.get_username()).exists()
    response = client.post(
        "/accounts/login/",
        {"username": user.get_username(), "password": NEW},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302


@pytest.mark.parametrize("who", ["partner_user", "handyman", "staff"])
def test_anyone_signed_in_changes_their_password_from_their_name_in_the_header(client, cast, who):
    user = cast.handyman.user if who == "handyman" else getattr(cast, who)
    client.force_login(user)
    page = client.get("/accounts/password/").content.decode()
    assert 'href="/accounts/password/"' in page  # the name in the header leads here
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session  # still signed in here
    client.logout()
    assert client.login(username=user.get_username(), password=NEW)


def test_a_wrong_old_password_is_said_and_nothing_changes(client, cast):
    user = cast.partner_user
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    client.logout()
    assert client.login(username=user.get_username(), password=PASSWORD)


@pytest.mark.parametrize("url", ["/accounts/password/", "/accounts/password/changed/"])
def test_the_change_pages_need_a_signed_in_user(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.post(url, {"old_password": PASSWORD}).status_code == 302


def test_the_log_in_page_and_the_pause_page_lead_to_the_reset(client, cast, settings):
    assert 'href="/accounts/password/forgotten/"' in client.get("/accounts/login/").content.decode()
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        paused = client.post(
            "/accounts/login/",
            {"username": cast.partner_user.get_username(), "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
        )
    assert "Too many failed log-in attempts" in paused.content.decode()
    assert 'href="/accounts/password/forgotten/"' in paused.content.decode()


def test_the_reset_request_page_reads_no_account(client, db):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/accounts/password/forgotten/").status_code == 200
    assert len(queries) == 0


def test_an_account_closed_before_the_worker_runs_is_sent_nothing(cast):
    from installations.accounts.mail import send_reset_link

    user = cast.partner_user
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert send_reset_link.call(user.pk) is False
    assert mail.outbox == []


def _send_links(client, users):
    return client.post(
        "/admin/auth/user/",
        {"action": "send_password_links", "_selected_action": [u.pk for u in users]},
        follow=True,
    )


def test_staff_email_a_new_account_with_no_password_a_link_to_choose_its_first(client, cast):
    newcomer = UserFactory(username="newcomer", email="newcomer@example.com")
    newcomer.set_unusable_password()
    newcomer.save()
    silent = UserFactory(username="silent", email="")
    client.force_login(cast.superuser)
    page = _send_links(client, [newcomer, silent]).content.decode()
    assert "A link to choose a password is on its way to 1 person" in page
    assert "Not sent to 1: no email address, or the account is inactive." in page
    [message] = mail.outbox
    assert message.to == ["newcomer@example.com"]
    assert "Platform staff sent you this link" in message.body
    client.logout()
    _, saved = _choose(client, _link(message))
    assert saved.status_code == 302
    assert client.login(username="newcomer", password=NEW)


def test_staff_sending_the_same_links_twice_send_each_person_one_email(client, cast):
    """A double click on the users' list action, or the form sent again: answered as done."""
    client.force_login(cast.superuser)
    _send_links(client, [cast.partner_user, cast.staff])
    again = _send_links(client, [cast.partner_user, cast.staff]).content.decode()

    assert "Already on its way: a link was sent to the people chosen a moment ago." in again
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [cast.partner_user.email, cast.staff.email]
    )
    _send_links(client, [cast.partner_user])  # other people chosen: sent
    assert len(mail.outbox) == 3


def test_staff_can_send_the_same_links_again_after_a_minute(client, cast):
    from installations.accounts.admin import REPEAT_SECONDS, SENT

    client.force_login(cast.superuser)
    _send_links(client, [cast.partner_user])
    session = client.session
    session[SENT] = {k: sent - REPEAT_SECONDS for k, sent in session[SENT].items()}
    session.save()

    page = _send_links(client, [cast.partner_user]).content.decode()

    assert "A link to choose a password is on its way to 1 person" in page
    assert len(mail.outbox) == 2


def test_a_person_with_no_password_cannot_ask_for_a_link_themselves(client, cast):
    newcomer = UserFactory(username="newcomer", email="newcomer@example.com")
    newcomer.set_unusable_password()
    newcomer.save()
    _ask(client, newcomer.email)
    assert mail.outbox == []


def test_staff_send_links_to_at_most_a_hundred_people_at_once(client, cast, monkeypatch):
    from installations.accounts import admin as accounts_admin

    monkeypatch.setattr(accounts_admin, "MAX_LINKS", 2)
    client.force_login(cast.superuser)
    page = _send_links(client, [cast.partner_user, cast.other_partner_user, cast.staff])
    assert "No link was sent: choose at most 2 people at once." in page.content.decode()
    assert mail.outbox == []


def test_guessing_the_old_password_again_and_again_is_paused(client, cast, settings):
    settings.PASSWORD_CHANGE_LIMIT = 3
    user = cast.partner_user
    client.force_login(user)
    wrong = {"old_password": "guess", "new_password1": NEW, "new_password2": NEW}
    for _ in range(3):
        assert client.post("/accounts/password/", wrong).status_code == 200
    right = {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    paused = client.post("/accounts/password/", right)
    assert paused.status_code == 429
    assert "changing its password is paused" in paused.content.decode()
    client.logout()
    assert client.login(username=user.get_username(), password=PASSWORD)


def test_asking_twice_from_one_browser_at_once_sends_one_link_and_counts_once(client, cast):
    """A double click, or the form sent again: the same answer, one email."""
    first = _ask(client, cast.partner_user.email)
    second = _ask(client, cast.partner_user.email)
    assert (first.status_code, first["Location"]) == (second.status_code, second["Location"])
    assert len(mail.outbox) == 1
    assert RateCount.objects.get(key__startswith="reset-email").count == 1


def test_saving_a_new_password_twice_through_the_link_is_answered_as_done(client, cast):
    user = cast.partner_user
    _ask(client, user.email)
    url, first = _choose(client, _link(mail.outbox[0]))
    second = client.post(url, {"new_password1": NEW, "new_password2": NEW})
    assert first["Location"] == second["Location"] == "/accounts/password/reset/done/"
    # Another browser with the used link is told it no longer works.
    page = Client().post(url, {"new_password1": NEW, "new_password2": NEW}).content.decode()
    assert "This link no longer works" in page


def test_changing_a_password_twice_at_once_is_answered_as_done(client, cast):
    user = cast.partner_user
    client.force_login(user)
    data = {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    first = client.post("/accounts/password/", data)
    second = client.post("/accounts/password/", data)  # its old password is the old one
    assert first["Location"] == second["Location"] == "/accounts/password/changed/"
    wrong = {
        "old_password": "not-it",
        "new_password1": "another-long-one-77",
        "new_password2": "another-long-one-77",
    }
    assert client.post("/accounts/password/", wrong).status_code == 200  # still refused


def test_a_password_window_set_to_zero_minutes_counts_in_one_minute_windows(client, cast, settings):
    # As the customer link's window always did (ratelimit.LIMITS): 0 divided by zero, a 500.
    settings.PASSWORD_RESET_WINDOW_MINUTES = 0
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    assert _ask(Client(), cast.partner_user.email).status_code == 302
    refused = _ask(Client(), cast.partner_user.email)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
