from django.http import HttpRequest

from .models import handyman_of


def portal(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    profile = getattr(user, "partner_profile", None)
    return {
        "current_partner": profile.partner if profile else None,
        "current_handyman": handyman_of(user),
    }
