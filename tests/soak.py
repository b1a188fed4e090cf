"""`make soak`: serve the app with gunicorn on 127.0.0.1 and send a mixed workload for a fixed time.

Lists, filters, details and transitions (some deliberately raced by two clients at once), from
several threads. Reports requests per second, latency percentiles, 5xx answers and lost or
doubled transitions (both must be zero), and writes the result to docs/reliability.md.
Loopback only; bounded in time and in requests. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
    """A tiny HTTP client with its own cookies (Secure cookies are kept: this is loopback)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urlencode(data) if data is not None else None
        headers = {
            "Host": "127.0.0.1",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode(errors="replace")
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def log_in(self, username: str) -> None:
        _, page = self.request("GET", "/accounts/login/")
        token = CSRF.search(page).group(1)
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": "demo-pass-123"},
        )
        assert status == 302, f"login failed for {username}: {status}"


def manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


SETUP = """
from datetime import time, timedelta
from django.utils import timezone
from installations import services
from installations.models import Customer, Handyman, Partner
from django.contrib.auth import get_user_model
acme = Partner.objects.get(name="Acme Appliances")
user = get_user_model().objects.get(username="acme")
customer = Customer.objects.filter(partner=acme).first()
ids = [services.installation_create(partner=acme, customer=customer, site_address="1 Soak St",
       scheduled_date=timezone.localdate() + timedelta(days=2), window_start=time(9),
       window_end=time(11), actor=user).pk for _ in range({n})]
hank = Handyman.objects.get(user__username="hank").pk
import json; print(json.dumps({{"ids": ids, "hank": hank}}))
"""

CHECK = """
import json
from installations.models import StatusChange
ids = json.loads('{ids}')
rows = StatusChange.objects.filter(installation_id__in=ids).exclude(kind="created")
print(json.dumps([[r.installation_id, r.transition] for r in rows]))
"""


def run(duration: float, threads: int, transitions: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="portal-soak-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_STATIC_ROOT": str(workdir / "static"),
            "DJANGO_MEDIA_ROOT": str(workdir / "media"),
            "AXES_ENABLED": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
    )
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'soak.sqlite3'}")
    port = free_port()
    server = None
    try:
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "seed_demo")
        setup = json.loads(manage(env, "shell", "-c", SETUP.format(n=transitions)).splitlines()[-1])
        server = subprocess.Popen(
            [
                str(Path(PY).parent / "gunicorn"),
                "portal.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--threads",
                "4",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        result = drive(port, duration, threads, setup)
        check = CHECK.format(ids=json.dumps(setup["ids"]))
        history = json.loads(manage(env, "shell", "-c", check).splitlines()[-1])
        done = Counter((pk, name) for pk, name in history)
        doubled = sum(1 for n in done.values() if n > 1)
        won = Counter(result.pop("won"))
        lost = sum(1 for key, n in won.items() if done.get(key, 0) < n)
        unexpected = sum(1 for key in done if key not in won)
        result.update(
            doubled_transitions=doubled,
            lost_transitions=lost + unexpected,
            transitions_won=sum(won.values()),
            database=env["DATABASE_URL"].split(":")[0],
        )
        return result
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def drive(port: int, duration: float, threads: int, setup: dict) -> dict:
    ids = list(setup["ids"])
    random.Random(7).shuffle(ids)
    # Each id is handed to two threads at once: the race every transition must survive.
    queue = [pk for pk in ids for _ in range(2)]
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter = Counter()
    won: list[tuple[int, str]] = []
    stop_at = time.monotonic() + duration
    max_requests = 200_000

    def worker(n: int) -> None:
        rng = random.Random(n)
        session = Session(port)
        session.log_in("acme")
        while time.monotonic() < stop_at and len(latencies) < max_requests:
            roll = rng.random()
            if roll < 0.35 and queue:
                with lock:
                    pk = queue.pop() if queue else None
                if pk is None:
                    continue
                action = "assign" if pk % 3 else "reject"
                data = {"version": "1", "handyman": setup["hank"], "reason": "Soak test"}
                path, method = f"/installations/{pk}/{action}/", "POST"
            else:
                path, method, data = rng.choice(
                    [
                        ("/installations/", "GET", None),
                        ("/installations/?group=scheduled", "GET", None),
                        ("/installations/?group=in_progress&sort=-changed", "GET", None),
                        ("/installations/?q=Alice", "GET", None),
                        ("/installations/?page=2", "GET", None),
                        (f"/installations/{rng.choice(ids)}/", "GET", None),
                    ]
                )
                action = None
            started = time.perf_counter()
            status, _ = session.request(method, path, data)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1
                if action and status == 302:
                    won.append((pk, action))

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.monotonic() - started
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {
        "requests": len(latencies),
        "seconds": round(wall, 1),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1),
        "status_counts": dict(sorted(statuses.items())),
        "server_errors": sum(n for s, n in statuses.items() if s >= 500),
        "won": won,
        "threads": threads,
    }


def write_report(result: dict, args: argparse.Namespace) -> None:
    path = ROOT / "docs" / "reliability.md"
    text = path.read_text() if path.exists() else "# Reliability\n"
    # One section per database: a run replaces its own database's last result only.
    marker = f"## Last soak run ({result['database']})"
    sections = re.split(r"(?m)^(?=## )", text)
    kept = [part for part in sections if not part.startswith((marker, "## Last soak run\n"))]
    text = "".join(kept).rstrip() + "\n\n"
    cells = [
        result["requests"],
        result["rps"],
        f"{result['p50_ms']} ms",
        f"{result['p95_ms']} ms",
        f"{result['p99_ms']} ms",
        result["server_errors"],
        result["transitions_won"],
        result["lost_transitions"],
        result["doubled_transitions"],
    ]
    row = "| " + " | ".join(str(c) for c in cells) + " |"
    text += f"""{marker}

`make soak` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores): gunicorn with 2
workers × 4 threads on 127.0.0.1, {result["database"]} database, {result["threads"]} client
threads for {result["seconds"]} s. Each transition URL was posted by two clients at once.

| requests | req/s | p50 | p95 | p99 | 5xx | transitions won | lost | doubled |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
{row}

Answers by status code: {", ".join(f"{k}: {v}" for k, v in result["status_counts"].items())}
(409 is the loser of each race, told what happened).
"""
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--transitions", type=int, default=400)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    result = run(args.seconds, args.threads, args.transitions)
    print(json.dumps(result, indent=2))
    if not args.no_report:
        write_report(result, args)
    ok = (
        not result["server_errors"]
        and not result["lost_transitions"]
        and not (result["doubled_transitions"])
    )
    print("soak: OK" if ok else "soak: FAILED (5xx, lost or doubled transitions)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
