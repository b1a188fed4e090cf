"""Re-sending the customer's link (partner users) and retrying failed messages (staff)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from installations import notifications, services, sms
from installations.customer_links import make_token, read_token
from installations.models import Installation, Message
from installations.statuses import Status
from tests.factories import PartnerUserFactory


@pytest.fixture(autouse=True)
def _tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SMS_BACKEND = "installations.sms.InMemoryBackend"


def _resend(installation) -> str:
    return reverse("notify:resend-link", args=[installation.pk])


def _retry(message) -> str:
    return reverse("notify:retry-message", args=[message.installation_id, message.pk])


def _links(installation):
    return installation.messages.filter(template=notifications.CONTRACT_LINK)


def test_a_partner_user_resends_a_fresh_link(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    old_token = make_token(installation)
    before = _links(installation).count()
    version = installation.version
    client.force_login(cast.partner_user)
    response = client.post(_resend(installation))
    assert response.status_code == 302
    assert response["Location"] == reverse("partner:detail", args=[installation.pk])
    installation.refresh_from_db()
    assert installation.version == version  # only the link changed
    assert _links(installation).count() == before + 2  # email and SMS
    newest = _links(installation).first()
    # Tokens carry their signing time, so compare what the link opens, not its text.
    token = re.search(r"/c/([^/\s]+)/", newest.body).group(1)
    assert read_token(token) == installation
    with pytest.raises(Exception, match="replaced"):
        read_token(old_token)
    page = client.get(response["Location"]).content.decode()
    assert "A new link was sent to" in page


def test_an_htmx_resend_returns_the_messages_panel(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    client.force_login(cast.partner_user)
    detail = reverse("partner:detail", args=[installation.pk])
    response = client.post(_resend(installation), {"next": detail}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<section") and 'id="messages-panel"' in html
    assert "A new link was sent to" in html
    assert f'name="next" value="{detail}"' in html


@pytest.mark.parametrize("who", ["other_partner_user", "handyman", "staff"])
def test_only_the_installations_partner_can_resend(client, cast, who):
    installation = cast.installation(Status.CONTRACT_SENT)
    nonce = installation.link_nonce
    user = cast.handyman.user if who == "handyman" else getattr(cast, who)
    client.force_login(user)
    assert client.post(_resend(installation)).status_code == 404
    installation.refresh_from_db()
    assert installation.link_nonce == nonce


def test_resend_needs_a_login_and_a_post(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    response = client.post(_resend(installation))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(cast.partner_user)
    # Reopened from the history: back to the record, nothing sent.
    response = client.get(_resend(installation))
    assert response.status_code == 302
    assert response["Location"] == reverse("partner:detail", args=[installation.pk])
    assert client.put(_resend(installation)).status_code == 405


@pytest.mark.parametrize("status", [Status.INSTALLATION_COMPLETED, Status.CANCELLED])
def test_resend_is_refused_while_the_customer_has_no_link(client, cast, status):
    installation = cast.installation(status)
    nonce = installation.link_nonce
    count = installation.messages.count()
    client.force_login(cast.partner_user)
    response = client.post(_resend(installation))
    assert response.status_code == 409
    assert "there is no customer link to send again" in response.content.decode()
    response = client.post(_resend(installation), headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert 'id="messages-panel"' in response.content.decode()
    installation.refresh_from_db()
    assert installation.link_nonce == nonce
    assert installation.messages.count() == count


def test_the_detail_page_offers_resend_only_while_the_customer_has_a_link(client, cast):
    waiting = cast.installation(Status.CONTRACT_SENT)
    signed = cast.installation(Status.CONTRACT_SIGNED)
    approved = cast.installation(Status.CUSTOMER_APPROVED)
    done = cast.installation(Status.INSTALLATION_COMPLETED)
    client.force_login(cast.partner_user)
    for open_ in (waiting, signed, approved):
        html = client.get(reverse("partner:detail", args=[open_.pk])).content.decode()
        assert "Re-send link to customer" in html and _resend(open_) in html
    html = client.get(reverse("partner:detail", args=[done.pk])).content.decode()
    assert "Re-send link to customer" not in html


def test_an_approved_customer_gets_a_fresh_link_to_their_record(client, cast):
    # Links last 30 days; a customer who wants their record (and its evidence pack) later
    # asks the partner, who can send a new one.
    installation = cast.installation(Status.CUSTOMER_APPROVED)
    client.force_login(cast.partner_user)
    assert client.post(_resend(installation)).status_code == 302
    sent = installation.messages.filter(template=notifications.RECORD_LINK)
    assert {m.channel for m in sent} == {Message.Channel.EMAIL, Message.Channel.SMS}
    assert all("record" in m.body and "approve" not in m.body for m in sent)
    token = re.search(r"/c/([^/\s]+)/", sent.first().body).group(1)
    client.logout()
    assert client.get(reverse("customer:page", args=[token])).status_code == 200
    assert client.get(reverse("evidence:customer-pack", args=[token])).status_code == 200


def test_a_signed_contract_awaiting_approval_gets_a_fresh_link_to_approve(client, cast):
    # The customer signed and never approved; their link has expired or is lost: without a
    # new one the job would stay at Contract signed for good.
    installation = cast.installation(Status.CONTRACT_SIGNED)
    old_token = make_token(installation)
    client.force_login(cast.partner_user)
    response = client.post(_resend(installation))
    assert response.status_code == 302
    sent = installation.messages.filter(template=notifications.APPROVAL_LINK)
    assert {m.channel for m in sent} == {Message.Channel.EMAIL, Message.Channel.SMS}
    assert all("approve" in m.body for m in sent)
    assert not any("sign it" in m.body for m in sent)
    with pytest.raises(Exception, match="replaced"):
        read_token(old_token)
    token = re.search(r"/c/([^/\s]+)/", sent.first().body).group(1)
    page = client.get(reverse("customer:page", args=[token])).content.decode()
    assert reverse("customer:approve", args=[token]) in page
    installation.refresh_from_db()
    assert installation.status == Status.CONTRACT_SIGNED


def _failed_message(cast) -> Message:
    installation = cast.installation(Status.EN_ROUTE)
    message = installation.messages.get()
    Message.objects.filter(pk=message.pk).update(
        status=Message.State.FAILED, attempts=5, last_error="SmsError: number unreachable"
    )
    message.refresh_from_db()
    return message


def test_a_failed_message_is_visible_on_the_detail_page(client, cast):
    message = _failed_message(cast)
    client.force_login(cast.partner_user)
    html = client.get(reverse("partner:detail", args=[message.installation_id])).content.decode()
    assert "Failed" in html and "number unreachable" in html
    assert "Retry" not in html  # staff only


def test_staff_retry_a_failed_message(client, cast, django_capture_on_commit_callbacks):
    message = _failed_message(cast)
    client.force_login(cast.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_retry(message))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:installations_installation_change", args=[message.installation_id]
    )
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.State.SENT, 1)


def test_an_htmx_retry_returns_the_panel(client, cast):
    message = _failed_message(cast)
    client.force_login(cast.staff)
    response = client.post(_retry(message), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "will be sent again" in response.content.decode()


@pytest.mark.parametrize("htmx", [False, True])
def test_a_double_click_on_retry_is_answered_as_done(client, cast, settings, htmx):
    # A queue that has not run yet: the second click finds the message waiting to be sent.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    message = _failed_message(cast)
    client.force_login(cast.staff)
    headers = {"HX-Request": "true"} if htmx else {}
    assert client.post(_retry(message), headers=headers).status_code in {200, 302}
    waiting = Message.objects.values().get(pk=message.pk)

    again = client.post(_retry(message), headers=headers, follow=True)

    assert again.status_code == 200
    assert "is already waiting to be sent again" in again.content.decode()
    assert Message.objects.values().get(pk=message.pk) == waiting


def test_retrying_a_message_sent_meanwhile_says_it_was_sent(client, cast):
    # The first click's retry went out at once (or the worker's own retry did): done, not 409.
    installation = cast.installation(Status.EN_ROUTE)
    message = installation.messages.get()
    Message.objects.filter(pk=message.pk).update(status=Message.State.SENT, attempts=1)
    client.force_login(cast.staff)
    response = client.post(_retry(message), follow=True)
    assert response.status_code == 200
    assert "was sent: there is nothing to retry" in response.content.decode()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.State.SENT, 1)
    assert not sms.InMemoryBackend.outbox


def test_retrying_a_held_message_answers_409(client, cast):
    installation = cast.installation(Status.EN_ROUTE)
    message = installation.messages.get()
    Message.objects.filter(pk=message.pk).update(status=Message.State.HELD)
    client.force_login(cast.staff)
    response = client.post(_retry(message))
    assert response.status_code == 409
    assert "only failed messages can be retried" in response.content.decode()


@pytest.mark.parametrize("htmx", [False, True])
def test_a_retry_from_a_page_drawn_before_the_job_was_cancelled_asks_to_check_first(
    client, cast, htmx
):
    # The page showed the failed "on the way" text; a colleague then cancelled the job. The
    # text is no longer true: it is not sent on the old page's say-so.
    message = _failed_message(cast)
    installation = message.installation
    client.force_login(cast.staff)
    page = client.get(reverse("admin:installations_installation_change", args=[installation.pk]))
    drawn = re.search(r'name="_fsm_version" value="(\d+)"', page.content.decode()).group(1)
    services.installation_cancel(installation=installation, reason="Moved.", actor=cast.superuser)
    before = Message.objects.values().get(pk=message.pk)
    headers = {"HX-Request": "true"} if htmx else {}

    # The admin's Retry button sends the change form (its _fsm_version); the panel's, version.
    sent = {"version": drawn} if htmx else {"_fsm_version": drawn}
    response = client.post(_retry(message), sent, headers=headers)

    assert response.status_code == 409
    html = response.content.decode()
    assert f"#{installation.pk} changed since this page was drawn: it is now “Cancelled”" in html
    assert Message.objects.values().get(pk=message.pk) == before
    # Asked again from the page as it is now: "on his way" is over, so it is still not sent.
    now = re.search(r'name="version" value="(\d+)"', html).group(1)
    again = client.post(_retry(message), {"version": now}, headers=headers)
    assert again.status_code == 409
    assert "it is now “Cancelled”, so the message is no longer true" in again.content.decode()
    assert Message.objects.values().get(pk=message.pk) == before


def test_a_retry_asked_again_from_the_page_as_it_now_is_is_sent_while_still_true(client, cast):
    # A colleague edited the job's notes after the page was drawn: the first retry asks to check
    # (the page is old); from the page as it is now, the text still true, it is sent.
    message = _failed_message(cast)
    installation = message.installation
    drawn = installation.version
    services.installation_update(
        installation=installation, actor=cast.partner_user, notes="Gate code 4711"
    )
    client.force_login(cast.staff)

    first = client.post(_retry(message), {"version": drawn}, headers={"HX-Request": "true"})
    assert first.status_code == 409
    now = re.search(r'name="version" value="(\d+)"', first.content.decode()).group(1)
    again = client.post(_retry(message), {"version": now}, headers={"HX-Request": "true"})

    assert again.status_code < 400
    assert Message.objects.get(pk=message.pk).status != Message.State.FAILED


@pytest.mark.parametrize(
    ("template", "status", "moved_to"),
    [
        (notifications.ON_THE_WAY, Status.EN_ROUTE, Status.INSTALLATION_IN_PROGRESS),
        (notifications.CONTRACT_LINK, Status.CONTRACT_SENT, Status.CONTRACT_SIGNED),
        (notifications.APPROVAL_REMINDER, Status.CONTRACT_SIGNED, Status.CUSTOMER_APPROVED),
    ],
)
def test_a_failed_message_about_a_step_the_job_has_left_is_not_sent_on_a_fresh_page(
    client, cast, template, status, moved_to
):
    # "He is on his way" after he arrived, "please sign" after they signed: no longer true,
    # however fresh the page the retry comes from.
    installation = cast.installation(status)
    message = Message.objects.create(
        installation=installation,
        partner=installation.partner,
        channel=Message.Channel.SMS,
        recipient="+44 7700 900123",
        template=template,
        body="The text as it was.",
        status=Message.State.FAILED,
        attempts=5,
    )
    Installation.objects.filter(pk=installation.pk).update(status=moved_to)  # as the machine did
    before = Message.objects.values().get(pk=message.pk)
    client.force_login(cast.staff)

    response = client.post(_retry(message))

    assert response.status_code == 409
    assert f"it is now “{moved_to.label}”, so the message is no longer true" in (
        response.content.decode()
    )
    assert Message.objects.values().get(pk=message.pk) == before
    assert not sms.InMemoryBackend.outbox


def test_retrying_a_message_whose_link_was_sent_again_since_is_refused(client, cast):
    # The contract's text failed; the customer then asked for their link and the office sent
    # a new one, so the failed text's link no longer works: retrying it would send a dead link.
    installation = cast.installation(Status.CONTRACT_SENT)
    failed = installation.messages.filter(body__contains="/c/").order_by("pk").first()
    Message.objects.filter(pk=failed.pk).update(status=Message.State.FAILED, attempts=5)
    notifications.contract_link_resend(installation=installation, actor=cast.superuser)
    sms.InMemoryBackend.outbox.clear()
    before = Message.objects.values().get(pk=failed.pk)
    client.force_login(cast.staff)

    response = client.post(_retry(failed))

    assert response.status_code == 409
    assert (
        "carries a customer link that no longer works: a newer link was sent since"
        in response.content.decode()
    )
    assert Message.objects.values().get(pk=failed.pk) == before
    assert not sms.InMemoryBackend.outbox


@pytest.mark.parametrize("who", ["partner_user", "handyman"])
def test_only_staff_can_retry(client, cast, who):
    message = _failed_message(cast)
    user = cast.handyman.user if who == "handyman" else cast.partner_user
    client.force_login(user)
    assert client.post(_retry(message)).status_code == 404
    message.refresh_from_db()
    assert message.status == Message.State.FAILED


def test_staff_who_may_not_change_messages_cannot_retry_one(client, cast):
    from tests.factories import UserFactory

    message = _failed_message(cast)
    client.force_login(UserFactory(username="no-rights", is_staff=True))
    assert client.post(_retry(message)).status_code == 404
    message.refresh_from_db()
    assert message.status == Message.State.FAILED


def test_a_message_is_retried_only_through_its_own_installation(client, cast):
    message = _failed_message(cast)
    other = cast.installation(Status.SCHEDULED)
    client.force_login(cast.staff)
    url = reverse("notify:retry-message", args=[other.pk, message.pk])
    assert client.post(url).status_code == 404
    assert client.get(_retry(message))["Location"] == reverse(
        "partner:detail", args=[message.installation_id]
    )
    assert client.put(_retry(message)).status_code == 405


# --- Re-sending: a double click, a pause, a daily number (issue 21, item 3) ----------------------


def _resends(installation) -> int:
    rows = installation.messages.filter(cause=Message.Cause.RESEND).order_by()
    return rows.values("created_at").distinct().count()


def _age_resends(installation, minutes: int) -> None:
    for m in installation.messages.filter(cause=Message.Cause.RESEND):
        Message.objects.filter(pk=m.pk).update(created_at=m.created_at - timedelta(minutes=minutes))


def test_fifty_resend_posts_in_a_row_send_one_link(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    before = installation.messages.count()
    client.force_login(cast.partner_user)
    for n in range(50):
        headers = {"HX-Request": "true"} if n % 2 else {}
        response = client.post(_resend(installation), headers=headers)
        assert response.status_code in (200, 302, 429)
    assert _resends(installation) == 1
    assert installation.messages.count() == before + 2  # one email, one SMS


def test_a_double_click_is_answered_as_done(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    client.force_login(cast.partner_user)
    first = client.post(_resend(installation))
    second = client.post(_resend(installation))
    assert first.status_code == second.status_code == 302
    assert "A new link was sent to" in client.get(second["Location"]).content.decode()
    assert _resends(installation) == 1


def test_a_colleagues_resend_a_moment_before_is_named_as_theirs_and_nothing_is_sent_again(
    client, cast
):
    installation = cast.installation(Status.CONTRACT_SENT)
    anna = PartnerUserFactory(
        partner=cast.partner, user__first_name="Anna", user__last_name="Colleague"
    ).user
    client.force_login(anna)
    client.post(_resend(installation), follow=True)  # her page shows her own answer
    sent_at = timezone.localtime(_links(installation).first().created_at)

    client.force_login(cast.partner_user)  # a colleague, on the same record, seconds later
    for headers in ({}, {"HX-Request": "true"}):
        answer = client.post(_resend(installation), headers=headers, follow=True)
        page = answer.content.decode()
        assert (
            f"Anna Colleague sent {installation.customer.name} a new link at "
            f"{sent_at:%H:%M}, just before you. Nothing was sent again: that link is the one "
            "that works."
        ) in page
        assert "A new link was sent" not in page
    assert _resends(installation) == 1
    assert set(_links(installation).values_list("sent_by", flat=True)) >= {anna.pk}


def test_a_resend_by_a_login_deleted_since_is_not_answered_as_ones_own(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    leaver = PartnerUserFactory(partner=cast.partner).user
    notifications.contract_link_resend(installation=installation, actor=leaver)
    leaver.delete()

    client.force_login(cast.partner_user)
    page = client.post(_resend(installation), follow=True).content.decode()
    assert f"Someone else sent {installation.customer.name} a new link at " in page
    assert "A new link was sent" not in page
    assert _resends(installation) == 1


def test_the_messages_panel_says_who_re_sent_a_link(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    client.force_login(cast.partner_user)
    client.post(_resend(installation))
    cast.partner_user.first_name, cast.partner_user.last_name = "Pat", "Partner"
    cast.partner_user.save()

    page = client.get(reverse("partner:detail", args=[installation.pk])).content.decode()
    assert page.count(", re-sent by Pat Partner</small>") == 2  # its email and its SMS
    assert page.count("re-sent by") == 2  # the first link, sent by the portal, names nobody


def test_a_resend_too_soon_answers_429_saying_when(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    client.force_login(cast.partner_user)
    client.post(_resend(installation))
    _age_resends(installation, 4)
    last = installation.messages.filter(cause=Message.Cause.RESEND).first().created_at
    # Said as the first whole minute from which it may be sent (never the one before).
    until = timezone.localtime(last + notifications.RESEND_GAP)
    when = (until.replace(second=0, microsecond=0) + timedelta(minutes=1)).strftime("%H:%M")
    if until.second == until.microsecond == 0:
        when = until.strftime("%H:%M")
    response = client.post(_resend(installation), headers={"HX-Request": "true"})
    assert response.status_code == 429
    html = response.content.decode()
    assert 'id="messages-panel"' in html
    assert f"can be sent again at {when}" in html
    # Without htmx: the same sentence as a flash message on the page it came from.
    response = client.post(_resend(installation))
    assert response.status_code == 302
    assert response["Location"] == reverse("partner:detail", args=[installation.pk])
    assert f"can be sent again at {when}" in client.get(response["Location"]).content.decode()
    assert _resends(installation) == 1


def test_a_held_message_shows_its_reason_on_the_detail_page(client, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    Message.objects.filter(installation=installation).update(
        status=Message.State.HELD, hold_reason="Held: at most 10 a day"
    )
    client.force_login(cast.partner_user)
    html = client.get(reverse("partner:detail", args=[installation.pk])).content.decode()
    assert "Held back" in html and "Held: at most 10 a day" in html
