"""Formats that must be valid HTML wherever they appear (the Nu checker's rules)."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils import dateformat, timezone

register = template.Library()


@register.filter
def tel_href(phone: str) -> str:
    """A `tel:` URL: a leading + and digits only (spaces, brackets and dashes are not valid)."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone)
    return f"tel:{'+' if phone.startswith('+') else ''}{digits}"


@register.filter
def zoned(value: datetime | None, fmt: str = "j M Y, H:i:s") -> str:
    """The moment in the local zone, formatted, then its zone's name ("GMT", "BST"). Django's
    `date` filter leaves its `T` empty for a moment of the hour the clocks go back, which is
    exactly when the name is what tells the first 01:30 from the second."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{dateformat.format(local, fmt)} {local.tzname()}"


@register.filter
def iso_datetime(value: datetime | None) -> str:
    """A `<time datetime>` value to the second (at most three fraction digits are valid; the
    microseconds our timestamps carry are not), with its offset."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0).isoformat()
