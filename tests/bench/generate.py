"""Generate the benchmark data set into the database named by DATABASE_URL (already migrated).

    DATABASE_URL=... python tests/bench/generate.py --rows 1000000 --meta /tmp/meta.json

100 partners (one owning 30% of the installations), handymen serving them, one user per partner,
customers, installations with a realistic status mix across two years, their history, then the
per-partner status counters and the dashboard's rollups. The installations are made in batches
by worker processes (`--workers`) and written by this one with COPY (SQLite: executemany) and
explicit ids, so memory stays bounded whatever the row count; each batch has its own seed, so the
same seed, row count, batch size and clock (`--now`) give the same data set however many workers
make it. Prints a JSON summary (time, CPU, rows/s, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import sys
import time as clock
from bisect import bisect
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from installations import search, services  # noqa: E402
from installations.dashboard import rollups as dashboard_rollups  # noqa: E402
from installations.dashboard.models import (  # noqa: E402
    DashboardJob,
    DashboardReasonWeek,
    DashboardStatusDay,
    DashboardStepHandymanWeek,
    DashboardStepWeek,
)
from installations.dashboard.rollups import SINCE_FIELD, facts_of  # noqa: E402
from installations.dashboard.services import dashboard_rebuild  # noqa: E402
from installations.models import (  # noqa: E402
    Customer,
    Handyman,
    Installation,
    Partner,
    PartnerUser,
    StatusChange,
)
from installations.statuses import HAPPY_PATH, Status  # noqa: E402

User = get_user_model()
S = Status
PARTNERS = 100
BIG_SHARE = 0.30
BIG_HANDYMEN = 150
CUSTOMERS_PER_INSTALLATION = 1 / 3
SEARCH_TERM = "Okonkwo"  # a surname about 1 in 400 customers carry
FIRST = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Freya",
    "Evie",
    "Ella",
    "Poppy",
    "Oliver",
    "George",
    "Noah",
    "Arthur",
    "Muhammad",
    "Leo",
    "Oscar",
    "Harry",
    "Archie",
    "Jack",
    "Henry",
    "Charlie",
    "Freddie",
    "Theo",
    "Alfie",
    "Jacob",
    "Thomas",
    "Isaac",
    "Finley",
    "Tommy",
    "Max",
    "Edward",
    "Aisha",
    "Priya",
    "Wojciech",
    "Siobhan",
]
LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Marshall",
    "Simpson",
    "Anderson",
    "Ellis",
    "Adams",
    "Wilkinson",
]
STREETS = [
    "High Street",
    "Station Road",
    "Church Lane",
    "Victoria Road",
    "Green Lane",
    "Manor Road",
    "Park Avenue",
    "Mill Lane",
    "Kings Road",
    "Queens Road",
    "New Road",
    "Grange Road",
    "School Lane",
    "The Crescent",
    "North Street",
]
TOWNS = [
    "Leeds",
    "York",
    "Bristol",
    "Leicester",
    "Derby",
    "Norwich",
    "Exeter",
    "Bath",
    "Hull",
    "Reading",
    "Luton",
    "Preston",
]
WINDOWS = [(time(8), time(10)), (time(10), time(12)), (time(12), time(14)), (time(14), time(16))]

# Status mix by how far the scheduled date is from today (a realistic lifecycle: old jobs are
# finished, today's are on the road, the coming month's are booked or assigned).
MIX_FUTURE = [
    (S.SCHEDULED, 45),
    (S.INSTALLER_ASSIGNED, 50),
    (S.REJECTED, 3),
    (S.CANCELLED, 2),
]
MIX_TODAY = [
    (S.SCHEDULED, 5),
    (S.INSTALLER_ASSIGNED, 30),
    (S.EN_ROUTE, 20),
    (S.INSTALLATION_IN_PROGRESS, 20),
    (S.INSTALLATION_COMPLETED, 15),
    (S.CONTRACT_SENT, 10),
]
MIX_RECENT = [  # the last 30 days
    (S.INSTALLATION_COMPLETED, 5),
    (S.CONTRACT_SENT, 15),
    (S.CONTRACT_SIGNED, 10),
    (S.CUSTOMER_APPROVED, 60),
    (S.CANCELLED, 6),
    (S.REJECTED, 4),
]
MIX_OLD = [(S.CUSTOMER_APPROVED, 88), (S.CANCELLED, 7), (S.REJECTED, 5)]
STAMP_OF = {
    S.INSTALLER_ASSIGNED: "assigned_at",
    S.EN_ROUTE: "departed_at",
    S.INSTALLATION_IN_PROGRESS: "arrived_at",
    S.INSTALLATION_COMPLETED: "completed_at",
    S.CONTRACT_SENT: "contract_sent_at",
    S.CONTRACT_SIGNED: "signed_at",
    S.CUSTOMER_APPROVED: "approved_at",
}


def chooser(mix: list[tuple[str, int]]):
    statuses = [s for s, _ in mix]
    cum = list(accumulate(w for _, w in mix))
    return lambda rnd: statuses[bisect(cum, rnd.random() * cum[-1])]


PICK = {
    "future": chooser(MIX_FUTURE),
    "today": chooser(MIX_TODAY),
    "recent": chooser(MIX_RECENT),
    "old": chooser(MIX_OLD),
}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def batched(items: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _db_default(field) -> object:
    if field.null:
        return None
    if field.has_default():
        value = field.get_default()
        return json.dumps(value) if isinstance(value, dict) else value
    return ""


class RawTable:
    """Rows as plain lists in column order, written with executemany (SQLite) or COPY
    (PostgreSQL): Django's bulk_create spends ~200 µs of Python per wide row, which at a million
    rows on a 2-core machine is most of the run. Every column is given (no DB defaults exist)."""

    def __init__(self, model, skip: tuple[str, ...] = ()) -> None:
        fields = [f for f in model._meta.concrete_fields if f.attname not in skip]
        self.table = model._meta.db_table
        self.columns = [f.column for f in fields]
        self.template = [_db_default(f) for f in fields]
        self.index = {f.attname: i for i, f in enumerate(fields)}

    def row(self, values: dict) -> list:
        row = self.template.copy()
        index = self.index
        for key, value in values.items():
            row[index[key]] = value
        return row

    def write(self, rows: list[list]) -> None:
        connection.ensure_connection()
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        if connection.vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in self.columns)
            connection.connection.executemany(
                f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows
            )


@contextmanager
def indexes_built_after(models: list) -> Iterator[None]:
    """Drop the secondary indexes of the big tables during the load and build them once at the
    end (the usual bulk-load practice: one sort instead of a million B-tree inserts). On
    PostgreSQL the foreign-key triggers are also off during the load: ids are consistent by
    construction, and the constraints stay in place for everything after."""
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [tables],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({', '.join('%s' for _ in tables)})",
                tables,
            )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            search.suspend_fts(cursor)  # the FTS5 search tables: rebuilt once after the load
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
                build_concurrently([sql for _, sql in indexes])
            else:
                for _, sql in indexes:
                    cursor.execute(sql)
                search.resume_fts(cursor)


def build_concurrently(statements: list[str], sessions: int = 2) -> None:
    """PostgreSQL: the indexes built by `sessions` connections at once, the GIN (trigram)
    indexes first, as they take longest. PostgreSQL 15 builds a B-tree with parallel workers
    but a GIN index in one process: one at a time, the second core idles through most of the
    build."""

    def build(sql: str) -> None:
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                # One sort per index in memory rather than spilled runs.
                cursor.execute("SET maintenance_work_mem = '1GB'")
                cursor.execute("SET max_parallel_maintenance_workers = 2")
                cursor.execute(sql)
        finally:
            connection.close()

    ordered = sorted(statements, key=lambda sql: "USING gin" not in sql)
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        for done in [pool.submit(build, sql) for sql in ordered]:
            done.result()  # an index that failed to build fails the run


# facts_of asks week_of for every stage time, and each call finds the current time zone through
# asgiref's Local: half of facts_of's time. week_of is a pure function of an aware datetime and the
# generator's stage times repeat (they hang off a day and a window), so in this process only it is
# memoised; the time zone does not change during a run.
dashboard_rollups.week_of = lru_cache(maxsize=1 << 18)(dashboard_rollups.week_of)
# The same for a job's window as aware datetimes: a function of its day and hours.
_window = dashboard_rollups._window


@lru_cache(maxsize=1 << 16)
def _window_of(day: date, start: time, end: time) -> tuple[datetime, datetime]:
    return _window(SimpleNamespace(scheduled_date=day, window_start=start, window_end=end))


dashboard_rollups._window = lambda inst: _window_of(
    inst.scheduled_date, inst.window_start, inst.window_end
)


def local_day(moment: datetime, zone: tzinfo) -> date:
    """timezone.localdate of a naive UTC datetime (what TruncDate in the current zone gives),
    with the zone looked up once per run instead of once per history entry."""
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


STAGE_FIELDS = sorted(set(SINCE_FIELD.values()) - {"created_at"})


class Rollups:
    """The dashboard's rollups counted while the rows are made, instead of read back from them
    by `dashboard_rebuild` afterwards (at 100 k rows that read-back through the ORM and
    bulk_create took 85% of the run). Each job goes through the same `facts_of` the service layer
    and the rebuild call, and the status flows follow the rebuild's rule (creations and
    transitions that change the status, by local day), so the tables come out the same:
    tests/bench/test_generate_equivalence.py compares both paths table by table."""

    def __init__(self, to_db) -> None:
        self.to_db = to_db  # a naive UTC datetime -> the text the database stores
        self.zone = timezone.get_current_timezone()
        self.jobs = RawTable(DashboardJob)
        self.pending: list[list] = []
        self.flows: dict[tuple, list[int]] = defaultdict(_no_flow)

    def flow(self, pid: int, moment: datetime, before: str, after: str) -> None:
        if before == after:
            return
        day = local_day(moment, self.zone)
        self.flows[(pid, day, after)][0] += 1
        if before:
            self.flows[(pid, day, before)][1] += 1

    def job(self, values: dict, moments: dict[str, datetime], day, start, end) -> None:
        """`values`: the installation's columns as written; `moments`: its stage times (naive
        UTC datetimes), which the database would hand back to the rebuild as aware ones."""
        fields = dict.fromkeys(STAGE_FIELDS)
        for name, moment in moments.items():
            fields[name] = moment.replace(tzinfo=UTC)
        inst = SimpleNamespace(
            pk=values["id"],
            partner_id=values["partner_id"],
            handyman_id=values.get("handyman_id"),
            status=values["status"],
            scheduled_date=day,
            window_start=start,
            window_end=end,
            cancellation_reason=values.get("cancellation_reason", ""),
            rejection_reason=values.get("rejection_reason", ""),
            **fields,
        )
        facts = facts_of(inst)
        self.pending.append(
            self.jobs.row(
                {
                    "installation_id": inst.pk,
                    "partner_id": inst.partner_id,
                    "status": facts.status,
                    "since": self.to_db(facts.since.replace(tzinfo=None)),
                    "steps": json.dumps(facts.steps),
                    "reasons": json.dumps(facts.reasons),
                }
            )
        )

    def take(self) -> tuple[list[list], dict[tuple, list[int]]]:
        """The jobs and flows counted since the last take (a worker's share of a chunk)."""
        taken = self.pending, dict(self.flows)
        self.pending, self.flows = [], defaultdict(_no_flow)
        return taken

    def add_flows(self, flows: dict[tuple, list[int]]) -> None:
        for key, (entered, left) in flows.items():
            counted = self.flows[key]
            counted[0] += entered
            counted[1] += left

    def write_totals(self, batch: int) -> dict[str, int]:
        """The counter tables. The status flows (a row per partner, day and status: bounded by
        the calendar) from memory; the step and reason counters are sums over the jobs' facts,
        which the database has just stored, so it sums them (GROUP BY over the JSON arrays):
        the generator's memory does not grow with the per-handyman keys."""
        counts = {}
        with transaction.atomic():
            table = RawTable(DashboardStatusDay, skip=("id",))
            # In key order, which is the order of the table's unique index: its B-tree is
            # appended to instead of split at random places.
            rows = (
                table.row(
                    {
                        "partner_id": key[0],
                        "day": key[1].isoformat(),
                        "status": key[2],
                        "entered": self.flows[key][0],
                        "left": self.flows[key][1],
                    }
                )
                for key in sorted(self.flows)
            )
            for chunk in batched(rows, batch):
                table.write(chunk)
            counts[DashboardStatusDay._meta.db_table] = len(self.flows)
            self.flows.clear()
            with connection.cursor() as cursor:
                for model, sql in summed_counters(connection.vendor):
                    cursor.execute(sql)
                    counts[model._meta.db_table] = cursor.rowcount
        return counts


def _no_flow() -> list[int]:
    return [0, 0]


def summed_counters(vendor: str) -> list[tuple[type, str]]:
    """INSERT ... SELECT of each step and reason counter from DashboardJob's facts, keyed and
    ordered as its unique index: the sums `dashboard_rebuild` makes of the same facts (in this
    order: the weekly counters are summed from the per-handyman ones). A fact is counted as a
    whole JSON element, taken apart once per key afterwards: 84 -> 69 s at 10 M on PostgreSQL,
    against taking every element apart first."""
    if vendor == "postgresql":
        element, each = "j.fact ->> {}", "jsonb_array_elements(j.{}) s"
        casts = {"date": "({})::date", "int": "({})::integer"}
    else:
        element, each = "json_extract(j.fact, '$[{}]')", "json_each(j.{}) s"
        casts = {"date": "{}", "int": "{}"}

    def part(i: int, cast: str | None = None) -> str:
        return casts[cast].format(element.format(i)) if cast else element.format(i)

    def facts(field: str) -> str:
        return (
            f"j.count FROM (SELECT j.partner_id, s.value AS fact, COUNT(*) AS count "
            f"FROM {DashboardJob._meta.db_table} j, {each.format(field)} GROUP BY 1, 2) j"
        )

    step_keys = ["week", "step", "bucket"]
    shapes = [
        (
            DashboardStepHandymanWeek,
            ["week", "handyman_id", "step", "bucket"],
            [part(1, "date"), part(2, "int"), part(0), part(3, "int")],
            facts("steps"),
        ),
        # Every handyman's counters of a week summed: the JSON is read once, not twice.
        (
            DashboardStepWeek,
            step_keys,
            step_keys,
            f"SUM(j.count) FROM {DashboardStepHandymanWeek._meta.db_table} j GROUP BY 1, 2, 3, 4",
        ),
        (
            DashboardReasonWeek,
            ["week", "outcome", "reason"],
            [part(1, "date"), part(0), part(2)],
            facts("reasons"),
        ),
    ]
    out = []
    for model, columns, values, counted in shapes:
        keys = ", ".join(str(i) for i in range(1, len(values) + 2))
        out.append(
            (
                model,
                f"INSERT INTO {model._meta.db_table} (partner_id, {', '.join(columns)}, count) "
                f"SELECT j.partner_id, {', '.join(values)}, {counted} ORDER BY {keys}",
            )
        )
    return out


@contextmanager
def sqlite_bulk_mode() -> Iterator[None]:
    """SQLite during the load only: no rollback journal and no fsync (a failed generation is
    thrown away, never repaired), a bigger page cache for the index builds. The settings' WAL
    mode is a property of the file, so it is put back for the benchmark that reads it."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (mode,) = cursor.fetchone()
        cursor.execute("PRAGMA synchronous")
        (synchronous,) = cursor.fetchone()
        cursor.execute("PRAGMA journal_mode = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
        cursor.execute("PRAGMA temp_store = MEMORY")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA journal_mode = {mode}")
            cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")


_MAKER: Generator | None = None


def _make_chunk(k: int) -> tuple[list, list, list, dict[tuple, list[int]]]:
    """A worker's task; it never touches the database (the connection it inherited by the fork
    belongs to the parent)."""
    return _MAKER.chunk(k)


class Generator:
    def __init__(
        self,
        rows: int,
        batch: int,
        seed: int,
        now: datetime | None = None,
        rollups: str = "inline",
        workers: int = 0,
    ) -> None:
        self.rows = rows
        self.batch = batch
        self.seed = seed
        self.workers = workers
        self.rnd = random.Random(seed)
        # The run's clock (pinned by --now so that two runs can be compared row by row).
        self.now = now or datetime.now(UTC)
        self.today = timezone.localdate(self.now)
        self.pg = connection.vendor == "postgresql"
        # "inline": counted while the rows are made; "rebuild": dashboard_rebuild() at the end
        # (the old path, kept for the equivalence test).
        self.rollups = Rollups(self.dt) if rollups == "inline" else None
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}

    # --- helpers ---------------------------------------------------------------------------

    def insert(self, label: str, model, objects: Iterator) -> None:
        started = clock.perf_counter()
        n = 0
        for chunk in batched(objects, self.batch):
            with transaction.atomic():
                model.objects.bulk_create(chunk, batch_size=self.batch)
            n += len(chunk)
        self.counts[label] = self.counts.get(label, 0) + n
        self.timings[label] = self.timings.get(label, 0.0) + clock.perf_counter() - started

    def name(self) -> str:
        rnd = self.rnd
        last = SEARCH_TERM if rnd.random() < 0.0025 else rnd.choice(LAST)
        return f"{rnd.choice(FIRST)} {last}"

    def address(self) -> str:
        rnd = self.rnd
        return f"{rnd.randint(1, 250)} {rnd.choice(STREETS)}, {rnd.choice(TOWNS)}"

    # --- the cast --------------------------------------------------------------------------

    def partners(self) -> None:
        rnd = self.rnd
        big_rows = round(self.rows * BIG_SHARE)
        weights = [rnd.uniform(0.3, 1.7) for _ in range(PARTNERS - 1)]
        total = sum(weights)
        rest = self.rows - big_rows
        sizes = [big_rows] + [int(rest * w / total) for w in weights]
        sizes[1] += self.rows - sum(sizes)  # rounding
        self.sizes = sizes
        names = ["Big Installs Ltd"] + [f"Partner {i:03d}" for i in range(1, PARTNERS)]
        self.insert(
            "partners",
            Partner,
            (
                Partner(id=i + 1, name=name, email=f"office{i + 1}@example.com")
                for i, name in enumerate(names)
            ),
        )
        self.partner_ids = [i + 1 for i in range(PARTNERS)]
        self.big_partner_id = 1

    def users(self) -> None:
        rnd = self.rnd
        # Handymen: 150 for the big partner, 3..12 for each of the others; some serve two.
        self.handymen_of: dict[int, list[int]] = {}
        hid = 0
        links = []
        for pid in self.partner_ids:
            n = BIG_HANDYMEN if pid == self.big_partner_id else rnd.randint(3, 12)
            self.handymen_of[pid] = list(range(hid + 1, hid + n + 1))
            hid += n
        self.handyman_count = hid
        for pid, ids in self.handymen_of.items():
            links += [(h, pid) for h in ids]
        # One in ten handymen also works for a second partner (who can then assign him).
        for h in range(1, hid + 1, 10):
            other = rnd.choice(self.partner_ids)
            if (h, other) not in links:
                links.append((h, other))
                self.handymen_of[other].append(h)

        unusable = "!bench-no-password"
        users = []
        for pid in self.partner_ids:
            users.append(
                User(
                    id=pid,
                    username=f"partner{pid}",
                    first_name="Office",
                    last_name=f"{pid}",
                    password=unusable,
                )
            )
        for h in range(1, hid + 1):
            first, last = self.name().split(" ", 1)
            users.append(
                User(
                    id=1000 + h,
                    username=f"handyman{h}",
                    first_name=first,
                    last_name=last,
                    password=unusable,
                )
            )
        users.append(
            User(
                id=999,
                username="bench-root",
                is_staff=True,
                is_superuser=True,
                password=unusable,
            )
        )
        self.insert("users", User, iter(users))
        self.insert(
            "partner users",
            PartnerUser,
            (PartnerUser(id=pid, user_id=pid, partner_id=pid) for pid in self.partner_ids),
        )
        self.insert(
            "handymen",
            Handyman,
            (
                Handyman(id=h, user_id=1000 + h, phone=f"+44 7700 9{h:05d}")
                for h in range(1, hid + 1)
            ),
        )
        through = Handyman.partners.through
        self.insert(
            "handyman-partner links",
            through,
            (through(handyman_id=h, partner_id=p) for h, p in links),
        )

    def customers(self) -> None:
        self.customer_range: dict[int, tuple[int, int]] = {}
        start = 1
        for pid, size in zip(self.partner_ids, self.sizes, strict=True):
            n = max(1, int(size * CUSTOMERS_PER_INSTALLATION))
            self.customer_range[pid] = (start, n)
            start += n
        table = RawTable(Customer)
        now = self.dt(self.now.astimezone(UTC).replace(tzinfo=None))
        started = clock.perf_counter()
        total = 0
        chunk: list[list] = []
        for pid, (first, n) in self.customer_range.items():
            for cid in range(first, first + n):
                name = self.name()
                chunk.append(
                    table.row(
                        {
                            "id": cid,
                            "partner_id": pid,
                            "name": name,
                            "phone": f"07{self.rnd.randint(100000000, 999999999)}",
                            "email": f"{name.replace(' ', '.').lower()}{cid}@example.com",
                            "address": self.address(),
                            "created_at": now,
                        }
                    )
                )
                if len(chunk) >= self.batch:
                    with transaction.atomic():
                        table.write(chunk)
                    total += len(chunk)
                    chunk = []
        if chunk:
            with transaction.atomic():
                table.write(chunk)
            total += len(chunk)
        self.counts["customers"] = total
        self.timings["customers"] = clock.perf_counter() - started

    # --- installations and their history ---------------------------------------------------

    def dt(self, value: datetime) -> str:
        """A naive UTC datetime as the database stores it."""
        text = value.isoformat(" ")
        return text + "+00:00" if self.pg else text

    def installation(self, iid: int, pid: int) -> tuple[list, list[list]]:
        rnd = self.rnd
        offset = rnd.randint(-700, 30)  # two years back, a month ahead
        day = self.today + timedelta(days=offset)
        if offset > 0:
            status = PICK["future"](rnd)
        elif offset == 0:
            status = PICK["today"](rnd)
        elif offset >= -30:
            status = PICK["recent"](rnd)
        else:
            status = PICK["old"](rnd)
        first, n = self.customer_range[pid]
        start, end = rnd.choice(WINDOWS)
        created = datetime.combine(day, time(9, rnd.randint(0, 59))) - timedelta(
            days=rnd.randint(2, 40)
        )
        dt = self.dt
        moments = {"created_at": created}
        values: dict = {
            "id": iid,
            "partner_id": pid,
            "customer_id": first + rnd.randrange(n),
            "site_address": self.address(),
            "scheduled_date": day.isoformat(),
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "status": status,
            "created_at": dt(created),
        }
        updated = created
        stages = 0
        if status in HAPPY_PATH and status != S.SCHEDULED:
            values["handyman_id"] = rnd.choice(self.handymen_of[pid])
            at = datetime.combine(day, start) - timedelta(days=1)
            for step in HAPPY_PATH[1 : HAPPY_PATH.index(status) + 1]:
                values[STAMP_OF[step]] = dt(at)
                moments[STAMP_OF[step]] = at
                updated = at
                stages += 1
                at = datetime.combine(day, start) if step == S.INSTALLER_ASSIGNED else at
                at += timedelta(hours=1)
            if status == S.EN_ROUTE:
                values["eta_minutes"] = 30
        elif status == S.REJECTED:
            updated = created + timedelta(hours=3)
            values["rejected_at"] = dt(updated)
            moments["rejected_at"] = updated
            values["rejection_reason"] = "Outside our service area."
            stages = 1
        elif status == S.CANCELLED:
            updated = created + timedelta(days=1)
            values["cancelled_at"] = dt(updated)
            moments["cancelled_at"] = updated
            values["cancellation_reason"] = "Customer cancelled by phone."
            stages = 1
        values["updated_at"] = dt(updated)
        values["version"] = 1 + stages
        row = self.inst_table.row(values)
        rollups = self.rollups
        if rollups is not None:
            moments["updated_at"] = updated
            rollups.job(values, moments, day, start, end)
            rollups.flow(pid, created, "", S.SCHEDULED)

        actor = {"actor_id": pid, "actor_name": f"Office {pid}", "installation_id": iid}
        history = [
            self.hist_table.row(
                {
                    **actor,
                    "kind": StatusChange.Kind.CREATED,
                    "to_status": S.SCHEDULED,
                    "created_at": dt(created),
                }
            )
        ]
        if status != S.SCHEDULED:
            # The latest stage always; every stage for the last month's jobs (still being read).
            if status in HAPPY_PATH:
                path = HAPPY_PATH[: HAPPY_PATH.index(status) + 1]
                pairs = list(zip(path, path[1:], strict=False))
                if offset < -30:
                    pairs = pairs[-1:]
            else:
                pairs = [(S.SCHEDULED, status)]
            for before, after in pairs:
                if rollups is not None:
                    rollups.flow(pid, updated, before, after)
                history.append(
                    self.hist_table.row(
                        {
                            **actor,
                            "kind": StatusChange.Kind.TRANSITION,
                            "from_status": before,
                            "to_status": after,
                            "created_at": dt(updated),
                        }
                    )
                )
        return row, history

    def chunk(self, k: int) -> tuple[list, list, list, dict[tuple, list[int]]]:
        """The installations of the k-th batch, their history, dashboard jobs and status flows.
        Each batch draws from its own generator seeded by (seed, k): the data set is the same
        whichever process makes which batch, and however many processes there are."""
        self.rnd = rnd = random.Random(f"{self.seed}:{k}")
        first = 1 + k * self.batch
        rows, history = [], []
        for iid in range(first, min(first + self.batch, self.rows + 1)):
            pid = self.partner_ids[bisect(self.cum, rnd.random() * self.cum[-1])]
            row, entries = self.installation(iid, pid)
            rows.append(row)
            history.extend(entries)
        jobs, flows = self.rollups.take() if self.rollups is not None else ([], {})
        return rows, history, jobs, flows

    def installations(self) -> None:
        self.inst_table = RawTable(Installation)
        self.hist_table = RawTable(StatusChange, skip=("id",))  # the database numbers them
        self.cum = list(accumulate(self.sizes))
        started = clock.perf_counter()
        n_inst = n_hist = 0
        for rows, history, jobs, flows in self.chunks():
            # In batch order, so that the history's database-numbered ids are the same on
            # every run.
            with transaction.atomic():
                self.inst_table.write(rows)
                self.hist_table.write(history)
                if self.rollups is not None:
                    self.rollups.jobs.write(jobs)
                    self.rollups.add_flows(flows)
            n_inst += len(rows)
            n_hist += len(history)
            if (n_inst // self.batch) % 10 == 0 or n_inst == self.rows:
                rate = n_inst / (clock.perf_counter() - started)
                print(
                    f"  {n_inst:>9} installations, {rate:,.0f}/s, peak RSS {peak_rss_mb():.0f} MB",
                    file=sys.stderr,
                    flush=True,
                )
        self.counts["installations"] = n_inst
        self.counts["history entries"] = n_hist
        self.timings["installations + history"] = clock.perf_counter() - started

    def chunks(self) -> Iterator[tuple[list, list, list, dict[tuple, list[int]]]]:
        """The batches in order: made here (workers=0), or by worker processes while this one
        writes the batches before them. A 2-core machine then spends one core making rows and
        the other writing them (and the database server's share), instead of taking turns; at
        most WINDOW batches wait in memory, whatever the row count."""
        count = -(-self.rows // self.batch)
        if self.workers == 0:
            yield from (self.chunk(k) for k in range(count))
            return
        global _MAKER
        _MAKER = self  # the workers are forked: they inherit the generator as it is now
        window = 2 * self.workers
        with multiprocessing.get_context("fork").Pool(self.workers) as pool:
            pending: deque = deque()
            for k in range(count):
                pending.append(pool.apply_async(_make_chunk, (k,)))
                if len(pending) >= window:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
            pool.close()
            pool.join()  # reaped: their CPU time is in RUSAGE_CHILDREN

    def long_history(self) -> int:
        """One record of the big partner with 50 history entries (reassigned many times)."""
        inst = (
            Installation.objects.filter(partner_id=self.big_partner_id, status=S.INSTALLER_ASSIGNED)
            .order_by("id")
            .first()
        )
        if inst is None:
            inst = (
                Installation.objects.filter(partner_id=self.big_partner_id).order_by("id").first()
            )
        existing = StatusChange.objects.filter(installation=inst).count()
        base = inst.created_at
        StatusChange.objects.bulk_create(
            StatusChange(
                installation_id=inst.pk,
                kind=StatusChange.Kind.TRANSITION,
                transition="reassign",
                from_status=S.INSTALLER_ASSIGNED,
                to_status=S.INSTALLER_ASSIGNED,
                actor_id=self.big_partner_id,
                actor_name=f"Office {self.big_partner_id}",
                reason="Handyman off sick." if i % 3 == 0 else "",
                created_at=base + timedelta(hours=i + 1),
            )
            for i in range(50 - existing)
        )
        return inst.pk

    def rollup_totals(self) -> None:
        """The dashboard's counters, as the service layer would have kept them (issue 15)."""
        if self.rollups is not None:
            started = clock.perf_counter()
            self.counts.update(self.rollups.write_totals(self.batch))
            self.timings["dashboard rollups"] = clock.perf_counter() - started

    def finish(self) -> None:
        started = clock.perf_counter()
        # Explicit ids were inserted: move PostgreSQL's sequences past them.
        models = [User, Partner, PartnerUser, Handyman, Customer, Installation, StatusChange]
        models.append(Handyman.partners.through)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
        services.recount_partner_statuses()
        self.timings["recount_partner_statuses"] = clock.perf_counter() - started
        started = clock.perf_counter()
        if self.rollups is None:  # the old path: read back from the rows (issue 15)
            dashboard_rebuild()
            self.timings["dashboard rollups"] = clock.perf_counter() - started
        started = clock.perf_counter()
        with connection.cursor() as cursor:
            # What autovacuum / a periodic ANALYZE would have done on a live database.
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        self.timings["vacuum/analyze"] = clock.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS", 1_000_000)))
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--meta", type=Path, required=True, help="where to write the JSON summary")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        help="the run's clock as an aware ISO datetime (default: now); pins the data set",
    )
    parser.add_argument(
        "--rollups",
        choices=["inline", "rebuild"],
        default="inline",
        help="count the dashboard rollups while generating, or rebuild them after (the old path)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=min(os.cpu_count() or 1, 2),
        help="processes making the installations while this one writes them (0: none); the "
        "data set does not depend on it",
    )
    args = parser.parse_args()

    started = clock.perf_counter()
    gen = Generator(
        args.rows, args.batch, args.seed, now=args.now, rollups=args.rollups, workers=args.workers
    )
    with sqlite_bulk_mode():
        gen.partners()
        gen.users()
        with indexes_built_after([Customer, Installation, StatusChange, DashboardJob]):
            gen.customers()
            gen.installations()
            gen.rollup_totals()  # still in the bulk load: no foreign-key trigger per counter
            index_started = clock.perf_counter()
        gen.timings["index build"] = clock.perf_counter() - index_started
        long_id = gen.long_history()
        gen.finish()
    elapsed = clock.perf_counter() - started
    total_rows = sum(gen.counts.values())
    busy = (
        Installation.objects.filter(partner_id=gen.big_partner_id, handyman__isnull=False)
        .filter(status__in=[S.INSTALLER_ASSIGNED, S.EN_ROUTE, S.INSTALLATION_IN_PROGRESS])
        .values("handyman_id")
        .annotate(n=django.db.models.Count("*"))
        .order_by("-n")
        .first()
    )
    summary = {
        "rows": args.rows,
        "batch": args.batch,
        "vendor": connection.vendor,
        "seconds": round(elapsed, 1),
        "rows_total": total_rows,
        "rows_per_second": round(total_rows / elapsed),
        "installations_per_second": round(
            gen.counts["installations"] / gen.timings["installations + history"]
        ),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "workers": args.workers,
        "worker_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        # The generator's own CPU, its workers' included (the database server's is not in it):
        # on a shared machine the wall clock says as much about the neighbours as the code.
        "cpu_seconds": round(
            sum(
                sum(resource.getrusage(who)[:2])
                for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            ),
            1,
        ),
        "counts": gen.counts,
        "timings": {k: round(v, 1) for k, v in gen.timings.items()},
        "big_partner_id": gen.big_partner_id,
        "big_partner_rows": gen.sizes[0],
        "big_partner_user": f"partner{gen.big_partner_id}",
        "superuser": "bench-root",
        "long_history_id": long_id,
        "busy_handyman_id": busy["handyman_id"] if busy else gen.handymen_of[1][0],
        "busy_handyman_active": busy["n"] if busy else 0,
        "search_term": SEARCH_TERM,
    }
    args.meta.write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
