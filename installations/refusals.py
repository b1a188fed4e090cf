"""The one wording of an action the job's status does not allow.

Every place that refuses such an action says it with these words: the core services (and so
the list's row actions, the record page, Django admin and the handyman's pages), the bulk bar,
the scheduling room and the dispatch board's cards. A refusal says what the job is now and,
where there is something to do instead, what: "#31 has no handyman yet, so assign one instead."
"Can no longer" is said only of a job past the action, "not yet" only of one before it. An
action the status allows but a condition of the state machine holds back ("On my way" before the
job's day) is worded here too (`not_now_sentence`).
"""

from __future__ import annotations

import zlib
from functools import cache
from typing import TYPE_CHECKING, Protocol

from .models import Installation, StatusChange
from .scheduling.rules import RESCHEDULABLE
from .scheduling.text import dated_slot_text, long_day_text
from .statuses import HAPPY_PATH, TERMINAL_STATUSES, VISITED_STATUSES, Status

if TYPE_CHECKING:
    from collections.abc import Collection

# What each action is called in a sentence ("it can no longer be …").
VERBS = {
    "assign": "assigned a handyman",
    "reassign": "reassigned",
    "reject": "rejected",
    "reschedule": "rescheduled",
    "set_off": "set off for",
    "arrive": "marked as arrived",
    "complete": "marked done",
    "send_contract": "sent a contract",
    "sign": "signed",
    "approve": "approved",
    "cancel": "cancelled",
}

# What a job in each status is, said after its name ("#31 has no handyman yet").
SITUATIONS = {
    Status.SCHEDULED: "has no handyman yet",
    Status.INSTALLER_ASSIGNED: "has a handyman",
    Status.EN_ROUTE: "has a handyman on the way",
    Status.INSTALLATION_IN_PROGRESS: "has its handyman on site",
    Status.INSTALLATION_COMPLETED: "is installed",
    Status.CONTRACT_SENT: "is installed and its contract is sent",
    Status.CONTRACT_SIGNED: "is installed and its contract is signed",
    Status.CUSTOMER_APPROVED: "is finished and approved by the customer",
    Status.CANCELLED: "was cancelled",
    Status.REJECTED: "was rejected",
}

# Sending someone: what a partner can do instead, where there is something (the record page's
# "Book follow-up visit" and "Rebook").
_SENDING = ("assign", "reassign", "reschedule")
FOLLOW_UP = "book a follow-up visit if someone must go back"
REBOOK = "rebook it if it should still go ahead"


def _instead(status: str, action: str) -> str:
    if action == "reassign" and status == Status.SCHEDULED:
        return "assign one instead"
    if action == "assign" and status in (Status.INSTALLER_ASSIGNED, Status.EN_ROUTE):
        return "reassign it to send someone else"
    if action in _SENDING and status in (Status.CANCELLED, Status.REJECTED):
        return REBOOK
    if action == "reschedule" and status in VISITED_STATUSES:
        return FOLLOW_UP
    # With the handyman on site, someone else cannot be sent now, nor a follow-up yet.
    if action in _SENDING and status in VISITED_STATUSES - {Status.INSTALLATION_IN_PROGRESS}:
        return FOLLOW_UP
    return ""


# The same action twice (by someone else: one's own repeat is answered as done).
ALREADY = {
    ("reject", Status.REJECTED): "is already rejected",
    ("cancel", Status.CANCELLED): "is already cancelled",
    ("set_off", Status.EN_ROUTE): "already has its handyman on the way",
    ("arrive", Status.INSTALLATION_IN_PROGRESS): "already has its handyman on site",
    ("complete", Status.INSTALLATION_COMPLETED): "is already marked done",
    ("send_contract", Status.CONTRACT_SENT): "has already been sent its contract",
    ("sign", Status.CONTRACT_SIGNED): "is already signed",
    ("approve", Status.CUSTOMER_APPROVED): "is already approved",
}


@cache
def _sources(action: str) -> Collection[str]:
    """The statuses the state machine allows `action` from (Reschedule: the scheduling rule)."""
    if action == "reschedule":
        return frozenset(RESCHEDULABLE)
    field = Installation._meta.get_field("status")
    sources: set[str] = set()
    for transition in field.get_all_transitions(Installation):
        if transition.name == action:
            sources.add(transition.source)
    return frozenset(sources)


def _not_yet(status: str, action: str) -> bool:
    """Whether the job has not reached the action yet (rather than gone past it)."""
    if status in TERMINAL_STATUSES or status not in HAPPY_PATH:
        return False
    firsts = [HAPPY_PATH.index(s) for s in _sources(action) if s in HAPPY_PATH]
    return bool(firsts) and HAPPY_PATH.index(status) < min(firsts)


