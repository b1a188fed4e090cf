"""Text messages through a small backend interface shaped like Django's email backends.

The backend is chosen by ``settings.SMS_BACKEND`` (a dotted path): the console backend by default,
the in-memory one in tests, Twilio in production when its credentials are configured.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, ClassVar, TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "installations.sms.ConsoleBackend"


class SmsError(Exception):
    """The text could not be handed over; the message will be retried."""


class BaseBackend:
    def send(self, *, to: str, body: str) -> str:
        """Send one text; return the provider's id (or "") or raise an exception."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Writes texts to standard output, like Django's console email backend."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, body: str) -> str:
        self.stream.write(f"SMS to {to}\n{body}\n{'-' * 40}\n")
        self.stream.flush()
        return ""


class FileBackend(ConsoleBackend):
    """Appends texts to ``settings.SMS_FILE_PATH`` (``make run`` keeps the console for the URL)."""

    def send(self, *, to: str, body: str) -> str:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as stream:
            return ConsoleBackend(stream).send(to=to, body=body)


class InMemoryBackend(BaseBackend):
    """Keeps texts in ``InMemoryBackend.outbox`` (a class-level list) for tests."""

    outbox: ClassVar[list[dict[str, str]]] = []
    _lock = threading.Lock()

    def send(self, *, to: str, body: str) -> str:
        with self._lock:
            self.outbox.append({"to": to, "body": body})
            return f"mem-{len(self.outbox)}"


class TwilioBackend(BaseBackend):
    """Twilio's REST API through the ``twilio`` package.

    Needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (or
    TWILIO_MESSAGING_SERVICE_SID) in settings.
    """

    def __init__(self) -> None:
        self.account_sid = getattr(settings, "TWILIO_ACCOUNT_SID", "")
        self.auth_token = getattr(settings, "TWILIO_AUTH_TOKEN", "")
        self.from_number = getattr(settings, "TWILIO_FROM_NUMBER", "")
        self.service_sid = getattr(settings, "TWILIO_MESSAGING_SERVICE_SID", "")
        if not (self.account_sid and self.auth_token and (self.from_number or self.service_sid)):
            raise ImproperlyConfigured(
                "The Twilio SMS backend needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_FROM_NUMBER (or TWILIO_MESSAGING_SERVICE_SID)."
            )

    def send(self, *, to: str, body: str) -> str:
        from twilio.base.exceptions import TwilioException
        from twilio.rest import Client

        sender: dict[str, Any] = (
            {"messaging_service_sid": self.service_sid}
            if self.service_sid
            else {"from_": self.from_number}
        )
        # Twilio wants E.164: "+44 7700 900555" → "+447700900555".
        to = "".join(ch for ch in to if ch.isdigit() or ch == "+")
        try:
            message = Client(self.account_sid, self.auth_token).messages.create(
                to=to, body=body, **sender
            )
        except TwilioException as exc:
            raise SmsError(str(exc)) from exc
        return message.sid or ""


def get_backend() -> BaseBackend:
    path = getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND) or DEFAULT_BACKEND
    return import_string(path)()


def send_sms(*, to: str, body: str) -> str:
    return get_backend().send(to=to, body=body)
