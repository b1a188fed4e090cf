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
