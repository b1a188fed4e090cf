"""Browser tests: Playwright driving Debian's chromium against the portal as production runs it.

The fixture API (stable: every browser test file relies on it)
---------------------------------------------------------------
- ``base_url`` (session): the URL of a real production server, started once per run: gunicorn
  with the shipped ``portal/gunicorn.conf.py``, ``DJANGO_DEBUG=0``, static files collected into
  a fresh STATIC_ROOT and served by whitenoise, uploads through the media view.
  ``live_server`` is the same server (``live_server.url``) for tests written the pytest-django way.
- ``browser``: Chromium. ``browser.new_context(...)`` opens a context on ``base_url`` (unless
  given another) with the page guard attached; contexts still open at the end are closed.
- ``page``: a desktop page (1280×900). ``phone_page``: a phone (390×844, touch, mobile).
- ``log_in(page, username, password=...)`` and ``draw_signature(page)``: plain helpers to import.
- The page guard (``page_guard``, on for every browser test without asking): the test fails on
  any uncaught page error, any console error (CSP violations are console errors) and any failed
  request for the site's own static files or media (status >= 400 or a failed load). A test that
  provokes an error on purpose declares it, by a substring of the guard's report:
  ``@pytest.mark.allow_page_errors("409")``; a declared error that never happens fails too.
- The database: the test process and the server share one SQLite file; every browser test runs
  with ``transactional_db``, so the rows it writes are committed and visible to gunicorn, and
  the tables are emptied after it. Uploads written by the test land in the server's MEDIA_ROOT.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from installations.sms import InMemoryBackend

from ..production_server import Server, production_server

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
# are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DEFAULT_TIMEOUT_MS = 15_000  # a shared CI machine under load is slow, not wrong
BLOCKING_TYPES = {"stylesheet", "script"}


class OnceHashedPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """The production hasher, with each password hashed once per run (one fixed salt): the cast
    is created in milliseconds, and the server finds a hash with its own rounds, so that a login
    does not re-hash the password (which cost a loaded machine more than the click's timeout)."""

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        return _hash_once(password, iterations or self.iterations)


@functools.cache
def _hash_once(password: str, iterations: int) -> str:
    # 24 characters: Django re-hashes on login when a salt carries less than 128 bits.
    return PBKDF2PasswordHasher().encode(password, "BrowserTestsOneSalt24chr", iterations)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_page_errors(*texts): the page guard lets through errors whose report contains one "
        "of these texts (and fails if one of them never happens)",
    )
    # The server is another process: the test database must be a file both can open, which
    # on SQLite it always is (tests/conftest.py; `_database_url` checks).


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


# --- The production server -------------------------------------------------------------------


def _database_url(db: dict[str, Any]) -> str:
    if db["ENGINE"] == "django.db.backends.sqlite3":
        if str(db["NAME"]).startswith(":memory:") or "mode=memory" in str(db["NAME"]):
            raise RuntimeError("The browser tests need a file-backed test database.")
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="session")
def production(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Server]:
    from django.db import connection

    workdir = tmp_path_factory.mktemp("production")
    # The same secret as this process: customer links made by a test must open on the server.
    database_url = _database_url(connection.settings_dict)
    secret = {"DJANGO_SECRET_KEY": django_settings.SECRET_KEY}
    with production_server(workdir, database_url, **secret) as server:
        yield server


@pytest.fixture(scope="session")
def base_url(production: Server) -> str:
    return production.url


@dataclass(frozen=True)
class _LiveServer:
    url: str


@pytest.fixture(scope="session")
def live_server(base_url: str) -> _LiveServer:
    """The production server under pytest-django's name, for tests that ask for it."""
    return _LiveServer(base_url)


@pytest.fixture
def _live_server_helper() -> None:
    """pytest-django's helper would reconfigure its own in-process server; ours is gunicorn."""


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, production: Server, transactional_db) -> None:
    """Replaces tests/conftest.py's: uploads go where the server reads them, and users get
    password hashes the server can check."""
    settings.MEDIA_ROOT = production.media_root
    settings.AXES_ENABLED = False
    settings.PASSWORD_HASHERS = ["tests.browser.conftest.OnceHashedPBKDF2PasswordHasher"]
    settings.SMS_BACKEND = "installations.sms.InMemoryBackend"
    InMemoryBackend.outbox.clear()


# --- The page guard --------------------------------------------------------------------------


class PageErrors(AssertionError):
    """What the guard saw that no test declared."""


