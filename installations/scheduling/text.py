"""How a slot and a move are written for people: the timeline, the admin and the messages all
use these, so that they say the same words ("Tue 1 Dec 08:00–10:00")."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.utils import dateformat, timezone

SLOT_FIELDS = ("scheduled_date", "window_start", "window_end")


def day_text(day: date) -> str:
    """ "Tue 1 Dec"."""
    return dateformat.format(day, "D j M")


def long_day_text(day: date) -> str:
    """ "Friday 5 December"; "Monday 4 January 2027" outside this year (a job booked a year ahead
    must not read as one booked next week)."""
    year = "" if day.year == timezone.localdate().year else f" {day.year}"
    return f"{dateformat.format(day, 'l j F')}{year}"


def window_text(start: time, end: time) -> str:
    return f"{start:%H:%M}–{end:%H:%M}"


def jobs_text(jobs: Any) -> str:
    """ "#5 09:00–11:00, #7 13:00–15:00": a day's jobs as the day-off sentences list them."""
    return ", ".join(f"#{job.pk} {window_text(job.window_start, job.window_end)}" for job in jobs)


def slot_text(day: date, start: time, end: time) -> str:
    """ "Tue 1 Dec 08:00–10:00"; "Mon 4 Jan 2027 08:00–10:00" outside this year, so that a
    move by a year (or a mistyped year) does not read as a move of a day or two."""
    year = "" if day.year == timezone.localdate().year else f" {day.year}"
    return f"{day_text(day)}{year} {window_text(start, end)}"


def dated_slot_text(day: date, start: time, end: time) -> str:
    """ "Sat 12 Dec 2026, 09:00–11:00": with its year always, as the list and the dashboard write
    a booking, for a reader who keeps the message (the customer)."""
    return f"{dateformat.format(day, 'D j M Y')}, {window_text(start, end)}"


def slot_values(day: date, start: time, end: time) -> dict[str, str]:
    """A slot as the history stores it: ISO date, "HH:MM" times."""
    return {
        "scheduled_date": day.isoformat(),
        "window_start": start.isoformat(timespec="minutes"),
        "window_end": end.isoformat(timespec="minutes"),
    }


def _slot_from(values: dict[str, Any]) -> str:
    try:
        return slot_text(
            date.fromisoformat(values["scheduled_date"]),
            time.fromisoformat(values["window_start"]),
            time.fromisoformat(values["window_end"]),
        )
    except (KeyError, TypeError, ValueError):
        return "?"


def moved_slots(change: Any) -> tuple[str, str]:
    """The slot before and after a RESCHEDULED history entry. `changes` holds only the fields that
    moved; `arguments` holds the whole new slot, so an unchanged field reads the same both sides."""
    after = dict(change.arguments or {})
    before = dict(after)
    for field, pair in (change.changes or {}).items():
        if field in SLOT_FIELDS and isinstance(pair, list | tuple) and len(pair) == 2:
            before[field], after[field] = pair
    return _slot_from(before), _slot_from(after)


def reschedule_text(change: Any) -> str:
    """ "Rescheduled from Tue 1 Dec 08:00–10:00 to Thu 3 Dec 13:00–15:00"."""
    before, after = moved_slots(change)
    return f"Rescheduled from {before} to {after}"
