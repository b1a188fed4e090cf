"""Everything the evidence pack shows, read once with its relations joined: the pack's page
count does not change the number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..contracts import TYPED_STATEMENT, contract_text
from ..formatting import duration_text
from ..history_text import FieldChange, field_changes, field_label, handyman_names
from ..models import (
    Installation,
    InstallationPhoto,
    Message,
    StatusChange,
    may_read_record,
)
from ..scheduling.text import SLOT_FIELDS
from .models import EvidencePack, SignedContract

# A difference under a minute from the promised time is "on time": the clock shows minutes.
ON_TIME = timedelta(minutes=1)


def installation_for_evidence(*, user: Any, pk: int) -> Installation | None:
    """The installation when this user may have its pack (its partner's users, staff)."""
    installation = (
        Installation.objects.select_related("partner", "customer", "handyman__user")
        .filter(pk=pk)
        .first()
    )
    if installation is None or not may_read_record(installation, user):
        return None
    return installation


def customer_copy_for(*, user: Any, pk: int, pack_id: int) -> EvidencePack | None:
    """A kept customer's copy of installation `pk`, when this user may read the record (its
    partner's users, staff); None for any other pack, record or user."""
    installation = installation_for_evidence(user=user, pk=pk)
    if installation is None:
        return None
    return (
        EvidencePack.objects.filter(
            pk=pack_id, installation=installation, copy=EvidencePack.Copy.CUSTOMER
        )
        .exclude(file="")
        .first()
    )


def evidence_packs(installation: Installation) -> QuerySet[EvidencePack]:
    return EvidencePack.objects.filter(installation=installation).order_by("-made_at", "-id")


@dataclass(frozen=True)
class TimelineLine:
    when: datetime
    who: str
    kind: str  # StatusChange.Kind label
    what: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


@dataclass(frozen=True)
class Arrival:
    """The estimate the customer was given against what happened."""

    eta_minutes: int | None
    departed_at: datetime | None
    expected_at: datetime | None
    arrived_at: datetime | None
    window_from: datetime
    window_to: datetime
    window_verdict: str  # "" (not arrived), "inside the window", "early: …", "late: …"
    eta_verdict: str  # against the promised time
    time_on_site: str
    on_site_so_far: bool


@dataclass
class Evidence:
    installation: Installation
    timeline: list[TimelineLine]
    photos: list[InstallationPhoto]
    messages: list[Message]
    follow_ups: list[Installation]
    rebookings: list[Installation]
    arrival: Arrival
    contract_text: str
    typed_statement: str
    contract_kept_at_signing: bool


def _value(value: Any) -> str:
    if value in (None, ""):
        return "—"
    return str(value)


def _what(change: StatusChange) -> str:
    status = change.get_to_status_display()
    if change.kind == StatusChange.Kind.CREATED:
        return f"created as “{status}”"
    if change.kind == StatusChange.Kind.OVERRIDE:
        return f"the locked record was edited (status stays “{status}”)"
    if change.kind == StatusChange.Kind.RESCHEDULED:
        return f"the date or arrival window moved (status stays “{status}”)"
    text = f"“{change.get_from_status_display()}” → “{status}”"
    if change.transition == "reassign" and change.from_handyman and change.to_handyman:
        text += (
            f": reassigned from {change.from_handyman.display_name} "
            f"to {change.to_handyman.display_name}"
        )
    elif change.transition == "assign" and change.to_handyman:
        text += f": assigned to {change.to_handyman.display_name}"
    return text


def timeline(installation: Installation) -> list[TimelineLine]:
    changes = list(
        installation.history.select_related("from_handyman__user", "to_handyman__user").order_by(
            "created_at", "id"
        )
    )
    handymen = handyman_names(changes)
    return [
        TimelineLine(
            when=change.created_at,
            who=change.actor_name,
            kind=change.get_kind_display(),
            what=_what(change),
            reason=change.reason,
            changes=field_changes(change, handymen),
        )
        for change in changes
    ]


def _minutes_apart(delta: timedelta) -> str:
    return duration_text(abs(delta))


def arrival(installation: Installation) -> Arrival:
    zone = timezone.get_current_timezone()
    day = installation.scheduled_date
    window_from = datetime.combine(day, installation.window_start, tzinfo=zone)
    window_to = datetime.combine(day, installation.window_end, tzinfo=zone)
    arrived = installation.arrived_at
    window_verdict = eta_verdict = ""
    if arrived is not None:
        if arrived < window_from:
            window_verdict = f"early: {_minutes_apart(window_from - arrived)} before the window"
        elif arrived > window_to:
            window_verdict = f"late: {_minutes_apart(arrived - window_to)} after the window"
        else:
            window_verdict = "inside the window"
        expected = installation.expected_arrival_at
        if expected is not None:
            delta = arrived - expected
            if abs(delta) < ON_TIME:
                eta_verdict = "on time (within a minute of the promised time)"
            elif delta > timedelta(0):
                eta_verdict = f"{_minutes_apart(delta)} later than promised"
            else:
                eta_verdict = f"{_minutes_apart(delta)} earlier than promised"
    return Arrival(
        eta_minutes=installation.eta_minutes,
        departed_at=installation.departed_at,
        expected_at=installation.expected_arrival_at,
        arrived_at=arrived,
        window_from=window_from,
        window_to=window_to,
        window_verdict=window_verdict,
        eta_verdict=eta_verdict,
        time_on_site=duration_text(installation.time_on_site),
        on_site_so_far=bool(arrived and not installation.completed_at),
    )


# Messages that are not the customer's, by the outbox's naming: the partner's own notices
# (`partner_completed` …) and the handyman's (`rescheduled_handyman`).
NOT_TO_CUSTOMER = Q(template__startswith="partner_") | Q(template__endswith="_handyman")


def customer_messages(installation: Installation) -> list[Message]:
    """The messages to the customer, oldest first."""
    return list(installation.messages.exclude(NOT_TO_CUSTOMER).order_by("created_at", "id"))


def contract_as_signed(installation: Installation) -> tuple[str, str, bool]:
    """The text (and typed-signature statement) kept at signing; for a record signed before
    copies were kept, the text as the customer page words it today (and the pack says so)."""
    if not installation.signed_at:
        return "", "", False
    kept = SignedContract.objects.filter(installation=installation).first()
    if kept is not None:
        return kept.text, kept.statement, True
    typed = installation.contract_signature_kind == Installation.SignatureKind.TYPED
    return contract_text(installation), TYPED_STATEMENT if typed else "", False


def evidence_for(installation: Installation) -> Evidence:
    text, statement, kept = contract_as_signed(installation)
    return Evidence(
        installation=installation,
        timeline=timeline(installation),
        photos=list(installation.photos.order_by("created_at", "id")),
        messages=customer_messages(installation),
        follow_ups=list(installation.follow_ups.order_by("scheduled_date", "id")),
        rebookings=list(installation.rebookings.order_by("scheduled_date", "id")),
        arrival=arrival(installation),
        contract_text=text,
        typed_statement=statement,
        contract_kept_at_signing=kept,
    )


# The customer's copy (their link): what they are entitled to see, and nothing of the partner's
# internal record. Its timeline says what happened to their job and when, not who did it or why.
CUSTOMER_STEPS = {
    "assign": "Installer assigned",
    "reassign": "Installer changed",
    "set_off": "On the way",
    "arrive": "Installer arrived",
    "complete": "Work finished",
    "send_contract": "Contract sent to you",
    "sign": "You signed the contract",
    "approve": "You approved the work",
}
CUSTOMER_KINDS = {
    StatusChange.Kind.CREATED: "Visit booked",
    StatusChange.Kind.RESCHEDULED: "Visit moved",
    # An admin's correction of the record: the customer sees that it happened, not what.
    StatusChange.Kind.OVERRIDE: "Record corrected",
}


@dataclass(frozen=True)
class CustomerStep:
    when: datetime
    what: str
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class CustomerEvidence:
    installation: Installation
    timeline: list[CustomerStep]
    photos: list[InstallationPhoto]
    messages: list[Message]
    follow_ups: list[Installation]
    rebookings: list[Installation]
    rebooked_from: Installation | None
    arrival: Arrival
    contract_text: str
    typed_statement: str
    contract_kept_at_signing: bool


def customer_timeline(installation: Installation) -> list[CustomerStep]:
    """Each step with its time. No names, no reasons; a reschedule keeps its old and new date
    and window (the customer's own appointment, told to them), an override none of its fields."""
    steps = []
    for change in installation.history.order_by("created_at", "id"):
        what = CUSTOMER_KINDS.get(change.kind) or CUSTOMER_STEPS.get(change.transition)
        changes = []
        if change.kind == StatusChange.Kind.RESCHEDULED:
            changes = [
                FieldChange(field_label(name), _value(pair[0]), _value(pair[1]))
                for name, pair in (change.changes or {}).items()
                if name in SLOT_FIELDS and isinstance(pair, list | tuple) and len(pair) == 2
            ]
        steps.append(
            CustomerStep(change.created_at, what or change.get_to_status_display(), changes)
        )
    return steps


def customer_evidence_for(installation: Installation) -> CustomerEvidence:
    """What the customer's copy shows. Other visits are listed only when they are this
    customer's own (a later edit could have moved one to someone else)."""
    text, statement, kept = contract_as_signed(installation)
    mine = {"customer_id": installation.customer_id}
    return CustomerEvidence(
        installation=installation,
        timeline=customer_timeline(installation),
        photos=list(installation.photos.order_by("created_at", "id")),
        messages=customer_messages(installation),
        follow_ups=list(installation.follow_ups.filter(**mine).order_by("scheduled_date", "id")),
        rebookings=list(installation.rebookings.filter(**mine).order_by("scheduled_date", "id")),
        rebooked_from=(
            Installation.objects.filter(pk=installation.rebooked_from_id, **mine).first()
            if installation.rebooked_from_id
            else None
        ),
        arrival=arrival(installation),
        contract_text=text,
        typed_statement=statement,
        contract_kept_at_signing=kept,
    )
