"""Partners, handymen, customers and installations, with the installation status machine.

The state machine is django-fsm-2's: the status field is protected, so it changes only through the
transition methods below, and every transition lists its sources explicitly so that nothing ever
leaves a terminal status. Transition bodies only set fields; the service layer (services.py) runs
them inside a transaction, checks the actor, writes history and queues side effects.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from .statuses import (
    CUSTOMER_LINK_STATUSES,
    GROUPS,
    NON_TERMINAL_STATUSES,
    TERMINAL_STATUSES,
    Status,
    group_of,
)


class Partner(models.Model):
    name = models.CharField(max_length=120, unique=True)
    email = models.EmailField(blank=True, help_text="Where partner notifications are sent.")
    contract_text = models.TextField(
        blank=True,
        help_text="Your own contract text for customers. Leave empty to use the default contract.",
    )
    notify_on_completed = models.BooleanField("Email me when a job is completed", default=True)
    notify_on_rejected = models.BooleanField("Email me when a job is rejected", default=True)
    notify_on_cancelled = models.BooleanField("Email me when a job is cancelled", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerUser(models.Model):
    """A login that acts for exactly one partner."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_profile"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="members")

    class Meta:
        verbose_name = "partner user"

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.partner})"


class Handyman(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="handyman"
    )
    partners = models.ManyToManyField(Partner, related_name="handymen", blank=True)
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name_plural = "handymen"
        ordering = ["user__first_name", "user__username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.get_username()

    @property
    def first_name(self) -> str:
        return self.user.first_name or self.user.get_username()


class Customer(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="customers")
    name = models.CharField(max_length=120)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["partner", "name"], name="customer_partner_name")]

    def __str__(self) -> str:
        return self.name


# --- Actors and transition permissions --------------------------------------------------------


@dataclass(frozen=True)
class CustomerActor:
    """The customer, who has no account: proven by a valid signed link for one installation."""

    installation_id: int
    name: str = "Customer"
    is_staff: bool = False
    is_superuser: bool = False
    is_active: bool = True
    is_authenticated: bool = False
    pk: None = None

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def get_username(self) -> str:
        return self.name


def is_staff(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False) and getattr(user, "is_active", False))


def partner_id_of(user: Any) -> int | None:
    profile = getattr(user, "partner_profile", None)
    return profile.partner_id if profile is not None else None


def handyman_of(user: Any) -> Handyman | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "handyman", None)


def _partner_user_of(instance: Installation, user: Any) -> bool:
    return getattr(user, "is_active", False) and partner_id_of(user) == instance.partner_id


def can_partner_or_staff(instance: Installation, user: Any) -> bool:
    return _partner_user_of(instance, user) or is_staff(user)


def may_read_record(instance: Installation, user: Any) -> bool:
    """Who may read a record's files (its evidence pack, photos, signatures): its partner's
    users, and staff whom the admin lets view installations (a staff account with no
    permission gets 403 there, and nothing here either)."""
    return _partner_user_of(instance, user) or (
        is_staff(user) and user.has_perm("installations.view_installation")
    )


def can_assigned_handyman(instance: Installation, user: Any) -> bool:
    handyman = handyman_of(user)
    return handyman is not None and instance.handyman_id == handyman.pk


def can_assigned_handyman_or_staff(instance: Installation, user: Any) -> bool:
    return can_assigned_handyman(instance, user) or is_staff(user)


def can_customer(instance: Installation, user: Any) -> bool:
    return isinstance(user, CustomerActor) and user.installation_id == instance.pk


def can_staff(instance: Installation, user: Any) -> bool:
    return is_staff(user)


# --- Transition conditions (when, not who: no side effects) -----------------------------------


def its_day_has_come(instance: Installation) -> bool:
    """The job is booked for today or an earlier day. "On my way" texts the customer that the
    handyman is coming now: on Tuesday for Friday's job that is a false promise, and the date is
    the partner's to move (the scheduling room), not a phone's to confirm early."""
    # An unsaved stand-in without a date (the board asks one per status) has no day yet.
    day = instance.scheduled_date
    return day is not None and day <= timezone.localdate()


