"""Messages that follow a change. Rows are created inside the change's own transaction, so that a
rolled-back change sends nothing and a committed one is never forgotten; delivery is queued with
``transaction.on_commit`` and runs in the background (django-tasks, see tasks.py).

Delivery is exactly-once per row: a delivery first claims the row under ``select_for_update``
(counting the attempt and leasing it), sends outside any transaction, then records the outcome.
A row that is already sent, failed, or claimed by another worker is left alone.

No flood: every message that is not a status change's own (a re-sent link, a reminder) passes the
outbox's daily ceiling per recipient; past it the row is stored *held*, with the reason, and never
sent. Re-sending a link is also paused per installation (RESEND_GAP, RESENDS_PER_DAY). The numbers
and why: docs/decisions.md, "Hostile input".
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from . import sms
from .customer_links import carries_replaced_link
from .errors import TransitionRefused
from .models import Installation, Message, is_staff
from .statuses import Status
from .webhooks.events import record_message_failed

logger = logging.getLogger("installations.notifications")

ON_THE_WAY = "on_the_way"
CONTRACT_LINK = "contract_link"
CONTRACT_REMINDER = "contract_reminder"
# After signing, the customer still approves the work through the same page.
APPROVAL_LINK = "approval_link"
APPROVAL_REMINDER = "approval_reminder"
# After approval the same page is the customer's record (photos, contract, evidence pack).
RECORD_LINK = "record_link"
# The messages that carry the customer's link (first sent, reminded, re-sent).
LINK_TEMPLATES = (CONTRACT_LINK, CONTRACT_REMINDER, APPROVAL_LINK, APPROVAL_REMINDER, RECORD_LINK)
PARTNER_COMPLETED = "partner_completed"
PARTNER_REJECTED = "partner_rejected"
PARTNER_CANCELLED = "partner_cancelled"
RESCHEDULED = "rescheduled"
RESCHEDULED_HANDYMAN = "rescheduled_handyman"

# A second "on the way" for the same job within this window is not sent (e.g. set off again
# after a reassignment).
REPEAT_WINDOW = timedelta(minutes=5)
REMINDER_AFTER = timedelta(days=3)
# Nobody is reminded of a request older than its link's life (a job signed months ago and
# never approved is the partner's to chase, with a re-sent link), so a first run never sweeps
# up the old ones.
REMINDER_UNTIL = timedelta(days=30)

# The statuses in which the customer's link leads somewhere, with the message a re-sent link
# is, and for those where the customer has something to do, the reminder and the field saying
# since when they have had it to do.
LINK_STATUSES = {
    Status.CONTRACT_SENT: (CONTRACT_LINK, CONTRACT_REMINDER, "contract_sent_at"),
    Status.CONTRACT_SIGNED: (APPROVAL_LINK, APPROVAL_REMINDER, "signed_at"),
    # Links last 30 days: a customer who wants their record later asks the partner.
    Status.CUSTOMER_APPROVED: (RECORD_LINK, "", ""),
}

# The status in which each message to the customer is true: "on his way" while he is, "please
# sign" while the contract waits for them. Retried in another, it would tell them what is over.
TRUE_WHILE = {
    ON_THE_WAY: Status.EN_ROUTE,
    **{
        template: status
        for status, templates in LINK_STATUSES.items()
        for template in templates[:2]
        if template
    },
}

MAX_ATTEMPTS = 5
BASE_DELAY = timedelta(seconds=30)  # retry n waits BASE_DELAY * 2**n: 1, 2, 4, 8 minutes
# While one worker is sending, the row is leased to it; after this it counts as abandoned
# (a worker that died mid-send) and deliver_due_messages() tries again.
LEASE = timedelta(minutes=5)


# No customer gets more than this many messages a day from us, whatever a bug, a loop or a script
# asks for: later non-transition messages are held (status changes always go out, and count).
DAILY_CEILING = 10
CEILING_WINDOW = timedelta(hours=24)
# Re-sending the link: a second tap within DOUBLE_CLICK is the same request (answered as done);
# otherwise at most one re-send per RESEND_GAP and RESENDS_PER_DAY in 24 hours. Staff are exempt.
DOUBLE_CLICK = timedelta(seconds=60)
RESEND_GAP = timedelta(minutes=10)
RESENDS_PER_DAY = 5


class ResendTooSoon(Exception):
    """A re-send asked for before the pause is over; `message` says when it is possible."""

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.message = message
        self.retry_at = retry_at


def retry_delay(attempts: int) -> timedelta:
    return BASE_DELAY * 2**attempts


# --- Creating messages (inside the caller's transaction) ----------------------------------------


def _context(installation: Installation, **extra: Any) -> dict[str, Any]:
    handyman = installation.handyman
    return {
        "installation": installation,
        "partner": installation.partner,
        "customer": installation.customer,
        "handyman_first_name": handyman.first_name if handyman else "",
        "site_url": settings.SITE_URL,
        **extra,
    }


def _render(template: str, channel: str, ctx: dict[str, Any]) -> tuple[str, str]:
    subject = render_to_string(f"notifications/{template}.subject.txt", ctx)
    body = render_to_string(f"notifications/{template}.{channel}.txt", ctx)
    return " ".join(subject.split())[:200], body.strip()


def _lock_recipient(recipient: str) -> None:
    """Serialise the ceiling's count-then-insert per recipient until the transaction ends.

    Installations lock their own row, but one phone number can be on several installations (and
    partners). PostgreSQL: a transaction-scoped advisory lock on the address. SQLite: every
    transaction already holds the database's write lock from BEGIN (transaction_mode=IMMEDIATE)."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.blake2b(recipient.encode(), digest_size=8).digest(), "big")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key - 2**63])


