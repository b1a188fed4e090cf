"""`make bench`: generate a data set on SQLite and on a throwaway PostgreSQL 15 cluster, measure
the pages in-process and under gunicorn, and write docs/benchmarks.md.

    python tests/bench/run.py                  # 1,000,000 installations (BENCH_ROWS or --rows)
    python tests/bench/run.py --rows 20000     # a quick smoke run
    python tests/bench/run.py --keep DIR       # keep the generated databases in DIR
    python tests/bench/run.py --reuse DIR      # measure databases kept by an earlier --keep run

Everything listens on 127.0.0.1 only and every load test is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.suite import as_postgres, find_pg_bin, free_port  # noqa: E402

PY = sys.executable
BENCH = ROOT / "tests" / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", 10))


def say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def base_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="tests.bench.settings",
        DJANGO_DEBUG="1",  # development defaults (no TLS redirect); bench settings set DEBUG off
        DJANGO_SECRET_KEY="bench-only-secret-key",
        PYTHONWARNINGS="ignore",
        PYTHONPATH=str(ROOT),
    )
    return env


# --- PostgreSQL: a throwaway cluster, as tests/suite.py starts one ----------------------------


class Postgres:
    def __init__(self, workdir: Path) -> None:
        self.pg_bin = find_pg_bin()
        self.workdir = workdir
        self.data = workdir / "data"
        self.sock = workdir / "sock"
        self.port = free_port()
        self.started = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/portal"

    def init(self) -> None:
        self.sock.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(self.sock, "postgres")
        subprocess.check_call(
            as_postgres(
                [
                    str(self.pg_bin / "initdb"),
                    *("-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"),
                    "--no-sync",
                ]
            ),
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        self.sock.mkdir(parents=True, exist_ok=True)
        options = (
            f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c shared_buffers=512MB -c maintenance_work_mem=256MB"
        )
        subprocess.check_call(
            as_postgres(
                [
                    str(self.pg_bin / "pg_ctl"),
                    *("-D", str(self.data), "-o", options, "-l", str(self.workdir / "log")),
                    *("-w", "-t", "120", "start"),
                ]
            ),
            stdout=subprocess.DEVNULL,
        )
        self.started = True

    def createdb(self) -> None:
        subprocess.check_call(
            [str(self.pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port)]
            + ["-U", "postgres", "portal"]
        )

    def stop(self) -> None:
        if self.started:
            subprocess.call(
                as_postgres([str(self.pg_bin / "pg_ctl"), "-D", str(self.data), "-m", "fast"])
                + ["-w", "stop"],
                stdout=subprocess.DEVNULL,
            )
            self.started = False

    def version(self) -> str:
        out = subprocess.run(
            [str(self.pg_bin / "postgres"), "--version"], capture_output=True, text=True
        )
        return out.stdout.strip()


# --- Steps ------------------------------------------------------------------------------------


def migrate_and_generate(env: dict[str, str], rows: int, meta: Path) -> dict:
    say("migrate")
    subprocess.check_call([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env)
    say(f"generate {rows:,} installations")
    subprocess.check_call(
        [PY, str(BENCH / "generate.py"), "--rows", str(rows), "--meta", str(meta)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    generated = json.loads(meta.read_text())
    print(
        f"  {generated['seconds']} s ({generated.get('cpu_seconds')} s of generator CPU), "
        f"peak RSS {generated['peak_rss_mb']} MB; {json.dumps(generated['timings'])}",
        flush=True,
    )
    return generated


def measure(env: dict[str, str], meta: Path, out: Path) -> dict:
    say("in-process measurements")
    subprocess.check_call(
        [PY, str(BENCH / "measure.py"), "--meta", str(meta), "--out", str(out)], cwd=ROOT, env=env
    )
    return json.loads(out.read_text())


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _vm(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    except OSError:
        return None
    return None


def _wrk(url: str, cookie: str | None) -> dict[str, Any]:
    cmd = ["wrk", "-t1", "-c4", f"-d{LOAD_SECONDS}s", "--latency", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=LOAD_SECONDS + 60)
    text = out.stdout
    result: dict[str, Any] = {"tool": "wrk -t1 -c4", "raw": text}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", text):
        result["rps"] = float(m.group(1))
    for pct in ("50", "90", "99"):
        if m := re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)\b", text):
            value, unit = float(m.group(1)), m.group(2)
            result[f"p{pct}_ms"] = (
                value / 1000 if unit == "us" else value * (1000 if unit == "s" else 1)
            )
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        result["non_2xx"] = int(m.group(1))
    if m := re.search(r"(\d+) requests in", text):
        result["requests"] = int(m.group(1))
    return result


def _python_load(url: str, cookie: str | None) -> dict[str, Any]:
    """Fallback when wrk is missing: 4 threads, a fixed time, keep-alive connections."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + LOAD_SECONDS
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status != 200:
                    errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {
        "tool": "python threads x4",
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": pick(0.5),
        "p90_ms": pick(0.9),
        "p99_ms": pick(0.99),
        "non_2xx": errors[0],
        "requests": len(latencies),
    }


