"""Cross-cutting answers: the Permissions-Policy, Cache-Control and Vary headers, a log-in again
for an htmx request whose session ended, and friendly pages for a refused change that escaped
its view (409) and for a database that cannot be reached (503)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect

from .redirects import safe_path
from .services import TransitionRefused
from .views.common import wrong_role_response

logger = logging.getLogger("installations")

# The camera is allowed only on pages where handymen take photos of the finished work.
CAMERA_PAGES = {("handyman", "complete")}
POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
POLICY_WITH_CAMERA = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"


def _to_login(response: HttpResponse) -> bool:
    return response.status_code == 302 and urlsplit(response.get("Location", "")).path == (
        settings.LOGIN_URL
    )


def _log_in_again(request: HttpRequest) -> HttpResponse:
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    page = safe_path(current.path + (f"?{current.query}" if current.query else ""), "/")
    return HttpResponseClientRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': page})}")


class PortalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Permissions-Policy" not in response:
            match = getattr(request, "resolver_match", None)
            takes_photos = match is not None and (match.namespace, match.url_name) in CAMERA_PAGES
            response["Permissions-Policy"] = POLICY_WITH_CAMERA if takes_photos else POLICY
        # Pages answer htmx with a fragment at their own URL (the list's cards, rows, results):
        # the browser must not show a cached fragment as the page when the user goes Back.
        patch_vary_headers(response, ("HX-Request",))
        # The pages name customers: no browser keeps them. Without no-store, Back after signing
        # out brought the list back whole from the back/forward cache, without asking the server.
        # A view that knows better (a photo, cached privately for an hour) says so itself.
        if "Cache-Control" not in response:
            add_never_cache_headers(response)
        if getattr(request, "htmx", False) and _to_login(response):
            # A session that ended under an htmx button: the browser would follow the redirect
            # and swap the whole login page into the card (or, for a form that swaps nothing,
            # show nothing). The whole window goes to log in, and back to the page it was on.
            return _log_in_again(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if (sent_home := wrong_role_response(request, exception)) is not None:
            return sent_home
        if isinstance(exception, TransitionRefused):
            html = render_to_string("409.html", {"message": exception.message}, request=request)
            return HttpResponse(html, status=409)
        if isinstance(exception, OperationalError | InterfaceError):
            # Broken connections are dropped when the request finishes (Django's
            # close_old_connections with CONN_HEALTH_CHECKS), so the next one reconnects.
            logger.error("Database unavailable: %s", exception)
            # No request context: it would touch the session table, which is what failed.
            response = HttpResponse(render_to_string("503.html"), status=503)
            response["Retry-After"] = "30"
            return response
        return None
