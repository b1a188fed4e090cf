"""Logging in: Django's model backend loading the role with the user, and the two rules django-axes
is given about failed attempts (what name it records, and a pause per address across names)."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.views import LoginView
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from .redirects import safe_path

# axes stores the attempted name in a varchar(255): PostgreSQL refuses anything longer (a 500 on
# the login page), SQLite silently keeps it. No real name is that long (ours stop at 150).
ATTEMPTED_NAME_MAX = 255


class PortalBackend(ModelBackend):
    def get_user(self, user_id: Any):
        # One query per request instead of four: the user, its partner membership and partner,
        # and its handyman profile (each page asks for the role; reverse one-to-ones are cached).
        UserModel = get_user_model()  # noqa: N806 (Django's own spelling)
        try:
            user = UserModel._default_manager.select_related(
                "partner_profile__partner", "handyman"
            ).get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class PortalLoginView(LoginView):
    """Django's login page, following `next` only when it is a same-site path: Django's own
    check is a host check and follows `foo` as a relative URL (issue 21)."""

    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        name = self.redirect_field_name
        return safe_path(self.request.POST.get(name, self.request.GET.get(name)), "")


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The name axes records and counts (AXES_USERNAME_CALLABLE): cut to what its column holds,
    so an over-long name is an ordinary failed attempt on every database and every login form."""
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials if credentials else getattr(request, "POST", {})
    name = source.get(field) if source else None
    return name[:ATTEMPTED_NAME_MAX] if isinstance(name, str) else name


class PortalAxesHandler(AxesDatabaseHandler):
    """axes' database handler plus a pause per address across names.

    axes compares every lockout parameter with one limit; a script that rotates names never
    reaches the per-name limit. This adds a second, higher limit on all failures from one
    address within the cool-off, so one office mistyping stays well below it."""

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        # axes answers with its lockout page only when its own count says so; the address
        # limit is ours, so flag the request the same way.
        if (
            request is not None
            and not getattr(request, "axes_locked_out", False)
            and address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT
        ):
            request.axes_locked_out = True
            request.axes_credentials = credentials


def address_failures(request: HttpRequest) -> int:
    address = getattr(request, "axes_ip_address", None)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address)
    cool_off = get_cool_off(request)
    if cool_off is not None:  # None: attempts never expire
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
