"""Production hardening, login throttling and friendly error pages."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection
from django.test import RequestFactory

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "SITE_URL": "https://portal.example.com",
}


def _production(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)
    env.update(PRODUCTION_ENV)
    env.update(extra or {})
    return env


def test_the_deploy_checks_pass_with_debug_off():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_checks_ask_for_site_url_when_it_is_left_at_the_default():
    env = _production()
    env.pop("SITE_URL")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "installations.W001" in result.stderr + result.stdout
    assert "SITE_URL is not set" in result.stderr + result.stdout


HEADERS_PROBE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
c = Client(HTTP_HOST="portal.example.com")
plain = c.get("/accounts/login/")
secure = c.get("/accounts/login/", secure=True)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "status": secure.status_code,
    "headers": dict(secure.headers),
    "cookies": {k: {"secure": v["secure"], "httponly": v["httponly"]}
                for k, v in secure.cookies.items()},
}))
"""


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> str:
    # Production serves hashed static files from a manifest: build one, as a deploy would.
    root = str(tmp_path_factory.mktemp("static"))
    env = _production({"DJANGO_STATIC_ROOT": root})
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return root


def _probe(static_root: str, extra: dict[str, str] | None = None) -> dict:
    env = _production({"DJANGO_STATIC_ROOT": static_root, **(extra or {})})
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    out = subprocess.run(
        [sys.executable, "-c", HEADERS_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_responses_carry_the_security_headers(static_root):
    result = _probe(static_root)
    assert result["plain_status"] == 301
    assert result["plain_location"] == "https://portal.example.com/accounts/login/"
    assert result["status"] == 200
    headers = result["headers"]
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'nonce-" in script_src
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "camera=()" in headers["Permissions-Policy"]
    assert result["cookies"]["csrftoken"] == {"secure": True, "httponly": True}


def test_the_ssl_redirect_can_be_switched_off_behind_a_tls_proxy(static_root):
    result = _probe(
        static_root, {"DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_BEHIND_TLS_PROXY": "1"}
    )
    assert result["plain_status"] == 200


def test_the_camera_is_allowed_only_where_photos_are_taken(client, cast):
    from installations.middleware import POLICY, POLICY_WITH_CAMERA

    job = cast.installation("INSTALLATION_IN_PROGRESS")
    client.force_login(cast.handyman.user)
    checklist = client.get(f"/handyman/{job.pk}/complete/")
    assert checklist.status_code == 200
    assert checklist["Permissions-Policy"] == POLICY_WITH_CAMERA
    assert client.get("/handyman/")["Permissions-Policy"] == POLICY
    assert "camera=()" in POLICY and "camera=(self)" in POLICY_WITH_CAMERA


def test_pages_that_name_customers_are_kept_by_no_browser_cache(client, cast):
    # Without no-store, Back after signing out showed the list from the back/forward cache.
    job = cast.installation("INSTALLATION_IN_PROGRESS")
    client.force_login(cast.partner_user)
    pages = [
        client.get("/installations/"),
        client.get("/installations/?page=1", headers={"HX-Request": "true"}),
        client.get(f"/installations/{job.pk}/"),
    ]
    client.force_login(cast.handyman.user)
    pages.append(client.get("/handyman/"))
    for response in pages:
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], response["Cache-Control"]
        assert "private" in response["Cache-Control"], response["Cache-Control"]


# --- Login throttling --------------------------------------------------------------------------


def test_five_failed_logins_lock_the_username_from_that_address(client, cast, settings):
    settings.AXES_ENABLED = True
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "acme", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "acme", "password": "test-pass-123"})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another username from the same address is not locked.
    response = client.post("/accounts/login/", {"username": "beta", "password": "test-pass-123"})
    assert response.status_code == 302


# --- Error pages ---------------------------------------------------------------------------------


def test_an_unknown_page_is_a_styled_404_that_leaks_nothing(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body and "Traceback" not in body and "urlpatterns" not in body


def test_a_crash_is_a_styled_500_that_leaks_nothing():
    from installations.views.common import server_error

    try:
        raise ValueError("secret internals: SELECT * FROM auth_user")
    except ValueError:
        response = server_error(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in body and "SELECT" not in body and "secret" not in body


def test_a_database_error_answers_a_503_page_with_retry_after_that_leaks_nothing(
    client, cast, monkeypatch
):
    client.force_login(cast.partner_user)

    def unreachable(self):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(SessionStore, "load", unreachable)
    response = client.get("/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "cannot reach its database" in body and "Connection refused" not in body
    assert response["Retry-After"] == "30"


def _serve_like_gunicorn(path: str, cookies: str) -> str:
    """One request through Django's real WSGI handler, as a WSGI server runs it: request_started
    and request_finished fire with close_old_connections (the test client leaves it out, so a
    connection broken under it stays broken)."""
    environ = RequestFactory()._base_environ(PATH_INFO=path, HTTP_COOKIE=cookies)
    statuses: list[str] = []
    body = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        b"".join(body)
    finally:
        body.close()
    return statuses[0]


def _terminate(pid: int) -> None:
    """End a backend from a second connection, as a restart or a failover would."""
    killer = connection.get_new_connection(connection.get_connection_params())
    try:
        killer.autocommit = True
        killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            gone = killer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if gone.fetchone() is None:
                return
            time.sleep(0.05)
        raise AssertionError(f"backend {pid} is still there")
    finally:
        killer.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_database_connection_answers_503_and_the_next_request_reconnects(client, cast):
    assert connection.settings_dict["CONN_MAX_AGE"] > 0  # connections outlive a request
    client.force_login(cast.partner_user)
    assert client.get("/").status_code == 302
    pid = connection.connection.info.backend_pid

    _terminate(pid)
    # The request whose connection died: the friendly 503, not a crash.
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"

    # The next request, served as the server serves it, drops the dead connection and opens a
    # new one; requests after it work again.
    cookies = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    assert _serve_like_gunicorn("/", cookies) == "302 Found"
    assert connection.connection.info.backend_pid != pid
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("status", [400, 403, 404, 409, 500, 503])
def test_every_error_page_renders_without_a_request(status):
    from django.template.loader import render_to_string

    html = render_to_string(f"{status}.html")
    assert "<h1>" in html and "Skip to main content" in html


def test_a_form_sent_without_its_csrf_cookie_gets_a_page_that_says_what_to_do(cast, settings):
    from django.test import Client

    from installations.customer_links import make_token
    from installations.models import Installation
    from installations.statuses import Status

    settings.DEBUG = False  # the page production shows (with DEBUG, Django's technical one)
    inst = cast.installation(Status.CONTRACT_SENT)
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/c/{make_token(inst)}/sign/", {"name": "Carol"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is out of date" in page and "Nothing was changed." in page
    assert "Go back, reload the page and try again." in page
    assert Installation.objects.get(pk=inst.pk).status == Status.CONTRACT_SENT