def refusal(status: str, action: str, *, subject: str = "it") -> str:
    """Why a job in `status` cannot have `action` now, and what to do instead, as a clause
    about `subject` without a full stop: "it has no handyman yet, so assign one instead" (a
    row's reason in the bulk bar, after its name). `refusal_sentence` is the whole sentence."""
    if (action, status) in ALREADY:
        return f"{subject} {ALREADY[action, status]}"
    situation = f"{subject} {SITUATIONS[status]}"
    instead = _instead(status, action)
    if instead:
        return f"{situation}, so {instead}"
    verb = VERBS[action]
    if status in _sources(action):
        # The status allows it: not a refusal of this kind (the caller's check was another).
        return f"{situation}, so it cannot be {verb} now"
    if _not_yet(status, action):
        # "#31 has no handyman yet, so it cannot be sent a contract": one "yet" is enough.
        yet = "" if situation.endswith(" yet") else " yet"
        return f"{situation}, so it cannot be {verb}{yet}"
    return f"{situation}, so it can no longer be {verb}"


class _Job(Protocol):
    pk: int
    status: str


def refusal_sentence(installation: _Job, action: str) -> str:
    """The refusal of `action` on this job (an Installation, or the board's Job), as a page or
    the board says it: "#31 has no handyman yet, so assign one instead. Nothing was changed." """
    clause = refusal(installation.status, action, subject=f"#{installation.pk}")
    return f"{clause}. Nothing was changed."


def not_now_sentence(installation: Installation, action: str) -> str:
    """The refusal of an action the job's status allows, and the person may take, but not yet:
    a condition of the state machine is not met. The only one is "On my way" before the job's
    day (models.its_day_has_come); said to the handyman, the one person who may set off."""
    if action == "set_off":
        day = long_day_text(installation.scheduled_date)
        return (
            f"#{installation.pk} is booked for {day}: “On my way” opens on that day. If the "
            "customer wants you sooner, ask the office to move the job. Nothing was changed."
        )
    return refusal_sentence(installation, action)


# The details a handyman's page shows that the office can edit (services.EDITABLE_FIELDS), as a
# sentence names them. An edit writes no history entry: the page carries a mark of each
# (`details_mark`), and a stale tap compares it with the row to say which one changed.
DETAILS = (("site_address", "address"), ("notes", "notes"))


def details_mark(installation: Installation) -> str:
    """A short mark of each editable detail as the page shows it ("1a2b3c4d.5e6f7a8b"): not a
    secret, only a way to tell later which of them the office changed."""
    return ".".join(
        f"{zlib.crc32((getattr(installation, field) or '').encode()):08x}" for field, _ in DETAILS
    )


def changed_details(installation: Installation, mark: str) -> list[str] | None:
    """The details ("address", "notes") that differ from the page's `mark`; None when the mark
    is missing or garbled (then nothing is claimed about them)."""
    drawn = (mark or "").split(".")
    now = details_mark(installation).split(".")
    if len(drawn) != len(now):
        return None
    return [word for (_, word), was, is_ in zip(DETAILS, drawn, now, strict=True) if was != is_]


def stale_step_sentence(
    installation: Installation, action: str, since_version: int, mark: str = ""
) -> str:
    """The handyman's step refused because the office changed the job after his page was drawn
    (its version moved on from `since_version`), said as what the office did to *his* job: the
    services' "Someone else changed this installation… it is now “Installer assigned”" is the
    office's wording, and named a status he already had. Cancelled (or anything that ends the
    step) says so; a move says where to; an edit names the details that changed (the page's
    `mark`, see `details_mark`), and only those: a job given away and back changed neither. In
    each case nothing was changed."""
    pk = installation.pk
    if installation.status not in _sources(action):
        said = refusal_sentence(installation, action)
        return f"The office changed this job a moment ago: {said}"
    since = StatusChange.objects.filter(installation=installation, to_version__gt=since_version)
    moved = since.filter(kind=StatusChange.Kind.RESCHEDULED).order_by("-id").first()
    if moved is not None:
        slot = dated_slot_text(
            installation.scheduled_date, installation.window_start, installation.window_end
        )
        return (
            f"The office moved #{pk} to {slot} a moment ago. Nothing was changed: check the "
            "card, then tap again when it is time."
        )
    changed = changed_details(installation, mark)
    if changed:
        what = " and ".join(changed)
        return (
            f"The office changed the {what} of #{pk} a moment ago. Nothing was changed: read "
            f"the {what} on the card again, then tap again."
        )
    if since.filter(transition="reassign").exists():  # it is his again: away and back
        return (
            f"The office gave #{pk} to another handyman and back to you a moment ago. Nothing "
            "was changed: check the card, then tap again."
        )
    return (
        f"The office changed #{pk} a moment ago. Nothing was changed: check the card, then tap "
        "again."
    )


def no_longer_yours(installation: Installation, handyman_id: int) -> str:
    """Why a job he had is off his list, as a clause after its name ("#31 Ann Lee is no longer
    yours: it was given to another handyman"), or "" while it is still his. Never who has it
    now: that is the office's to tell. His page's live news and a tap on a job he no longer has
    (with or without JavaScript) say it with these words."""
    if installation.handyman_id == handyman_id:
        return ""
    if installation.handyman_id is None:
        return "is no longer yours: the office took it off your list"
    return "is no longer yours: it was given to another handyman"


def given_away_sentence(installation: Installation, handyman_id: int) -> str:
    """A tap on a job the office has meanwhile given away: "#31 Ann Lee is no longer yours: it
    was given to another handyman. Nothing was changed." """
    name = f"#{installation.pk} {installation.customer.name}"
    return f"{name} {no_longer_yours(installation, handyman_id)}. Nothing was changed."
