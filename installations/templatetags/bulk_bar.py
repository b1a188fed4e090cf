"""The bulk bar's handyman list, written in Python: `{{ bulk_handymen|handyman_select:value }}`."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import QuerySet
from django.utils.safestring import SafeString

from ..widgets import handyman_select as _handyman_select

register = template.Library()


@register.filter
def handyman_select(handymen: QuerySet, value: Any) -> SafeString:
    return _handyman_select(handymen, value, id="bulk-handyman")
