"""Start the portal as production runs it: DEBUG off, gunicorn with the shipped config, static
files collected into a fresh STATIC_ROOT and served by whitenoise, media through the media view.

Shared by the browser tests (tests/browser/conftest.py) and the deployment test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN_CONFIG = ROOT / "portal" / "gunicorn.conf.py"
SECRET_KEY = "production-server-for-tests-only-not-a-real-secret-0123456789"


@dataclass
class Server:
    url: str
    port: int
    log: Path
    media_root: Path
    static_root: Path

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(workdir: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production deployment on loopback (plain HTTP, no TLS proxy)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Loopback has no TLS: do not bounce every request to https://.
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "DJANGO_STATIC_ROOT": str(workdir / "static"),
            "DJANGO_MEDIA_ROOT": str(workdir / "media"),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "SMS_BACKEND": "installations.sms.InMemoryBackend",
            # The tests' webhook receiver is on loopback too (plain http on 127.0.0.1).
            "WEBHOOKS_ALLOW_LOOPBACK": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def collectstatic(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def _wait_until_up(server: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")


@contextmanager
def production_server(
    workdir: Path, database_url: str, *gunicorn_args: str, **extra_env: str
) -> Iterator[Server]:
    """gunicorn with the shipped config on 127.0.0.1; stopped (and waited for) on exit."""
    env = production_env(workdir, database_url, **extra_env)
    collectstatic(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = workdir / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                str(GUNICORN_CONFIG),
                "--bind",
                f"127.0.0.1:{port}",
                *gunicorn_args,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(server, url, log, timeout=90)
        yield Server(
            url=url,
            port=port,
            log=log,
            media_root=Path(env["DJANGO_MEDIA_ROOT"]),
            static_root=Path(env["DJANGO_STATIC_ROOT"]),
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
