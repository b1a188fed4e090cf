"""Writing installations as CSV for spreadsheets, streamed: rows are read from the database in
chunks and written out as they come, so that memory stays flat whatever the number of rows."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from datetime import tzinfo
from itertools import chain
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ..statuses import GROUP_OF_STATUS, Status

HEADER = (
    "id",
    "customer",
    "phone",
    "email",
    "site address",
    "date",
    "window",
    "handyman",
    "status",
    "status group",
    "created",
    "last change",
    "reasons",
    "partner reference",
)
CHUNK_ROWS = 2000  # rows fetched per round trip, and written per chunk of the response

# Characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# Text that Excel and LibreOffice read as a number or a date when they open a CSV, and then show
# otherwise: leading zeros dropped (07700900123 → 7700900123), twelve digits or more in
# scientific notation and cut to 15 digits, day and month pairs made dates (3-4 → 03-Apr),
# exponents read as numbers (1E5 → 100000), decimals' trailing zeros dropped (1.50 → 1.5).
_READ_AS_NUMBER = re.compile(
    r"0\d+|\d{12,}|\d+[eE]\d+|\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?", re.ASCII
)


class Literal(str):
    """A cell written as a spreadsheet string literal (`="00123"`): neutralise leaves it."""


def keep_as_text(value: Any) -> Any:
    """`="00123"` for a typed-in text a spreadsheet would change into a number or a date: a
    formula whose result is exactly that text, the idiom the import reads back
    (validation.string_literal). Only digits and separators are ever wrapped, so no quote or
    other formula can get into it; any other value is left as it is."""
    if isinstance(value, str) and _READ_AS_NUMBER.fullmatch(value):
        return Literal(f'="{value}"')
    return value


def neutralise(value: Any) -> Any:
    """A typed-in value a spreadsheet would run as a formula (`=HYPERLINK(…)`, `@SUM(…)`,
    `-cmd|…`) gets a leading ' so that it is shown as text. Phone numbers starting with + get it
    too: the rule is the simple one that cannot be talked around."""
    if isinstance(value, Literal):
        return value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# What each row reads: plain values, never model instances (building four instances a row, with
# the state machine's bookkeeping, took most of the export's time).
COLUMNS = (
    "pk",
    "customer__name",
    "customer__phone",
    "customer__email",
    "site_address",
    "scheduled_date",
    "window_start",
    "window_end",
    "handyman__user__first_name",
    "handyman__user__last_name",
    "handyman__user__username",
    "status",
    "created_at",
    "updated_at",
    "rejection_reason",
    "cancellation_reason",
    "partner_reference",
)
STATUS_LABELS = dict(Status.choices)
GROUP_LABELS = {status: group.label for status, group in GROUP_OF_STATUS.items()}


def row(values: tuple[Any, ...], zone: tzinfo) -> list[Any]:
    """One line of the export from the COLUMNS of one installation."""
    (
        pk,
        name,
        phone,
        email,
        site,
        day,
        start,
        end,
        first,
        last,
        username,
        status,
        created,
        changed,
        rejection,
        cancellation,
        reference,
    ) = values
    # As Handyman.display_name says it: the full name, else the username.
    handyman = f"{first or ''} {last or ''}".strip() or (username or "")
    text = keep_as_text  # the typed-in columns; the id, the date and the times stay values
    return [
        pk,
        text(name),
        text(phone),
        text(email),
        text(site),
        day.isoformat(),
        f"{start:%H:%M}-{end:%H:%M}",
        text(handyman),
        STATUS_LABELS.get(status, status),
        GROUP_LABELS.get(status, ""),
        created.astimezone(zone).strftime("%Y-%m-%d %H:%M") if created else "",
        changed.astimezone(zone).strftime("%Y-%m-%d %H:%M") if changed else "",
        text(" / ".join(r for r in (rejection, cancellation) if r)),
        text(reference),
    ]


class _Line:
    """A file-like object whose write() hands back what csv.writer wrote."""

    def write(self, value: str) -> str:
        return value


def lines_of(rows: Iterable[list[Any]]) -> Iterator[str]:
    """The BOM (so that Excel reads UTF-8 and accented names come out right), then the rows,
    neutralised, in chunks of CHUNK_ROWS lines (one write per chunk, not per row)."""
    writer = csv.writer(_Line())
    yield codecs.BOM_UTF8.decode()
    chunk: list[str] = []
    for values in rows:
        chunk.append(writer.writerow([neutralise(value) for value in values]))
        if len(chunk) >= CHUNK_ROWS:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def lines(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    zone = timezone.get_current_timezone()
    yield from lines_of(chain([list(HEADER)], (row(values, zone) for values in rows)))


def stream(queryset: QuerySet) -> Iterator[bytes]:
    """The whole export, read with a database cursor in chunks (server-side on PostgreSQL) from
    a queryset of COLUMNS (selectors.export_queryset)."""
    for text in lines(queryset.iterator(chunk_size=CHUNK_ROWS)):
        yield text.encode("utf-8")
