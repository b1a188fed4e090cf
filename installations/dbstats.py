"""The planner's statistics across a migration that rebuilds an index (SQLite).

SQLite keeps one `sqlite_stat1` row per analysed index and drops it with the index. A database
that was analysed (the bench's, or any site that runs ANALYZE) then has statistics for every
index but the rebuilt one, and the planner takes an index without statistics for a very
selective one: after migration 0017 the unfiltered list chose `inst_partner_handyman` for
`partner_id = ?` and sorted the big partner's 300,000 rows (1.3 s instead of 18 ms). PostgreSQL
keeps its statistics per column, so a rebuilt index loses nothing there.
"""

from __future__ import annotations


def reanalyze_rebuilt_indexes(schema_editor, table: str, *indexes: str) -> None:
    """ANALYZE `indexes` again if `table` had statistics (SQLite only). A table never analysed
    is left so: statistics for one index alone would mislead the planner the other way."""
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return
        cursor.execute("SELECT 1 FROM sqlite_stat1 WHERE tbl = %s LIMIT 1", [table])
        if cursor.fetchone() is None:
            return
        for index in indexes:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(index)}")
