"""Run the whole suite: on SQLite (with the browser tests), then on a throwaway PostgreSQL cluster.

Where no PostgreSQL server is installed the PostgreSQL leg is skipped with a plain message,
except under CI=true, where every leg is mandatory and a missing one fails the run.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PYTEST = [sys.executable, "-m", "pytest"]


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


def run_sqlite_leg() -> int:
    env = base_env()
    marks = "not postgres"
    if not Path("/usr/bin/chromium").exists():
        if CI:
            print("CI: /usr/bin/chromium is missing, so the browser tests cannot run.")
            return 1
        print("Chromium (/usr/bin/chromium) is not installed: the browser tests are left out.")
        marks = "not postgres and not browser"
    say(f"SQLite leg: pytest -m '{marks}'")
    return subprocess.call([*PYTEST, "-m", marks, *EXTRA_ARGS], cwd=ROOT, env=env)


def run_postgres_leg() -> int:
    pg_bin = find_pg_bin()
    if pg_bin is None:
        if CI:
            print("CI: no PostgreSQL server (initdb) is installed, so the PostgreSQL leg fails.")
            return 1
        print("PostgreSQL is not installed here: only the SQLite leg ran.")
        return 0
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
        return subprocess.call([*PYTEST, "-m", "not browser", *EXTRA_ARGS], cwd=ROOT, env=env)
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
    # `suite.py [all|sqlite|postgres] [pytest args…]`: make test runs both legs.
    args = sys.argv[1:]
    legs = args.pop(0) if args and args[0] in {"all", "sqlite", "postgres"} else "all"
    EXTRA_ARGS.extend(args)
    sqlite = run_sqlite_leg() if legs in {"all", "sqlite"} else 0
    postgres = run_postgres_leg() if legs in {"all", "postgres"} else 0
    say(
        f"SQLite leg: {'passed' if sqlite == 0 else 'FAILED'}; "
        f"PostgreSQL leg: {'passed' if postgres == 0 else 'FAILED'}"
    )
    return 0 if sqlite == 0 and postgres == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
