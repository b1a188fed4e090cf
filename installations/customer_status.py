"""Where the job stands, as the customer reads it on their link's pages: their own words, not
the office's pipeline ("Contract sent" is the partner's step; the customer is waiting to sign).

When a job was cancelled and booked again, the old link says only when (moved_to): the rest of
the new job is not the old link's to show. The customer's pages (views/customer.py and the
evidence pack's page for a link) take their words from here and nowhere else; the office's
labels (statuses.Status) stay everywhere else.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import dateformat, timezone

from .models import Installation, Message
from .notifications import LINK_TEMPLATES
from .scheduling.text import dated_slot_text
from .statuses import Status

# A job that fell through; a rebooking (services.installation_rebook) copies one of these.
FELL_THROUGH = (Status.CANCELLED, Status.REJECTED)
# A rebooking that fell through too may be rebooked in turn: a chain this long is a mistake.
MAX_REBOOKINGS = 10
SENT_TOGETHER = timedelta(minutes=1)

# Every status, since a link can meet any of them (an override can walk a job back; a job
# can be cancelled or rejected): tests/views/test_customer.py checks that none is missing.
CUSTOMER_WORDS: dict[str, str] = {
    Status.SCHEDULED: "Booked: waiting for the visit",
    Status.INSTALLER_ASSIGNED: "Booked: waiting for the visit",
    Status.EN_ROUTE: "Your installer is on the way",
    Status.INSTALLATION_IN_PROGRESS: "The work is under way",
    Status.INSTALLATION_COMPLETED: "The work is done; the contract is being prepared",
    Status.CONTRACT_SENT: "Waiting for your signature",
    Status.CONTRACT_SIGNED: "Signed — please check the work and approve it",
    Status.CUSTOMER_APPROVED: "Approved, thank you",
    Status.CANCELLED: "Cancelled",
    Status.REJECTED: "Not going ahead",
}


def customer_status(installation: Installation) -> str:
    """ "Waiting for your signature"; "Approved on 4 Dec 2026, thank you"."""
    if installation.status == Status.CUSTOMER_APPROVED and installation.approved_at:
        day = dateformat.format(timezone.localtime(installation.approved_at), "j M Y")
        return f"Approved on {day}, thank you"
    return CUSTOMER_WORDS[installation.status]


def _standing_rebooking(installation: Installation) -> Installation | None:
    """The rebooking of a job that fell through that stands, following rebookings that fell
    through too; None when none stands."""
    job = installation
    for _ in range(MAX_REBOOKINGS):
        if job.status not in FELL_THROUGH:
            break
        job = (
            Installation.objects.filter(
                rebooked_from_id=job.pk,
                partner_id=installation.partner_id,
                customer_id=installation.customer_id,
            )
            .only("status", "scheduled_date", "window_start", "window_end")
            .order_by("pk")
            .first()
        )
        if job is None:
            return None
    if job is installation or job.status in FELL_THROUGH:
        return None
    return job


def moved_to(installation: Installation) -> str:
    """The day and window a job that fell through was booked again for ("Sat 12 Dec 2026,
    09:00–11:00"), following rebookings that fell through too to the one that stands; "" when
    none stands. Only these words leave here: the old link must not lead into the new job (its
    own link comes with its own contract)."""
    job = _standing_rebooking(installation)
    if job is None:
        return ""
    return dated_slot_text(job.scheduled_date, job.window_start, job.window_end)


# How a send went out, by the channels it used (both go out together, moments apart).
SENT_BY = {
    frozenset({Message.Channel.EMAIL}): "by email",
    frozenset({Message.Channel.SMS}): "by text message",
    frozenset({Message.Channel.EMAIL, Message.Channel.SMS}): "by email and text message",
}


def new_link_sent(installation: Installation) -> str:
    """How and when the standing rebooking's own link went out, as the old link says it ("by
    email and text message on 5 Dec 2026 at 10:40"); "" while none has (the old link then says
    one will follow). Read from the messages actually sent (a message queued, failed or held
    back has not reached the customer), the latest send with its channels."""
    job = _standing_rebooking(installation)
    if job is None:
        return ""
    sent = Message.objects.filter(
        installation_id=job.pk, template__in=LINK_TEMPLATES, status=Message.State.SENT
    ).exclude(sent_at=None)
    latest = sent.order_by("-sent_at", "-id").first()
    if latest is None:
        return ""
    # One send goes out by email and by SMS together: the same template, moments apart.
    together = sent.filter(
        template=latest.template,
        created_at__gte=latest.created_at - SENT_TOGETHER,
        created_at__lte=latest.created_at + SENT_TOGETHER,
    )
    how = SENT_BY[frozenset(m.channel for m in together.only("channel"))]
    local = timezone.localtime(latest.sent_at)
    return f"{how} on {dateformat.format(local, 'j M Y')} at {dateformat.format(local, 'H:i')}"