def throughput(env: dict[str, str], cookie: str, targets: dict[str, tuple[str, bool]]) -> dict:
    say("throughput under gunicorn (2 workers)")
    port = free_port()
    gunicorn = Path(PY).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "portal.wsgi:application", "-w", "2", "-b", f"127.0.0.1:{port}"]
        + ["--log-level", "warning", "--timeout", "60"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "tests.bench.settings"},
    )
    results: dict[str, Any] = {}
    try:
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        use_wrk = shutil.which("wrk") is not None
        for name, (path, logged_in) in targets.items():
            url = f"http://127.0.0.1:{port}{path}"
            cookie_value = cookie if logged_in else None
            # Warm both workers (templates, connections) before timing.
            for _ in range(8):
                req = urllib.request.Request(url)
                if cookie_value:
                    req.add_header("Cookie", f"sessionid={cookie_value}")
                try:
                    urllib.request.urlopen(req, timeout=30).read()
                except OSError as exc:
                    results[name] = {"skipped": f"{path}: {exc}"}
                    break
            if name in results:
                continue
            results[name] = (_wrk if use_wrk else _python_load)(url, cookie_value)
            results[name]["path"] = path
            print(f"  {name}: {results[name].get('rps')} requests/s", flush=True)
        workers = _children(proc.pid)
        results["worker_peak_rss_mb"] = [
            round((_vm(pid, "VmHWM") or 0) / 1024, 1) for pid in workers
        ]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return results


def run_database(
    label: str, env: dict[str, str], workdir: Path, rows: int, reuse: bool, generate_only: bool
) -> dict:
    meta = workdir / "meta.json"
    if reuse:
        # Migrations may have landed since the data were generated (new indexes, say).
        say("migrate (kept database)")
        subprocess.check_call([PY, "manage.py", "migrate", "--noinput", "-v1"], cwd=ROOT, env=env)
        generated = json.loads(meta.read_text())
    else:
        generated = migrate_and_generate(env, rows, meta)
    if generate_only:
        return {"generation": generated, "label": label}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    result = measure(env, meta, workdir / "measure.json")
    result["load_before"] = load
    list_path = next(
        (c["url"] for c in result["cases"] if c["name"] == "list" and "url" in c), None
    )
    targets = {"bare render": ("/bench/bare/", False)}
    if list_path:
        targets = {
            "list": (list_path, True),
            "list ?group=scheduled": (list_path + "?group=scheduled", True),
            **targets,
        }
    result["throughput"] = throughput(env, result["session_cookie"], targets)
    result["generation"] = generated
    result["label"] = label
    return result


def machine() -> dict[str, str]:
    mem = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    import django

    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{int(mem) / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "django": django.get_version(),
        "os": platform.platform(),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="make bench")
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    parser.add_argument("--keep", type=Path, help="keep the generated databases in this directory")
    parser.add_argument("--reuse", type=Path, help="measure the databases an earlier --keep left")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    parser.add_argument("--generate-only", action="store_true", help="with --keep: no measuring")
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args()

    reuse = args.reuse is not None
    workdir = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="portal-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)  # the postgres user must reach its cluster inside
    started = datetime.now(UTC)
    results: dict[str, Any] = {
        "machine": machine(),
        "started": started.isoformat(timespec="seconds"),
    }
    results["argv"] = " ".join(sys.argv[1:])
    try:
        if args.only in (None, "sqlite"):
            sqlite_dir = workdir / "sqlite"
            sqlite_dir.mkdir(exist_ok=True)
            say(f"SQLite ({sqlite_dir})")
            env = base_env(f"sqlite:///{sqlite_dir / 'bench.sqlite3'}")
            results["sqlite"] = run_database(
                "SQLite", env, sqlite_dir, args.rows, reuse, args.generate_only
            )
        if args.only in (None, "postgres"):
            pg = Postgres(workdir / "postgres")
            if pg.pg_bin is None:
                results["postgres"] = {"skipped": "PostgreSQL (initdb) is not installed here."}
            else:
                try:
                    if not reuse:
                        pg.workdir.mkdir(exist_ok=True)
                        pg.init()
                    pg.start()
                    if not reuse:
                        pg.createdb()
                    say(f"PostgreSQL ({pg.version()}) on 127.0.0.1:{pg.port}")
                    results["postgres"] = run_database(
                        "PostgreSQL",
                        base_env(pg.url),
                        pg.workdir,
                        args.rows,
                        reuse,
                        args.generate_only,
                    )
                    results["postgres"]["server"] = pg.version()
                finally:
                    pg.stop()
    finally:
        if not (args.keep or args.reuse):
            shutil.rmtree(workdir, ignore_errors=True)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    (workdir if (args.keep or args.reuse) else Path(tempfile.gettempdir())).joinpath(
        "bench-results.json"
    ).write_text(json.dumps(results, indent=2))
    if args.generate_only:
        return 0
    from tests.bench.report import write_report

    write_report(results, args.doc)
    say(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
