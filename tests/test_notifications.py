"""Messages are rows created with the change that causes them, delivered exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import transaction
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from installations import notifications, services, sms
from installations.customer_links import read_token
from installations.models import Customer, Message
from installations.statuses import Status

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class FlakyBackend(sms.BaseBackend):
    """Fails `failures` times, then works."""

    failures = 2
    calls = 0
    sent: list[dict[str, str]] = []

    def send(self, *, to: str, body: str) -> str:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise sms.SmsError("provider unavailable")
        type(self).sent.append({"to": to, "body": body})
        return "ok"


class BrokenBackend(sms.BaseBackend):
    def send(self, *, to: str, body: str) -> str:
        raise sms.SmsError("number unreachable")


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = IMMEDIATE
    settings.SMS_BACKEND = "installations.sms.InMemoryBackend"
    sms.InMemoryBackend.outbox.clear()
    FlakyBackend.calls = 0
    FlakyBackend.sent = []


def _set_off(installation, cast):
    return services.installation_set_off(
        installation=installation, eta_minutes=30, actor=cast.handyman.user
    )


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_change_rolled_back_creates_no_message(cast, django_capture_on_commit_callbacks):
    installation = cast.installation(Status.INSTALLER_ASSIGNED)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _set_off(installation, cast)
        raise RuntimeError("something later in the same transaction failed")
    assert not Message.objects.filter(installation=installation).exists()
    assert callbacks == []
    assert sms.InMemoryBackend.outbox == []
    installation.refresh_from_db()
    assert installation.status == Status.INSTALLER_ASSIGNED


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_committed_change_creates_exactly_one_message_and_sends_it(
    cast, django_capture_on_commit_callbacks
):
    installation = cast.installation(Status.INSTALLER_ASSIGNED)
    with django_capture_on_commit_callbacks(execute=True):
        installation = _set_off(installation, cast)
    message = Message.objects.get(installation=installation)
    assert message.template == notifications.ON_THE_WAY
    assert message.channel == Message.Channel.SMS
    assert message.recipient == installation.customer.phone
    assert message.status == Message.State.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    eta = timezone.localtime(installation.expected_arrival_at).strftime("%H:%M")
    assert sms.InMemoryBackend.outbox == [{"to": installation.customer.phone, "body": message.body}]
    assert "Hank" in message.body and eta in message.body and "Acme Appliances" in message.body


@pytest.mark.usefixtures("jobs_booked_today")
def test_on_the_way_goes_by_email_when_the_customer_has_no_phone(
    cast, django_capture_on_commit_callbacks
):
    installation = cast.installation(Status.INSTALLER_ASSIGNED)
    installation.customer.phone = ""
    installation.customer.save()
    with django_capture_on_commit_callbacks(execute=True):
        _set_off(installation, cast)
    message = Message.objects.get(installation=installation)
    assert message.channel == Message.Channel.EMAIL
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [installation.customer.email]
    assert "Acme Appliances" in mail.outbox[0].subject
    assert "Hank" in mail.outbox[0].body


@pytest.mark.usefixtures("jobs_booked_today")
def test_on_the_way_is_not_sent_twice_within_five_minutes(cast):
    installation = cast.installation(Status.EN_ROUTE)
    services.installation_reassign(
        installation=installation, handyman=cast.other_handyman, actor=cast.partner_user
    )
    services.installation_set_off(
        installation=installation, eta_minutes=15, actor=cast.other_handyman.user
    )
    assert installation.messages.filter(template=notifications.ON_THE_WAY).count() == 1

    # Once the window has passed, a new departure is announced again.
    installation.messages.update(created_at=timezone.now() - timedelta(minutes=6))
    services.installation_reassign(
        installation=installation, handyman=cast.handyman, actor=cast.partner_user
    )
    _set_off(installation, cast)
    assert installation.messages.filter(template=notifications.ON_THE_WAY).count() == 2


def test_sending_the_contract_emails_and_texts_a_working_link(cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    links = installation.messages.filter(template=notifications.CONTRACT_LINK)
    assert {m.channel for m in links} == {Message.Channel.EMAIL, Message.Channel.SMS}
    for message in links:
        assert "Acme Appliances" in message.body
        token = message.body.split("/c/", 1)[1].split("/", 1)[0]
        assert read_token(token).pk == installation.pk


def test_the_contract_link_is_only_emailed_without_a_phone(cast):
    installation = cast.installation(Status.INSTALLATION_COMPLETED)
    installation.customer.phone = ""
    installation.customer.save()
    services.installation_send_contract(installation=installation, actor=cast.handyman.user)
    channels = list(
        installation.messages.filter(template=notifications.CONTRACT_LINK).values_list(
            "channel", flat=True
        )
    )
    assert channels == [Message.Channel.EMAIL]


@pytest.mark.parametrize(
    ("status", "template", "flag"),
    [
        (Status.INSTALLATION_COMPLETED, notifications.PARTNER_COMPLETED, "notify_on_completed"),
        (Status.REJECTED, notifications.PARTNER_REJECTED, "notify_on_rejected"),
        (Status.CANCELLED, notifications.PARTNER_CANCELLED, "notify_on_cancelled"),
    ],
)
def test_the_partner_is_emailed_unless_it_switched_that_off(cast, status, template, flag):
    installation = cast.installation(status)
    message = installation.messages.get(template=template)
    assert message.recipient == cast.partner.email
    assert message.channel == Message.Channel.EMAIL
    assert "Acme Appliances" in message.body and installation.customer.name in message.subject

    setattr(cast.partner, flag, False)
    cast.partner.save()
    other = cast.installation(status)
    assert not other.messages.filter(template=template).exists()


def test_a_partner_without_an_email_gets_no_notice(cast):
    cast.partner.email = ""
    cast.partner.save()
    installation = cast.installation(Status.REJECTED)
    assert not installation.messages.exists()


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_flaky_backend_sends_exactly_once_after_retries(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "tests.test_notifications.FlakyBackend"
    installation = cast.installation(Status.INSTALLER_ASSIGNED)
    with django_capture_on_commit_callbacks(execute=True):
        _set_off(installation, cast)
    message = Message.objects.get(installation=installation)
    assert (message.status, message.attempts) == (Message.State.PENDING, 1)
    assert "provider unavailable" in message.last_error
    first_retry = message.next_attempt_at
    assert first_retry > timezone.now()

    # Not due yet: nothing happens.
    assert notifications.deliver_due_messages() == 0
    assert FlakyBackend.calls == 1

    later = first_retry + timedelta(seconds=1)
    assert notifications.deliver_due_messages(now=later) == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.State.PENDING, 2)
    # The delays grow.
    assert message.next_attempt_at - later > first_retry - message.created_at

    much_later = message.next_attempt_at + timedelta(seconds=1)
    assert notifications.deliver_due_messages(now=much_later) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.State.SENT, 3)
    assert FlakyBackend.sent == [{"to": installation.customer.phone, "body": message.body}]

    # Whatever runs again afterwards sends nothing more.
    assert notifications.deliver(message.pk, now=much_later + timedelta(days=1)) == "skipped"
    assert notifications.deliver_due_messages(now=much_later + timedelta(days=1)) == 0
    assert len(FlakyBackend.sent) == 1


def _fail_until_given_up(cast, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "tests.test_notifications.BrokenBackend"
    installation = cast.installation(Status.INSTALLER_ASSIGNED)
    with django_capture_on_commit_callbacks(execute=True):
        _set_off(installation, cast)
    message = Message.objects.get(installation=installation)
    now = timezone.now()
    for _ in range(notifications.MAX_ATTEMPTS + 2):
        now += timedelta(hours=1)
        notifications.deliver_due_messages(now=now)
    message.refresh_from_db()
    return installation, message


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_backend_that_always_fails_ends_as_failed(
    cast, settings, django_capture_on_commit_callbacks
):
    installation, message = _fail_until_given_up(cast, settings, django_capture_on_commit_callbacks)
    assert message.status == Message.State.FAILED
    assert message.attempts == notifications.MAX_ATTEMPTS
    assert message.next_attempt_at is None
    assert "number unreachable" in message.last_error

    request = RequestFactory().get("/")
    request.user = cast.staff  # `perms` (may retry) comes from the request's user
    html = render_to_string(
        "installations/_messages_panel.html",
        {"installation": installation, "messages_list": [message], "user": cast.staff},
        request=request,
    )
    assert "Failed" in html and "number unreachable" in html
    assert "Retry" in html


@pytest.mark.usefixtures("jobs_booked_today")
def test_staff_retry_gives_a_failed_message_a_fresh_round(
    cast, settings, django_capture_on_commit_callbacks
):
    _, message = _fail_until_given_up(cast, settings, django_capture_on_commit_callbacks)
    settings.SMS_BACKEND = "installations.sms.InMemoryBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notifications.message_retry(message=message)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.State.SENT, 1)
    assert len(sms.InMemoryBackend.outbox) == 1

    # Sent now: a second retry (a double click) is answered as done and sends nothing more.
    again = notifications.message_retry(message=message)
    assert again.replayed and again.status == Message.State.SENT
    assert len(sms.InMemoryBackend.outbox) == 1


def test_a_message_claimed_by_another_worker_is_left_alone(cast):
    installation = cast.installation(Status.EN_ROUTE)
    message = installation.messages.get()
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=2)
    )
    assert notifications.deliver(message.pk) == "skipped"
    assert notifications.deliver(message.pk, now=timezone.now() + notifications.LEASE) == "sent"
    assert notifications.deliver(message.pk) == "skipped"
    assert len(sms.InMemoryBackend.outbox) == 1


def test_a_retry_is_delivered_at_the_moment_it_is_due(cast):
    # The sweep picks a message whose next attempt is due now; delivering it must agree.
    installation = cast.installation(Status.EN_ROUTE)
    message = installation.messages.get()
    due = timezone.now() + timedelta(minutes=2)
    Message.objects.filter(pk=message.pk).update(next_attempt_at=due)

    assert notifications.deliver_due_messages(now=due - timedelta(microseconds=1)) == 0
    assert notifications.deliver_due_messages(now=due) == 1
    assert len(sms.InMemoryBackend.outbox) == 1


def test_a_retry_is_scheduled_on_a_backend_that_can_defer(
    cast, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE
    settings.SMS_BACKEND = "tests.test_notifications.BrokenBackend"
    installation = cast.installation(Status.EN_ROUTE)
    message = installation.messages.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.deliver(message.pk) == "retry"
    message.refresh_from_db()
    queued = DBTaskResult.objects.filter(task_path="installations.tasks.deliver_message")
    retries = queued.filter(run_after__isnull=False)
    assert [(q.args_kwargs["args"], q.run_after) for q in retries] == [
        ([message.pk], message.next_attempt_at)
    ]


@pytest.mark.usefixtures("jobs_booked_today")
def test_the_database_backend_queues_delivery_on_commit(
    cast, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE
    installation = cast.installation(Status.INSTALLER_ASSIGNED)
    with django_capture_on_commit_callbacks(execute=True):
        _set_off(installation, cast)
    message = installation.messages.get()
    queued = DBTaskResult.objects.get(task_path="installations.tasks.deliver_message")
    assert queued.args_kwargs["args"] == [message.pk]
    assert message.status == Message.State.PENDING  # the worker sends it


def _sent_days_ago(installation, days):
    type(installation).objects.filter(pk=installation.pk).update(
        contract_sent_at=timezone.now() - timedelta(days=days)
    )


def test_an_unsigned_contract_gets_one_reminder_after_three_days(cast):
    waiting = cast.installation(Status.CONTRACT_SENT)
    recent = cast.installation(Status.CONTRACT_SENT)
    signed = cast.installation(Status.CONTRACT_SIGNED)
    _sent_days_ago(waiting, 4)
    _sent_days_ago(recent, 2)
    _sent_days_ago(signed, 4)

    assert notifications.queue_contract_reminders() == 1
    reminders = Message.objects.filter(template=notifications.CONTRACT_REMINDER)
    assert {m.installation_id for m in reminders} == {waiting.pk}
    assert {m.channel for m in reminders} == {Message.Channel.EMAIL, Message.Channel.SMS}
    assert all("Acme Appliances" in m.body and "/c/" in m.body for m in reminders)

    # Running again (or the command) sends no second reminder for the same contract send.
    assert notifications.queue_contract_reminders() == 0
    out = StringIO()
    call_command("send_contract_reminders", stdout=out)
    assert "Reminders queued for 0" in out.getvalue()
    assert reminders.count() == 2


def _signed_days_ago(installation, days):
    type(installation).objects.filter(pk=installation.pk).update(
        signed_at=timezone.now() - timedelta(days=days)
    )


def test_a_signed_contract_not_yet_approved_gets_one_reminder_after_three_days(cast):
    waiting = cast.installation(Status.CONTRACT_SIGNED)
    recent = cast.installation(Status.CONTRACT_SIGNED)
    approved = cast.installation(Status.CUSTOMER_APPROVED)
    for installation, days in ((waiting, 4), (recent, 2), (approved, 4)):
        _signed_days_ago(installation, days)

    assert notifications.queue_contract_reminders() == 1
    reminders = Message.objects.filter(template=notifications.APPROVAL_REMINDER)
    assert {m.installation_id for m in reminders} == {waiting.pk}
    assert all("approval" in m.body and "/c/" in m.body for m in reminders)
    assert not Message.objects.filter(template=notifications.CONTRACT_REMINDER).exists()
    assert notifications.queue_contract_reminders() == 0
    assert reminders.count() == 2


def test_a_contract_sent_exactly_three_days_ago_is_reminded(cast):
    # The sweep picks it (sent at or before the cutoff); the check under the lock agrees.
    now = timezone.now()
    waiting = cast.installation(Status.CONTRACT_SENT)
    type(waiting).objects.filter(pk=waiting.pk).update(
        contract_sent_at=now - notifications.REMINDER_AFTER
    )

    assert notifications.queue_contract_reminders(now=now) == 1
    assert waiting.messages.filter(template=notifications.CONTRACT_REMINDER).exists()


@pytest.mark.parametrize(
    "meanwhile",
    [{"status": Status.CONTRACT_SIGNED}, {"contract_sent_at": "now"}],
    ids=["signed", "sent anew"],
)
def test_a_contract_signed_or_sent_anew_while_the_reminder_sweep_runs_gets_no_reminder(
    cast, monkeypatch, meanwhile
):
    """The sweep lists the contracts due, then takes each one's lock: one signed in between
    (the customer's page commits first), or sent again, is not reminded to sign."""
    waiting = cast.installation(Status.CONTRACT_SENT)
    _sent_days_ago(waiting, 4)
    lock = notifications._lock_installation
    change = {k: timezone.now() if v == "now" else v for k, v in meanwhile.items()}

    def changed_meanwhile(pk):
        type(waiting).objects.filter(pk=pk).update(**change)
        return lock(pk)

    monkeypatch.setattr(notifications, "_lock_installation", changed_meanwhile)

    assert notifications.queue_contract_reminders() == 0
    assert not Message.objects.filter(template=notifications.CONTRACT_REMINDER).exists()


def test_no_reminder_for_a_request_older_than_its_link(cast):
    unsigned = cast.installation(Status.CONTRACT_SENT)
    unapproved = cast.installation(Status.CONTRACT_SIGNED)
    _sent_days_ago(unsigned, 45)
    _signed_days_ago(unapproved, 45)
    assert notifications.queue_contract_reminders() == 0


def test_the_reminder_command_also_delivers_due_messages(cast):
    waiting = cast.installation(Status.CONTRACT_SENT)
    _sent_days_ago(waiting, 5)
    out = StringIO()
    call_command("send_contract_reminders", stdout=out)
    assert "Reminders queued for 1" in out.getvalue()
    reminders = Message.objects.filter(template=notifications.CONTRACT_REMINDER)
    assert {m.status for m in reminders} == {Message.State.SENT}


def test_the_console_backend_prints_the_text():
    stream = StringIO()
    sms.ConsoleBackend(stream).send(to="+44 7700 900555", body="Hello")
    assert "+44 7700 900555" in stream.getvalue() and "Hello" in stream.getvalue()


def test_the_twilio_backend_needs_credentials(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured):
        sms.TwilioBackend()


def test_the_twilio_backend_sends_through_the_client(settings, monkeypatch):
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret"
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    sent = {}

    class FakeMessages:
        def create(self, **kwargs):
            sent.update(kwargs)
            return type("Msg", (), {"sid": "SM1"})()

    class FakeClient:
        def __init__(self, sid, token):
            sent["auth"] = (sid, token)
            self.messages = FakeMessages()

    monkeypatch.setattr("twilio.rest.Client", FakeClient)
    assert sms.TwilioBackend().send(to="+44 7700 900555", body="Hi") == "SM1"
    assert sent == {
        "auth": ("AC123", "secret"),
        "to": "+447700900555",
        "body": "Hi",
        "from_": "+15005550006",
    }


def test_the_periodic_scheduler_runs_one_round(db):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("run_periodic", "--once", stdout=out)
    assert "Reminders queued for 0 installation(s)." in out.getvalue()


# --- No flood: the daily ceiling per recipient (issue 21, item 3) -------------------------------


def _not_held_today(recipient: str) -> int:
    since = timezone.now() - timedelta(hours=24)
    return (
        Message.objects.filter(recipient=recipient, created_at__gte=since)
        .exclude(status=Message.State.HELD)
        .count()
    )


def test_a_scripted_loop_cannot_push_one_recipient_past_the_daily_ceiling(cast, settings):
    settings.TASKS = IMMEDIATE
    installation = cast.installation(Status.CONTRACT_SENT)
    customer = installation.customer
    room = {
        a: notifications.DAILY_CEILING - _not_held_today(a)
        for a in (customer.phone, customer.email)
    }
    for _ in range(50):
        with transaction.atomic():
            notifications.queue_contract_link(
                installation, template=notifications.CONTRACT_REMINDER, cause=Message.Cause.REMINDER
            )
    for address in (customer.phone, customer.email):
        assert _not_held_today(address) == notifications.DAILY_CEILING
    held = Message.objects.filter(status=Message.State.HELD)
    assert held.count() == sum(50 - left for left in room.values())
    assert all("at most 10 a day" in m.hold_reason for m in held)
    # Held rows are never handed to a channel, not even by the catch-up sweep.
    notifications.deliver_due_messages()
    texts = [m for m in sms.InMemoryBackend.outbox if m["to"] == customer.phone]
    assert len(texts) == notifications.DAILY_CEILING
    assert not held.exclude(attempts=0).exists()


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_status_change_is_never_held_by_the_ceiling(cast):
    waiting = cast.installation(Status.CONTRACT_SENT)
    phone = waiting.customer.phone
    for _ in range(notifications.DAILY_CEILING):
        with transaction.atomic():
            notifications.queue_contract_link(
                waiting, template=notifications.CONTRACT_REMINDER, cause=Message.Cause.REMINDER
            )
    assert _not_held_today(phone) >= notifications.DAILY_CEILING
    # The same customer's next job: the handyman sets off, and the customer is told.
    installation = cast.installation(Status.INSTALLER_ASSIGNED, customer=waiting.customer)
    installation = services.installation_set_off(
        installation=installation, eta_minutes=20, actor=cast.handyman.user
    )
    on_the_way = installation.messages.get(template=notifications.ON_THE_WAY)
    assert on_the_way.recipient == phone
    assert on_the_way.status != Message.State.HELD


def test_yesterdays_messages_do_not_count_towards_the_ceiling(cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    for _ in range(notifications.DAILY_CEILING):
        with transaction.atomic():
            notifications.queue_contract_link(
                installation, template=notifications.CONTRACT_REMINDER, cause=Message.Cause.REMINDER
            )
    Message.objects.update(created_at=timezone.now() - timedelta(hours=25))
    with transaction.atomic():
        fresh = notifications.queue_contract_link(
            installation, template=notifications.CONTRACT_REMINDER, cause=Message.Cause.REMINDER
        )
    assert {m.status for m in fresh} == {Message.State.PENDING}


# --- Re-sending the link: a double click, a pause, a daily number --------------------------------


def _resends(installation) -> int:
    """How many re-sends happened (one re-send is one message per channel, at one time)."""
    rows = installation.messages.filter(cause=Message.Cause.RESEND).order_by()
    return rows.values("created_at").distinct().count()


def _age_resends(installation, by: timedelta) -> None:
    for m in installation.messages.filter(cause=Message.Cause.RESEND):
        Message.objects.filter(pk=m.pk).update(created_at=m.created_at - by)


def test_a_double_click_resends_once(cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    first = notifications.contract_link_resend(installation=installation, actor=cast.partner_user)
    second = notifications.contract_link_resend(installation=installation, actor=cast.partner_user)
    assert {m.pk for m in first} == {m.pk for m in second}
    assert _resends(installation) == 1


def test_a_resend_within_ten_minutes_says_when_the_next_is_possible(cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    notifications.contract_link_resend(installation=installation, actor=cast.partner_user)
    _age_resends(installation, timedelta(minutes=3))
    with pytest.raises(notifications.ResendTooSoon) as refused:
        notifications.contract_link_resend(installation=installation, actor=cast.partner_user)
    last = installation.messages.filter(cause=Message.Cause.RESEND).first().created_at
    assert refused.value.retry_at == last + notifications.RESEND_GAP
    assert "can be sent again at" in refused.value.message
    assert _resends(installation) == 1


def test_the_resend_pauses_end_exactly_when_they_say(cast, monkeypatch):
    """Within DOUBLE_CLICK a click is the same re-send; from then until RESEND_GAP it waits;
    at the refusal's retry_at (the time "it can be sent again at ..."), it is sent."""
    installation = cast.installation(Status.CONTRACT_SENT)
    first = notifications.contract_link_resend(installation=installation, actor=cast.partner_user)
    sent_at = first[0].created_at
    tick = timedelta(microseconds=1)

    def at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return notifications.contract_link_resend(
            installation=installation, actor=cast.partner_user
        )

    same = at(sent_at + notifications.DOUBLE_CLICK - tick)
    assert {m.pk for m in same} == {m.pk for m in first}
    for moment in (sent_at + notifications.DOUBLE_CLICK, sent_at + notifications.RESEND_GAP - tick):
        with pytest.raises(notifications.ResendTooSoon) as refused:
            at(moment)
        assert refused.value.retry_at == sent_at + notifications.RESEND_GAP
    assert _resends(installation) == 1

    at(sent_at + notifications.RESEND_GAP)
    assert _resends(installation) == 2


def test_the_resend_pause_is_said_as_the_first_minute_a_click_is_sent(cast, monkeypatch):
    """A pause ending at 10:09:30 said "10:09", and a click at 10:09:10 was refused again
    naming 10:09: the minute said is one from which a click is sent."""
    installation = cast.installation(Status.CONTRACT_SENT)
    sent_at = datetime(2026, 12, 7, 9, 59, 30, tzinfo=UTC)  # 09:59:30 in London

    def at(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return notifications.contract_link_resend(
            installation=installation, actor=cast.partner_user
        )

    at(sent_at)
    with pytest.raises(notifications.ResendTooSoon) as refused:
        at(sent_at + timedelta(minutes=5))
    assert "it can be sent again at 10:10." in refused.value.message
    assert "The link was sent again at 09:59;" in refused.value.message

    at(datetime(2026, 12, 7, 10, 10, tzinfo=UTC))
    assert _resends(installation) == 2


def test_a_sixth_resend_in_a_day_is_refused(cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    for _ in range(notifications.RESENDS_PER_DAY):
        notifications.contract_link_resend(installation=installation, actor=cast.partner_user)
        _age_resends(installation, timedelta(minutes=15))
    with pytest.raises(notifications.ResendTooSoon) as refused:
        notifications.contract_link_resend(installation=installation, actor=cast.partner_user)
    assert "5 times in the last 24 hours" in refused.value.message
    assert _resends(installation) == notifications.RESENDS_PER_DAY


def test_staff_are_not_held_to_the_resend_pause(cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    for _ in range(notifications.RESENDS_PER_DAY + 2):
        notifications.contract_link_resend(installation=installation, actor=cast.staff)
        _age_resends(installation, timedelta(minutes=2))
    assert _resends(installation) == notifications.RESENDS_PER_DAY + 2
    with pytest.raises(notifications.ResendTooSoon):
        notifications.contract_link_resend(installation=installation, actor=cast.partner_user)


def test_a_resend_past_the_ceiling_is_held_and_the_old_link_keeps_working(cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    for _ in range(notifications.DAILY_CEILING):
        with transaction.atomic():
            notifications.queue_contract_link(
                installation, template=notifications.CONTRACT_REMINDER, cause=Message.Cause.REMINDER
            )
    nonce = installation.link_nonce
    held = notifications.contract_link_resend(installation=installation, actor=cast.staff)
    assert {m.status for m in held} == {Message.State.HELD}
    installation.refresh_from_db()
    assert installation.link_nonce == nonce  # no new link that nobody received


# --- The same under real concurrency: threads, each with its own connection -----------------------
# Both databases: PostgreSQL holds them apart by the installation's row lock and the recipient's
# advisory lock, SQLite by the write lock each transaction takes at BEGIN (IMMEDIATE); without
# it a thread that read before another wrote fails with "database is locked". On SQLite the
# test database is a file (tests/conftest.py): threads on the in-memory one met table locks.


@pytest.mark.django_db(transaction=True)
def test_racing_resends_send_one_link(cast, settings):
    from .racing import race

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    installation = cast.installation(Status.CONTRACT_SENT)
    results = race(
        6,
        lambda i: notifications.contract_link_resend(
            installation=installation.pk, actor=cast.partner_user
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert _resends(installation) == 1


@pytest.mark.django_db(transaction=True)
def test_racing_outbox_calls_for_one_customer_on_two_jobs_stay_under_the_ceiling(cast, settings):
    from .racing import race

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    first = cast.installation(Status.CONTRACT_SENT)
    second = cast.installation(Status.CONTRACT_SENT, customer=first.customer)
    jobs = [first, second]

    def flood(i: int) -> None:
        # Each thread locks only its own installation: the recipient lock is what holds them.
        for _ in range(4):
            with transaction.atomic():
                notifications.queue_contract_link(
                    jobs[i % 2], template=notifications.CONTRACT_REMINDER, cause="reminder"
                )

    results = race(8, flood)
    assert not [r for r in results if isinstance(r, Exception)], results
    phone = first.customer.phone
    assert _not_held_today(phone) == notifications.DAILY_CEILING
    assert Message.objects.filter(recipient=phone, status=Message.State.HELD).exists()


def test_every_status_with_a_customer_link_has_its_message():
    from installations.statuses import CUSTOMER_LINK_STATUSES

    assert set(notifications.LINK_STATUSES) == CUSTOMER_LINK_STATUSES


@pytest.mark.parametrize(
    ("phone", "email", "reached"),
    [("0700 900123", "", True), ("", "ann@example.com", True), ("", "", False)],
)
def test_a_customer_with_a_phone_or_an_email_is_reachable(phone, email, reached):
    assert notifications.reachable(Customer(name="Ann", phone=phone, email=email)) is reached


def test_a_wait_that_ends_tomorrow_names_the_day_and_one_today_only_the_time():
    london = ZoneInfo("Europe/London")
    now = datetime(2026, 12, 5, 23, 50, tzinfo=london)
    assert notifications._when(datetime(2026, 12, 5, 23, 55, tzinfo=london), now) == "23:55"
    tomorrow = datetime(2026, 12, 6, 0, 5, tzinfo=london)
    assert notifications._when(tomorrow, now) == "00:05 on 6 Dec"
