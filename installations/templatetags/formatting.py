"""Template filters over installations.formatting: `{% load formatting %}`."""

from __future__ import annotations

from django import template

from .. import formatting

register = template.Library()

register.filter("duration", formatting.duration_text)
register.filter("iso", formatting.iso_datetime)
register.filter("tel", formatting.tel_href)
register.filter("arrival", formatting.arrival)
