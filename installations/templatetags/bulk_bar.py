"""The bulk bar's handyman list, written in Python: `{{ bulk_handymen|handyman_select:value }}`,
`bulk_handymen` being (id, name) pairs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.safestring import SafeString

from ..widgets import handyman_select as _handyman_select

register = template.Library()


@register.filter
def handyman_select(handymen: Iterable[tuple[int, str]], value: Any) -> SafeString:
    return _handyman_select(handymen, value, id="bulk-handyman")
