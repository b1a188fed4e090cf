"""The shipped production profile: gunicorn with portal/gunicorn.conf.py, DEBUG off, whitenoise."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import pytest

from .production_server import Server, production_server


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("deploy")
    with production_server(workdir, f"sqlite:///{workdir / 'deploy.sqlite3'}") as running:
        yield running


def _get(port: int, path: str, timeout: float) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_ten_idle_connections_do_not_starve_the_shipped_gunicorn_profile(server):
    idle: list[socket.socket] = []
    try:
        # Ten clients connect and say nothing, as a stalled phone or slowloris would.
        for _ in range(10):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(0.5)  # let the workers accept them
        started = time.monotonic()
        answer = _get(server.port, "/accounts/login/", timeout=10)
        elapsed = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert elapsed < 2, f"a normal request waited {elapsed:.1f} s behind idle connections"
    finally:
        for sock in idle:
            sock.close()


def test_favicon_ico_answers_at_the_site_root(server):
    answer = _get(server.port, "/favicon.ico", timeout=10)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert re.search(rb"Content-Type: image/(x-icon|vnd\.microsoft\.icon)", head), head
    assert body.startswith(b"\x00\x00\x01\x00")  # an ICO file


def test_the_pages_link_an_icon_that_is_served(server):
    page = _get(server.port, "/accounts/login/", timeout=10).decode()
    match = re.search(r'<link rel="icon" href="([^"]+)"', page)
    assert match, "no icon linked from the base template"
    assert _get(server.port, match.group(1), timeout=10).startswith(b"HTTP/1.1 200")
