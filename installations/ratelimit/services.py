"""Rate limits in fixed windows, counted in the database.

Why the database and not Django's cache: the portal configures no cache, so Django's is the
per-process local-memory one. With the shipped gunicorn profile (2 workers, more on several app
servers) each process would keep its own count, a limit of N would really be N per process, and a
restart would forget it. The database is the one thing every process shares (as login
throttling's counts in django-axes' table are). One row per key and window, incremented by a
single UPDATE under its row lock, so racing requests count one after the other on PostgreSQL
and SQLite alike; a request that finds the window already full is refused by one read and
writes nothing.
"""

from __future__ import annotations

import enum
import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from .models import RateCount

# Windows are aligned on this instant: a day-long window runs from midnight UTC.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Limit:
    name: str
    count: int  # requests allowed in a window; the next one is refused
    window: timedelta


@dataclass(frozen=True)
class Refused:
    """The window is full until `retry_after` seconds from now."""

    retry_after: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


class Subject(enum.Enum):
    """What a limit counts per: the second half of its keys."""

    ADDRESS = "address"  # client_address: an IPv4 address or an IPv6 /64
    EMAIL = "email"  # as typed into "Forgot your password?", lower-cased
    INSTALLATION = "installation"  # the customer's link, by the installation it belongs to
    USER = "user"  # a signed-in account, by its id


@dataclass(frozen=True)
class Kind:
    """One of the portal's limits, in words, with the settings it reads. The settings are read
    each time (`limit()`), so that a changed setting is the limit at once, here and on the
    staff's blocks page, which needs each counter's limit to tell a block from a count."""

    name: str  # the keys' prefix
    counts: str  # what is counted, as staff read it
    subject: Subject
    count_setting: str
    window: Callable[[], timedelta]

    def limit(self) -> Limit:
        return Limit(self.name, getattr(settings, self.count_setting), self.window())


def _minutes(setting: str) -> Callable[[], timedelta]:
    return lambda: timedelta(minutes=max(1, getattr(settings, setting)))


# Every limit the portal counts: its key's prefix names it here, so that staff see a counter
# described in words (ratelimit/blocks.py) rather than a key to decipher.
LIMITS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "customer-bad-link",
            "Customer links that did not work",
            Subject.ADDRESS,
            "CUSTOMER_LINK_BAD_LIMIT",
            _minutes("CUSTOMER_LINK_WINDOW_MINUTES"),
        ),
        Kind(
            "customer-post",
            "Signing and approving through the customer's link",
            Subject.INSTALLATION,
            "CUSTOMER_LINK_POST_LIMIT",
            _minutes("CUSTOMER_LINK_WINDOW_MINUTES"),
        ),
        Kind(
            "customer-record",
            "Downloads of the customer's record",
            Subject.INSTALLATION,
            "CUSTOMER_RECORD_DAILY_LIMIT",
            lambda: timedelta(days=1),
        ),
        Kind(
            "reset-address",
            "Password-reset requests",
            Subject.ADDRESS,
            "PASSWORD_RESET_ADDRESS_LIMIT",
            _minutes("PASSWORD_RESET_WINDOW_MINUTES"),
        ),
        Kind(
            "reset-email",
            "Password-reset requests",
            Subject.EMAIL,
            "PASSWORD_RESET_EMAIL_LIMIT",
            _minutes("PASSWORD_RESET_WINDOW_MINUTES"),
        ),
        Kind(
            "password-change",
            "Attempts at changing the password",
            Subject.USER,
            "PASSWORD_CHANGE_LIMIT",
            _minutes("PASSWORD_RESET_WINDOW_MINUTES"),
        ),
    )
}


def limit(name: str) -> Limit:
    """The limit of that name as the settings now say (a KeyError for a name not in LIMITS)."""
    return LIMITS[name].limit()


def key_for(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject}"[:100]


def _now() -> datetime:
    return timezone.now()


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the one every limit counts (login throttling reads it through
    AXES_CLIENT_IP_CALLABLE, the customer's link and password resets through client_address).

    With TRUSTED_PROXY_COUNT = 0 (no proxy in front) it is REMOTE_ADDR, and X-Forwarded-For is
    ignored: it is whatever the client chose to send. With N proxies in front, each appends the
    address it was reached from, so the client is the N-th address from the right; anything
    further left was written by the client and is ignored. A header with fewer addresses than
    that (the request did not come through the proxies) or not an address there: REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


def client_address(request: HttpRequest) -> str:
    """The client's address as a limit counts it (client_ip). An IPv6 client is its /64: one
    home or phone is given a whole /64 and can change addresses within it at will."""
    return counted_address(client_ip(request) or "")


def counted_address(address: str) -> str:
    """An address as the limits count it (client_address); staff's search of the blocks page
    finds a client's block by the address they were given."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:45] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def ratelimit_hit(*, limit: Limit, subject: str) -> Refused | None:
    """Count one request of `subject` against `limit`: None if it may go on, or how long until
    the window ends if the window is full. Refused requests are not counted, so a client that
    keeps trying is let in again as soon as the window ends."""
    now = _now()
    seconds = int(limit.window.total_seconds())
    start = EPOCH + timedelta(seconds=(now - EPOCH).total_seconds() // seconds * seconds)
    ends_at = start + limit.window
    refused = Refused(retry_after=max(1, math.ceil((ends_at - now).total_seconds())))
    key = key_for(limit, subject)
    rows = RateCount.objects.filter(key=key, window_start=start)
    # A full window is refused by this read alone: a flood past the limit writes nothing.
    seen = rows.values_list("count", flat=True).first()
    if seen is not None and seen >= limit.count:
        return refused
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateCount.objects.create(key=key, window_start=start, ends_at=ends_at, count=1)
            except IntegrityError:  # a racing request wrote the window's row first
                rows.update(count=F("count") + 1)
            else:
                # A new row is the moment to sweep the windows that have ended (indexed).
                RateCount.objects.filter(ends_at__lte=now).delete()
        # Read under the row lock our UPDATE holds: no racing request counts in between.
        count = rows.values_list("count", flat=True).get()
    return refused if count > limit.count else None
