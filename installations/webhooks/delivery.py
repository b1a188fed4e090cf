"""Sending webhooks: address checks, one signed HTTP request, retries, order, pausing.

Safety (issue 14): an endpoint's host is resolved ONCE per attempt and every address it resolves
to must be public (not loopback, private, link-local, CGNAT, multicast, reserved, unspecified or a
cloud metadata address); the request then connects to that checked address, with the Host header
and TLS SNI/certificate check set to the hostname, so DNS cannot answer differently between the
check and the connection. Redirects are never followed (a 3xx is a failure), responses are read
up to RESPONSE_LIMIT bytes, and every socket operation has a timeout. In production only https is
accepted; ``settings.WEBHOOKS_ALLOW_LOOPBACK`` (default: DEBUG) lets tests and development use
http://127.0.0.1.

Pausing: a paused endpoint still gets its deliveries written; they wait, pending and unattempted
(deliver answers "paused", deliver_due skips them), until services.endpoint_resume queues them.
A test event the partner asks for is the exception: it is sent (and retried) all the same. An
attempt reads the pause again once connected, just before it writes the request, so a Pause
clicked while it resolved or connected sends nothing; a request already written cannot be
recalled, and its answer is recorded as usual.

Order: a delivery waits while an earlier one for the same installation and endpoint is pending;
when one finishes (delivered, or given up on) the next in line is queued.

Imports models and the tasks modules only (never services), like notifications' delivery half.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from standardwebhooks import Webhook

from .. import tasks as installation_tasks
from ..models import Message
from . import tasks
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger("installations.webhooks")

TIMEOUT_SECONDS = 5.0  # per socket operation (connect, send, each read)
TOTAL_SECONDS = 10.0  # the whole attempt, however slowly a receiver drips its answer
RESPONSE_LIMIT = 64 * 1024  # bytes of a response body we read at most
EXCERPT_CHARS = 300
# After attempt n fails, attempt n+1 waits RETRY_DELAYS[n-1]: the Standard Webhooks example's
# shape (which ends 10 h, 10 h), the last wait 14 h: 8 attempts over 31.5 hours, so that a
# receiver down for a day still gets it.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
PAUSE_AFTER = timedelta(days=1)  # of nothing but failures
LEASE = timedelta(minutes=2)  # a send in progress; after this a dead worker's row is retried
ROTATION_OVERLAP = timedelta(hours=24)
# How long a paused endpoint's deliveries wait for Resume. Older ones are given up on at Resume
# (failed, with a sentence; Redeliver still sends one) rather than flooding the receiver.
WAIT_LIMIT = timedelta(days=7)

METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """The URL may not be called: the message says why, in words the partner can act on."""


# --- Addresses ----------------------------------------------------------------------------------


def allow_loopback() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK", settings.DEBUG))


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to (mapped, NAT64, 6to4, Teredo): it is that
    address a relay would reach, so it is that one we check."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def address_problem(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why this address may not be called ("" if it may)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            return address_problem(inner)
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "" if allow_loopback() else "a loopback address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "a carrier-grade NAT (shared) address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private network address"
    if not ip.is_global:  # documentation, benchmarking and other special-purpose ranges
        return "a reserved address"
    return ""


# The system resolver has no timeout of its own: a slow DNS server held the endpoint form's
# request (and an attempt's worker) for as long as it liked. The lookup runs in a thread we stop
# waiting for; the thread ends with the resolver's own timeout. A few threads: the waits are on
# the network, and a burst of lookups queues rather than starting a thread each.
LOOKUP_SECONDS = 5.0
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


class LookupTooSlow(OSError):
    pass


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver; tests may replace this)."""
    lookup = _lookups.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=LOOKUP_SECONDS)
    except TimeoutError:
        lookup.cancel()
        raise LookupTooSlow(host) from None
    return list(dict.fromkeys(info[4][0] for info in infos))


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the request connects to


# Whitespace or control characters anywhere in the address: urlsplit silently drops tabs and
# line breaks, and http.client refuses spaces, so such an address would fail at every attempt.
_UNSENDABLE = re.compile(r"[\s\x00-\x1f\x7f]")


