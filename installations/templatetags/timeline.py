"""The record page's timeline, written per entry without the template engine's per-value work:
`{{ change.created_at|time_tag }}` converts to local time once for both the `datetime`
attribute and the text, and `{{ change.to_status|status_label }}` is a dict lookup (the model's
`get_…_display` rebuilds the choices dict on every call). 50 entries made these a fifth of the
page (docs/profile.md)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..statuses import Status

register = template.Library()

LABELS: dict[str, str] = dict(Status.choices)


@register.filter
def time_tag(value: datetime | None) -> SafeString | str:
    """`<time datetime="2026-11-23T08:05:00+00:00">23 Nov 2026 08:05</time>`: the text as
    `|date:"j M Y H:i"` writes it, the attribute as `|iso_datetime` (whole seconds)."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = f"{local.day} {MONTHS_3[local.month].title()} {local.year:04d} {local:%H:%M}"
    stamp = local.replace(microsecond=0).isoformat()
    return format_html('<time datetime="{}">{}</time>', stamp, text)


@register.filter
def status_label(value: str) -> str:
    """A status's label, as `get_<field>_display` gives it (an unknown or empty value as is)."""
    return LABELS.get(value, value)
