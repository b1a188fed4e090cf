"""The one way back: every `next` / "back to" value a person (or a scanner) can send.

`url_has_allowed_host_and_scheme` is a host check, not a "this is a path" check: it accepts
`foo`, which `redirect()` then treats as a URL pattern name (NoReverseMatch, a 500 after the
change was made). Only a same-site path is followed, and always through HttpResponseRedirect.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps

from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

# One leading slash, then no second slash or backslash (`//host`, `/\host` are other hosts to a
# browser), and nothing a header or a browser would read as control: no ASCII control characters,
# no whitespace, no backslash anywhere.
_SAFE_PATH = re.compile(r"^/(?![/\\])[^\x00-\x20\x7f\\]*$")
MAX_LENGTH = 2000


def safe_path(value: object, default: str) -> str:
    """`value` if it is a same-site path, else `default`."""
    if isinstance(value, str) and len(value) <= MAX_LENGTH and _SAFE_PATH.match(value):
        return value
    return default


def redirect_back(value: object, default: str) -> HttpResponseRedirect:
    """A redirect to `value` if it is a same-site path, else to `default` (a path we built)."""
    return HttpResponseRedirect(safe_path(value, default))


def post_only(back: str, *kept: str) -> Callable[[Callable], Callable]:
    """`require_POST`, except that a GET of the address goes back to the page its form is on
    (URL name `back`, with the view's arguments named in `kept`): a form that answers with a
    page at its own address (errors, a 409, a secret shown once) leaves that address in the
    history and the address bar, and reopening it showed the browser's bare 405 page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method in ("GET", "HEAD"):
                return HttpResponseRedirect(reverse(back, kwargs={k: kwargs[k] for k in kept}))
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