def ceiling_reason(recipient: str, *, now: datetime | None = None) -> str:
    """Why a non-transition message to `recipient` must be held now ("" if it may go).
    Call inside a transaction: the recipient stays locked until it ends."""
    _lock_recipient(recipient)
    now = now or timezone.now()
    sent = (
        Message.objects.filter(recipient=recipient, created_at__gt=now - CEILING_WINDOW)
        .exclude(status=Message.State.HELD)
        .count()
    )
    if sent < DAILY_CEILING:
        return ""
    return (
        f"Held back, not sent: {sent} messages went to this address in the last 24 hours, "
        f"and we send at most {DAILY_CEILING} a day."
    )


def _create(
    installation: Installation,
    *,
    recipient: str,
    channel: str,
    template: str,
    ctx: dict,
    cause: str,
    at: datetime | None = None,
    sent_by: Any = None,
) -> Message:
    subject, body = _render(template, channel, ctx)
    with transaction.atomic():
        # A status change's own message always goes out; anything else passes the ceiling.
        hold = "" if cause == Message.Cause.TRANSITION else ceiling_reason(recipient, now=at)
        message = Message.objects.create(
            partner_id=installation.partner_id,
            installation=installation,
            recipient=recipient,
            channel=channel,
            template=template,
            subject=subject,
            body=body,
            cause=cause,
            status=Message.State.HELD if hold else Message.State.PENDING,
            hold_reason=hold,
            created_at=at or timezone.now(),
            sent_by=sent_by,
        )
    if hold:
        logger.warning("message %s held: %s", message.pk, hold)
    else:
        transaction.on_commit(partial(enqueue_delivery, message.pk))
    return message


def _customer_addresses(installation: Installation) -> dict[str, str]:
    customer = installation.customer
    return {Message.Channel.EMAIL: customer.email, Message.Channel.SMS: customer.phone}


def _to_customer(
    installation: Installation,
    channel: str,
    template: str,
    ctx: dict,
    *,
    cause: str,
    at: datetime | None = None,
    sent_by: Any = None,
) -> Message:
    recipient = _customer_addresses(installation)[channel]
    return _create(
        installation,
        recipient=recipient,
        channel=channel,
        template=template,
        ctx=ctx,
        cause=cause,
        at=at,
        sent_by=sent_by,
    )


