"""The scheduling rules every write that puts a handyman on a slot obeys: assign, reassign and
reschedule, wherever they come from (list, detail page, board, admin). Called under the job's row
lock by the services; only models and errors below this module, so core services can import it.

- A day the handyman marked off is refused (a ValidationError naming the day).
- Another open job of his that day with an overlapping window is a conflict: raised as
  ScheduleConflict, naming the other jobs, unless the caller confirmed it (`confirm_conflict`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..errors import TransitionRefused
from ..models import Handyman, Installation, can_partner_or_staff
from ..statuses import Status
from .models import TimeOff
from .text import day_text, window_text

# A handyman is busy with a job until he has finished the work; a completed job (contract and
# sign-off follow on paper) or a cancelled or rejected one no longer holds his time.
BUSY_STATUSES = (
    Status.SCHEDULED,
    Status.INSTALLER_ASSIGNED,
    Status.EN_ROUTE,
    Status.INSTALLATION_IN_PROGRESS,
)


# Not once the handyman has set off: from then on the visit is happening.
RESCHEDULABLE = (Status.SCHEDULED, Status.INSTALLER_ASSIGNED)


def local_now() -> datetime:
    """Now, in the portal's time zone (one place for the tests to set the clock)."""
    return timezone.localtime()


def window_over(day: date, window_start: time, window_end: time) -> str:
    """Why a visit cannot be booked or moved into this window ("" if it can): the window has
    already ended today, and the customer would be told of a visit that is over."""
    now = local_now()
    if day == now.date() and window_end <= now.time():
        return (
            f"The {window_start:%H:%M}–{window_end:%H:%M} window has already ended today: "
            "choose a later window or another day."
        )
    return ""


def may_reschedule(installation: Installation, user: Any) -> bool:
    """Whether `user` may move this job now: the one rule pages and the service share."""
    return installation.status in RESCHEDULABLE and can_partner_or_staff(installation, user)


class ScheduleConflict(TransitionRefused):
    """The handyman already has a job in an overlapping window that day. Nothing was changed;
    the same request with ``confirm_conflict=True`` goes ahead. ``conflicts`` are the other jobs
    (customer joined); ``message`` names them."""

    def __init__(
        self,
        message: str,
        *,
        conflicts: Sequence[Installation],
        installation: Installation | None = None,
    ) -> None:
        super().__init__(message, installation=installation)
        self.conflicts = list(conflicts)


def windows_overlap(start: time, end: time, other_start: time, other_end: time) -> bool:
    """Whether two windows of one day overlap: touching windows (08:00–10:00 and 10:00–12:00)
    do not. The one copy of the rule, for jobs booked and for rows of an import alike."""
    return start < other_end and other_start < end


def busy_jobs(handyman_ids: Iterable[int], days: Iterable[date]) -> list[Installation]:
    """The open jobs of these handymen on these days (customer joined), in window order: one
    query, so that an import checks all its rows with it."""
    return list(
        Installation.objects.filter(
            handyman_id__in=list(handyman_ids),
            scheduled_date__in=list(days),
            status__in=BUSY_STATUSES,
        )
        .select_related("customer")
        .order_by("window_start", "id")
    )


def overlapping(
    jobs: Iterable[Installation],
    handyman_id: int,
    day: date,
    window_start: time,
    window_end: time,
    exclude_pk: int | None = None,
) -> list[Installation]:
    """Those of `jobs` (as busy_jobs reads them) that are this handyman's on `day` and overlap
    [start, end): his conflicts."""
    return [
        job
        for job in jobs
        if job.handyman_id == handyman_id
        and job.scheduled_date == day
        and job.pk != exclude_pk
        and windows_overlap(window_start, window_end, job.window_start, job.window_end)
    ]


def find_conflicts(
    handyman: Handyman | int,
    day: date,
    window_start: time,
    window_end: time,
    exclude_pk: int | None = None,
) -> list[Installation]:
    """The handyman's open jobs on `day` whose window overlaps [start, end). One query."""
    handyman_id = handyman if isinstance(handyman, int) else handyman.pk
    jobs = busy_jobs([handyman_id], [day])
    return overlapping(jobs, handyman_id, day, window_start, window_end, exclude_pk)


def conflict_message(handyman: Handyman, conflicts: Sequence[Installation], partner_id: int) -> str:
    """ "Hank Hill already has #12 Alice Moreau 09:00–11:00 that day." A job of another partner
    the handyman also works for is told as a booking elsewhere, with its window only: its
    number and customer are that partner's data, and this message is shown to this one."""
    jobs = [
        f"#{job.pk} {job.customer.name} {window_text(job.window_start, job.window_end)}"
        if job.partner_id == partner_id
        else f"a booking elsewhere {window_text(job.window_start, job.window_end)}"
        for job in conflicts
    ]
    listed = jobs[0] if len(jobs) == 1 else f"{', '.join(jobs[:-1])} and {jobs[-1]}"
    return f"{handyman.display_name} already has {listed} that day."


def is_day_off(handyman: Handyman | int, day: date) -> bool:
    handyman_id = handyman if isinstance(handyman, int) else handyman.pk
    return TimeOff.objects.filter(handyman_id=handyman_id, day=day).exists()


def day_off_message(handyman: Handyman, day: date) -> str:
    return (
        f"{handyman.display_name} is off on {day_text(day)} {day.year}: "
        "choose another day or another handyman."
    )


def check_slot(
    installation: Installation,
    handyman: Handyman,
    *,
    day: date,
    window_start: time,
    window_end: time,
    confirm_conflict: bool,
    field: str,
) -> None:
    """Refuse a day off (ValidationError on `field`), then raise ScheduleConflict for overlapping
    jobs unless confirmed. Call under the installation's row lock."""
    if is_day_off(handyman, day):
        raise ValidationError({field: day_off_message(handyman, day)})
    if confirm_conflict:
        return
    # The job's own row lock does not stop another job being moved onto the same slot at the
    # same moment: lock the handyman's row too (always after the job's, so no deadlock), and
    # the second of two racing moves sees the first one's job.
    Handyman.objects.select_for_update().filter(pk=handyman.pk).values_list("pk").first()
    conflicts = find_conflicts(handyman, day, window_start, window_end, exclude_pk=installation.pk)
    if conflicts:
        raise ScheduleConflict(
            conflict_message(handyman, conflicts, installation.partner_id),
            conflicts=conflicts,
            installation=installation,
        )


def check_handyman_for_job(
    installation: Installation, handyman: Handyman, *, confirm_conflict: bool
) -> None:
    """Assign and reassign: the job's own day and window, for the handyman chosen."""
    check_slot(
        installation,
        handyman,
        day=installation.scheduled_date,
        window_start=installation.window_start,
        window_end=installation.window_end,
        confirm_conflict=confirm_conflict,
        field="handyman",
    )


__all__ = [
    "BUSY_STATUSES",
    "RESCHEDULABLE",
    "may_reschedule",
    "ScheduleConflict",
    "check_handyman_for_job",
    "busy_jobs",
    "check_slot",
    "conflict_message",
    "day_off_message",
    "find_conflicts",
    "is_day_off",
    "overlapping",
    "windows_overlap",
]
