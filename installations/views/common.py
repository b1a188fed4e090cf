"""What every role shares: the home page, sending people of another role to their own page, and
the 500 handler."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect

from ..models import handyman_of, is_staff, partner_id_of

# Each role's home page, and who it is for (the sentence a visitor of another role reads).
ROLE_HOMES = {
    "partner:list": "partner offices",
    "handyman:jobs": "handymen",
}


class WrongRole(Http404):
    """Raised by a role's access helper for a signed-in user of another role. On that role's
    home page the visitor is sent to their own (see `wrong_role_response`); on every other page
    it stays the 404 it is, so that no record's existence is ever confirmed."""


def home_url(user: Any) -> str:
    """Where this user works: the partner list, the handyman's jobs, or the admin."""
    if partner_id_of(user) is not None:
        return reverse("partner:list")
    if handyman_of(user) is not None:
        return reverse("handyman:jobs")
    if is_staff(user):
        return reverse("admin:index")
    return reverse("home")


def wrong_role_response(request: HttpRequest, exception: Exception) -> HttpResponse | None:
    """The answer to a WrongRole raised while opening another role's home page: a redirect to
    the visitor's own home with a short message. None for anything else (it stays a 404)."""
    match = getattr(request, "resolver_match", None)
    if (
        not isinstance(exception, WrongRole)
        or request.method != "GET"
        or match is None
        or match.view_name not in ROLE_HOMES
        or not request.user.is_authenticated
    ):
        return None
    target = home_url(request.user)
    if target == request.path:  # never a loop
        return None
    messages.info(
        request, f"That page is for {ROLE_HOMES[match.view_name]}, so here is your own page."
    )
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(target)
    return HttpResponseRedirect(target)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it works in."""
    user = request.user
    if getattr(user, "partner_profile", None) is not None:
        return redirect("partner:list")
    if handyman_of(user) is not None:
        return redirect("handyman:jobs")
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "no_role.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: a database that cannot be reached is a 503 with a friendly page; anything
    else a styled 500. Neither renders with a request context (it may be what failed)."""
    import sys

    from django.db import InterfaceError, OperationalError
    from django.template.loader import render_to_string

    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(render_to_string("500.html"), status=500)
