"""Formats that must be valid HTML wherever they appear (the Nu checker's rules)."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def tel_href(phone: str) -> str:
    """A `tel:` URL: a leading + and digits only (spaces, brackets and dashes are not valid)."""
    phone = (phone or "").strip()
    digits = re.sub(r"\D", "", phone)
    return f"tel:{'+' if phone.startswith('+') else ''}{digits}"


@register.filter
def iso_datetime(value: datetime | None) -> str:
    """A `<time datetime>` value to the second (at most three fraction digits are valid; the
    microseconds our timestamps carry are not), with its offset."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0).isoformat()
