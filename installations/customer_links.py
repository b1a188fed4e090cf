"""The customer's signed link: a token bound to one installation and its current link nonce.

The token is signed with the project's secret (django.core.signing, timestamped) and lasts
30 days. Issuing a new link rotates ``Installation.link_nonce``, so that older links stop working.

The link's rate limits live here too: links that do not work, counted per client address, and
a valid link's own POSTs and record downloads, counted per link (installation), so that a
script is slowed and a real customer (reloads, a double tap, a second tab) never is.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from .models import Installation
from .ratelimit.services import Refused, client_address, limit, ratelimit_hit

SALT = "installations.customer-link"
MAX_AGE = timedelta(days=30)


class LinkError(Exception):
    """The link cannot be used. ``reason`` is one of: invalid, expired, replaced.

    ``installation`` is set only when the token's signature is genuine, so that the page may name
    the partner; a forged token never reveals anything."""

    def __init__(self, reason: str, installation: Installation | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.installation = installation


def make_token(installation: Installation) -> str:
    if not installation.link_nonce:
        raise ValueError("This installation has no customer link yet (no contract was sent).")
    return signing.dumps({"i": installation.pk, "n": installation.link_nonce}, salt=SALT)


def customer_url(installation: Installation) -> str:
    """The absolute link the customer receives."""
    path = reverse("customer:page", args=[make_token(installation)])
    return f"{settings.SITE_URL}{path}"


def _installation(payload: object) -> tuple[Installation | None, str]:
    if not isinstance(payload, dict):
        return None, ""
    pk, nonce = payload.get("i"), payload.get("n")
    if not isinstance(pk, int) or not isinstance(nonce, str) or not nonce:
        return None, ""
    installation = (
        Installation.objects.select_related("partner", "customer", "handyman__user")
        .filter(pk=pk)
        .first()
    )
    return installation, nonce


def read_token(token: str, *, max_age: timedelta | int | None = MAX_AGE) -> Installation:
    """Return the installation a valid, current token is for, or raise LinkError."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        # Genuinely ours but too old: read it again without the age check only to name the
        # partner on the "expired" page.
        try:
            payload = signing.loads(token, salt=SALT)
        except signing.BadSignature:
            raise LinkError("invalid") from None
        installation, _ = _installation(payload)
        raise LinkError("expired", installation) from None
    except signing.BadSignature:
        raise LinkError("invalid") from None
    installation, nonce = _installation(payload)
    if installation is None:
        raise LinkError("invalid")
    if not installation.link_nonce or not constant_time_compare(nonce, installation.link_nonce):
        raise LinkError("replaced", installation)
    return installation


# A customer link as a message's text carries it: the token between "/c/" and the next "/".
LINK_IN_TEXT = re.compile(r"/c/([\w.:-]+)/")


def carries_replaced_link(text: str, installation: Installation) -> bool:
    """Whether `text` (a message's body) carries a link of this installation that a newer link
    has replaced since: sent again, it would reach the customer dead."""
    for token in LINK_IN_TEXT.findall(text):
        try:
            payload = signing.loads(token, salt=SALT)  # its age is not the question here
        except signing.BadSignature:
            continue
        if not isinstance(payload, dict) or payload.get("i") != installation.pk:
            continue
        if not constant_time_compare(str(payload.get("n")), installation.link_nonce or ""):
            return True
    return False


def bad_link_counted(request: HttpRequest) -> Refused | None:
    """Count a link that did not work (forged, expired, replaced) against the client's address.
    A real customer opens a dead link a few times; a prober opens many."""
    return ratelimit_hit(limit=limit("customer-bad-link"), subject=client_address(request))


def link_post_counted(installation: Installation) -> Refused | None:
    """Count a sign or approve POST against the link (its installation, across re-sent links)."""
    return ratelimit_hit(limit=limit("customer-post"), subject=str(installation.pk))


def record_download_counted(installation: Installation) -> Refused | None:
    """Count a download of the customer's record against the link, per day: each one renders
    a PDF (seconds of CPU) and keeps its file."""
    return ratelimit_hit(limit=limit("customer-record"), subject=str(installation.pk))
