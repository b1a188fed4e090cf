"""Write docs/benchmarks.md from the results of tests/bench/run.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ANALYSIS = Path(__file__).with_name("analysis.md")
TARGET_MEDIAN_MS = 25
TARGET_QUERIES = 8
TARGET_ADMIN_RATIO = 5
TARGET_BARE_SHARE = 0.5


def _case(result: dict, name: str) -> dict | None:
    for case in result.get("cases", []):
        if case["name"] == name:
            return case
    return None


def _ms(value: Any) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _cases_table(result: dict) -> list[str]:
    lines = [
        "| Page or operation | median ms | p95 ms | ÷ bare (paired) | SQL queries | SQL ms "
        "| slowest query ms | n |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in result.get("cases", []):
        if "skipped" in case:
            lines.append(f"| {case['name']} | skipped: {case['skipped']} | | | | | | |")
            continue
        note = f" ({case['note']})" if case.get("note") else ""
        over = case.get("over_bare")
        lines.append(
            f"| {case['name']}{note} | {_ms(case['median_ms'])} | {_ms(case['p95_ms'])} | "
            f"{'–' if over is None else f'{over:.2f}'} | "
            f"{case['queries']} | {_ms(case['sql_ms'])} | {_ms(case.get('slowest_query_ms'))} | "
            f"{case['n']} |"
        )
    return lines


def _ratios(result: dict) -> tuple[list[str], dict[str, float]]:
    bare = _case(result, "bare render (no database)")
    pairs = [("list", "admin")]
    pairs += [
        (f"list ?group={slug}", f"admin ?group={slug}")
        for slug in ("scheduled", "en_route", "in_progress", "approved", "rejected")
    ]
    pairs.append(("list ?q=search", "admin ?q=search"))
    pairs.append(("list ?q=common word", "admin ?q=common word"))
    lines = [
        "| List page | list median ms | admin median ms | admin ÷ list (×) | list ÷ bare (×) |",
        "|---|---:|---:|---:|---:|",
    ]
    worst: dict[str, float] = {}
    for list_name, admin_name in pairs:
        lst, adm = _case(result, list_name), _case(result, admin_name)
        if not lst or "skipped" in lst:
            continue
        speedup = adm["median_ms"] / lst["median_ms"] if adm and "skipped" not in adm else None
        over_bare = lst.get("over_bare")  # measured in turns with the bare render
        if over_bare is None and bare and "skipped" not in bare:
            over_bare = lst["median_ms"] / bare["median_ms"]
        if speedup is not None:
            worst["admin"] = min(worst.get("admin", speedup), speedup)
        lines.append(
            f"| {list_name} | {_ms(lst['median_ms'])} | "
            f"{_ms(adm['median_ms']) if adm and 'skipped' not in adm else 'skipped'} | "
            f"{'–' if speedup is None else f'{speedup:.1f}'} | "
            f"{'–' if over_bare is None else f'{over_bare:.1f}'} |"
        )
    return lines, worst


def _throughput(result: dict) -> list[str]:
    tp = result.get("throughput", {})
    lines = [
        "| Target | requests/s | p50 ms | p90 ms | p99 ms | requests | non-2xx | tool |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in tp.items():
        if not isinstance(row, dict):
            continue
        if "skipped" in row:
            lines.append(f"| {name} | skipped: {row['skipped']} | | | | | | |")
            continue
        lines.append(
            f"| {name} (`{row.get('path')}`) | {_ms(row.get('rps'))} | {_ms(row.get('p50_ms'))} | "
            f"{_ms(row.get('p90_ms'))} | {_ms(row.get('p99_ms'))} | {row.get('requests', '–')} | "
            f"{row.get('non_2xx', 0)} | {row.get('tool')} |"
        )
    rss = tp.get("worker_peak_rss_mb")
    if rss:
        lines.append("")
        lines.append(
            "Peak RSS of each gunicorn worker after the load (VmHWM): "
            + ", ".join(f"{x} MB" for x in rss)
            + "."
        )
    return lines


def _generation(gen: dict) -> list[str]:
    counts = ", ".join(f"{v:,} {k}" for k, v in gen.get("counts", {}).items())
    timings = ", ".join(f"{k} {v} s" for k, v in gen.get("timings", {}).items())
    return [
        f"- {gen['rows']:,} installations; the big partner owns {gen['big_partner_rows']:,}.",
        f"- Rows written: {counts}.",
        f"- Time: {gen['seconds']} s in all ({gen['rows_per_second']:,} rows/s overall, "
        f"{gen['installations_per_second']:,} installations/s with their history); {timings}.",
        f"- Generator CPU: {gen.get('cpu_seconds')} s ({gen.get('workers', 0)} worker processes "
        "making the rows while the parent writes them).",
        f"- Peak RSS of the generator: {gen['peak_rss_mb']} MB, of a worker "
        f"{gen.get('worker_peak_rss_mb', '-')} MB (batches of {gen['batch']:,} rows; the "
        "step counters are summed by the database: neither grows with the row count).",
    ]


def _targets(results: dict) -> list[str]:
    pg = results.get("postgres", {})
    if "cases" not in pg:
        return ["PostgreSQL was not measured in this run, so the targets cannot be judged."]
    list_cases = [c for c in pg["cases"] if c["name"].startswith("list") and "skipped" not in c]
    if not list_cases:
        return ["The partner list did not resolve in this run, so the targets cannot be judged."]
    unfiltered = _case(pg, "list")
    worst = max(list_cases, key=lambda c: c["median_ms"])
    max_q = max(c["queries"] for c in list_cases)
    _, ratio = _ratios(pg)
    admin_ratio = ratio.get("admin")
    tp = pg.get("throughput", {})
    list_rps = tp.get("list", {}).get("rps")
    bare_rps = tp.get("bare render", {}).get("rps")
    share = list_rps / bare_rps if list_rps and bare_rps else None

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("**met**" if ok else "**missed**")

    median_ok = unfiltered["median_ms"] <= TARGET_MEDIAN_MS if unfiltered else None
    lines = [
        "| Target (PostgreSQL, the partner with 30% of the rows) | Reached | Verdict |",
        "|---|---|---|",
        f"| List page ≤ {TARGET_MEDIAN_MS} ms median server time | unfiltered "
        f"{_ms(unfiltered and unfiltered['median_ms'])} ms; slowest variant “{worst['name']}” "
        f"{_ms(worst['median_ms'])} ms | {verdict(median_ok)} (unfiltered); "
        f"{verdict(worst['median_ms'] <= TARGET_MEDIAN_MS)} (every variant) |",
        f"| ≤ {TARGET_QUERIES} queries, the same whatever the data size | at most {max_q} "
        f"across the list variants in this run (the same at any size is for the query-count "
        f"tests to pin) | {verdict(max_q <= TARGET_QUERIES)} |",
        f"| ≥ {TARGET_ADMIN_RATIO}× faster than the admin changelist | worst pair "
        f"{'–' if admin_ratio is None else f'{admin_ratio:.1f}×'} | "
        f"{verdict(None if admin_ratio is None else admin_ratio >= TARGET_ADMIN_RATIO)} |",
        f"| ≥ half the bare render's throughput | list {_ms(list_rps)} vs bare {_ms(bare_rps)} "
        f"requests/s = {'–' if share is None else f'{share:.0%}'} | "
        f"{verdict(None if share is None else share >= TARGET_BARE_SHARE)} |",
    ]
    return lines


def _plans(result: dict, limit: int = 4) -> list[str]:
    cases = [c for c in result.get("cases", []) if c.get("slowest_plan")]
    cases.sort(key=lambda c: c.get("slowest_query_ms", 0), reverse=True)
    lines = []
    for case in cases[:limit]:
        lines += [
            f"**{case['name']}**: slowest query {case['slowest_query_ms']} ms",
            "",
            "```sql",
            case["slowest_query"],
            "```",
            "",
            "```",
            case["slowest_plan"],
            "```",
            "",
        ]
    return lines


def write_report(results: dict, path: Path) -> None:
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`tests/bench/run.py`). Times are server time per request, "
        "measured in-process with Django's test client (DEBUG off, after a warm-up), and "
        "throughput under gunicorn with 2 workers on 127.0.0.1. These shared machines vary by "
        "up to 2.5× between runs: compare figures within one run only.",
        "",
        "## How to run",
        "",
        "```sh",
        "make bench                                   # 1,000,000 installations (the default)",
        "BENCH_ROWS=20000 make bench                  # a quick smoke run",
        ".venv/bin/python tests/bench/run.py --rows 20000",
        ".venv/bin/python tests/bench/run.py --keep /tmp/bench          # keep the databases",
        ".venv/bin/python tests/bench/run.py --reuse /tmp/bench         # measure them again",
        "```",
        "",
        "It generates the data set into a fresh SQLite file and a throwaway PostgreSQL 15 "
        "cluster (initdb as in `tests/suite.py`, `fsync=off`, `shared_buffers=512MB`), migrates, "
        "measures each database in its own process, then starts gunicorn (2 sync workers) and "
        "runs `wrk -t1 -c4` for 10 s against the list (signed in as the big partner's user) and "
        "the bare render, and rewrites this file. Data are the same on both databases (one seed).",
        "",
        "## This run",
        "",
        f"- Started {results['started']}, finished {results.get('finished', '?')} "
        f"(`run.py {results.get('argv', '')}`).",
        f"- Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory']} RAM, {m['os']}; "
        f"load average at the start {m['load']} (other work shares this machine).",
        f"- Python {m['python']}, Django {m['django']}.",
    ]
    if "--reuse" in results.get("argv", ""):
        lines.append(
            "- The databases were generated by an earlier `run.py --keep` run and measured "
            "again with `--reuse`; the generation figures below are that run's."
        )
    for key in ("sqlite", "postgres"):
        res = results.get(key, {})
        if "db_version" in res:
            lines.append(f"- {res['label']} {res['db_version']}.")
    lines += ["", "## Targets", "", *_targets(results), ""]
    if ANALYSIS.exists():
        lines += [ANALYSIS.read_text().strip(), ""]
    for key in ("postgres", "sqlite"):
        res = results.get(key)
        if not res:
            continue
        if "skipped" in res:
            lines += [f"## {key}", "", res["skipped"], ""]
            continue
        lines += [
            f"## {res['label']}",
            "",
            "### Data generation",
            "",
            *_generation(res["generation"]),
        ]
        lines += ["", "### Server time per request (in-process)", ""]
        if res.get("load_before"):
            lines += [
                f"Load average when this database's measurements began: {res['load_before']}.",
                "",
            ]
        lines += _cases_table(res)
        ratio_lines, _ = _ratios(res)
        lines += [
            "",
            "### Ratios",
            "",
            "admin ÷ list: how many times faster the list is than Django admin's changelist of "
            "the same partner and filter. list ÷ bare: how many times the bare 25-row render "
            "(no database) the list costs, each page's requests taken in turns with bare "
            "renders (the ÷ bare column above), so that both see the same machine.",
            "",
            *ratio_lines,
            "",
            "### Throughput (gunicorn, 2 workers)",
            "",
            *_throughput(res),
            "",
            "### Slowest queries and their plans",
            "",
            *_plans(res),
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n")