# --- Installation -----------------------------------------------------------------------------

# `version` is never NULL: a condition that changes no result, written only by the admin's
# changelist of every partner, the one query the partial index inst_admin_date serves.
ADMIN_EVERY_PARTNER = Q(version__isnull=False)


def _photo_path(instance: Any, filename: str) -> str:
    # Generated names only: the uploader's file name never reaches the file system.
    return f"photos/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{_ext(filename)}"


def _signature_path(instance: Any, filename: str) -> str:
    return f"signatures/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.png"


def _ext(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {"jpeg": "jpg", "jpg": "jpg", "png": "png"}.get(ext, "bin")


class Installation(ConcurrentTransitionMixin, models.Model):
    class Kind(models.TextChoices):
        INSTALLATION = "installation", "Installation"
        FOLLOW_UP = "follow_up", "Follow-up visit"

    class SignatureKind(models.TextChoices):
        DRAWN = "drawn", "Drawn"
        TYPED = "typed", "Typed name"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="installations")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="installations")
    site_address = models.CharField(max_length=255)
    scheduled_date = models.DateField()
    window_start = models.TimeField("arrival window from")
    window_end = models.TimeField("arrival window to")
    handyman = models.ForeignKey(
        Handyman, on_delete=models.PROTECT, null=True, blank=True, related_name="installations"
    )
    status = FSMField(
        max_length=32, choices=Status.choices, default=Status.SCHEDULED, protected=True
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INSTALLATION)
    # Indexed below, partially: almost every row has neither, and a full index full of NULLs
    # told SQLite's planner that a parent matches a million rows.
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        db_index=False,
    )
    rebooked_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rebookings",
        db_index=False,
    )
    notes = models.TextField(blank=True)
    # The partner's own id for this job (their shop or CRM order number), given at import; sent
    # back in webhooks. Unique per partner when given, so a re-imported file adds nothing twice.
    partner_reference = models.CharField(max_length=100, blank=True)
    rejection_reason = models.TextField(blank=True)
    cancellation_reason = models.TextField(blank=True)

    # On my way: the estimate the customer is told.
    eta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    expected_arrival_at = models.DateTimeField(null=True, blank=True)

    # Close checklist (photos are InstallationPhoto rows).
    completion_notes = models.TextField(blank=True)
    completion_signature = models.ImageField(upload_to=_signature_path, blank=True)
    # As for the contract: drawn (completion_signature holds it), or the customer's typed full
    # name with the statement ticked (completion_signer_name is the signature; no image).
    completion_signature_kind = models.CharField(
        max_length=8, choices=SignatureKind.choices, blank=True
    )
    completion_signer_name = models.CharField(max_length=120, blank=True)

    # Customer sign-off.
    contract_signer_name = models.CharField(max_length=120, blank=True)
    contract_signature = models.ImageField(upload_to=_signature_path, blank=True)
    # How the customer signed: a drawing (contract_signature holds it) or their typed full name
    # with a ticked statement (contract_signer_name is the signature; no image).
    contract_signature_kind = models.CharField(
        max_length=8, choices=SignatureKind.choices, blank=True
    )
    contract_signed_ip = models.GenericIPAddressField(null=True, blank=True)
    # Rotated when a new customer link is issued, so that older links stop working.
    link_nonce = models.CharField(max_length=32, blank=True)

    # When each stage was reached.
    assigned_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    contract_sent_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)

    # Bumped by every write of the service layer: forms carry it to detect stale pages.
    version = models.PositiveIntegerField(default=1)
    # The one-time token of the form that created this record: UNIQUE, so a replayed or racing
    # submission of the same form cannot insert a second row (a lookup first could).
    creation_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheduled_date", "window_start", "id"]
        permissions = [
            ("override_locked_installation", "Can edit finished (locked) installations"),
        ]
        indexes = [
            # Partner first: every list query is scoped to one partner, and the columns after
            # it are the list's sort, so a page reads 25 index entries instead of sorting.
            models.Index(
                fields=["partner", "scheduled_date", "window_start", "id"],
                name="inst_partner_date",
            ),
            # The admin's changelist of every partner, in the same order: its first page read
            # from here instead of a sort of every row (3 s at a million rows). Partial on a
            # condition that only that changelist writes, so that no other query's plan can
            # pick it: on small tables it was taken over the partner's and handyman's indexes.
            models.Index(
                fields=["scheduled_date", "window_start", "id"],
                condition=ADMIN_EVERY_PARTNER,
                name="inst_admin_date",
            ),
            # A partial index per group of several statuses (the cards' filters): the filter
            # `status IN (group)` is the index's condition, so the group's page is an index
            # scan in list order, whatever share of the partner's rows the group holds. A
            # one-status group is `status = …` and inst_partner_status serves it.
            *(
                models.Index(
                    fields=["partner", "scheduled_date", "window_start", "id"],
                    condition=Q(status__in=[str(status) for status in group.statuses]),
                    name=f"inst_group_{group.slug}",
                )
                for group in GROUPS
                if len(group.statuses) > 1
            ),
            models.Index(
                fields=["partner", "status", "scheduled_date", "window_start", "id"],
                name="inst_partner_status",
            ),
            models.Index(
                fields=["partner", "handyman", "scheduled_date", "window_start", "id"],
                # PostgreSQL only (SQLite has no INCLUDE): the list's per-status counts under
                # a handyman filter read the index alone, not every job of his past (17,000
                # heap rows for the busiest at ten million installations: 35 ms).
                include=["status"],
                name="inst_partner_handyman",
            ),
            models.Index(fields=["partner", "updated_at", "id"], name="inst_partner_updated"),
            models.Index(
                fields=["handyman", "status", "scheduled_date"], name="inst_handyman_status"
            ),
            models.Index(fields=["parent"], condition=Q(parent__isnull=False), name="inst_parent"),
            models.Index(
                fields=["rebooked_from"],
                condition=Q(rebooked_from__isnull=False),
                name="inst_rebooked_from",
            ),
            # The handyman page's finished jobs of the last days.
            models.Index(fields=["handyman", "completed_at"], name="inst_handyman_completed"),
            # The media view finds the record that owns a signature by its stored name.
            models.Index(
                fields=["completion_signature"],
                condition=~Q(completion_signature=""),
                name="inst_completion_signature",
            ),
            models.Index(
                fields=["contract_signature"],
                condition=~Q(contract_signature=""),
                name="inst_contract_signature",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "partner_reference"],
                condition=~Q(partner_reference=""),
                name="inst_partner_reference",
            ),
            models.CheckConstraint(
                condition=Q(window_start__lt=models.F("window_end")),
                name="inst_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(kind="installation", parent__isnull=True)
                | Q(kind="follow_up", parent__isnull=False),
                name="inst_follow_up_has_parent",
            ),
        ]

    # Set (never stored) by the service layer when a repeat of one's own change or form was
    # answered with the record as it already is, so that views can say so.
    replayed: bool = False

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer.name if self.customer_id else ''}".strip()

    # --- Derived facts ------------------------------------------------------------------------

    @property
    def is_locked(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def has_customer_link(self) -> bool:
        """Whether the customer's link leads somewhere: the contract to sign, the work to
        approve, then their record."""
        return self.status in CUSTOMER_LINK_STATUSES

    @property
    def group(self):
        return group_of(self.status)

    @property
    def time_on_site(self) -> timedelta | None:
        if not self.arrived_at:
            return None
        end = self.completed_at or timezone.now()
        return max(end - self.arrived_at, timedelta(0))

    # --- Transitions --------------------------------------------------------------------------
    # `custom["label"]` is the button's words wherever it appears; `custom["admin"]` exposes the
    # transition as a button in Django admin (only to users whose permission allows it).

    @transition(
        field=status,
        source=Status.SCHEDULED,
        target=Status.INSTALLER_ASSIGNED,
        permission=can_partner_or_staff,
        custom={"label": "Assign", "admin": True, "form": "installations.forms.AssignForm"},
    )
    def assign(self, handyman: Handyman) -> None:
        self.handyman = handyman
        self.assigned_at = timezone.now()

    @transition(
        field=status,
        source=[Status.INSTALLER_ASSIGNED, Status.EN_ROUTE],
        target=Status.INSTALLER_ASSIGNED,
        permission=can_partner_or_staff,
        custom={"label": "Reassign", "admin": True, "form": "installations.forms.AssignForm"},
    )
    def reassign(self, handyman: Handyman) -> None:
        # The new handyman has not set off yet.
        self.handyman = handyman
        self.assigned_at = timezone.now()
        self.departed_at = None
        self.eta_minutes = None
        self.expected_arrival_at = None

    @transition(
        field=status,
        source=Status.SCHEDULED,
        target=Status.REJECTED,
        permission=can_partner_or_staff,
        custom={"label": "Reject", "admin": True, "form": "installations.forms.ReasonForm"},
    )
    def reject(self, reason: str) -> None:
        self.rejection_reason = reason
        self.rejected_at = timezone.now()

    @transition(
        field=status,
        source=Status.INSTALLER_ASSIGNED,
        target=Status.EN_ROUTE,
        conditions=[its_day_has_come],
        permission=can_assigned_handyman,
        custom={"label": "On my way"},
    )
    def set_off(self, eta_minutes: int) -> None:
        now = timezone.now()
        self.departed_at = now
        self.eta_minutes = eta_minutes
        self.expected_arrival_at = now + timedelta(minutes=eta_minutes)

    @transition(
        field=status,
        source=Status.EN_ROUTE,
        target=Status.INSTALLATION_IN_PROGRESS,
        permission=can_assigned_handyman,
        custom={"label": "Arrived"},
    )
    def arrive(self) -> None:
        self.arrived_at = timezone.now()

    @transition(
        field=status,
        source=Status.INSTALLATION_IN_PROGRESS,
        target=Status.INSTALLATION_COMPLETED,
        permission=can_assigned_handyman,
        custom={"label": "Mark done"},
    )
    def complete(self, notes: str = "", kind: str = "drawn", signer_name: str = "") -> None:
        self.completion_notes = notes
        self.completion_signature_kind = kind
        self.completion_signer_name = signer_name
        self.completed_at = timezone.now()

    @transition(
        field=status,
        source=Status.INSTALLATION_COMPLETED,
        target=Status.CONTRACT_SENT,
        permission=can_assigned_handyman_or_staff,
        custom={"label": "Send contract", "admin": True},
    )
    def send_contract(self) -> None:
        self.contract_sent_at = timezone.now()
        self.link_nonce = uuid.uuid4().hex

    @transition(
        field=status,
        source=Status.CONTRACT_SENT,
        target=Status.CONTRACT_SIGNED,
        permission=can_customer,
        custom={"label": "Sign"},
    )
    def sign(self, name: str, ip: str | None, kind: str = "drawn") -> None:
        self.contract_signer_name = name
        self.contract_signature_kind = kind
        self.contract_signed_ip = ip
        self.signed_at = timezone.now()

    @transition(
        field=status,
        source=Status.CONTRACT_SIGNED,
        target=Status.CUSTOMER_APPROVED,
        permission=can_customer,
        custom={"label": "Approve installation"},
    )
    def approve(self) -> None:
        self.approved_at = timezone.now()

    @transition(
        field=status,
        source=list(NON_TERMINAL_STATUSES),
        target=Status.CANCELLED,
        permission=can_staff,
        custom={"label": "Cancel", "admin": True, "form": "installations.forms.ReasonForm"},
    )
    def cancel(self, reason: str) -> None:
        self.cancellation_reason = reason
        self.cancelled_at = timezone.now()


class InstallationPhoto(models.Model):
    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=_photo_path)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        # The media view finds the photo's record by its stored name.
        indexes = [models.Index(fields=["image"], name="photo_image")]

    def __str__(self) -> str:
        return f"Photo {self.pk} of installation {self.installation_id}"


