"""Scheduling writes: move a job to another day or window, and a handyman's days off.

`installation_reschedule` follows the same pattern as every status change (services._transition):
one transaction, the row locked, the page's version checked, the actor checked, the rules under
the lock, a history entry, messages written in the transaction and delivered on commit."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import notifications, services
from ..errors import TransitionRefused
from ..models import Handyman, Installation, StatusChange, can_partner_or_staff
from ..refusals import refusal_sentence
from ..statuses import Status
from .models import TimeOff
from .rules import RESCHEDULABLE, check_slot, window_over
from .text import SLOT_FIELDS, day_text, slot_text, slot_values


def _is_own_repeat(
    locked: Installation, *, actor: Any, expected_version: int | None, arguments: dict[str, str]
) -> bool:
    """Whether the record's last entry is this very reschedule, by this person, from the page's
    version (a double click, a retry after a lost answer): then it is answered as done."""
    if expected_version is None:
        return False
    last = locked.history.order_by("-id").first()
    user = services._actor_user(actor)
    return (
        last is not None
        and last.kind == StatusChange.Kind.RESCHEDULED
        and last.from_version == expected_version
        and last.to_version == locked.version
        and last.actor_id == (user.pk if user is not None else None)
        and last.actor_name == services.actor_name(actor)
        and last.arguments == arguments
    )


def _check_actor(locked: Installation, actor: Any) -> None:
    if not can_partner_or_staff(locked, actor):
        raise TransitionRefused(
            "You are not allowed to reschedule this installation. Nothing was changed.",
            installation=locked,
        )


def _check_status(locked: Installation) -> None:
    if locked.status not in RESCHEDULABLE:
        raise TransitionRefused(refusal_sentence(locked, "reschedule"), installation=locked)


def _check_new_slot(scheduled_date: date, window_start: time, window_end: time) -> None:
    errors = {}
    if scheduled_date < timezone.localdate():
        errors["scheduled_date"] = (
            f"{day_text(scheduled_date)} {scheduled_date.year} is in the past: "
            "choose today or a later date."
        )
    if window_start >= window_end:
        errors["window_end"] = "The arrival window must end after it starts."
    elif over := window_over(scheduled_date, window_start, window_end):
        errors["window_end"] = over
    if errors:
        raise ValidationError(errors)


def installation_reschedule(
    *,
    installation: Installation | int,
    actor: Any,
    scheduled_date: date,
    window_start: time,
    window_end: time,
    reason: str = "",
    expected_version: int | None = None,
    confirm_conflict: bool = False,
    handyman: Handyman | None = None,
) -> Installation:
    """Move an open job (SCHEDULED or INSTALLER_ASSIGNED) to another day or window.

    With `handyman` (the board's drop on another handyman's day), the move and the
    assignment are one change: the day off and the conflicts are those of that handyman on the
    new slot, and either both are made or neither (a declined conflict leaves the job as it was).

    Refused: another partner's job or a handyman's actor (TransitionRefused), a status past
    INSTALLER_ASSIGNED (TransitionRefused), a stale page (TransitionRefused), a past date or an
    empty window (ValidationError), the assigned handyman's day off (ValidationError on
    scheduled_date). An overlapping job of the assigned handyman raises ScheduleConflict unless
    `confirm_conflict`. A repeat of one's own reschedule from the same page, or a slot equal to
    the current one, is answered as done (``replayed``) and writes nothing."""
    pk = installation if isinstance(installation, int) else installation.pk
    reason = (reason or "").strip()
    arguments = slot_values(scheduled_date, window_start, window_end)
    with transaction.atomic():
        locked = services._lock(pk)
        _check_actor(locked, actor)
        if locked.version != expected_version and _is_own_repeat(
            locked, actor=actor, expected_version=expected_version, arguments=arguments
        ):
            locked.replayed = True
            return locked
        _check_status(locked)
        services._check_version(locked, expected_version)
        before = slot_values(locked.scheduled_date, locked.window_start, locked.window_end)
        changes = {f: [before[f], arguments[f]] for f in SLOT_FIELDS if before[f] != arguments[f]}
        if not changes:
            locked.replayed = True  # nothing to change: already there
            return locked
        _check_new_slot(scheduled_date, window_start, window_end)
        # RESCHEDULABLE jobs are also the ones that can be given to another handyman.
        new_handyman = handyman if handyman is not None and handyman != locked.handyman else None
        who = new_handyman or locked.handyman
        if who is not None:
            check_slot(
                locked,
                who,
                day=scheduled_date,
                window_start=window_start,
                window_end=window_end,
                confirm_conflict=confirm_conflict,
                field="scheduled_date",
            )
        moved_from = slot_text(locked.scheduled_date, locked.window_start, locked.window_end)
        moved_to = slot_text(scheduled_date, window_start, window_end)
        from_version = locked.version
        locked.scheduled_date = scheduled_date
        locked.window_start = window_start
        locked.window_end = window_end
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        change = StatusChange.objects.create(
            installation=locked,
            kind=StatusChange.Kind.RESCHEDULED,
            from_status=locked.status,
            to_status=locked.status,
            actor=services._actor_user(actor),
            actor_name=services.actor_name(actor),
            reason=reason,
            changes=changes,
            arguments=arguments,
            from_version=from_version,
            to_version=locked.version,
        )
        # The handyman who now has the job is told by the assignment, on its new slot.
        notifications.queue_rescheduled(
            locked, moved_from=moved_from, moved_to=moved_to, tell_handyman=new_handyman is None
        )
        services._recorded(change, locked)
        if new_handyman is not None:
            give = (
                services.installation_assign
                if locked.status == Status.SCHEDULED
                else services.installation_reassign
            )
            # Checked above for the new slot (a conflict was asked about already).
            locked = give(
                installation=locked.pk,
                handyman=new_handyman,
                actor=actor,
                expected_version=locked.version,
                confirm_conflict=True,
            )
    return locked


# --- Time off -----------------------------------------------------------------------------------


def _check_time_off_actor(handyman: Handyman, actor: Any) -> None:
    own = getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) == (
        handyman.user_id
    )
    if not (own or (getattr(actor, "is_staff", False) and getattr(actor, "is_active", False))):
        raise TransitionRefused("Only the handyman himself or staff can change his days off.")


def time_off_add(*, handyman: Handyman, day: date, actor: Any) -> tuple[TimeOff, bool]:
    """Mark `day` off for the handyman; returns the row and whether it was added now. A future
    day only (today's jobs are already on their way). Adding a day twice is one row."""
    _check_time_off_actor(handyman, actor)
    if day <= timezone.localdate():
        raise ValidationError(
            {"day": f"{day_text(day)} {day.year} is not in the future: choose a later day."}
        )
    try:
        # The UNIQUE (handyman, day) decides, not a lookup first: two taps at once add one row.
        with transaction.atomic():
            row = TimeOff.objects.create(
                handyman=handyman, day=day, created_by=services._actor_user(actor)
            )
    except IntegrityError:
        return TimeOff.objects.get(handyman=handyman, day=day), False
    return row, True


def time_off_remove(*, handyman: Handyman, day: date, actor: Any) -> bool:
    """Give a day back; returns whether there was one to remove (a repeat is answered as done).
    Past days stay: they are the record of what happened."""
    _check_time_off_actor(handyman, actor)
    if day < timezone.localdate():
        raise ValidationError({"day": "Past days off stay as they were."})
    deleted, _ = TimeOff.objects.filter(handyman=handyman, day=day).delete()
    return bool(deleted)
