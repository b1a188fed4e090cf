"""The page guard itself: it must fail a page with a deliberate error, and only what a test did
not declare. Each test opens a page the guard must condemn and calls its check directly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .conftest import DEFAULT_TIMEOUT_MS, PageErrors, PageGuard

PAGE = "/guard-test/"


@pytest.fixture
def judge(chromium, base_url) -> Iterator[tuple[PageGuard, object]]:
    """A second guard with its own page, so that the test can watch it fail."""
    guard = PageGuard(base_url=base_url)
    context = guard.attach(chromium.new_context(base_url=base_url))
    page = context.new_page()
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield guard, page
    context.close()


def _open(page, body: str, *, headers: dict[str, str] | None = None) -> None:
    """Serve ``body`` as a page of the site itself (same origin as the portal), then open it."""
    page.route(
        f"**{PAGE}",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers=headers or {},
            body=f"<!doctype html><html lang=en><head><title>t</title></head><body>{body}</body>",
        ),
    )
    page.goto(PAGE)
    page.wait_for_load_state("networkidle")


def test_a_clean_portal_page_passes(judge):
    guard, page = judge
    page.goto("/accounts/login/")
    page.wait_for_load_state("networkidle")
    guard.check()


def test_an_uncaught_error_fails(judge):
    guard, page = judge
    _open(page, "<script>throw new Error('deliberate failure on load')</script>")
    with pytest.raises(PageErrors, match="deliberate failure on load"):
        guard.check()


def test_an_uncaught_error_in_the_portals_own_script_after_load_fails(judge):
    guard, page = judge
    page.goto("/accounts/login/")
    page.evaluate("setTimeout(() => { throw new TypeError('late handler broke'); }, 0)")
    with pytest.raises(PageErrors, match="late handler broke"):
        guard.check()


def test_a_console_error_fails(judge):
    guard, page = judge
    _open(page, "<script>console.error('something went wrong')</script>")
    with pytest.raises(PageErrors, match="something went wrong"):
        guard.check()


def test_a_missing_stylesheet_fails(judge):
    guard, page = judge
    _open(page, '<link rel="stylesheet" href="/static/css/not-there.css">')
    with pytest.raises(PageErrors, match=r"request failed .* for .*/static/css/not-there\.css"):
        guard.check()


def test_a_broken_image_fails(judge):
    guard, page = judge
    _open(page, '<img src="/media/photos/2026/01/missing.png" alt="">')
    with pytest.raises(PageErrors, match=r"404 for .*/media/photos/2026/01/missing\.png"):
        guard.check()


def test_a_content_security_policy_violation_fails(judge):
    guard, page = judge
    _open(
        page,
        "<script>document.title = 'inline ran'</script>",
        headers={"Content-Security-Policy": "script-src 'self'"},
    )
    with pytest.raises(PageErrors, match="Content Security Policy"):
        guard.check()


def test_a_declared_error_passes_and_only_that_one(judge):
    guard, page = judge
    guard.allowed = ("/media/photos/missing.png",)
    _open(page, '<img src="/media/photos/missing.png" alt="">')
    guard.check()  # the declared 404 (and Chromium's console echo of it) is let through
    page.evaluate("setTimeout(() => { throw new Error('undeclared'); }, 0)")
    with pytest.raises(PageErrors, match="undeclared"):
        guard.check()


def test_a_declared_error_that_never_happens_fails(judge):
    guard, page = judge
    guard.allowed = ("409 (Conflict)",)
    page.goto("/accounts/login/")
    with pytest.raises(PageErrors, match="was declared, but no such error happened"):
        guard.check()


def test_every_browser_test_is_guarded_without_asking(page, page_guard):
    """The autouse guard is attached to the ``page`` fixture's context."""
    page.goto("/accounts/login/")
    page.evaluate("setTimeout(() => { throw new Error('caught by the autouse guard'); }, 0)")
    with pytest.raises(PageErrors, match="caught by the autouse guard"):
        page_guard.check()
    page_guard.problems.clear()  # seen; this test itself passes


def test_contexts_a_test_opens_itself_are_guarded_too(browser, page_guard):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto("/accounts/login/")
    page.evaluate("console.error('from a hand-made context')")
    with pytest.raises(PageErrors, match="from a hand-made context"):
        page_guard.check()
    page_guard.problems.clear()