def parse_url(url: str) -> tuple[str, str, int, str]:
    """The scheme, host, port and the path to request. The path is sent as a URI: a path or
    query with letters beyond ASCII (`/hooks/café`) is percent-encoded as browsers do, since
    http.client writes the request line in ASCII only."""
    if _UNSENDABLE.search(url.strip()):
        raise AddressRefused(
            "The address has a space, a tab or a line break in it: check what was pasted "
            "(a space in a path is written %20)."
        )
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise AddressRefused("This is not a web address we can call.") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http") or not host:
        raise AddressRefused("Enter a full address starting with https://.")
    if parts.username or parts.password:
        raise AddressRefused("Leave user names and passwords out of the address.")
    path = iri_to_uri((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    return scheme, host, port or (443 if scheme == "https" else 80), path


def check_url(url: str, *, resolver: Callable[[str, int], list[str]] | None = None) -> Target:
    """Resolve and check the URL now; the Target names the address to connect to. Raises
    AddressRefused with the reason. Used when an endpoint is saved and before every attempt."""
    scheme, host, port, path = parse_url(url)
    try:
        addresses = [host] if _is_ip(host) else (resolver or resolve)(host, port)
    except LookupTooSlow:
        raise AddressRefused(
            f"The name {host} could not be looked up within {LOOKUP_SECONDS:g} seconds (its "
            "name server is slow or not answering). Check the address and try again."
        ) from None
    except (OSError, UnicodeError):
        raise AddressRefused(f"The name {host} could not be found.") from None
    if not addresses:
        raise AddressRefused(f"The name {host} could not be found.")
    ips = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    for ip in ips:  # every one: a name with one bad address among good ones is refused
        problem = address_problem(ip)
        if problem:
            raise AddressRefused(
                f"{host} leads to {ip}, {problem}: webhooks are only sent to public addresses."
            )
    if scheme != "https" and not (allow_loopback() and all(ip.is_loopback for ip in ips)):
        raise AddressRefused("The address must start with https:// (plain http is not sent).")
    return Target(scheme, host, port, path, str(ips[0]))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --- Signing ------------------------------------------------------------------------------------


def signature_header(secrets: list[str], msg_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64>` per secret, space-separated (both during a rotation), signed with the
    standardwebhooks library itself so that its verify() is the reference."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return " ".join(Webhook(s).sign(msg_id=msg_id, timestamp=moment, data=body) for s in secrets)


def signed_headers(secrets: list[str], msg_id: str, body: str, timestamp: int) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "InstallationPartnerPortal-Webhooks/1",
    }


# --- One HTTP request ---------------------------------------------------------------------------


@dataclass
class Outcome:
    status_code: int | None = None
    error: str = ""
    excerpt: str = ""
    duration_ms: int = 0
    gone: bool = False  # 410: the receiver asks us to stop
    withheld: bool = False  # connected, but not sent: the endpoint was paused meanwhile

    @property
    def ok(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    # Connect to the address we checked, not to whatever the name resolves to a moment later;
    # http.client still sends Host and (https) SNI and checks the certificate for target.host.
    def pinned(address, timeout=timeout, source_address=None):  # noqa: ANN001
        return socket.create_connection((target.address, address[1]), timeout, source_address)

    conn._create_connection = pinned  # type: ignore[attr-defined]
    return conn


def _read_limited(response: http.client.HTTPResponse, deadline: float) -> bytes:
    chunks, size = [], 0
    while size < RESPONSE_LIMIT and time.monotonic() < deadline:
        chunk = response.read1(min(16384, RESPONSE_LIMIT - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class _Deadline:
    """Cuts the connection when the attempt's TOTAL_SECONDS are up. The socket timeout bounds
    each read, not the attempt: http.client reads the status line and the headers a line at a
    time, so a receiver dripping a header line every few seconds held the worker as long as it
    liked, past the delivery's LEASE, after which deliver_due sends the event a second time."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float) -> None:
        self.fired = False
        self._conn = conn
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def _cut(self) -> None:
        self.fired = True
        sock = self._conn.sock  # during the TLS handshake, the plain socket under it
        if sock is not None:
            with suppress(OSError):
                # The plain socket's shutdown even for TLS: SSLSocket.shutdown also drops its
                # TLS state, which the reading thread is using. The blocked read returns at once.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def post(
    target: Target,
    headers: dict[str, str],
    body: bytes,
    *,
    still_wanted: Callable[[], bool] | None = None,
) -> Outcome:
    """POST once; never follows a redirect, reads at most RESPONSE_LIMIT bytes, gives up after
    TIMEOUT_SECONDS of silence or TOTAL_SECONDS in all. `still_wanted` is asked once connected,
    just before the first byte of the request is written: False sends nothing (``withheld``)."""
    started = time.monotonic()
    deadline = started + TOTAL_SECONDS
    outcome = Outcome()
    conn = _connection(target, TIMEOUT_SECONDS)
    cut = _Deadline(conn, TOTAL_SECONDS)
    try:
        with cut:
            conn.connect()  # connecting (and TLS) can take seconds: ask after it, not before
            if cut.fired:
                raise TimeoutError
            if still_wanted is not None and not still_wanted():
                outcome.withheld = True
                return outcome
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            if cut.fired:  # the cut ends the headers as an empty line would: no answer
                raise TimeoutError
            outcome.status_code = response.status
            try:
                content = _read_limited(response, deadline)
            except (OSError, http.client.HTTPException):
                # The status line is the receiver's answer: a body cut short (by the deadline,
                # or a receiver that closed early) does not make a 200 a failure to resend.
                content = b""
        outcome.excerpt = content[:EXCERPT_CHARS].decode("utf-8", "replace")
        if 300 <= response.status < 400:
            location = (response.getheader("Location") or "")[:200]
            outcome.error = (
                f"Redirect ({response.status}) to {location or 'nowhere'} not followed: "
                "update the endpoint's URL instead."
            )
        elif response.status == 410:
            outcome.gone = True
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        if cut.fired or isinstance(exc, TimeoutError):
            outcome.error = (
                f"No complete answer within {TOTAL_SECONDS:g} seconds (timeout)."
                if cut.fired
                else f"No answer within {TIMEOUT_SECONDS:g} seconds (timeout)."
            )
        elif isinstance(exc, ssl.SSLError):
            outcome.error = f"TLS error: {exc}"[:500]
        else:
            outcome.error = f"Connection failed: {type(exc).__name__}: {exc}"[:500]
    except ValueError as exc:
        # An address http.client cannot write (saved before parse_url refused it): a failure
        # with its reason, never an exception that leaves the delivery leased.
        outcome.error = f"Connection failed: {type(exc).__name__}: {exc}"[:500]
    finally:
        conn.close()
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


# --- Queueing -----------------------------------------------------------------------------------


def enqueue(delivery_id: int, run_after: datetime | None = None) -> None:
    """Hand a delivery to the task queue. Never raises: a row that could not be queued stays
    pending and deliver_due() picks it up."""
    task = tasks.deliver_webhook
    try:
        if run_after is not None:
            if not task.get_backend().supports_defer:
                return
            task = task.using(run_after=run_after)
        task.enqueue(delivery_id)
    except Exception:
        logger.exception("webhook delivery %s could not be queued; it stays pending", delivery_id)


def _waiting_behind(delivery: WebhookDelivery) -> bool:
    if delivery.installation_id is None:
        return False
    return WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        installation_id=delivery.installation_id,
        status=WebhookDelivery.State.PENDING,
        id__lt=delivery.pk,
    ).exists()


def _queue_next_in_line(delivery: WebhookDelivery) -> None:
    if delivery.installation_id is None:
        return
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            installation_id=delivery.installation_id,
            status=WebhookDelivery.State.PENDING,
            id__gt=delivery.pk,
        )
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        transaction.on_commit(partial(enqueue, following))


# --- A delivery ---------------------------------------------------------------------------------


def deliver(delivery_id: int, *, now: datetime | None = None) -> str:
    """Try one delivery once. Returns: delivered, retry, failed, waiting, paused or skipped."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != WebhookDelivery.State.PENDING:
            return "skipped"
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "skipped"  # leased by another worker, or its retry is not due yet
        if delivery.held_by_pause:
            return "paused"  # stays pending; resuming the endpoint queues it again
        if _waiting_behind(delivery):
            return "waiting"  # queued again when the earlier one finishes
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    endpoint, event = delivery.endpoint, delivery.event
    # Outside any transaction: a slow receiver must not hold a lock.
    try:
        target = check_url(endpoint.url)
    except AddressRefused as exc:
        outcome = Outcome(error=f"Not sent: {exc}")
    else:
        # The attempt's own time (the spec's replay protection), whatever clock drives retries.
        stamp = int(time.time())
        secrets = endpoint.signing_secrets(now)
        headers = signed_headers(secrets, event.webhook_id, event.body, stamp)
        outcome = post(
            target, headers, event.body.encode(), still_wanted=partial(_not_paused, delivery)
        )
    if outcome.withheld:
        return _release(delivery)
    return _record(delivery.pk, outcome, now)


def _not_paused(delivery: WebhookDelivery) -> bool:
    """Read again once connected, just before sending: a Pause clicked while this attempt
    resolved the name or connected stops it. A request already written cannot be recalled: an
    attempt that passed this point finishes and is recorded. A test event goes out paused."""
    if delivery.event.is_test:
        return True
    return WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, is_active=True).exists()


def _release(delivery: WebhookDelivery) -> str:
    """Paused between the claim and the send: nothing went out, so the attempt is not counted and
    its lease is given back; the delivery waits, pending, for Resume like the others."""
    WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.State.PENDING, attempts=delivery.attempts
    ).update(attempts=delivery.attempts - 1, next_attempt_at=None)
    logger.info("webhook delivery %s: paused before it was sent", delivery.pk)
    return "paused"


def _record(delivery_id: int, outcome: Outcome, now: datetime) -> str:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("event")
            .get(pk=delivery_id)
        )
        endpoint = (
            WebhookEndpoint.objects.select_for_update(of=("self",))
            .select_related("partner")
            .get(pk=delivery.endpoint_id)
        )
        WebhookAttempt.objects.create(
            delivery=delivery,
            started_at=now,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error[:500],
            response_excerpt=outcome.excerpt[:500],
        )
        if outcome.ok:
            delivery.status = WebhookDelivery.State.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.last_error = ""
            result = "delivered"
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
        else:
            delivery.last_error = (
                outcome.error or f"The receiver answered {outcome.status_code}."
            )[:500]
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = WebhookDelivery.State.FAILED
                delivery.next_attempt_at = None
                result = "failed"
            else:
                delivery.next_attempt_at = now + RETRY_DELAYS[delivery.attempts - 1]
                result = "retry"
            _count_failure(endpoint, outcome, now)
            delivery.endpoint = endpoint
            if result == "retry" and not delivery.held_by_pause:  # it waits for Resume
                transaction.on_commit(
                    partial(enqueue, delivery.pk, run_after=delivery.next_attempt_at)
                )
        delivery.save(
            update_fields=["status", "delivered_at", "next_attempt_at", "last_error", "attempts"]
        )
        if delivery.status != WebhookDelivery.State.PENDING and endpoint.is_active:
            _queue_next_in_line(delivery)
    logger.info("webhook delivery %s: %s (%s)", delivery_id, result, outcome.status_code)
    return result


def _count_failure(endpoint: WebhookEndpoint, outcome: Outcome, now: datetime) -> None:
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
    if not endpoint.is_active:
        return
    if outcome.gone:
        pause(endpoint, now=now, reason="The receiver answered 410 Gone: it asked us to stop.")
    elif now - endpoint.failing_since >= PAUSE_AFTER:
        since = timezone.localtime(endpoint.failing_since).strftime("%Y-%m-%d %H:%M")
        pause(endpoint, now=now, reason=f"Every delivery failed since {since} (a day or more).")


def pause(endpoint: WebhookEndpoint, *, now: datetime, reason: str) -> None:
    """Pause a failing endpoint and tell the partner by email (inside the caller's transaction;
    the mail goes through the outbox like every partner notice)."""
    endpoint.is_active = False
    endpoint.paused_at = now
    endpoint.paused_reason = reason[:300]
    endpoint.save(update_fields=["is_active", "paused_at", "paused_reason"])
    logger.warning("webhook endpoint %s paused: %s", endpoint.pk, reason)
    partner = endpoint.partner
    if not partner.email:
        return
    ctx = {"endpoint": endpoint, "partner": partner, "reason": reason, "wait_days": WAIT_LIMIT.days}
    ctx["settings_url"] = f"{settings.SITE_URL}/installations/settings/"
    subject = render_to_string("notifications/webhook_paused.subject.txt", ctx)
    message = Message.objects.create(
        partner=partner,
        recipient=partner.email,
        channel=Message.Channel.EMAIL,
        template="webhook_paused",
        subject=" ".join(subject.split())[:200],
        body=render_to_string("notifications/webhook_paused.email.txt", ctx).strip(),
        # A notice about the partner's own system: at most one per pause, so no ceiling.
        cause=Message.Cause.TRANSITION,
        created_at=now,
    )
    transaction.on_commit(partial(_enqueue_message, message.pk))


def _enqueue_message(message_id: int) -> None:
    try:
        installation_tasks.deliver_message.enqueue(message_id)
    except Exception:
        logger.exception("message %s could not be queued; it stays pending", message_id)


def deliver_due(*, now: datetime | None = None) -> int:
    """Deliver every pending delivery that is due (retries whose time has come, rows whose queue
    entry was lost, rows a dead worker left leased), oldest first. Returns how many arrived."""
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(status=WebhookDelivery.State.PENDING)
        # Not held by a pause (WebhookDelivery.held_by_pause, as a query).
        .filter(Q(endpoint__is_active=True) | Q(event__type=WebhookEvent.TEST))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("id")
        .values_list("pk", flat=True)
    )
    # Each delivery on the clock as it runs, not the sweep's start: a sweep waits up to
    # TOTAL_SECONDS on each slow receiver, and a stale clock stamped attempts minutes early,
    # shortened their retry delays and handed out leases already over (a second worker could
    # then send the same delivery at once).
    started = timezone.now()
    arrived = 0
    for pk in list(due):
        arrived += deliver(pk, now=now + (timezone.now() - started)) == "delivered"
    return arrived
