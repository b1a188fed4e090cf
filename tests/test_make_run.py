"""`make run`: the worker delivering the demo's messages prints nothing over the address."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_env(tmp_path: Path) -> dict[str, str]:
    """The variables `make run` sets (RUN_ENV in the Makefile), with var/ moved to tmp_path."""
    makefile = (ROOT / "Makefile").read_text()
    block = re.search(r"^RUN_ENV := (.*?)\n(?=\S)", makefile, re.S | re.M)
    assert block, "no RUN_ENV in the Makefile"
    words = shlex.split(block.group(1).replace("\\\n", " ").replace("$(DEV_ENV)", "DJANGO_DEBUG=1"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    for word in words:
        key, _, value = word.partition("=")
        env[key] = str(tmp_path / value) if value.startswith("var/") else value
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    env["DJANGO_MEDIA_ROOT"] = str(tmp_path / "media")
    return env


def _worker_args() -> list[str]:
    line = next(x for x in (ROOT / "Makefile").read_text().splitlines() if "db_worker" in x)
    return shlex.split(line.split("manage.py db_worker", 1)[1].split("&", 1)[0])


def test_the_demos_messages_go_to_files_and_the_worker_prints_nothing(tmp_path):
    env = _run_env(tmp_path)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert manage("migrate", "-v", "0").returncode == 0
    assert manage("seed_demo").returncode == 0
    worker = manage("db_worker", *_worker_args(), "--batch")
    assert worker.returncode == 0, worker.stderr
    assert worker.stdout + worker.stderr == ""
    assert "SMS to" in Path(env["SMS_FILE_PATH"]).read_text()
    assert any(Path(env["DJANGO_EMAIL_FILE_PATH"]).iterdir())
