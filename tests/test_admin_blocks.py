"""Staff see the rate-limit blocks in force in the admin, in words, and lift them
(installations/admin/blocks.py, installations/ratelimit/blocks.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client
from django.urls import reverse

from installations.customer_links import make_token
from installations.ratelimit import services as ratelimit
from installations.ratelimit.models import RateCount
from installations.statuses import Status

CHANGELIST = "/admin/installations/ratecount/"
ACTION = {"action": "lift", "index": "0"}
# Five minutes into a fifteen-minute window, in summer: the page says 10:15 BST for 09:15 UTC.
START = datetime(2026, 7, 4, 9, 5, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimit, "_now", lambda: clock.now)
    return clock


def grant(user, *codenames: str):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="installations", codename__in=codenames)
    )
    return user


@pytest.fixture
def lifter(client, cast):
    """Staff who may see and lift blocks."""
    grant(cast.staff, "view_ratecount", "delete_ratecount")
    client.force_login(cast.staff)
    return client


def hit(name: str, subject: str, times: int) -> None:
    for _ in range(times):
        ratelimit.ratelimit_hit(limit=ratelimit.limit(name), subject=subject)


def row(key: str) -> RateCount:
    return RateCount.objects.get(key=key)


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def lift_url(pk: int) -> str:
    return reverse("admin:installations_ratecount_lift", args=[pk])


def test_staff_see_each_block_in_words_with_how_many_and_until_when(lifter, cast, clock, settings):
    settings.CUSTOMER_LINK_BAD_LIMIT = 3
    settings.PASSWORD_RESET_EMAIL_LIMIT = 2
    settings.PASSWORD_CHANGE_LIMIT = 2
    settings.CUSTOMER_RECORD_DAILY_LIMIT = 2
    job = cast.installation(Status.CUSTOMER_APPROVED)
    hit("customer-bad-link", "203.0.113.5", 3)
    hit("reset-email", "ann@example.com", 2)
    hit("password-change", str(cast.partner_user.pk), 2)
    hit("customer-record", str(job.pk), 2)
    page = lifter.get(CHANGELIST).content.decode()
    assert "Rate-limit blocks in force" in page
    assert "Customer links that did not work from the address 203.0.113.5" in page
    assert "Password-reset requests for ann@example.com" in page
    assert f"Attempts at changing the password of acme (user #{cast.partner_user.pk})" in page
    assert f"Downloads of the customer&#x27;s record of installation #{job.pk}" in page
    assert "3 of 3" in page and "2 of 2" in page
    # The windows end at 09:15 UTC and (the record's, a day) midnight UTC, in London's summer.
    assert "4 Jul 2026, 10:15 BST" in page
    assert "5 Jul 2026, 01:00 BST" in page
    assert "customer-bad-link:" not in page  # words, not keys


def test_counters_under_their_limit_are_not_blocks_and_show_under_all_counters(
    lifter, clock, settings
):
    settings.CUSTOMER_LINK_BAD_LIMIT = 3
    hit("customer-bad-link", "203.0.113.5", 3)
    hit("customer-bad-link", "198.51.100.7", 2)
    page = lifter.get(CHANGELIST).content.decode()
    assert "203.0.113.5" in page
    assert "198.51.100.7" not in page
    everything = lifter.get(CHANGELIST, {"show": "all"}).content.decode()
    assert "Rate-limit counters" in everything
    assert "198.51.100.7" in everything and "Under its limit" in everything
    # A raised limit is the limit at once: that address is no longer blocked.
    settings.CUSTOMER_LINK_BAD_LIMIT = 4
    assert "203.0.113.5" not in lifter.get(CHANGELIST).content.decode()


def test_a_block_whose_window_has_ended_is_not_shown_as_a_block(lifter, clock, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    hit("reset-email", "ann@example.com", 1)
    clock.now += timedelta(minutes=60)
    assert "ann@example.com" not in lifter.get(CHANGELIST).content.decode()
    everything = lifter.get(CHANGELIST, {"show": "all"}).content.decode()
    assert "ann@example.com" in everything and "Window ended" in everything


def test_the_newest_block_comes_first(lifter, clock, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    for email in ("first@example.com", "second@example.com", "third@example.com"):
        hit("reset-email", email, 1)
    page = lifter.get(CHANGELIST).content.decode()
    first, second, third = (page.index(f"{n}@example.com") for n in ("first", "second", "third"))
    assert third < second < first


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("203.0.113.5", ["from the address 203.0.113.5"]),
        ("2001:db8:0:1::99", ["from the address 2001:db8:0:1::/64"]),  # an IPv6 client's /64
        ("ANN@example.com", ["for ann@example.com"]),
        ("acme@example.com", ["Attempts at changing the password of acme"]),  # its account
        ("#{job}", ["record of installation #{job}"]),
    ],
)
def test_staff_find_a_block_by_address_email_account_or_installation_number(
    lifter, cast, clock, settings, term, found
):
    settings.CUSTOMER_LINK_BAD_LIMIT = 1
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    settings.PASSWORD_CHANGE_LIMIT = 1
    settings.CUSTOMER_RECORD_DAILY_LIMIT = 1
    cast.partner_user.email = "acme@example.com"
    cast.partner_user.save()
    job = cast.installation(Status.CUSTOMER_APPROVED)
    hit("customer-bad-link", "203.0.113.5", 1)
    hit("customer-bad-link", "2001:db8:0:1::/64", 1)
    hit("reset-email", "ann@example.com", 1)
    hit("password-change", str(cast.partner_user.pk), 1)
    hit("customer-record", str(job.pk), 1)
    page = lifter.get(CHANGELIST, {"q": term.format(job=job.pk)}).content.decode()
    for words in found:
        assert words.format(job=job.pk).replace("'", "&#x27;") in page
    assert page.count('name="_selected_action"') == len(found)


def test_staff_without_the_view_permission_cannot_see_the_blocks(client, cast, clock):
    hit("reset-email", "ann@example.com", 5)
    client.force_login(cast.staff)
    assert client.get(CHANGELIST).status_code == 403
    assert "Rate-limit counters" not in client.get("/admin/").content.decode()


def test_staff_who_may_only_view_cannot_lift(client, cast, clock, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    hit("reset-email", "ann@example.com", 1)
    block = row("reset-email:ann@example.com")
    grant(cast.staff, "view_ratecount")
    client.force_login(cast.staff)
    page = client.get(CHANGELIST).content.decode()
    assert "ann@example.com" in page
    assert "Lift the block" not in page and "/lift/" not in page
    assert client.post(lift_url(block.pk)).status_code == 403
    client.post(CHANGELIST, {**ACTION, "_selected_action": [block.pk]})
    assert RateCount.objects.filter(pk=block.pk).exists()
    assert not LogEntry.objects.exists()


def test_lifting_a_bad_link_block_lets_the_next_request_through(lifter, cast, clock, settings):
    settings.CUSTOMER_LINK_BAD_LIMIT = 2
    prober = Client(REMOTE_ADDR="203.0.113.5")
    dead = reverse("customer:page", args=["not-a-link"])
    assert [prober.get(dead).status_code for _ in range(3)] == [404, 404, 429]
    block = row("customer-bad-link:203.0.113.5")
    response = lifter.post(CHANGELIST, {**ACTION, "_selected_action": [block.pk]})
    assert response.status_code == 302
    assert prober.get(dead).status_code == 404
    assert RateCount.objects.get(key="customer-bad-link:203.0.113.5").count == 1


def test_lifting_a_password_reset_block_with_its_row_button_lets_the_next_request_through(
    lifter, cast, clock, settings
):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    email = cast.partner_user.email

    def ask():
        return Client().post("/accounts/password/forgotten/", {"email": email})

    assert [ask().status_code, ask().status_code] == [302, 429]
    page = lifter.get(CHANGELIST).content.decode()
    block = row(f"reset-email:{email.lower()}")
    assert f'formaction="{lift_url(block.pk)}"' in page
    response = lifter.post(lift_url(block.pk), {"action": "", "_selected_action": []})
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert flash(response)[0].startswith(f"Lifted: Password-reset requests for {email.lower()}")
    assert ask().status_code == 302
    assert len(mail.outbox) == 2


def test_lifting_writes_an_admin_log_entry_saying_what_was_lifted(lifter, cast, clock, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 1
    hit("reset-address", "203.0.113.5", 1)
    block = row("reset-address:203.0.113.5")
    lifter.post(CHANGELIST, {**ACTION, "_selected_action": [block.pk]})
    entry = LogEntry.objects.get()
    assert entry.user == cast.staff
    assert entry.action_flag == DELETION
    assert entry.object_id == str(block.pk)
    assert entry.object_repr == "Password-reset requests from the address 203.0.113.5"
    assert entry.get_change_message() == (
        "Lifted the block: Password-reset requests from the address 203.0.113.5: 1 of 1 "
        "requests, until 4 Jul 2026, 11:00 BST."
    )


def test_lifting_several_blocks_deletes_them_in_one_transaction(lifter, clock, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    hit("reset-email", "ann@example.com", 1)
    hit("reset-email", "bob@example.com", 1)
    ids = list(RateCount.objects.values_list("pk", flat=True))

    def broken(*args, **kwargs):
        raise RuntimeError("the log could not be written")

    with pytest.MonkeyPatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(LogEntry.objects, "bulk_create", broken)
        lifter.post(CHANGELIST, {**ACTION, "_selected_action": ids})
    assert RateCount.objects.count() == 2  # nothing lifted without its log entry
    response = lifter.post(CHANGELIST, {**ACTION, "_selected_action": ids}, follow=True)
    assert not RateCount.objects.exists()
    assert LogEntry.objects.count() == 2
    assert "ann@example.com" in flash(response)[0] and "bob@example.com" in flash(response)[0]


def test_lifting_an_already_lifted_block_says_so_and_is_no_error(lifter, clock, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    hit("reset-email", "ann@example.com", 1)
    block = row("reset-email:ann@example.com")
    already = "This block was already lifted (or the window had ended): nothing more to do."
    first = lifter.post(lift_url(block.pk), follow=True)
    assert flash(first)[0].startswith("Lifted: ")
    again = lifter.post(lift_url(block.pk), follow=True)
    assert again.status_code == 200
    assert flash(again) == [already]
    # The same through the action, selected on a page opened before the first lift.
    again = lifter.post(CHANGELIST, {**ACTION, "_selected_action": [block.pk]}, follow=True)
    assert again.status_code == 200
    assert flash(again) == [already]
    assert LogEntry.objects.count() == 1


def test_the_row_button_goes_back_to_the_list_as_it_was(lifter, clock, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    hit("reset-email", "ann@example.com", 1)
    block = row("reset-email:ann@example.com")
    page = lifter.get(CHANGELIST, {"show": "all", "q": "ann"}).content.decode()
    assert f'formaction="{lift_url(block.pk)}?show=all&amp;q=ann"' in page
    response = lifter.post(f"{lift_url(block.pk)}?q=ann&show=all&o=1")
    assert response["Location"] == f"{CHANGELIST}?show=all&q=ann"


def test_a_lift_of_something_that_is_not_a_row_changes_nothing(lifter, clock, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 1
    hit("reset-email", "ann@example.com", 1)
    response = lifter.post(CHANGELIST.rstrip("/") + "/abc/lift/")
    assert response.status_code == 302
    assert flash(response) == ["Nothing was lifted: that is not a row of this list."]
    assert RateCount.objects.count() == 1
    assert lifter.get(lift_url(RateCount.objects.get().pk)).status_code == 405


def test_no_secret_in_a_key_reaches_the_page_or_the_log(lifter, cast, clock, settings):
    settings.CUSTOMER_LINK_POST_LIMIT = 1
    job = cast.installation(Status.CONTRACT_SENT)
    token = make_token(job)
    hit("customer-post", str(job.pk), 1)
    # A counter whose key holds a link token (an old limit, or one added without a description).
    RateCount.objects.create(
        key=f"customer-token:{token}"[:100],
        window_start=START,
        ends_at=START + timedelta(hours=1),
        count=99,
    )
    page = lifter.get(CHANGELIST, {"show": "all"}).content.decode()
    assert f"Signing and approving through the customer&#x27;s link of installation #{job.pk}" in (
        page
    )
    assert "A limit the portal no longer counts (key " in page
    assert token[:20] not in page
    lifter.post(
        CHANGELIST + "?show=all",
        {**ACTION, "_selected_action": list(RateCount.objects.values_list("pk", flat=True))},
    )
    assert not RateCount.objects.exists()
    logged = [(e.object_repr, e.change_message) for e in LogEntry.objects.all()]
    assert len(logged) == 2 and token[:20] not in str(logged)
    assert token[:20] not in lifter.get("/admin/").content.decode()  # "Recent actions"


def test_the_change_delete_and_history_pages_of_a_counter_do_not_exist(lifter, clock):
    hit("reset-email", "ann@example.com", 1)
    pk = row("reset-email:ann@example.com").pk
    for page in ("change", "delete", "history"):
        assert lifter.get(f"{CHANGELIST}{pk}/{page}/").status_code == 404
    assert lifter.get(f"{CHANGELIST}add/").status_code == 404


def test_log_in_pauses_are_reachable_from_the_blocks_page_in_our_admin_site(client, cast, clock):
    client.force_login(cast.superuser)
    page = client.get(CHANGELIST).content.decode()
    assert 'href="/admin/axes/accessattempt/"' in page
    assert client.get("/admin/axes/accessattempt/", {"locked_out": "yes"}).status_code == 200
    # Staff without axes' permission are not sent to a page they cannot open ...
    grant(cast.staff, "view_ratecount")
    client.force_login(cast.staff)
    assert "/admin/axes/accessattempt/" not in client.get(CHANGELIST).content.decode()
    assert client.get("/admin/axes/accessattempt/").status_code == 403
    # ... and staff given it are.
    cast.staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="axes",
            codename__in=["view_accessattempt", "delete_accessattempt"],
        )
    )
    assert 'href="/admin/axes/accessattempt/"' in client.get(CHANGELIST).content.decode()
    assert client.get("/admin/axes/accessattempt/").status_code == 200


@pytest.mark.parametrize("name", sorted(ratelimit.LIMITS))
def test_every_limit_the_portal_counts_is_shown_in_words_not_by_its_key(lifter, cast, clock, name):
    kind = ratelimit.LIMITS[name]
    subject = {
        ratelimit.Subject.ADDRESS: "203.0.113.5",
        ratelimit.Subject.EMAIL: "ann@example.com",
        ratelimit.Subject.INSTALLATION: "42",
        ratelimit.Subject.USER: str(cast.partner_user.pk),
    }[kind.subject]
    hit(name, subject, kind.limit().count)
    page = lifter.get(CHANGELIST).content.decode()
    assert kind.counts.replace("'", "&#x27;") in page
    assert f"{name}:" not in page
    assert page.count('name="_selected_action"') == 1


def test_a_counter_prints_in_words_never_by_its_key(cast, clock):
    hit("reset-email", "ann@example.com", 3)
    assert str(row("reset-email:ann@example.com")) == (
        "Password-reset requests for ann@example.com: 3 of 3 requests, until 4 Jul 2026, 11:00 BST"
    )
    secret = RateCount(key="customer-token:s3cr3t-token", window_start=START, ends_at=START)
    assert "s3cr3t" not in str(secret) and "customer-token" not in str(secret)
