"""Where the job stands, as the customer reads it on their link's pages: their own words, not
the office's pipeline ("Contract sent" is the partner's step; the customer is waiting to sign).

The office's labels (statuses.Status) stay everywhere else. The customer's pages (views/customer.py
and the evidence pack's page for a link) take their words from here and nowhere else.
"""

from __future__ import annotations

from django.utils import dateformat, timezone

from .models import Installation
from .statuses import Status

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
