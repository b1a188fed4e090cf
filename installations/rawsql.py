"""Rows read through a plain cursor, with the Python types a queryset would give them.

A few reads compose the ORM's own SQL into a statement it cannot write (the board's lane joins
its columns after a window function; the dashboard's stuck jobs are ranges joined by UNION ALL)
and read it with a cursor. A cursor gives what the driver gives: SQLite's dates, times and
datetimes as text. `row_reader` applies the converters the ORM itself applies, so that no
reader converts by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field


def row_reader(fields: Sequence[Field | None]) -> Callable[[Sequence[Any]], list[Any]]:
    """For a cursor's columns, the model fields they hold (None: a column kept as it is), a
    function that turns one row into a list of values as the ORM would type them."""
    plan = []
    for index, field in enumerate(fields):
        if field is None:
            continue
        column = field.get_col(field.model._meta.db_table)
        converters = [
            *connection.ops.get_db_converters(column),
            *column.get_db_converters(connection),
        ]
        if converters:
            plan.append((index, converters, column))

    def read(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for index, converters, column in plan:
            value = values[index]
            for convert in converters:
                value = convert(value, column, connection)
            values[index] = value
        return values

    return read
