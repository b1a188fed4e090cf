"""How the portal writes times and numbers for people and for machines: one place for each.

Every page that shows a time on site goes through `duration_text` (and handyman.js's ticking clock
follows the same rule), so the partner, the handyman and the customer read the same words for the
same job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import dateformat, timezone


def duration_text(value: timedelta | None) -> str:
    """Whole minutes, rounded down (a clock that ticks never runs ahead of the truth):
    "less than a minute", "1 minute", "1 hour 5 minutes", "2 hours"."""
    if value is None:
        return ""
    minutes = max(0, int(value.total_seconds() // 60))
    if minutes == 0:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'' if hours == 1 else 's'}")
    if minutes:
        parts.append(f"{minutes} minute{'' if minutes == 1 else 's'}")
    return " ".join(parts)


@dataclass(frozen=True)
class Arrival:
    """The expected arrival as a page says it: `clock` is "10:40" (with its day, "10:40 on Fri
    4 Dec", when that is not today), `passed` once that moment has gone by, read at `now` (the
    server's: a page left open goes on by it, not by the device's clock, expected_arrival.js)."""

    clock: str
    passed: bool
    now: datetime


def arrival(expected_at: datetime | None, now: datetime | None = None) -> Arrival | None:
    """The arrival time chosen on setting off, read against the clock: past 10:40 a page must
    not go on saying "about 10:40" as if it were still to come (timezone.now, so a pinned clock
    in a test is the page's clock too)."""
    if expected_at is None:
        return None
    now = now or timezone.now()
    local = timezone.localtime(expected_at)
    clock = dateformat.format(local, "H:i")
    if local.date() != timezone.localtime(now).date():
        clock = f"{clock} on {dateformat.format(local, 'D j M')}"
    return Arrival(clock=clock, passed=expected_at <= now, now=now)


def iso_datetime(value: datetime | date | None) -> str:
    """ISO 8601 to the second, with the UTC offset, for `<time datetime>` and data attributes
    (the HTML checker refuses more than three fraction digits; nobody needs any)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()


def tel_href(phone: str | None) -> str:
    """A `tel:` value: "+" and digits only. "+44 (0)20 7946 0000" dials +442079460000."""
    phone = (phone or "").strip()
    if phone.startswith("+"):
        # The "(0)" of international formats is not dialled after the country code.
        phone = phone.replace("(0)", "")
    digits = re.sub(r"\D", "", phone)
    if not digits:
        return ""
    if phone.startswith("+"):
        return f"+{digits}"
    if digits.startswith("00"):
        return f"+{digits[2:]}"
    return digits
