"""Template helpers that are about rendering itself, not about the portal's words."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def render_template(context: template.Context, name: str) -> SafeString:
    """`{% render_template "x.html" as html %}`: the template rendered once, with this context,
    to be written more than once (the section links are both the wide screen's line and the
    phone's menu: one render instead of two on every partner page)."""
    return context.template.engine.get_template(name).render(context)