@dataclass
class PageGuard:
    """Collects page errors, console errors and failed own-file requests of every page in the
    contexts it is attached to; ``check()`` raises PageErrors for anything not declared."""

    base_url: str
    allowed: tuple[str, ...] = ()
    server: Server | None = None
    problems: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    def attach(self, context: Any) -> Any:
        context.on("weberror", lambda error: self.problems.append(f"uncaught {error.error}"))
        context.on("console", self._on_console)
        context.on("response", self._on_response)
        context.on("requestfailed", self._on_request_failed)
        self.contexts.append(context)
        return context

    def _own_file(self, url: str) -> bool:
        path = url[len(self.base_url) :] if url.startswith(self.base_url) else None
        if path is None:
            return False
        return path.startswith((django_settings.STATIC_URL, django_settings.MEDIA_URL)) or (
            path.split("?")[0] == "/favicon.ico"
        )

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.problems.append(f"console error: {message.text} ({where})")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400 and self._own_file(response.url):
            self.problems.append(f"{response.status} for {response.url}")

    def _on_request_failed(self, request: Any) -> None:
        failure = request.failure or ""
        # An image load cancelled because the page moved on is not a broken file; a stylesheet
        # or script is aborted when Chromium refuses what came back (a 404 page is not CSS).
        cancelled = "ERR_ABORTED" in failure and request.resource_type not in BLOCKING_TYPES
        if self._own_file(request.url) and not cancelled:
            self.problems.append(f"request failed ({failure}) for {request.url}")

    def settle(self) -> None:
        """Let events already under way reach us before judging."""
        for context in self.contexts:
            for page in context.pages:
                if not page.is_closed():
                    # A page mid-navigation or closing has nothing more to report.
                    with contextlib.suppress(Exception):
                        page.evaluate("0")

    def check(self) -> None:
        self.settle()
        unexpected = [p for p in self.problems if not any(a in p for a in self.allowed)]
        missing = [a for a in self.allowed if not any(a in p for p in self.problems)]
        lines = [f"  {p}" for p in unexpected]
        lines += [
            f"  allow_page_errors({a!r}) was declared, but no such error happened" for a in missing
        ]
        if lines:
            raise PageErrors("The page guard saw:\n" + "\n".join(lines))


class GuardedBrowser:
    """Chromium whose new contexts open on the production server with the guard attached."""

    def __init__(self, browser: Any, base_url: str, guard: PageGuard) -> None:
        self._browser = browser
        self._base_url = base_url
        self._guard = guard

    def new_context(self, **options: Any) -> Any:
        options.setdefault("base_url", self._base_url)
        return self._guard.attach(self._browser.new_context(**options))

    def new_page(self, **options: Any) -> Any:
        page = self.new_context(**options).new_page()
        page.set_default_timeout(DEFAULT_TIMEOUT_MS)
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_guard(request: pytest.FixtureRequest, production: Server) -> Iterator[PageGuard]:
    allowed = tuple(
        text for mark in request.node.iter_markers("allow_page_errors") for text in mark.args
    )
    guard = PageGuard(base_url=production.url, allowed=allowed, server=production)
    request.node._page_guard = guard
    yield guard
    for context in guard.contexts:
        with contextlib.suppress(Exception):  # already closed by the test
            context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Judged in the test's own phase, so that a page error reads as the test's failure.
    guard = getattr(item, "_page_guard", None)
    try:
        result = yield
        if guard is not None:
            guard.check()
    except BaseException:
        if guard is not None and guard.server is not None:
            item.add_report_section("call", "gunicorn (last lines)", guard.server.log_tail())
        raise
    return result


@pytest.fixture
def browser(chromium, base_url: str, page_guard: PageGuard) -> GuardedBrowser:
    return GuardedBrowser(chromium, base_url, page_guard)


@pytest.fixture
def page(browser: GuardedBrowser):
    return browser.new_page(viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone_page(browser: GuardedBrowser):
    return browser.new_page(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture(autouse=True)
def _guard_every_test(page_guard: PageGuard) -> None:
    """The guard is on for every browser test, whether or not it asks for a page."""


# --- Helpers ---------------------------------------------------------------------------------


def log_in(page, username: str, password: str = "test-pass-123") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")


def draw_signature(page) -> None:
    """Draw a stroke on the page's signature pad with the pointer, as a person would."""
    pad = page.locator("canvas#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.15, y + h * 0.7)
    page.mouse.down()
    page.mouse.move(x + w * 0.35, y + h * 0.3, steps=8)
    page.mouse.move(x + w * 0.55, y + h * 0.7, steps=8)
    page.mouse.move(x + w * 0.85, y + h * 0.35, steps=8)
    page.mouse.up()


# A phone's screen in CSS pixels: the `phone` fixture's page.
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(browser):
    """A page on a 360-pixel touch screen."""
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    yield page
    page.close()
