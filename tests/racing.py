"""Real threads with their own database connections, started together: the races the
concurrency tests run on both databases (PostgreSQL: row locks; SQLite: the write lock every
transaction takes at BEGIN IMMEDIATE, settings.DATABASES)."""

from __future__ import annotations

import threading

from django.db import connections


def race(n: int, action) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = action(i)
        except Exception as exc:  # the outcome is what we check
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results
