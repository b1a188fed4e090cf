"""`make test` ends with one line per leg; a leg that did not run never reads `passed`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import suite


@pytest.fixture
def run_suite(monkeypatch, capsys):
    """Run suite.main() with pytest itself replaced by a given exit code."""

    def run(*argv: str, exit_code: int = 0, ci: bool = False) -> tuple[int, list[str]]:
        monkeypatch.setattr(suite, "CI", ci)
        monkeypatch.setattr(suite.subprocess, "call", lambda *a, **k: exit_code)
        monkeypatch.setattr(suite, "EXTRA_ARGS", [])
        monkeypatch.setattr(sys, "argv", ["suite.py", *argv])
        code = suite.main()
        out = capsys.readouterr().out
        return code, out.split("=== Result", 1)[1].strip().splitlines()

    return run


def test_without_postgresql_the_leg_reads_skipped_with_the_reason(run_suite, monkeypatch):
    monkeypatch.setattr(suite, "find_pg_bin", lambda: None)
    code, lines = run_suite("postgres")
    assert lines == ["PostgreSQL leg: SKIPPED (no PostgreSQL server (initdb) is installed)"]
    assert code == 0


def test_without_chromium_the_browser_leg_reads_skipped(run_suite, monkeypatch):
    monkeypatch.setattr(suite, "CHROMIUM", Path("/nonexistent/chromium"))
    code, lines = run_suite("browser")
    assert lines == ["Browser leg: SKIPPED (/nonexistent/chromium is not installed)"]
    assert code == 0


def test_under_ci_a_missing_leg_fails_the_run(run_suite, monkeypatch):
    monkeypatch.setattr(suite, "find_pg_bin", lambda: None)
    monkeypatch.setattr(suite, "CHROMIUM", Path("/nonexistent/chromium"))
    code, lines = run_suite("all", ci=True)
    assert lines == [
        "SQLite leg: passed",
        "PostgreSQL leg: FAILED (CI: no PostgreSQL server (initdb) is installed)",
        "Browser leg: FAILED (CI: /nonexistent/chromium is not installed)",
    ]
    assert code == 1


def test_no_tests_collected_is_a_failure(run_suite):
    code, lines = run_suite("sqlite", exit_code=5)
    assert lines == ["SQLite leg: FAILED (no tests ran)"]
    assert code == 1


def test_a_failing_leg_fails_the_run(run_suite):
    code, lines = run_suite("sqlite", exit_code=1)
    assert lines == ["SQLite leg: FAILED"]
    assert code == 1


def test_the_browser_tests_are_their_own_leg(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(suite.subprocess, "call", lambda cmd, **k: calls.append(cmd) or 0)
    monkeypatch.setattr(suite, "CHROMIUM", Path(sys.executable))  # any file that exists
    assert suite.run_sqlite_leg().status == "passed"
    assert suite.run_browser_leg().status == "passed"
    sqlite, browser = calls
    assert "--ignore=tests/browser" in sqlite and "not postgres and not browser" in sqlite
    assert "tests/browser" in browser


def test_the_sqlite_leg_runs_at_night_on_the_sunday_the_clocks_go_back(monkeypatch):
    """The PostgreSQL leg runs the same tests on the real clock; the SQLite leg's is set."""
    envs: list[dict] = []
    monkeypatch.setattr(suite.subprocess, "call", lambda cmd, **k: envs.append(k["env"]) or 0)
    monkeypatch.delenv("PORTAL_TEST_CLOCK", raising=False)
    assert suite.run_sqlite_leg().status == "passed"
    assert envs[0]["PORTAL_TEST_CLOCK"] == suite.NIGHT_CLOCK
    # `make clocks` asks for other moments.
    monkeypatch.setenv("PORTAL_TEST_CLOCK", "2027-06-15T23:30:00+00:00")
    assert suite.run_sqlite_leg().status == "passed"
    assert envs[1]["PORTAL_TEST_CLOCK"] == "2027-06-15T23:30:00+00:00"


def test_the_night_clock_reads_as_the_first_01_05_of_that_night_everywhere():
    import time
    from datetime import datetime

    from django.utils import timezone

    from .conftest import night_clock

    with night_clock(suite.NIGHT_CLOCK):
        now = timezone.localtime()
        assert (now.date().isoformat(), now.strftime("%H:%M"), now.tzname()) == (
            "2027-10-31",
            "01:05",
            "BST",
        )
        assert now.isoweekday() == 7  # a Sunday: the board's "tomorrow" is in the next week
        assert abs(time.time() - datetime.fromisoformat(suite.NIGHT_CLOCK).timestamp()) < 60


def test_the_browser_leg_runs_just_the_files_it_is_given(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(suite.subprocess, "call", lambda cmd, **k: calls.append(cmd) or 0)
    monkeypatch.setattr(suite, "CHROMIUM", Path(sys.executable))
    monkeypatch.setattr(suite, "EXTRA_ARGS", ["tests/browser/test_board.py", "-x"])
    assert suite.run_browser_leg().status == "passed"
    (browser,) = calls
    assert "tests/browser" not in browser and "tests/browser/test_board.py" in browser
