"""In-process measurements against the database named by DATABASE_URL (generated already).

    DATABASE_URL=... python tests/bench/measure.py --meta meta.json --out result.json

Each page is requested with django.test.Client: a warm-up, then at least 30 timed requests
(median and 95th percentile of the server time), then one more inside CaptureQueriesContext for
the number of SQL queries and the slowest query, which is EXPLAINed. A page whose URL does not
resolve yet is skipped with a note. Settings are read at import, so each database gets its own
process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time as clock
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
warnings.simplefilter("ignore")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from installations import services  # noqa: E402
from installations.models import Handyman, Installation  # noqa: E402
from installations.statuses import GROUPS, Status  # noqa: E402
from tests.bench import cases_live  # noqa: E402
from tests.bench.cases_board import board_cases  # noqa: E402
from tests.bench.cases_dashboard import dashboard_cases  # noqa: E402
from tests.bench.cases_handyman import real_day_case  # noqa: E402
from tests.bench.cases_spreadsheets import export_cases  # noqa: E402
from tests.bench.querytime import query_clock  # noqa: E402

User = get_user_model()
settings.DEBUG = False  # as in production (the bench settings already say so)
if "testserver" not in settings.ALLOWED_HOSTS:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

REPEATS = int(os.environ.get("BENCH_REPEATS", 30))
WARMUP = 3
CASE_BUDGET_S = float(os.environ.get("BENCH_CASE_BUDGET", 30))
COMMON_WORD = "Road"  # in 7 of the 15 street names (generate.STREETS)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def explain(sql: str) -> str:
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if connection.vendor == "postgresql"
        else ("EXPLAIN QUERY PLAN ")
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            rows = cursor.fetchall()
    except Exception as exc:  # a plan is evidence, never a reason to stop the run
        return f"(EXPLAIN failed: {exc})"
    if connection.vendor == "postgresql":
        return "\n".join(r[0] for r in rows)
    return "\n".join(f"{r[0]}|{r[1]} {r[-1]}" for r in rows)


# The bare render, requested before each timed request of a page (see `timed`).
BARE: Callable[[], Any] | None = None


def timed(
    name: str, do: Callable[[], Any], check: Callable[[Any], str | None], *, paired: bool = False
) -> dict:
    """Run `do` (a request or a service call) WARMUP + REPEATS times; then once with queries.

    `paired`: each timed request follows a timed bare render, and the result carries that bare
    render's median and the page's ratio to it. This machine's speed drifts by up to half
    between minutes, so a ratio to a bare render measured at another moment can be off by as
    much; measured in turns, both see the same machine."""
    result: dict[str, Any] = {"name": name}
    pair = BARE if paired else None
    try:
        first = do()
    except Exception as exc:
        return {**result, "skipped": f"failed: {type(exc).__name__}: {exc}"}
    problem = check(first)
    if problem:
        return {**result, "skipped": problem}
    for _ in range(WARMUP - 1):
        do()
    times: list[float] = []
    bare: list[float] = []
    started = clock.perf_counter()
    for _ in range(REPEATS):
        if pair is not None:
            t0 = clock.perf_counter()
            pair()
            bare.append((clock.perf_counter() - t0) * 1000)
        t0 = clock.perf_counter()
        do()
        times.append((clock.perf_counter() - t0) * 1000)
        if clock.perf_counter() - started > CASE_BUDGET_S and len(times) >= 5:
            result["note"] = f"stopped after {len(times)} requests (time budget)"
            break
    spent, clocked = query_clock()  # the query log keeps milliseconds only
    with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(clocked):
        do()
    queries = ctx.captured_queries
    if len(spent) == len(queries):
        for query, seconds in zip(queries, spent, strict=True):
            query["time"] = f"{seconds:.6f}"
    slowest = max(queries, key=lambda q: float(q["time"]), default=None)
    result.update(
        n=len(times),
        median_ms=round(statistics.median(times), 2),
        p95_ms=round(percentile(times, 0.95), 2),
        queries=len(queries),
        sql_ms=round(sum(float(q["time"]) for q in queries) * 1000, 2),
    )
    if bare:
        result["bare_ms"] = round(statistics.median(bare), 2)
        result["over_bare"] = round(statistics.median(times) / statistics.median(bare), 2)
    if slowest is not None:
        result["slowest_query_ms"] = round(float(slowest["time"]) * 1000, 2)
        result["slowest_query"] = slowest["sql"][:1500]
        result["slowest_plan"] = explain(slowest["sql"])
    return result


def page(client: Client, url: str, want: int = 200) -> tuple[Callable, Callable]:
    def do():
        return client.get(url)

    def check(response) -> str | None:
        if response.status_code != want:
            return f"{url} answered HTTP {response.status_code}, not {want}"
        return None

    return do, check


def url_or_none(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def admin_filter_params() -> dict[str, Any]:
    """The changelist's query parameter names, read from the admin class itself."""
    model_admin = admin.site._registry.get(Installation)
    found: dict[str, Any] = {"registered": model_admin is not None}
    if model_admin is None:
        return found
    slugs = {g.slug for g in GROUPS}
    for item in model_admin.list_filter:
        spec = item[1] if isinstance(item, tuple) else item
        field = item[0] if isinstance(item, tuple) else item
        if isinstance(field, str):
            if field == "partner":
                found["partner"] = "partner__id__exact"
            continue
        parameter = getattr(spec, "parameter_name", None)
        lookups = getattr(spec, "lookups", None)
        if parameter and lookups:
            try:
                values = {str(k) for k, _ in lookups(spec, None, model_admin)}
            except Exception:
                values = set()
            if slugs <= values:
                found["group"] = parameter
    found.setdefault("partner", "partner__id__exact")
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meta", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    meta = json.loads(args.meta.read_text())
    out: dict[str, Any] = {"vendor": connection.vendor, "cases": [], "notes": []}

    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would keep them (indexes may be new since the load).
        cursor.execute("ANALYZE")
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        out["db_version"] = cursor.fetchone()[0]

    partner_id = meta["big_partner_id"]
    partner_user = User.objects.get(username=meta["big_partner_user"])
    root = User.objects.get(username=meta["superuser"])
    busy = Handyman.objects.select_related("user").get(pk=meta["busy_handyman_id"])
    out["big_partner_rows"] = Installation.objects.filter(partner_id=partner_id).count()

    partner_client = Client()
    partner_client.force_login(partner_user)
    out["session_cookie"] = partner_client.cookies[settings.SESSION_COOKIE_NAME].value
    anonymous = Client()
    cases = out["cases"]
    global BARE
    BARE = page(anonymous, "/bench/bare/")[0]

    def add(name: str, client: Client, url: str | None, missing: str) -> None:
        if url is None:
            cases.append({"name": name, "skipped": missing})
            print(f"  {name}: skipped ({missing})", file=sys.stderr, flush=True)
            return
        do, check = page(client, url)
        result = timed(name, do, check, paired=True)
        result["url"] = url
        cases.append(result)
        line = result.get("skipped") or (
            f"{result['median_ms']} ms median, {result['p95_ms']} ms p95, "
            f"{result['queries']} queries"
        )
        print(f"  {name}: {line}", file=sys.stderr, flush=True)

    # --- the partner list ---------------------------------------------------------------------
    list_url = url_or_none("partner:list")
    missing = "partner:list does not resolve yet"
    add("list", partner_client, list_url, missing)
    for group in GROUPS:
        add(
            f"list ?group={group.slug}",
            partner_client,
            list_url and f"{list_url}?group={group.slug}",
            missing,
        )
    add(
        "list ?q=search",
        partner_client,
        list_url and f"{list_url}?q={meta['search_term']}",
        missing,
    )
    # A word in half of all addresses: thousands of matches, found by walking the list's first
    # rows (filters.search_beyond_bound); 0.8 s at a million rows before it.
    add(
        "list ?q=common word",
        partner_client,
        list_url and f"{list_url}?q={COMMON_WORD}",
        missing,
    )
    add("list ?handyman=", partner_client, list_url and f"{list_url}?handyman={busy.pk}", missing)
    add("list ?page=200", partner_client, list_url and f"{list_url}?page=200", missing)

    # --- the new-installation form: its customer found by typing (customer_picker) ----------
    # It offered every customer in one <select>: 4.7 MB in 6.5 s for the big partner at 1 M.
    new_url = url_or_none("partner:new")
    missing = "partner:new does not resolve yet"
    add("new installation form", partner_client, new_url, missing)
    for label, text in (("a surname", meta["search_term"]), ("a common word", COMMON_WORD)):
        add(
            f"new installation, customer search: {label}",
            partner_client,
            new_url and f"{new_url}?customer_q={text}",
            missing,
        )

    # --- the detail page, the handyman page -------------------------------------------------
    detail_url = url_or_none("partner:detail", meta["long_history_id"])
    add(
        "detail (50 history entries)",
        partner_client,
        detail_url,
        "partner:detail does not resolve yet",
    )
    handyman_client = Client()
    handyman_client.force_login(busy.user)
    add(
        f"handyman page ({meta['busy_handyman_active']} active jobs)",
        handyman_client,
        url_or_none("handyman:jobs"),
        "handyman:jobs does not resolve yet",
    )
    real_day_case(add, url_or_none("handyman:jobs"))  # tests/bench/cases_handyman.py

    dashboard_cases(add, partner_client, root)  # tests/bench/cases_dashboard.py

    # --- one transition through the service layer -------------------------------------------
    cases.extend(transition_case(partner_id, partner_user))
    cases.extend(export_cases(partner_client, partner_id))  # tests/bench/cases_spreadsheets.py

    cases.extend(cases_live.cases(timed, partner_user, busy))  # issue 13: the live feed

    # --- Django admin, same partner and filters ---------------------------------------------
    params = admin_filter_params()
    out["admin_params"] = params
    admin_client = Client()
    admin_client.force_login(root)
    changelist = url_or_none("admin:installations_installation_changelist")
    missing = "the Installation admin is not registered"
    base = changelist and f"{changelist}?{params['partner']}={partner_id}"
    add("admin", admin_client, base, missing)
    for group in GROUPS:
        if "group" not in params:
            cases.append(
                {"name": f"admin ?group={group.slug}", "skipped": "no status-group filter"}
            )
            continue
        add(
            f"admin ?group={group.slug}",
            admin_client,
            base and f"{base}&{params['group']}={group.slug}",
            missing,
        )
    add("admin ?q=search", admin_client, base and f"{base}&q={meta['search_term']}", missing)
    # Beyond the bound: pages from a walk of the changelist's order (installations/admin/
    # searching.py); 2.9 s at a million rows before it.
    add("admin ?q=common word", admin_client, base and f"{base}&q={COMMON_WORD}", missing)

    # Every partner's history, newest first: it sorted 2.2 million changes at 1 M before.
    history = url_or_none("admin:installations_statuschange_changelist")
    add("admin history changelist", admin_client, history, "the history admin is not registered")

    # --- the bare render ----------------------------------------------------------------------
    add("bare render (no database)", anonymous, "/bench/bare/", "")
    cases.extend(board_cases(partner_client, partner_id, timed, page, bare=cases[-1]))

    args.out.write_text(json.dumps(out, indent=2))
    return 0


