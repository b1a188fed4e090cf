"""A history entry's changed fields as people read them: the record page's timeline and the
evidence pack's write them the same way.

`StatusChange.changes` keep what services._plain made: a handyman's id, a moment as str() of
its UTC value, a day as "2026-12-05" and a time as "13:00:00". A reader wants the handyman's
name, the moment in the local zone, and days and times as every other on the page: "Sat 5 Dec
2026" (the installation list's day), "13:00"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import DateField, DateTimeField, TimeField
from django.utils import dateformat, timezone

from .models import Handyman, Installation, StatusChange

HANDYMAN_FIELDS = ("handyman", "handyman_id")


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


def field_label(name: str) -> str:
    try:
        return str(Installation._meta.get_field(name).verbose_name).capitalize()
    except Exception:  # a field since removed: its stored name still says what it was
        return name.replace("_", " ").capitalize()


def handyman_names(changes: Iterable[StatusChange]) -> dict[int, str]:
    """The handymen an override moved a job between: one query for the whole history, none
    when no entry names one."""
    return handymen_named_in(change.changes or {} for change in changes)


def handymen_named_in(changes: Iterable[dict[str, Any]]) -> dict[int, str]:
    """The names of the handymen whose ids `changes` (StatusChange.changes dicts) hold."""
    ids = {
        value
        for fields in changes
        for name, pair in fields.items()
        if name in HANDYMAN_FIELDS and isinstance(pair, list | tuple)
        for value in pair
        if isinstance(value, int)
    }
    if not ids:
        return {}
    found = Handyman.objects.select_related("user").filter(pk__in=ids)
    return {handyman.pk: handyman.display_name for handyman in found}


def shown(name: str, value: Any, handymen: dict[int, str]) -> str:
    """One changed value as a person reads it."""
    if value in (None, ""):
        return "—"
    if name in HANDYMAN_FIELDS and isinstance(value, int):
        return handymen.get(value, f"handyman #{value} (since removed)")
    try:
        model_field = Installation._meta.get_field(name)
    except Exception:  # a field since removed: its stored value still says what it was
        return str(value)
    if not isinstance(value, str):
        return str(value)
    try:
        if isinstance(model_field, DateTimeField):  # before DateField: it is one
            moment = datetime.fromisoformat(value)
            if timezone.is_aware(moment):
                return dateformat.format(timezone.localtime(moment), "j M Y, H:i:s T")
        elif isinstance(model_field, DateField):
            return dateformat.format(date.fromisoformat(value), "D j M Y")
        elif isinstance(model_field, TimeField):
            return f"{time.fromisoformat(value):%H:%M}"
    except ValueError:  # not what _plain writes: shown as it was stored
        pass
    return value


def field_changes(change: StatusChange, handymen: dict[int, str]) -> list[FieldChange]:
    return [
        FieldChange(
            field_label(name), shown(name, pair[0], handymen), shown(name, pair[1], handymen)
        )
        for name, pair in (change.changes or {}).items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]


def changes_text(change: StatusChange, handymen: dict[int, str] | None = None) -> str:
    """The changed fields on one line, in the record page's words: "Window start: 10:00 →
    13:00; Scheduled date: Fri 4 Dec 2026 → Sat 5 Dec 2026" (the admin's history). Without
    `handymen`, the entry's own are looked up: no query unless it names one."""
    if handymen is None:
        handymen = handyman_names([change])
    fields = field_changes(change, handymen)
    return "; ".join(f"{f.label}: {f.old} → {f.new}" for f in fields) or "—"


def record_history(installation: Installation) -> list[StatusChange]:
    """The record page's timeline, oldest first: each entry with `shown_changes`. Reassign
    entries name the handymen through a join, not one query per entry; an override's handymen
    by one query at most."""
    history = list(installation.history.select_related("from_handyman__user", "to_handyman__user"))
    handymen = handyman_names(history)
    for change in history:
        change.shown_changes = field_changes(change, handymen)
    return history
