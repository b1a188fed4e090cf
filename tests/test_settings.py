"""Settings read the environment and refuse to start without a secret key in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_check(env_changes: dict[str, str | None], *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key in ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOWED_HOSTS"):
        env.pop(key, None)
    for key, value in env_changes.items():
        if value is not None:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(secret):
    result = run_check({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secret})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_unset_means_off():
    result = run_check({})
    assert result.returncode != 0 and "DJANGO_SECRET_KEY is not set" in result.stderr


def test_it_starts_with_a_secret_key():
    result = run_check(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "portal.example.com",
        }
    )
    assert result.returncode == 0, result.stderr


def test_a_bad_boolean_is_refused_loudly():
    result = run_check({"DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0 and "DJANGO_DEBUG must be 1 or 0" in result.stderr


def _settings_in_subprocess(env_changes: dict[str, str], expr: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_DEBUG")}
    env.update(env_changes)
    code = f"import portal.settings as s; print({expr})"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_sqlite_urls_get_sqlite_options_only():
    out = _settings_in_subprocess(
        {"DJANGO_DEBUG": "1", "DATABASE_URL": "sqlite:////tmp/portal-test.sqlite3"},
        "s.DATABASES['default']",
    )
    assert "'transaction_mode': 'IMMEDIATE'" in out and "journal_mode=WAL" in out
    assert "max_parallel_workers" not in out and "/tmp/portal-test.sqlite3" in out


def test_postgres_urls_get_postgres_options_only():
    out = _settings_in_subprocess(
        {"DJANGO_DEBUG": "1", "DATABASE_URL": "postgres://u:p@db.example.com:5432/portal"},
        "s.DATABASES['default']",
    )
    assert "django.db.backends.postgresql" in out and "max_parallel_workers" in out
    # No just-in-time compiling: 29 ms for a 50 ms search page at ten million rows.
    assert "jit=off" in out
    assert "transaction_mode" not in out and "journal_mode" not in out


def test_the_default_database_is_a_sqlite_file_in_the_project_folder():
    out = _settings_in_subprocess({"DJANGO_DEBUG": "1"}, "s.DATABASES['default']['NAME']")
    assert out == str(ROOT / "portal.sqlite3")


def test_uploads_go_to_the_storage_named_in_the_environment():
    out = _settings_in_subprocess(
        {
            "DJANGO_DEBUG": "1",
            "DJANGO_STORAGE_BACKEND": "storages.backends.s3.S3Storage",
            "DJANGO_STORAGE_OPTIONS": '{"bucket_name": "portal-media"}',
        },
        "s.STORAGES['default']",
    )
    assert out == (
        "{'BACKEND': 'storages.backends.s3.S3Storage', 'OPTIONS': {'bucket_name': 'portal-media'}}"
    )


def test_the_default_storage_is_the_file_system():
    out = _settings_in_subprocess({"DJANGO_DEBUG": "1"}, "s.STORAGES['default']['BACKEND']")
    assert out == "django.core.files.storage.FileSystemStorage"


def test_storage_options_that_are_not_a_json_object_are_refused_loudly():
    result = run_check({"DJANGO_DEBUG": "1", "DJANGO_STORAGE_OPTIONS": "[1, 2]"})
    assert result.returncode != 0
    assert "DJANGO_STORAGE_OPTIONS must be a JSON object" in result.stderr


def test_the_development_server_says_each_thing_once(tmp_path):
    """`make run`: the reloader line once, a 404 once (its access line), nothing twice."""
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--skip-checks"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page/", timeout=5)
            except urllib.error.HTTPError as error:
                status = error.code
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
        time.sleep(1)  # let the log lines land
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = log.read_text()
    assert status == 404
    assert text.count("Watching for file changes") == 1, text
    assert text.count("/no-such-page/") == 1, text


@pytest.mark.parametrize("url", ["sqlite:////tmp/portal-test.sqlite3", "postgres://u:p@db/portal"])
def test_connections_outlive_a_request_on_both_databases(url):
    # A new SQLite connection per request re-runs its PRAGMAs and starts with a cold page cache.
    out = _settings_in_subprocess(
        {"DJANGO_DEBUG": "1", "DATABASE_URL": url},
        "s.DATABASES['default']['CONN_MAX_AGE'], s.DATABASES['default']['CONN_HEALTH_CHECKS']",
    )
    assert out == "60 True"
