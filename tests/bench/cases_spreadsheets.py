"""Bench cases of the spreadsheets room: the CSV export of the big partner's every row (300,000
at the full size), its time and its peak memory, and the same for a small export, so that the
report shows memory staying flat while the rows grow."""

from __future__ import annotations

import statistics
import sys
import time as clock
import tracemalloc
from typing import Any

from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse

from installations.models import Installation
from tests.bench.querytime import query_clock

RUNS = 3  # each run reads every row: a few are enough for a median
# Past this many rows (3 M at ten million installations: two minutes an export) one timed run.
ONE_RUN_FROM = 1_000_000


def _export(client: Client, url: str) -> tuple[int, int, int]:
    """Status, lines and bytes of one export, read to the end as a browser would."""
    response = client.get(url)
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    response.close()
    return response.status_code, lines, size


def _peak_mb(client: Client, url: str) -> float:
    """The most memory Python held at once during one export (tracemalloc's peak)."""
    tracemalloc.start()
    try:
        _export(client, url)
        return tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    finally:
        tracemalloc.stop()


def _case(client: Client, name: str, url: str, rows: int) -> dict[str, Any]:
    # Counted with a wrapper rather than the query log: closing the streamed response closes
    # the connection when CONN_MAX_AGE is 0, and the log of a closed connection reads as empty.
    queries, count = query_clock()
    with connection.execute_wrapper(count):
        status, lines, size = _export(client, url)  # warm, checked and its queries counted
    if status != 200 or lines != rows + 1:
        return {"name": name, "skipped": f"HTTP {status}, {lines} lines for {rows} rows"}
    times = []
    for _ in range(RUNS if rows < ONE_RUN_FROM else 1):
        t0 = clock.perf_counter()
        _export(client, url)
        times.append((clock.perf_counter() - t0) * 1000)
    peak = _peak_mb(client, url)
    median = statistics.median(times)
    return {
        "name": f"{name}: {rows:,} rows, {size / 1e6:.1f} MB, peak {peak:.1f} MB traced",
        "url": url,
        "n": len(times),
        "median_ms": round(median, 1),
        "p95_ms": round(max(times), 1),
        "queries": len(queries),
        "sql_ms": round(sum(queries) * 1000, 2),
        "rows": rows,
        "bytes": size,
        "peak_traced_mb": round(peak, 2),
        "rows_per_s": round(rows / (median / 1000)),
    }


def export_cases(client: Client, partner_id: int) -> list[dict[str, Any]]:
    try:
        url = reverse("spreadsheets:export")
    except NoReverseMatch:
        return [{"name": "CSV export", "skipped": "spreadsheets:export does not resolve yet"}]
    mine = Installation.objects.filter(partner_id=partner_id)
    results = [
        _case(client, "CSV export, every row", url, mine.count()),
        _case(
            client,
            "CSV export, ?group=en_route",
            f"{url}?group=en_route",
            mine.filter(status="EN_ROUTE").count(),
        ),
    ]
    for result in results:
        line = result.get("skipped") or f"{result['median_ms']} ms median"
        print(f"  {result['name']}: {line}", file=sys.stderr, flush=True)
    return results
