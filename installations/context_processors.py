from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .models import handyman_of


def portal(request: HttpRequest) -> dict:
    # django-htmx's {% htmx_script %} looks for the nonce under this name.
    base = {"csp_nonce": getattr(request, "csp_nonce", "")}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return base

    def partner():
        profile = getattr(user, "partner_profile", None)
        return profile.partner if profile else None

    # Lazy: pages that never show them (the admin) pay no query for them.
    return base | {
        "current_partner": SimpleLazyObject(partner),
        "current_handyman": SimpleLazyObject(lambda: handyman_of(user)),
    }