class StatusChange(models.Model):
    """The history of an installation: who moved it, when, from where to where, and why."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        TRANSITION = "transition", "Status change"
        OVERRIDE = "override", "Admin override"
        # Date or window moved; `changes` holds {"scheduled_date": [old, new], …} and the
        # status stays (from_status == to_status).
        RESCHEDULED = "rescheduled", "Rescheduled"

    installation = models.ForeignKey(Installation, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TRANSITION)
    transition = models.CharField(max_length=32, blank=True)
    from_status = models.CharField(max_length=32, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=32, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    actor_name = models.CharField(max_length=150)
    reason = models.TextField(blank=True)
    # For overrides: {"field": [old, new]}.
    changes = models.JSONField(default=dict, blank=True)
    # The record's version before and after this entry and the transition's arguments (ids for
    # records): together they recognise a repeat of this very change by the same person.
    from_version = models.PositiveIntegerField(null=True, blank=True)
    to_version = models.PositiveIntegerField(null=True, blank=True)
    arguments = models.JSONField(default=dict, blank=True)
    # Who had the job before and after a change of handyman ("Reassigned from … to …").
    from_handyman = models.ForeignKey(
        Handyman, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_handyman = models.ForeignKey(
        Handyman, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["installation", "created_at"], name="history_inst")]

    def __str__(self) -> str:
        # Labels, not codes: the admin shows this to people (history rows, titles, logs).
        before = self.get_from_status_display() or "—"
        return f"{before} → {self.get_to_status_display()} by {self.actor_name}"


class PartnerStatusCount(models.Model):
    """How many installations a partner has in each status, kept by the service layer in the
    same transaction as every change, so that the overview cards never count rows."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="status_counts")
    status = models.CharField(max_length=32, choices=Status.choices)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "status"], name="status_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.status}: {self.count}"


