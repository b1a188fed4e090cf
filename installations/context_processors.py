from django.http import HttpRequest

from .models import handyman_of


def portal(request: HttpRequest) -> dict:
    # django-htmx's {% htmx_script %} looks for the nonce under this name.
    base = {"csp_nonce": getattr(request, "csp_nonce", "")}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return base
    profile = getattr(user, "partner_profile", None)
    return base | {
        "current_partner": profile.partner if profile else None,
        "current_handyman": handyman_of(user),
    }
