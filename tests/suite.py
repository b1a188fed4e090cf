"""Run the whole suite in three legs: SQLite, PostgreSQL (a throwaway cluster) and the browser
tests (SQLite, against a production server: gunicorn, DEBUG off, whitenoise).

The run ends with one line per leg: `passed`, `FAILED` or `SKIPPED (why)`. A leg that did not run
is never `passed`; pytest's "no tests collected" (exit code 5) is a failure. Where PostgreSQL or
Chromium is missing its leg is skipped, except under CI=true, where every leg is mandatory and a
missing one fails the run.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PYTEST = [sys.executable, "-m", "pytest"]
CHROMIUM = Path("/usr/bin/chromium")
NO_TESTS_COLLECTED = 5  # pytest's exit code when the selection is empty
LEGS = ("sqlite", "postgres", "browser")
# The SQLite leg runs with the wall clock at 01:05 in London on the night the clocks go back (the
# first 01:05, BST; a Sunday), ticking on: a test written for daytime on a weekday fails there,
# whenever CI happens to run (one assumed a job's 09:00 window four days back had waited "4 days"
# and failed at 00:45). The PostgreSQL leg runs the same tests on the real clock.
NIGHT_CLOCK = "2027-10-31T00:05:00+00:00"
TITLES = {"sqlite": "SQLite leg", "postgres": "PostgreSQL leg", "browser": "Browser leg"}


def say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
    env["DJANGO_DEBUG"] = "1"  # development settings; the test runner still forces DEBUG off
    return env


def find_pg_bin() -> Path | None:
    for pattern in ("/usr/lib/postgresql/*/bin/initdb", "/usr/local/pgsql/bin/initdb"):
        hits = sorted(glob.glob(pattern))
        if hits:
            return Path(hits[-1]).parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: hand the cluster to the postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


EXTRA_ARGS: list[str] = []


@dataclass(frozen=True)
class Result:
    status: str  # "passed", "FAILED" or "SKIPPED"
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "FAILED"

    def line(self, leg: str) -> str:
        return f"{TITLES[leg]}: {self.status}" + (f" ({self.why})" if self.why else "")


def from_exit_code(code: int) -> Result:
    if code == 0:
        return Result("passed")
    if code == NO_TESTS_COLLECTED:
        return Result("FAILED", "no tests ran")
    return Result("FAILED")


def missing(why: str, *, ci: bool | None = None) -> Result:
    """A leg that cannot run: skipped where that is allowed, a failure under CI=true."""
    if CI if ci is None else ci:
        return Result("FAILED", f"CI: {why}")
    return Result("SKIPPED", why)


def run_pytest(args: list[str], env: dict[str, str]) -> Result:
    return from_exit_code(subprocess.call([*PYTEST, *args, *EXTRA_ARGS], cwd=ROOT, env=env))


def run_sqlite_leg() -> Result:
    env = base_env()
    # `make clocks` gives other moments; the night is the default.
    clock = env.setdefault("PORTAL_TEST_CLOCK", NIGHT_CLOCK)
    when = (
        "01:05 BST on Sunday 31 October 2027, the night the clocks go back"
        if clock == NIGHT_CLOCK
        else "the moment asked for"
    )
    say(f"SQLite leg: pytest -m 'not postgres and not browser', the clock at {when} ({clock})")
    args = ["-m", "not postgres and not browser", "--ignore=tests/browser"]
    return run_pytest(args, env)


def run_browser_leg() -> Result:
    if not CHROMIUM.exists():
        return missing(f"{CHROMIUM} is not installed")
    # `suite.py browser tests/browser/test_board.py`: those files, not the whole folder too.
    named = any(not a.startswith("-") and (ROOT / a.split("::")[0]).exists() for a in EXTRA_ARGS)
    say("Browser leg: pytest tests/browser (SQLite, gunicorn with DEBUG off)")
    return run_pytest([*([] if named else ["tests/browser"]), "-m", "browser"], base_env())


def run_postgres_leg() -> Result:
    pg_bin = find_pg_bin()
    if pg_bin is None:
        return missing("no PostgreSQL server (initdb) is installed")
    workdir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    data, sock = workdir / "data", workdir / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    started = False
    try:
        say(f"PostgreSQL leg: throwaway cluster on 127.0.0.1:{port} ({pg_bin})")
        subprocess.check_call(
            as_postgres(
                [
                    str(pg_bin / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            stdout=subprocess.DEVNULL,
            cwd=workdir,  # the postgres user may not enter the caller's folder
        )
        options = (
            f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.check_call(
            as_postgres(
                [
                    str(pg_bin / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(workdir / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ]
            ),
            stdout=subprocess.DEVNULL,
            cwd=workdir,
        )
        started = True
        env = base_env()
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{port}/portal"
        return run_pytest(["-m", "not browser", "--ignore=tests/browser"], env)
    finally:
        if started:
            subprocess.call(
                as_postgres([str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
                cwd=workdir,
            )
            time.sleep(0.2)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    # `suite.py [all|sqlite|postgres|browser] [pytest args…]`: make test runs all three legs.
    args = sys.argv[1:]
    chosen = args.pop(0) if args and args[0] in {"all", *LEGS} else "all"
    EXTRA_ARGS.extend(args)
    runners = {"sqlite": run_sqlite_leg, "postgres": run_postgres_leg, "browser": run_browser_leg}
    results: dict[str, Result] = {}
    for leg in LEGS:
        if chosen in {"all", leg}:
            try:
                results[leg] = runners[leg]()
            except (OSError, subprocess.CalledProcessError) as exc:
                results[leg] = Result("FAILED", f"could not run: {exc}")
    say("Result")
    for leg, result in results.items():
        print(result.line(leg), flush=True)
    return 0 if all(result.ok for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
