"""Building CSV files for the import tests."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from django.utils import timezone

HEADER = [
    "customer name",
    "phone",
    "email",
    "address",
    "site address",
    "date",
    "window",
    "notes",
    "handyman",
    "partner reference",
]


def day(offset: int = 7) -> date:
    return timezone.localdate() + timedelta(days=offset)


def job(n: int = 1, **overrides: str) -> dict[str, str]:
    """One valid row: customer n, a week ahead, 08:00-10:00."""
    values = {
        "customer name": f"Customer {n}",
        "phone": f"07700 900{n:03d}",
        "email": f"customer{n}@example.com",
        "address": f"{n} High Street, Leeds",
        "site address": "",
        "date": day().isoformat(),
        "window": "08:00-10:00",
        "notes": "",
        "handyman": "",
        "partner reference": "",
    }
    values.update({key.replace("_", " "): value for key, value in overrides.items()})
    return values


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    header: list[str] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
) -> bytes:
    header = header or HEADER
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name.strip().lower().replace("_", " "), "") for name in header])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data
