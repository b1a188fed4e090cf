"""`status IN (…)` written with literal values, so SQLite can use the partial group indexes.

SQLite uses a partial index only when the query's WHERE contains the index's condition as
written; a condition with bound parameters (`status IN (?, ?)`, what Django sends) never
matches, so SQLite walked the whole partner instead (600 ms at 300,000 rows). The values are
our own status constants, never user input: anything else is refused, not quoted.
"""

from __future__ import annotations

import json

from django.db.models import F, Lookup

from .statuses import Status, StatusGroup


class LiteralStatusIn(Lookup):
    lookup_name = "literal_status_in"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = [str(value) for value in self.rhs]
        unknown = set(values) - set(Status.values)
        if unknown or not values:
            raise ValueError(f"Not statuses: {sorted(unknown) or 'none'}")
        # Status values are upper-case identifiers: quoting is exact, no escaping needed.
        if len(values) == 1:
            # An equality, so a (partner, status, date…) index gives the list order.
            return f"{lhs} = '{values[0]}'", lhs_params
        quoted = ", ".join(f"'{value}'" for value in values)
        return f"{lhs} IN ({quoted})", lhs_params


def in_group(group: StatusGroup) -> LiteralStatusIn:
    """The filter for one status group, in the same order as the partial index's condition."""
    return LiteralStatusIn(F("status"), [str(status) for status in group.statuses])


class IdsIn(Lookup):
    """`id IN (…)` for a long list of ids (a search's matches, up to SEARCH_BOUND) sent as one
    parameter: a JSON array read by `json_each` on SQLite, an array on PostgreSQL. Django's
    `__in` compiles, converts and binds each id as a parameter of its own, which cost a search
    page ~1 ms for 760 ids at a million rows (issue 20)."""

    lookup_name = "ids_in"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        ids = [int(pk) for pk in self.rhs]
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::bigint[])", [*lhs_params, ids]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, json.dumps(ids)]
