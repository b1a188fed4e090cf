"""The bench generator's fast path makes the same data set as its old path.

The benchmark compares runs, so a faster generator must not change a single row: the same seed,
row count, batch size and clock give the same rows, ids and derived tables (status counters,
dashboard rollups, the SQLite search index), whether one process makes the rows or two. Both
paths run here into two fresh databases (2,000 rows) and every table is compared; the old path
(`--rollups rebuild`: the rollups read back from the rows by `dashboard_rebuild`, as before, the
rows made in one process) is kept callable for this.

What is not compared, and why:
- columns the database stamps with the wall clock of the run (`CLOCK_COLUMNS`): a user's
  `date_joined`, a partner's `created_at`, a migration's `applied`; the generator never sets them;
- the surrogate ids of the dashboard's counter tables (`UNORDERED_IDS`): the old path numbered
  them in the order a GROUP BY or a dict happened to hand them back, so only their keys and
  counts carry meaning (and are compared).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
GENERATE = ROOT / "tests" / "bench" / "generate.py"
ROWS = 2000
NOW = "2026-11-22T10:30:00+00:00"  # pins "today" and the customers' created_at

CLOCK_COLUMNS = {
    "auth_user": {"date_joined"},
    "installations_partner": {"created_at"},
    "django_migrations": {"applied"},
}
UNORDERED_IDS = {
    "installations_dashboardstatusday",
    "installations_dashboardstepweek",
    "installations_dashboardstephandymanweek",
    "installations_dashboardreasonweek",
}
# Tables that must be non-empty, so that the comparison cannot pass on two empty data sets.
FILLED = (
    "installations_customer",
    "installations_installation",
    "installations_statuschange",
    "installations_partnerstatuscount",
    "installations_dashboardjob",
    "installations_dashboardstatusday",
    "installations_dashboardstepweek",
    "installations_dashboardstephandymanweek",
    "installations_dashboardreasonweek",
)


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="tests.bench.settings",
        DJANGO_DEBUG="1",
        DJANGO_SECRET_KEY="bench-equivalence-only",
        PYTHONWARNINGS="ignore",
        PYTHONPATH=str(ROOT),
    )
    env.pop("DJANGO_TIME_ZONE", None)  # both runs in the settings' own time zone
    return env


def migrate(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=_env(database_url),
        check=True,
    )


# The old path makes its rows in one process, the fast one in two worker processes (the batches
# are seeded one by one): the same tables also say the data set does not depend on the workers.
WORKERS = {"rebuild": "0", "inline": "2"}


def generate(database_url: str, rollups: str, meta: Path) -> None:
    subprocess.run(
        [sys.executable, str(GENERATE), "--rows", str(ROWS), "--now", NOW]
        + ["--rollups", rollups, "--batch", "700", "--workers", WORKERS[rollups]]
        + ["--meta", str(meta)],
        cwd=ROOT,
        env=_env(database_url),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def contents(cursor: Any, tables: list[str], columns_of) -> dict[str, list[str]]:
    """Every table's rows (as reprs, sorted), without the columns the module doc names."""
    out: dict[str, list[str]] = {}
    for table in tables:
        skip = set(CLOCK_COLUMNS.get(table, ()))
        if table in UNORDERED_IDS:
            skip.add("id")
        columns = [c for c in columns_of(table) if c not in skip]
        cursor.execute(f'SELECT {", ".join(f""""{c}" """ for c in columns)} FROM "{table}"')
        out[table] = sorted(repr(tuple(row)) for row in cursor.fetchall())
    return out


def sqlite_contents(path: Path) -> dict[str, list[str]]:
    with sqlite3.connect(path) as db:
        cursor = db.cursor()
        tables = [
            name
            for (name,) in cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ).fetchall()
        ]

        def columns_of(table: str) -> list[str]:
            return [row[1] for row in db.execute(f'PRAGMA table_info("{table}")').fetchall()]

        return contents(cursor, tables, columns_of)


def differing(old: dict[str, list[str]], new: dict[str, list[str]]) -> list[str]:
    assert sorted(old) == sorted(new), "the two databases do not have the same tables"
    for table in FILLED:
        assert old[table], f"{table} is empty: nothing would be compared"
    return [table for table in sorted(old) if old[table] != new[table]]


# --- SQLite ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_pair(tmp_path_factory) -> tuple[Path, Path]:
    workdir = tmp_path_factory.mktemp("generate-equivalence")
    template = workdir / "migrated.sqlite3"
    migrate(f"sqlite:///{template}")
    paths = []
    for rollups in ("rebuild", "inline"):
        path = workdir / f"{rollups}.sqlite3"
        shutil.copy(template, path)
        generate(f"sqlite:///{path}", rollups, workdir / f"{rollups}.json")
        paths.append(path)
    return paths[0], paths[1]


def test_the_bulk_path_makes_the_same_sqlite_tables_as_the_old_path(sqlite_pair) -> None:
    old, new = sqlite_pair
    assert differing(sqlite_contents(old), sqlite_contents(new)) == []


def test_the_comparison_notices_one_changed_row(sqlite_pair, tmp_path) -> None:
    old, new = sqlite_pair
    perturbed = tmp_path / "perturbed.sqlite3"
    shutil.copy(new, perturbed)
    with sqlite3.connect(perturbed) as db:
        db.execute(
            "UPDATE installations_dashboardjob SET since = '2001-01-01 00:00:00' "
            "WHERE installation_id = 1234"
        )
    assert differing(sqlite_contents(old), sqlite_contents(perturbed)) == [
        "installations_dashboardjob"
    ]


def test_the_sqlite_search_index_is_compared_too(sqlite_pair) -> None:
    # The FTS5 tables' own storage is part of the data set the search benchmark reads.
    tables = sqlite_contents(sqlite_pair[1])
    assert tables["search_customer_fts_data"]
    assert tables["search_site_fts_data"]


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_bulk_path_makes_the_same_postgres_tables_as_the_old_path(tmp_path) -> None:
    import psycopg
    from django.conf import settings

    base = settings.DATABASES["default"]
    server = f"postgres://{base['USER']}@{base['HOST'] or '127.0.0.1'}:{base['PORT'] or 5432}"
    names = ["gen_equiv_tmpl", "gen_equiv_rebuild", "gen_equiv_inline"]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {names[0]}")
        try:
            migrate(f"{server}/{names[0]}")
            for name in names[1:]:
                admin.execute(f"CREATE DATABASE {name} TEMPLATE {names[0]}")
            generate(f"{server}/{names[1]}", "rebuild", tmp_path / "rebuild.json")
            generate(f"{server}/{names[2]}", "inline", tmp_path / "inline.json")
            found = [pg_contents(f"{server}/{name}") for name in names[1:]]
            assert differing(*found) == []
            with psycopg.connect(f"{server}/{names[2]}", autocommit=True) as db:
                db.execute(
                    "UPDATE installations_installation SET site_address = site_address || 'x' "
                    "WHERE id = 1234"
                )
            assert differing(found[0], pg_contents(f"{server}/{names[2]}")) == [
                "installations_installation"
            ]
        finally:
            for name in names:
                admin.execute(f"DROP DATABASE IF EXISTS {name}")


def pg_contents(url: str) -> dict[str, list[str]]:
    import psycopg

    with psycopg.connect(url) as db:
        cursor = db.cursor()
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [name for (name,) in cursor.fetchall()]

        def columns_of(table: str) -> list[str]:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = 'public' ORDER BY ordinal_position",
                [table],
            )
            return [name for (name,) in cursor.fetchall()]

        return contents(cursor, tables, columns_of)
