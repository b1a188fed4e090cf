"""The scheduling room's words for templates: `{{ change|reschedule_text }}`."""

from django import template

from ..scheduling import text

register = template.Library()


@register.filter
def reschedule_text(change) -> str:
    """ "Rescheduled from Tue 1 Dec 08:00–10:00 to Thu 3 Dec 13:00–15:00"."""
    return text.reschedule_text(change)