def on_the_way_channel(customer: Any) -> str | None:
    """How the customer is told the handyman is on the way: one message, SMS when they have a
    phone, else email; None when they have neither (and so are not told: the handyman's page
    must not say they were)."""
    if customer.phone:
        return Message.Channel.SMS
    if customer.email:
        return Message.Channel.EMAIL
    return None


def _queue_on_the_way(installation: Installation) -> list[Message]:
    since = timezone.now() - REPEAT_WINDOW
    if installation.messages.filter(template=ON_THE_WAY, created_at__gte=since).exists():
        return []
    channel = on_the_way_channel(installation.customer)
    if channel is None:
        return []
    ctx = _context(installation, eta=installation.expected_arrival_at)
    return [_to_customer(installation, channel, ON_THE_WAY, ctx, cause=Message.Cause.TRANSITION)]


def reachable(customer: Any) -> bool:
    """Whether any message can reach the customer: the contract's link goes to each of their
    phone and email, so with neither nothing is sent (and no page may say it was)."""
    return bool(customer.phone or customer.email)


def queue_contract_link(
    installation: Installation,
    *,
    template: str,
    cause: str,
    at: datetime | None = None,
    sent_by: Any = None,
) -> list[Message]:
    """The customer's link by email, plus SMS when there is a phone. Inside the caller's
    transaction; messages that are not `cause=TRANSITION` pass the daily ceiling."""
    from .customer_links import MAX_AGE, customer_url

    ctx = _context(installation, link=customer_url(installation), valid_days=MAX_AGE.days)
    channels = [ch for ch, address in _customer_addresses(installation).items() if address]
    return [
        _to_customer(installation, channel, template, ctx, cause=cause, at=at, sent_by=sent_by)
        for channel in channels
    ]


def _detail_url(installation: Installation) -> str:
    try:
        path = reverse("partner:detail", args=[installation.pk])
    except NoReverseMatch:
        path = f"/installations/{installation.pk}/"
    return f"{settings.SITE_URL}{path}"


def _queue_partner_notice(
    installation: Installation, template: str, wanted: Callable[[Any], bool]
) -> list[Message]:
    partner = installation.partner
    if not (partner.email and wanted(partner)):
        return []
    ctx = _context(installation, detail_url=_detail_url(installation))
    return [
        _create(
            installation,
            recipient=partner.email,
            channel=Message.Channel.EMAIL,
            template=template,
            ctx=ctx,
            cause=Message.Cause.TRANSITION,
        )
    ]


# Which transition promises which messages: an explicit map.
_ON_TRANSITION: dict[str, Callable[[Installation], list[Message]]] = {
    "set_off": _queue_on_the_way,
    "send_contract": partial(
        queue_contract_link, template=CONTRACT_LINK, cause=Message.Cause.TRANSITION
    ),
    "complete": partial(
        _queue_partner_notice,
        template=PARTNER_COMPLETED,
        wanted=lambda p: p.notify_on_completed,
    ),
    "reject": partial(
        _queue_partner_notice,
        template=PARTNER_REJECTED,
        wanted=lambda p: p.notify_on_rejected,
    ),
    "cancel": partial(
        _queue_partner_notice,
        template=PARTNER_CANCELLED,
        wanted=lambda p: p.notify_on_cancelled,
    ),
}


def queue_for_change(*, installation: Any, change: Any) -> None:
    """Create the messages a status change promises. Called by the service layer inside the
    change's transaction, with the installation row locked."""
    queue = _ON_TRANSITION.get(change.transition)
    if queue is not None:
        queue(installation)


def queue_rescheduled(
    installation: Installation, *, moved_from: str, moved_to: str, tell_handyman: bool = True
) -> list[Message]:
    """A reschedule's messages, inside its transaction: the customer by SMS and by email (each
    when known) and the assigned handyman (SMS, else email). They are the change's own news,
    so, like a status change's, they always go out (cause TRANSITION)."""
    ctx = _context(installation, moved_from=moved_from, moved_to=moved_to)
    cause = Message.Cause.TRANSITION
    created = [
        _to_customer(installation, channel, RESCHEDULED, ctx, cause=cause)
        for channel in (Message.Channel.SMS, Message.Channel.EMAIL)
        if _customer_addresses(installation)[channel]
    ]
    handyman = installation.handyman if tell_handyman else None
    if handyman is not None:
        channel, address = (
            (Message.Channel.SMS, handyman.phone)
            if handyman.phone
            else (Message.Channel.EMAIL, handyman.user.email)
        )
        if address:
            created.append(
                _create(
                    installation,
                    recipient=address,
                    channel=channel,
                    template=RESCHEDULED_HANDYMAN,
                    ctx=ctx,
                    cause=cause,
                )
            )
    return created


