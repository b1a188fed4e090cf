"""The partner list's text search: which installations of one partner match a piece of text.

Customer name, phone, email or address, or the site address, containing the text, case-folded.
PostgreSQL answers `icontains` from trigram GIN indexes (migration 0003). SQLite has no index for
a match in the middle of a value, so there an FTS5 table with the `trigram` tokenizer (SQLite
3.34+) stands in for each searched table, kept in step by triggers on every write (migration
0010): whatever writes the rows (services, admin, a bulk load that forgets), the index follows.
The trigram tokenizer needs three characters; a shorter text falls back to `icontains`.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, F, Func, IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL

from .models import Customer, Partner

# The FTS5 tables, the table each one indexes (as external content, so the text is not stored
# twice) and the columns it covers: the same columns the PostgreSQL trigram indexes cover.
CUSTOMER_FIELDS = ("name", "phone", "email", "address")
FTS_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "search_customer_fts": ("installations_customer", CUSTOMER_FIELDS),
    "search_site_fts": ("installations_installation", ("site_address",)),
}
TRIGRAM = 3
# Each FTS table's triggers: after insert, delete and update (_trigger_sql).
TRIGGER_SUFFIXES = ("ai", "ad", "au")


def uses_fts(value: str) -> bool:
    return connection.vendor == "sqlite" and len(value) >= TRIGRAM


def fts_phrase(value: str) -> str:
    """`value` as one FTS5 string: a phrase of trigrams, i.e. a substring match. Quotes are
    doubled, so nothing in the text is read as query syntax (OR, NEAR, *, column filters)."""
    return '"' + value.replace('"', '""') + '"'


def _fts_ids(table: str, value: str) -> RawSQL:
    return RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [fts_phrase(value)])


class Unindexed(Func):
    """`(column + 0)`: the same value, but no index on the column can answer a condition on it.

    PostgreSQL, asked for a big partner's customers whose name contains a common word, with a
    LIMIT above, walked the customers' partner index and tested every customer of the partner
    (138,000 of them for 339 matches at 10 M installations: 150 ms), or ANDed the trigram
    bitmap with the partner index's million entries (18 ms). The trigram indexes alone find
    the few thousand customers who match anywhere, and the partner is checked on those rows:
    8 ms (issue 20, tests/test_indexes.py)."""

    template = "(%(expressions)s + 0)"
    output_field = IntegerField()


def customer_contains(value: str, prefix: str = "") -> Q:
    """A customer field contains `value` (`icontains`); `prefix` reaches the customer from
    another model (`customer__`)."""
    matched = Q()
    for field in CUSTOMER_FIELDS:
        matched |= Q(**{f"{prefix}{field}__icontains": value})
    return matched


def matching_customers(partner: Partner | int | None, value: str) -> QuerySet:
    """The partner's matching customers (everyone's when `partner` is None: the admin)."""
    customers = Customer.objects.all()
    if partner is not None and connection.vendor == "postgresql":
        owner = getattr(partner, "pk", partner)
        customers = customers.alias(owner=Unindexed(F("partner_id"))).filter(owner=owner)
    elif partner is not None:
        customers = customers.filter(partner=partner)
    if uses_fts(value):
        return customers.filter(pk__in=_fts_ids("search_customer_fts", value))
    return customers.filter(customer_contains(value))


def bounded_fts_ids(partner: Partner | int | None, value: str, limit: int) -> RawSQL:
    """The ids of at most `limit` of the partner's installations (everyone's when `partner` is
    None: the admin) matching by customer, and at most `limit` matching by site (SQLite, three
    characters or more). Each half is read from its FTS table joined to the installations and
    stops at `limit`: `id IN (SELECT rowid ...)` would first list every match of every partner
    (issue 20: 700 ms for "Road" at 200,000 rows, 25 ms this way). A half that reaches `limit`
    proves there are at least that many."""
    phrase = fts_phrase(value)
    if partner is None:
        theirs = mine = ""
        params: list = []
    else:
        # The customer half keeps the partner's customers and then takes their jobs from the
        # customer index alone: a job's partner is its customer's (services.create_installation
        # and the admin's form refuse any other), and every caller reads the rows it is given
        # under the partner again. Checking each job's partner here read the table once per
        # job of every partner's matching customer (a surname: 2,400 rows for 760 kept; the
        # search's count query 5.5 -> 2.7 ms at a million rows).
        # (`+`: the customer is read by its id and checked, never looked for by partner.)
        theirs = " JOIN installations_customer c ON c.id = f.rowid AND +c.partner_id = %s"
        mine = " AND i.partner_id = %s"
        params = [getattr(partner, "pk", partner)]
    return RawSQL(
        f"SELECT id FROM (SELECT i.id FROM search_customer_fts f{theirs}"
        " JOIN installations_installation i ON i.customer_id = f.rowid"
        " WHERE search_customer_fts MATCH %s LIMIT %s)"
        " UNION SELECT id FROM (SELECT i.id FROM search_site_fts f"
        " JOIN installations_installation i ON i.id = f.rowid"
        f" WHERE search_site_fts MATCH %s{mine} LIMIT %s)",
        [*params, phrase, limit, phrase, *params, limit],
    )


def matching_sites(installations: QuerySet, value: str) -> QuerySet:
    if uses_fts(value):
        return installations.filter(pk__in=_fts_ids("search_site_fts", value))
    return installations.filter(site_address__icontains=value)


# --- Keeping the FTS tables in step (SQLite only) -----------------------------------------------


def _trigger_sql(fts: str, table: str, columns: tuple[str, ...]) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {fts} ({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts} (rowid, {cols}) VALUES (new.id, {new});"
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        # Only when a searched column changes: a status change does not touch the index.
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN {delete} {insert} END",
    ]


def create_fts(cursor) -> None:
    for fts, (table, columns) in FTS_TABLES.items():
        cursor.execute(
            f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, "
            f"content='{table}', content_rowid='id', tokenize='trigram')"
        )
        _follow(cursor, fts, table, columns)


def _follow(cursor, fts: str, table: str, columns: tuple[str, ...]) -> None:
    """The FTS table's triggers, and its index rebuilt from the rows once."""
    for sql in _trigger_sql(fts, table, columns):
        cursor.execute(sql)
    cursor.execute(f"INSERT INTO {fts} ({fts}) VALUES ('rebuild')")


