"""Writing installations as CSV for spreadsheets, streamed: rows are read from the database in
chunks and written out as they come, so that memory stays flat whatever the number of rows."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from ..models import Installation

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


def neutralise(value: Any) -> Any:
    """A typed-in value a spreadsheet would run as a formula (`=HYPERLINK(…)`, `@SUM(…)`,
    `-cmd|…`) gets a leading ' so that it is shown as text. Phone numbers starting with + get it
    too: the rule is the simple one that cannot be talked around."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def row(inst: Installation) -> list[Any]:
    reasons = " / ".join(r for r in (inst.rejection_reason, inst.cancellation_reason) if r)
    return [
        inst.pk,
        inst.customer.name,
        inst.customer.phone,
        inst.customer.email,
        inst.site_address,
        inst.scheduled_date.isoformat(),
        f"{inst.window_start:%H:%M}-{inst.window_end:%H:%M}",
        inst.handyman.display_name if inst.handyman_id else "",
        inst.get_status_display(),
        inst.group.label,
        _when(inst.created_at),
        _when(inst.updated_at),
        reasons,
        inst.partner_reference,
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


def lines(installations: Iterable[Installation]) -> Iterator[str]:
    yield from lines_of(chain([list(HEADER)], (row(inst) for inst in installations)))


def stream(queryset: QuerySet[Installation]) -> Iterator[bytes]:
    """The whole export, read with a database cursor in chunks (server-side on PostgreSQL)."""
    for text in lines(queryset.iterator(chunk_size=CHUNK_ROWS)):
        yield text.encode("utf-8")