def _lock_installation(pk: int) -> Installation | None:
    return (
        Installation.objects.select_for_update(of=("self",))
        .select_related("partner", "customer", "handyman__user")
        .filter(pk=pk)
        .first()
    )


def _when(moment: datetime, now: datetime, *, from_then: bool = False) -> str:
    """`moment` to the minute (with its day when not today's). `from_then`: a moment from which
    the person may act, said as the first whole minute they may."""
    local, today = timezone.localtime(moment), timezone.localtime(now).date()
    if from_then and (local.second or local.microsecond):
        # A time said to the minute is one the person may act at: the minute after, never the
        # one before (a pause ending at 06:56:30 said "06:56", and a click then was refused).
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if local.date() == today:
        return local.strftime("%H:%M")
    return f"{local:%H:%M} on {local.day} {local:%b}"


def _resend_pause(locked: Installation, now: datetime) -> tuple[list[Message], str, datetime]:
    """The last re-send's messages (if within DOUBLE_CLICK), else why a re-send must wait."""
    recent = locked.messages.filter(cause=Message.Cause.RESEND, created_at__gt=now - CEILING_WINDOW)
    # One re-send is one message per channel, all written at one time.
    times = sorted(set(recent.order_by().values_list("created_at", flat=True)), reverse=True)
    if times and now - times[0] < DOUBLE_CLICK:
        repeated = list(recent.filter(created_at=times[0]).select_related("sent_by"))
        for message in repeated:
            message.replayed = True  # this request sent nothing: see resend_answer
        return repeated, "", now
    if times and now - times[0] < RESEND_GAP:
        retry_at = times[0] + RESEND_GAP
        then = _when(retry_at, now, from_then=True)
        return (
            [],
            (
                f"The link was sent again at {_when(times[0], now)}; so that the customer is not "
                f"flooded, it can be sent again at {then}. Nothing was sent now."
            ),
            retry_at,
        )
    if len(times) >= RESENDS_PER_DAY:
        retry_at = times[RESENDS_PER_DAY - 1] + CEILING_WINDOW
        return (
            [],
            (
                f"The link was sent again {len(times)} times in the last 24 hours; it can be sent "
                f"again at {_when(retry_at, now, from_then=True)}. Nothing was sent now."
            ),
            retry_at,
        )
    return [], "", now