def transition_case(partner_id: int, actor: Any) -> list[dict]:
    """Assign, then reassign, a fresh SCHEDULED row of the big partner each time."""
    handymen = list(Handyman.objects.filter(partners=partner_id).order_by("pk")[:2])
    fresh = list(
        Installation.objects.filter(partner_id=partner_id, status=Status.SCHEDULED)
        .order_by("-id")
        .values_list("pk", flat=True)[: (WARMUP + REPEATS + 1) * 1]
    )
    if len(handymen) < 2 or len(fresh) < WARMUP + REPEATS + 1:
        return [{"name": "transition: assign", "skipped": "not enough SCHEDULED rows"}]
    queue = iter(fresh)
    done: list[int] = []

    def assign():
        pk = next(queue)
        done.append(pk)
        # Confirmed: the bench's data pile jobs on one slot; the cost measured is the transition.
        return services.installation_assign(
            installation=pk, handyman=handymen[0], actor=actor, confirm_conflict=True
        )

    result = timed("transition: assign (service layer)", assign, lambda _: None)
    again = iter(done)

    def reassign():
        return services.installation_reassign(
            installation=next(again), handyman=handymen[1], actor=actor, confirm_conflict=True
        )

    second = timed("transition: reassign (service layer)", reassign, lambda _: None)
    print(
        f"  transitions: assign {result.get('median_ms')} ms / {result.get('queries')} q, "
        f"reassign {second.get('median_ms')} ms / {second.get('queries')} q",
        file=sys.stderr,
        flush=True,
    )
    return [result, second]


if __name__ == "__main__":
    sys.exit(main())
