"""A record's URLs for pages that draw many rows: the route is reversed once, then each id is
put in. `{% url %}` walks the resolver on every call: on the list (25 rows, up to three actions
each) it was the largest single cost of a row (docs/profile.md)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()

# A number no record has, matched by `<int:pk>`, cut out of the reversed URL.
_MARK = "7070707070707"

# The actions whose page is not the partner portal's own `partner:<action>`.
ACTION_ROUTES = {"reschedule": "scheduling:reschedule"}


@lru_cache(maxsize=64)
def _halves(name: str, prefix: str, urlconf: Any) -> tuple[str, str]:
    # The script prefix and urlconf are in the key: reverse() depends on both.
    url = reverse(name, args=[int(_MARK)], urlconf=urlconf)
    head, found, tail = url.rpartition(_MARK)
    if not found:
        raise ValueError(f"{name} does not take a record number")
    return head, tail


def record_url(name: str, pk: int) -> str:
    """`reverse(name, args=[pk])` for a route whose one argument is a record number."""
    head, tail = _halves(name, get_script_prefix(), get_urlconf())
    return f"{head}{int(pk)}{tail}"


def action_route(action_name: str) -> str:
    return ACTION_ROUTES.get(action_name, f"partner:{action_name}")


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    # Tests that swap ROOT_URLCONF must not get the old routes.
    if setting == "ROOT_URLCONF":
        _halves.cache_clear()


@register.filter
def url_for(pk: int, name: str) -> str:
    """`{{ inst.pk|url_for:"partner:detail" }}`, as `{% url "partner:detail" inst.pk %}`."""
    return record_url(name, pk)


@register.filter
def action_url(action: Any, pk: int) -> str:
    """`{{ action|action_url:inst.pk }}`: the page of a row action (Assign, Reschedule…)."""
    return record_url(action_route(action.name), pk)