def contract_link_resend(*, installation: Installation | int, actor: Any) -> list[Message]:
    """Issue the customer a fresh link (older links stop working) and send it again.

    A second request within DOUBLE_CLICK returns the first one's messages and sends nothing;
    otherwise partner users wait RESEND_GAP between re-sends and get RESENDS_PER_DAY a day
    (ResendTooSoon says when); staff are exempt. Messages past the recipient's daily ceiling are
    held, and if every one would be, the link is not replaced (nobody would receive the new one).
    The caller has checked that the actor may act for this installation's partner."""

    pk = installation if isinstance(installation, int) else installation.pk
    with transaction.atomic():
        # The row lock makes two racing re-sends count one after the other.
        locked = _lock_installation(pk)
        if locked is None:
            raise TransitionRefused("This installation no longer exists.")
        if not locked.has_customer_link:
            raise TransitionRefused(
                f"This installation is “{locked.get_status_display()}”, so there is no "
                "customer link to send again. Nothing was changed.",
                installation=locked,
            )
        template = LINK_STATUSES[locked.status][0]
        now = timezone.now()
        repeated, wait, retry_at = _resend_pause(locked, now)
        if repeated:
            return repeated
        if wait and not is_staff(actor):
            raise ResendTooSoon(wait, retry_at=retry_at)
        addresses = [a for a in _customer_addresses(locked).values() if a]
        if not addresses:
            raise TransitionRefused(
                f"{locked.customer.name} has no email address or phone number, so the link "
                "cannot be sent. Nothing was changed.",
                installation=locked,
            )
        if not all(ceiling_reason(address, now=now) for address in addresses):
            # Only the link changes, not the record the other forms show: the version stays.
            locked.link_nonce = uuid.uuid4().hex
            Installation.objects.filter(pk=pk).update(link_nonce=locked.link_nonce)
        created = queue_contract_link(
            locked,
            template=template,
            cause=Message.Cause.RESEND,
            at=now,
            sent_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        logger.info("installation %s: customer link re-sent by %s", pk, actor)
    return created


def resend_answer(sent: list[Message], customer_name: str, actor: Any) -> str:
    """What the person who asked for a re-send is told: the re-send their click made (or, a
    second click, the one it already made), or a colleague's made a moment before theirs."""
    if all(m.status == Message.State.HELD for m in sent):
        return f"The link was not sent: {sent[0].hold_reason} Links sent before still work."
    first = sent[0]
    if getattr(first, "replayed", False) and first.sent_by_id != getattr(actor, "pk", None):
        by = first.sent_by  # None once that login is deleted
        sender = (by.get_full_name() or by.get_username()) if by else "Someone else"
        return (
            f"{sender} sent {customer_name} a new link at "
            f"{_when(first.created_at, timezone.now())}, just before you. Nothing was sent "
            "again: that link is the one that works."
        )
    return f"A new link was sent to {customer_name}. Links sent before no longer work."


def queue_contract_reminders(*, now: datetime | None = None) -> int:
    """Remind customers whose contract has waited 3 days unsigned, or whose signed contract has
    waited 3 days for their approval: at most one reminder per contract send (or signature),
    however often this runs. Returns how many installations were reminded."""
    now = now or timezone.now()
    return sum(
        _remind(status, template, since, cutoff=now - REMINDER_AFTER, oldest=now - REMINDER_UNTIL)
        for status, (_, template, since) in LINK_STATUSES.items()
        if template
    )


def _remind(status: str, template: str, since: str, *, cutoff: datetime, oldest: datetime) -> int:
    reminded = Message.objects.filter(
        installation=OuterRef("pk"), template=template, created_at__gte=OuterRef(since)
    )
    due = (
        Installation.objects.filter(
            status=status, **{f"{since}__lte": cutoff, f"{since}__gte": oldest}
        )
        .exclude(Exists(reminded))
        .values_list("pk", flat=True)
    )
    count = 0
    for pk in list(due):
        with transaction.atomic():
            # Re-checked under the row lock: two runs at once still send one reminder.
            locked = _lock_installation(pk)
            if locked is None or locked.status != status:
                continue
            started = getattr(locked, since)
            if started is None or started > cutoff:
                continue
            if locked.messages.filter(template=template, created_at__gte=started).exists():
                continue
            if queue_contract_link(locked, template=template, cause=Message.Cause.REMINDER):
                count += 1
    return count


# --- Delivery -----------------------------------------------------------------------------------


def enqueue_delivery(message_id: int, run_after: datetime | None = None) -> None:
    """Hand a message to the task queue. Never raises: a row that could not be queued stays
    pending and deliver_due_messages() picks it up."""
    from .tasks import deliver_message

    task = deliver_message
    try:
        if run_after is not None:
            if not task.get_backend().supports_defer:
                return  # e.g. the immediate backend: deliver_due_messages() drives retries
            task = task.using(run_after=run_after)
        task.enqueue(message_id)
    except Exception:
        logger.exception("message %s could not be queued; it stays pending", message_id)


def _send(message: Message) -> None:
    if message.channel == Message.Channel.SMS:
        sms.send_sms(to=message.recipient, body=message.body)
    else:
        send_mail(
            message.subject,
            message.body,
            settings.DEFAULT_FROM_EMAIL,
            [message.recipient],
            fail_silently=False,
        )


def deliver(message_id: int, *, now: datetime | None = None) -> str:
    """Try to send one message once. Returns what happened: sent, retry, failed, skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != Message.State.PENDING:
            return "skipped"  # gone, already sent, or given up on
        if message.next_attempt_at is not None and message.next_attempt_at > now:
            return "skipped"  # another worker holds it, or its retry is not due yet
        message.attempts += 1
        message.next_attempt_at = now + LEASE
        message.save(update_fields=["attempts", "next_attempt_at"])
    # Sent outside the transaction: a slow provider must not hold the row lock (on SQLite,
    # the whole database's write lock).
    try:
        _send(message)
    except Exception as exc:
        return _record_failure(message.pk, exc, now)
    Message.objects.filter(pk=message.pk).update(
        status=Message.State.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error=""
    )
    return "sent"


def _record_failure(message_id: int, exc: Exception, now: datetime) -> str:
    logger.warning("message %s: delivery failed: %s", message_id, exc)
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = Message.State.FAILED
            message.next_attempt_at = None
            outcome = "failed"
            record_message_failed(message)  # the partner's webhooks, in this transaction
        else:
            message.next_attempt_at = now + retry_delay(message.attempts)
            transaction.on_commit(
                partial(enqueue_delivery, message.pk, run_after=message.next_attempt_at)
            )
            outcome = "retry"
        message.save(update_fields=["last_error", "status", "next_attempt_at"])
    return outcome


def deliver_due_messages(*, now: datetime | None = None) -> int:
    """Deliver every pending message that is due: retries whose time has come, rows whose queue
    entry was lost, and rows abandoned by a worker that died mid-send.

    Returns how many were sent."""
    now = now or timezone.now()
    due = Message.objects.filter(status=Message.State.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    return sum(deliver(pk, now=now) == "sent" for pk in list(due.values_list("pk", flat=True)))


def message_retry(*, message: Any, expected_version: int | None = None) -> Message:
    """Staff ask for a failed message to be tried again: it gets a fresh round of attempts.
    One already waiting to be sent, or sent, is answered as done (`replayed`): a double click,
    a second tab, or a retry that went out before the second click. Raises
    services.TransitionRefused for a held message (its hold is not a failure), and when the
    installation is no longer at `expected_version`, the one the page showed: what the message
    says may no longer be true (the job cancelled, moved on), so it is read again first."""

    pk = message if isinstance(message, int) else message.pk
    with transaction.atomic():
        locked = Message.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            raise TransitionRefused("This message no longer exists.")
        if locked.status in (Message.State.PENDING, Message.State.SENT):
            locked.replayed = True  # type: ignore[attr-defined]
            return locked
        if locked.status != Message.State.FAILED:
            raise TransitionRefused(
                f"This message is “{locked.get_status_display()}”; only failed messages can be "
                "retried. Nothing was changed."
            )
        installation = locked.installation
        if (
            installation is not None
            and expected_version is not None
            and installation.version != expected_version
        ):
            raise TransitionRefused(
                f"#{installation.pk} changed since this page was drawn: it is now "
                f"“{installation.get_status_display()}”. Read the message again on the page as "
                "it is now; if it is still true, retry it there. Nothing was sent.",
                installation=installation,
            )
        true_while = TRUE_WHILE.get(locked.template)
        if installation is not None and true_while and installation.status != true_while:
            raise TransitionRefused(
                f"This message was sent while #{installation.pk} was “{true_while.label}”; it is "
                f"now “{installation.get_status_display()}”, so the message is no longer true. "
                "Nothing was sent.",
                installation=installation,
            )
        if installation is not None and carries_replaced_link(locked.body, installation):
            # The customer was sent a newer link since this one failed (a re-send): this text
            # would reach them with a link that says "replaced".
            raise TransitionRefused(
                "This message carries a customer link that no longer works: a newer link was "
                "sent since. To reach the customer, send the link again from the installation's "
                "page. Nothing was changed.",
                installation=installation,
            )
        locked.status = Message.State.PENDING
        locked.attempts = 0
        locked.next_attempt_at = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        transaction.on_commit(partial(enqueue_delivery, locked.pk))
    return locked
