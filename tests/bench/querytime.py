"""Query times to the microsecond (Django's query log keeps milliseconds)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def query_clock() -> tuple[list[float], Callable[..., Any]]:
    """A list, and an execute wrapper (`connection.execute_wrapper`) that appends the seconds
    each query took to it. On SQLite rows are read after execute returns: the first ones only."""
    spent: list[float] = []

    def clocked(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - started)

    return spent, clocked
