"""How the portal writes times and numbers for people and for machines: one place for each.

Every page that shows a time on site goes through `duration_text` (and handyman.js's ticking clock
follows the same rule), so the partner, the handyman and the customer read the same words for the
same job.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from django.utils import timezone


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
