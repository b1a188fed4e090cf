"""A real HTTP receiver on loopback that records every request, and endpoints pointing at it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from installations.webhooks.models import WebhookEndpoint
from installations.webhooks.services import endpoint_create


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


Behaviour = Callable[[BaseHTTPRequestHandler], None]


def answer(status: int, body: bytes = b"ok", headers: dict[str, str] | None = None) -> Behaviour:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


def sleep_then_answer(seconds: float) -> Behaviour:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        with suppress(OSError):  # the sender gave up waiting: that is the point
            answer(200)(handler)

    return respond


def endless_body(handler: BaseHTTPRequestHandler) -> None:
    """200 with a body that never ends (no length, no chunking: read until close)."""
    handler.send_response(200)
    handler.end_headers()
    chunk = b"x" * 65536
    try:
        for _ in range(10_000):  # 655 MB at most: far more than anyone should read
            handler.wfile.write(chunk)
    except OSError:
        pass
    handler.close_connection = True


@dataclass
class Receiver:
    url: str
    port: int
    requests: list[Received] = field(default_factory=list)
    # One behaviour per request, in order; when they run out, 200.
    script: list[Behaviour] = field(default_factory=list)

    def then(self, *behaviours: Behaviour) -> Receiver:
        self.script.extend(behaviours)
        return self


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        receiver: Receiver = self.server.receiver  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        receiver.requests.append(
            Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        behaviour = receiver.script.pop(0) if receiver.script else answer(200)
        behaviour(self)

    def do_GET(self) -> None:  # noqa: N802
        answer(405)(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 in a thread, for the length of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    server.receiver = Receiver(f"http://127.0.0.1:{port}/hooks", port)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.receiver  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def second_receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture(autouse=True)
def _tasks_by_hand(settings) -> None:
    # Deliveries are driven by the tests (deliver / deliver_due), with their own clock.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.WEBHOOKS_ALLOW_LOOPBACK = True


ALL_EVENTS = [choice.value for choice in WebhookEndpoint.EventType]


def add_endpoint(partner, url: str, **extra) -> WebhookEndpoint:
    values = {"event_types": ALL_EVENTS, "statuses": []}
    values.update(extra)
    return endpoint_create(partner=partner, url=url, **values)
