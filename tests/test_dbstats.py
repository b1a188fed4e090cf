"""A migration that rebuilds an index gives SQLite's planner its statistics back
(installations/dbstats.py): without them the unfiltered list took 1.3 s at a million rows."""

from __future__ import annotations

from types import SimpleNamespace

from django.db import connection

from installations.dbstats import reanalyze_rebuilt_indexes

TABLE = "installations_installation"
INDEX = "inst_partner_handyman"
EDITOR = SimpleNamespace(connection=connection)


def _stat_rows(index: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE idx = %s", [index])
        return cursor.fetchone()[0]


def test_an_analysed_database_gets_the_rebuilt_indexs_statistics_back(cast):
    cast.installation("SCHEDULED")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            # What DROP INDEX did to its row.
            cursor.execute("DELETE FROM sqlite_stat1 WHERE idx = %s", [INDEX])
            assert _stat_rows(INDEX) == 0
        else:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [TABLE])
            before = cursor.fetchone()[0]
    reanalyze_rebuilt_indexes(EDITOR, TABLE, INDEX)
    if connection.vendor == "sqlite":
        assert _stat_rows(INDEX) == 1
    else:
        # PostgreSQL's statistics are per column and survive the rebuild: nothing to do.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = %s", [TABLE])
            assert cursor.fetchone()[0] == before > 0


def test_a_table_never_analysed_is_left_so(cast):
    """Statistics for the one index alone would make the planner trust it over the others."""
    cast.installation("SCHEDULED")
    if connection.vendor != "sqlite":
        reanalyze_rebuilt_indexes(EDITOR, TABLE, INDEX)  # no error, nothing to do
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE auth_user")  # the database has statistics, this table none
        cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = %s", [TABLE])
    reanalyze_rebuilt_indexes(EDITOR, TABLE, INDEX)
    assert _stat_rows(INDEX) == 0
