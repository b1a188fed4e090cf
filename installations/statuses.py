"""The status vocabulary: the ten statuses, their labels and the five groups of the status guide."""

from dataclasses import dataclass

from django.db import models


class Status(models.TextChoices):
    SCHEDULED = "SCHEDULED", "Scheduled"
    INSTALLER_ASSIGNED = "INSTALLER_ASSIGNED", "Installer assigned"
    EN_ROUTE = "EN_ROUTE", "En route"
    INSTALLATION_IN_PROGRESS = "INSTALLATION_IN_PROGRESS", "Installation in progress"
    INSTALLATION_COMPLETED = "INSTALLATION_COMPLETED", "Installation completed"
    CONTRACT_SENT = "CONTRACT_SENT", "Contract sent"
    CONTRACT_SIGNED = "CONTRACT_SIGNED", "Contract signed"
    CUSTOMER_APPROVED = "CUSTOMER_APPROVED", "Customer approved"
    CANCELLED = "CANCELLED", "Cancelled"
    REJECTED = "REJECTED", "Rejected"


# Finished records: nothing leaves these statuses, and partners and handymen cannot edit them.
TERMINAL_STATUSES = frozenset({Status.CUSTOMER_APPROVED, Status.CANCELLED, Status.REJECTED})
NON_TERMINAL_STATUSES = tuple(s for s in Status if s not in TERMINAL_STATUSES)

# The handyman has been on site: a follow-up (return) visit can be booked from these (the peer
# product's "callback"); before, the job itself is moved instead.
VISITED_STATUSES = frozenset(
    {
        Status.INSTALLATION_IN_PROGRESS,
        Status.INSTALLATION_COMPLETED,
        Status.CONTRACT_SENT,
        Status.CONTRACT_SIGNED,
        Status.CUSTOMER_APPROVED,
    }
)
# A follow-up still to be visited, cancelled with the job it follows up; one the handyman has
# set off for or started is real work and stays.
NOT_STARTED_STATUSES = frozenset({Status.SCHEDULED, Status.INSTALLER_ASSIGNED})

# The customer's link leads somewhere: the contract to sign, the work to approve, then their
# record (notifications.LINK_STATUSES says which message each one sends).
CUSTOMER_LINK_STATUSES = frozenset(
    {Status.CONTRACT_SENT, Status.CONTRACT_SIGNED, Status.CUSTOMER_APPROVED}
)

# The happy path, in order, as the status guide's "typical workflow progression" gives it.
HAPPY_PATH = (
    Status.SCHEDULED,
    Status.INSTALLER_ASSIGNED,
    Status.EN_ROUTE,
    Status.INSTALLATION_IN_PROGRESS,
    Status.INSTALLATION_COMPLETED,
    Status.CONTRACT_SENT,
    Status.CONTRACT_SIGNED,
    Status.CUSTOMER_APPROVED,
)


@dataclass(frozen=True)
class StatusGroup:
    slug: str
    label: str
    statuses: tuple[str, ...]
    colour: str  # a CSS class suffix; the label always travels with the colour


GROUPS: tuple[StatusGroup, ...] = (
    StatusGroup("scheduled", "Scheduled", (Status.SCHEDULED, Status.INSTALLER_ASSIGNED), "blue"),
    StatusGroup("en_route", "En Route", (Status.EN_ROUTE,), "amber"),
    StatusGroup(
        "in_progress",
        "In Progress",
        (
            Status.INSTALLATION_IN_PROGRESS,
            Status.INSTALLATION_COMPLETED,
            Status.CONTRACT_SENT,
            Status.CONTRACT_SIGNED,
        ),
        "purple",
    ),
    StatusGroup("approved", "Approved", (Status.CUSTOMER_APPROVED,), "green"),
    StatusGroup("rejected", "Rejected", (Status.CANCELLED, Status.REJECTED), "red"),
)
GROUPS_BY_SLUG = {group.slug: group for group in GROUPS}
GROUP_OF_STATUS = {status: group for group in GROUPS for status in group.statuses}
GROUP_CHOICES = [(group.slug, group.label) for group in GROUPS]


def group_of(status: str) -> StatusGroup:
    return GROUP_OF_STATUS[status]
