from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from ..models import handyman_of


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