def ensure_fts(cursor) -> list[str]:
    """Put back the triggers of any FTS table that lost some, and rebuild its index; return
    those tables. On SQLite, a migration that adds a column rebuilds the whole table (create,
    copy, drop, rename), and the triggers go with the old one: migration 0019 left the site
    search blind to every new or edited address. Run after every `migrate` (apps.py)."""
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    triggers = {name for (name,) in cursor.fetchall()}
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    tables = {name for (name,) in cursor.fetchall()}
    repaired = []
    for fts, (table, columns) in FTS_TABLES.items():
        wanted = {f"{fts}_{suffix}" for suffix in TRIGGER_SUFFIXES}
        if fts not in tables or wanted <= triggers:
            continue
        drop_triggers(cursor, fts)
        _follow(cursor, fts, table, columns)
        repaired.append(fts)
    return repaired


def drop_fts(cursor) -> None:
    for fts in FTS_TABLES:
        drop_triggers(cursor, fts)
        cursor.execute(f"DROP TABLE IF EXISTS {fts}")


def drop_triggers(cursor, fts: str) -> None:
    for suffix in TRIGGER_SUFFIXES:
        cursor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")


def suspend_fts(cursor) -> None:
    """For a bulk load: no per-row trigger work; `resume_fts` rebuilds the index once."""
    for fts in FTS_TABLES:
        drop_triggers(cursor, fts)


def resume_fts(cursor) -> None:
    for fts, (table, columns) in FTS_TABLES.items():
        _follow(cursor, fts, table, columns)


# --- Choosing one customer (the new-installation form) ------------------------------------------


# A common text ("Road", "a") is in the first customers of the partner: testing this many of them
# first answers it without the trigram index's bitmap of half the table (320 ms for "Road" at a
# million installations on PostgreSQL), while a rarer text, not filled from them, is then found
# through the index, which is quick for a rare text.
PICKER_WALK = 2000


def first_customers(partner: Partner | int, value: str, limit: int) -> list[Customer]:
    """The `limit` oldest (lowest id) of the partner's customers matching `value`, oldest first,
    found without listing every match: a big partner has 100,000 customers, and "Road" is in
    half of their addresses. On SQLite the FTS table is read joined to the customers and stops
    at `limit`; elsewhere the partner's first customers are tested, and then, if they do not
    fill `limit`, the list's own customer search (its trigram indexes). Every path takes the
    same customers for the same text: "ok" and "okafor" must not offer two different tens."""
    owner = getattr(partner, "pk", partner)
    if uses_fts(value):
        ids = RawSQL(
            "SELECT id FROM (SELECT c.id FROM search_customer_fts f"
            " JOIN installations_customer c ON c.id = f.rowid AND +c.partner_id = %s"
            # FTS5 hands its rows over by rowid (the customer's id): no sort.
            " WHERE search_customer_fts MATCH %s ORDER BY f.rowid LIMIT %s)",
            [owner, fts_phrase(value), limit],
        )
        return list(Customer.objects.filter(pk__in=ids).order_by("pk"))
    if not connection.features.supports_slicing_ordering_in_compound:
        # SQLite below three characters: no index finds the text, so the partner's customers
        # are tested until `limit` match. In id order, as every other path: the customers'
        # own order (by name) took the first by name. The partner index holds one partner's
        # rows in id order, so nothing is sorted and the scan still stops at `limit`.
        return list(matching_customers(owner, value).order_by("pk")[:limit])
    window = Customer.objects.filter(partner=owner).order_by("pk").values("pk")[:PICKER_WALK]
    # Oldest first in both halves: the same text shows the same customers every time (a hash
    # join hands rows over in no fixed order, so "the first ten" changed between two asks).
    walked = Customer.objects.filter(pk__in=window).filter(customer_contains(value)).order_by("pk")
    # One query, as many rows as it needs: the index's half runs only when the walk did not
    # find `limit` (an uncorrelated EXISTS, which PostgreSQL checks once before that half).
    filled = Exists(walked.values("pk")[limit - 1 : limit])
    indexed = matching_customers(owner, value).filter(~filled).order_by("pk")
    rows = walked[:limit].union(indexed[:limit], all=True)
    return sorted({c.pk: c for c in rows}.values(), key=lambda c: c.pk)[:limit]