class Message(models.Model):
    """A notification we promised to send: created with the change that causes it.

    A message that is not a status change's own (a re-sent link, a reminder) is *held* instead of
    sent when its recipient has had the day's ceiling (notifications.DAILY_CEILING): stored with
    the reason, never sent, never retried, so staff can see what a bug or a script tried to do."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        HELD = "held", "Held back"

    class Cause(models.TextChoices):
        TRANSITION = "transition", "Status change"
        RESEND = "resend", "Link re-sent"
        REMINDER = "reminder", "Reminder"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="messages")
    installation = models.ForeignKey(
        Installation, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    recipient = models.CharField(max_length=254)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    template = models.CharField(max_length=64)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    cause = models.CharField(max_length=12, choices=Cause.choices, default=Cause.TRANSITION)
    hold_reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Who asked for it (a link re-sent); empty for what the portal sends on its own. A colleague
    # who re-sends a minute later is told it was this person's, not their own.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["installation", "template", "created_at"], name="message_inst"),
            models.Index(fields=["status", "next_attempt_at"], name="message_due"),
            # The daily ceiling counts a recipient's last 24 hours under its lock.
            models.Index(fields=["recipient", "created_at"], name="message_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} to {self.recipient}: {self.template}"


from .dashboard.models import *  # noqa: E402,F401,F403
from .done_before.models import *  # noqa: E402,F401,F403
from .evidence.models import *  # noqa: E402,F401,F403
from .live.models import *  # noqa: E402,F401,F403
from .ratelimit.models import *  # noqa: E402,F401,F403
from .scheduling.models import *  # noqa: E402,F401,F403
from .spreadsheets.models import *  # noqa: E402,F401,F403
from .webhooks.models import *  # noqa: E402,F401,F403
