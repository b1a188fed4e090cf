"""Checking every row of an import before anything is written: the preview shows this report, and
the commit runs it again on the stored file (what was true at the preview may not be now).

A handful of queries whatever the number of rows: the partner's handymen, the customers whose
names appear in the file, their jobs on the file's dates, the references already used, and for
rows naming a handyman his days off and his open jobs on the file's dates.

A row is held to what scheduling holds an assignment to (installations/scheduling/rules.py): a
window that has already ended today and a handyman's day off are errors; a handyman with another
job in an overlapping window that day (booked, or on another row of the file) is a warning, which
the partner confirms before the commit, as in the Assign dialog.

Existing customers are matched on the same partner, the same name (ignoring case and spacing) and
the same phone number (digits compared) or the same email (ignoring case); two rows of the file
for one new customer share one new customer the same way."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone

from ..forms import WINDOWS
from ..models import Customer, Handyman, Installation, Partner
from ..scheduling.rules import (
    busy_jobs,
    conflict_message,
    day_off_message,
    overlapping,
    window_over,
    windows_overlap,
)
from ..scheduling.selectors import days_off
from ..scheduling.text import window_text
from ..statuses import Status
from .reading import COLUMNS, Sheet

# Not counted as an existing job of the same customer, site and date: it will not happen.
_NOT_HAPPENING = (Status.CANCELLED, Status.REJECTED)

MAX_LENGTHS = {
    "customer_name": 120,
    "phone": 32,
    "email": 254,
    "address": 255,
    "site_address": 255,
    "notes": 4000,
    "handyman": 150,
    "partner_reference": 100,
}

# Two-digit years as LibreOffice writes a date cell in its default format (31/05/26, 31.05.26).
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d/%m/%y", "%d.%m.%y")
# A sheet from the United States writes its slashed dates month first (5/31/2026). A sheet is
# read one way throughout: month first when one of its dates can only be read so and none only
# day first (DateOrder). Dotted dates (31.05.2026) are day first wherever they are written.
MONTH_FIRST_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%m/%d/%y", "%d.%m.%y")
_SLASHED = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")
# A date cell formatted with its time (Excel's "31/05/2026 00:00", "2026-05-31 00:00:00" from
# LibreOffice or a program): the day is read and the time left, as with a day number's fraction.
_TIME_OF_DAY = re.compile(r"(?:\s+|T)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?$")
WINDOW_TEXT = ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in WINDOWS.values())
# Hours, and minutes with seconds of :00 allowed (time cells saved as 08:00:00-10:00:00).
_WINDOW = re.compile(
    r"^(\d{1,2})(?:[:.h](\d{2})(?::00)?)?\s*(?:-|–|—|to)\s*(\d{1,2})(?:[:.h](\d{2})(?::00)?)?$",
    re.IGNORECASE,
)
_PHONE = re.compile(r"^[0-9+()\-./\s]+$")
# A phone cell the spreadsheet stored as a number and wrote as one: 7700900123.0, 7.7009E+09.
_PHONE_AS_NUMBER = re.compile(r"\d+\.0+|\d+(?:[.,]\d+)?[eE][+-]?\d+")
_SPACES = re.compile(r"\s+")
_DAY_NUMBER = re.compile(r"^(\d{5})(?:[.,]\d+)?$")
_EXCEL_DAY_ZERO = date(1899, 12, 30)
_DAY_NUMBER_YEARS = (2000, 2099)
# A formula that is one string literal and nothing else: `="00123"`, `="say ""hi"""`.
_STRING_LITERAL = re.compile(r'="((?:[^"]|"")*)"')


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text).strip().casefold()


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def string_literal(cell: str) -> str | None:
    """The text of a cell written as one spreadsheet string literal, `="00123"` -> `00123`;
    None for any other cell. It is how spreadsheet users and Excel exports keep leading zeros
    (a phone number, a reference): the sheet shows exactly the text between the quotes, a
    doubled quote standing for one. Only that shape: `="00"&A1` or `= "00123"` is a formula
    like any other."""
    match = _STRING_LITERAL.fullmatch(cell.strip())
    return match.group(1).replace('""', '"') if match else None


def _cell(value: str) -> str:
    text = string_literal(value)
    if text is not None:
        return text  # exactly what the sheet showed, spaces and all
    value = value.strip()
    # Our own export writes a leading ' before cells a spreadsheet would run: read them back as
    # they were.
    if value[:2] in ("'=", "'+", "'-", "'@"):
        value = value[1:]
    return value


def is_formula(cell: str) -> bool:
    """A cell the file holds as a formula instead of its result (`=SUM(A1:A3)`, `=B2&C2`):
    spreadsheets save results, so such a cell was saved with formulas or written by a program,
    and its text is not the value meant. A string literal (`="00123"`) is no such formula: its
    result is its text (string_literal). A cell starting with `-`, `+` or `@` is text ("- ring
    twice", "@ back door"); the export is what keeps every such cell from running
    (export.neutralise). A leading ' (our export's) makes `=…` text too."""
    return cell.strip().startswith("=") and string_literal(cell) is None


def parse_date(text: str, *, month_first: bool = False) -> date | None:
    """The date the text means, its slashed form read in the sheet's order; a slashed date
    that has only one reading (31/05/2026, 5/31/2026) is read so whatever the order."""
    text = _TIME_OF_DAY.sub("", text.strip())
    first, then = (
        (MONTH_FIRST_FORMATS, DATE_FORMATS) if month_first else (DATE_FORMATS, MONTH_FIRST_FORMATS)
    )
    for fmt in (*first, *then):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _slashed(text: str) -> tuple[int, int] | None:
    match = _SLASHED.fullmatch(_TIME_OF_DAY.sub("", text.strip()))
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass(frozen=True)
class DateOrder:
    """How the sheet writes its slashed dates, and the rows that show it: a date only day
    first can mean (31/05/2026) and one only month first can (5/31/2026), as (row, text)."""

    day_first_seen: tuple[int, str] | None = None
    month_first_seen: tuple[int, str] | None = None

    @property
    def month_first(self) -> bool:
        return self.month_first_seen is not None and self.day_first_seen is None

    @property
    def mixed(self) -> bool:
        return self.month_first_seen is not None and self.day_first_seen is not None

    def doubt(self, text: str) -> str:
        """Why a date of this sheet cannot be read ("" if it can): in a sheet that writes
        dates both ways, 3/4/2026 is 3 April or 4 March."""
        parts = _slashed(text) if self.mixed else None
        if parts is None or parts[0] == parts[1] or max(parts) > 12:
            return ""
        as_day = parse_date(text)
        as_month = parse_date(text, month_first=True)
        if as_day is None or as_month is None:
            return ""
        day_row, day_text = self.day_first_seen
        month_row, month_text = self.month_first_seen
        return (
            f"“{text}” could be {_long(as_day)} or {_long(as_month)}: this file writes "
            f"dates day first (“{day_text}” in row {day_row}) and month first (“{month_text}” "
            f"in row {month_row}). Write it as {as_day:%Y-%m-%d} or {as_month:%Y-%m-%d}."
        )


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def date_order(rows: list[Row]) -> DateOrder:
    day_first = month_first = None
    for row in rows:
        parts = _slashed(row.values.get("date", ""))
        if parts is None:
            continue
        if parts[0] > 12 >= parts[1] and day_first is None:
            day_first = (row.number, row.values["date"])
        elif parts[1] > 12 >= parts[0] and month_first is None:
            month_first = (row.number, row.values["date"])
    return DateOrder(day_first, month_first)


def parse_day_number(text: str) -> date | None:
    """The date a spreadsheet day number means (a date column formatted as a number: `46023`,
    `46023.5` with a time of day, ignored), in Excel's 1900 system: day 1 is 1900-01-01 and
    day 60 the 29 February 1900 that never was, so from day 61 on, day 0 is 1899-12-30. Only
    numbers for the years 2000 to 2099: anything else in a date column is no date of ours."""
    match = _DAY_NUMBER.match(text)
    if not match:
        return None
    day = _EXCEL_DAY_ZERO + timedelta(days=int(match.group(1)))
    return day if _DAY_NUMBER_YEARS[0] <= day.year <= _DAY_NUMBER_YEARS[1] else None


def parse_window(text: str) -> tuple[time, time] | None | str:
    """The window's times; None when it is no window at all; "unknown" for a window we do not
    offer."""
    match = _WINDOW.match(text.strip())
    if not match:
        return None
    h1, m1, h2, m2 = match.groups()
    try:
        start, end = time(int(h1), int(m1 or 0)), time(int(h2), int(m2 or 0))
    except ValueError:
        return None
    if (start, end) not in WINDOWS.values():
        return "unknown"
    return start, end


@dataclass
class Row:
    number: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    # Imported only once the partner confirms them: a handyman booked twice at once.
    warnings: list[str] = field(default_factory=list)
    formulas: tuple[str, ...] = ()  # the keys of cells the file holds as formulas
    scheduled_date: date | None = None
    window: tuple[time, time] | None = None
    handyman: Handyman | None = None
    customer: Customer | None = None  # an existing customer matched
    new_customer: int | None = None  # index of a new customer of this file
    already: Installation | None = None  # its reference was imported before: left as it is
    # The date was a spreadsheet day number: the preview shows the date it was read as.
    from_day_number: bool = False

    @property
    def site_address(self) -> str:
        return self.values["site_address"] or self.values["address"]

    @property
    def address(self) -> str:
        return self.values["address"] or self.values["site_address"]

    @property
    def creates(self) -> bool:
        return not self.errors and self.already is None


@dataclass
class Report:
    sheet: Sheet
    rows: list[Row]
    new_customers: list[dict[str, str]]  # name, phone, email, address of each new customer
    order: DateOrder = DateOrder()

    @property
    def error_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]

    @property
    def warning_rows(self) -> list[Row]:
        return [row for row in self.rows if row.creates and row.warnings]

    @property
    def day_number_rows(self) -> list[Row]:
        return [row for row in self.rows if row.creates and row.from_day_number]

    @property
    def warnings_key(self) -> str:
        """What the partner confirms by importing anyway: these very warnings. "" when none; a
        new or changed warning at the commit changes the key, and is shown before anything is
        imported."""
        lines = [f"{row.number}:{text}" for row in self.warning_rows for text in row.warnings]
        if not lines:
            return ""
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    @property
    def jobs(self) -> int:
        return sum(row.creates for row in self.rows)

    @property
    def new_customer_count(self) -> int:
        return len({row.new_customer for row in self.rows if row.creates and row.customer is None})

    @property
    def matched_customer_count(self) -> int:
        return len({row.customer.pk for row in self.rows if row.creates and row.customer})

    @property
    def assignments(self) -> int:
        return sum(1 for row in self.rows if row.creates and row.handyman is not None)

    @property
    def already_imported(self) -> int:
        return sum(1 for row in self.rows if row.already is not None)

    @property
    def ok(self) -> bool:
        return not self.error_rows and self.jobs > 0


def _cells(sheet: Sheet, cells: list[str]) -> dict[str, str]:
    return {
        key: cells[sheet.columns[key]]
        if key in sheet.columns and sheet.columns[key] < len(cells)
        else ""
        for key in COLUMNS
    }


def _row(sheet: Sheet, number: int, cells: list[str]) -> Row:
    raw = _cells(sheet, cells)
    formulas = tuple(key for key, cell in raw.items() if is_formula(cell))
    return Row(number, {key: _cell(cell) for key, cell in raw.items()}, formulas=formulas)


def _handymen(partner: Partner) -> tuple[dict[str, Handyman], dict[str, list[Handyman]]]:
    by_username: dict[str, Handyman] = {}
    by_name: dict[str, list[Handyman]] = {}
    for handyman in partner.handymen.select_related("user"):
        by_username[handyman.user.get_username().casefold()] = handyman
        full = _norm(handyman.user.get_full_name())
        if full:
            by_name.setdefault(full, []).append(handyman)
    return by_username, by_name


def _check_cells(row: Row, today: date, order: DateOrder) -> None:
    """Everything about one row that needs no other row and no database."""
    v = row.values
    for key, value in v.items():
        if key in row.formulas:
            row.errors.append(
                f"The {COLUMNS[key].name} cell holds a spreadsheet formula (“{value[:30]}”), "
                "not its result: save the sheet with its values (or, if it is meant as text, "
                "start it with something other than =)."
            )
        elif len(value) > (limit := MAX_LENGTHS.get(key, 255)):
            # The date and the window have no field of their own: 255 is plenty for either.
            row.errors.append(
                f"The {COLUMNS[key].name} cell is too long: at most {limit:,} characters."
            )
    if not v["customer_name"]:
        row.errors.append("The customer name is missing.")
    if not v["site_address"] and not v["address"]:
        row.errors.append("The site address is missing.")
    if not v["phone"] and not v["email"]:
        row.errors.append("A phone number or an email address is needed.")
    if v["phone"] and _PHONE_AS_NUMBER.fullmatch(v["phone"]):
        # Its leading 0 is gone, and with an exponent its last digits too: nothing to guess.
        lost = "its last digits" if "e" in v["phone"].casefold() else "a leading 0"
        row.errors.append(
            f"“{v['phone']}” is a phone number saved as a spreadsheet number, which loses "
            f"{lost}: format the phone column as Text, type the numbers again and save the file."
        )
    elif v["phone"] and not (_PHONE.match(v["phone"]) and 6 <= len(_digits(v["phone"])) <= 15):
        row.errors.append(f"“{v['phone']}” is not a phone number.")
    if v["email"]:
        try:
            validate_email(v["email"])
        except ValidationError:
            row.errors.append(f"“{v['email']}” is not an email address.")
    if not v["date"]:
        row.errors.append("The date is missing.")
    elif doubt := order.doubt(v["date"]):
        row.errors.append(doubt)
    else:
        row.scheduled_date = parse_date(v["date"], month_first=order.month_first)
        read_as = ""
        if row.scheduled_date is None and (day := parse_day_number(v["date"])):
            # Excel writes a date cell formatted as a number as its day number: what it means
            # is not in doubt, and the preview says the date it was read as.
            row.scheduled_date, row.from_day_number = day, True
            read_as = f" (the spreadsheet day number {v['date']})"
        if row.scheduled_date is None:
            row.errors.append(
                f"“{v['date']}” is not a date: write it like 2026-05-31 or 31/05/2026."
            )
        elif row.scheduled_date < today:
            row.errors.append(
                f"The date {row.scheduled_date:%d/%m/%Y}{read_as} is in the past: choose today "
                "or a later date."
            )
    if not v["window"]:
        row.errors.append("The arrival window is missing.")
    else:
        window = parse_window(v["window"])
        if window is None:
            row.errors.append(
                f"“{v['window']}” is not an arrival window: write it like 08:00-10:00."
            )
        elif window == "unknown":
            row.errors.append(
                f"We do not offer the arrival window “{v['window']}”: use one of {WINDOW_TEXT}."
            )
        else:
            row.window = window
            if row.scheduled_date is not None and (
                over := window_over(row.scheduled_date, *window)
            ):
                row.errors.append(over)


def check(sheet: Sheet, *, partner: Partner, today: date | None = None) -> Report:
    """Every row checked; nothing written."""
    today = today or timezone.localdate()
    rows = [_row(sheet, number, cells) for number, cells in sheet.records]
    references = {row.values["partner_reference"] for row in rows} - {""}
    already: dict[str, Installation] = {}
    if references:
        already = {
            inst.partner_reference: inst
            for inst in Installation.objects.filter(
                partner=partner, partner_reference__in=references
            ).only("pk", "partner_reference")
        }
    for row in rows:
        row.already = already.get(row.values["partner_reference"])
    todo = [row for row in rows if row.already is None]
    order = date_order(rows)
    for row in todo:
        _check_cells(row, today, order)

    _match_handymen(todo, partner)
    _match_customers(todo, partner)
    new_customers = _new_customers(todo)
    _find_duplicates(todo, partner)
    _check_handymen_free(todo, partner)
    return Report(sheet, rows, new_customers, order)


def _match_handymen(rows: list[Row], partner: Partner) -> None:
    if not any(row.values["handyman"] for row in rows):
        return
    by_username, by_name = _handymen(partner)
    for row in rows:
        wanted = row.values["handyman"]
        if not wanted:
            continue
        handyman = by_username.get(wanted.casefold())
        named = by_name.get(_norm(wanted), [])
        if handyman is None and len(named) == 1:
            handyman = named[0]
        if handyman is not None:
            row.handyman = handyman
        elif len(named) > 1:
            usernames = " or ".join(h.user.get_username() for h in named)
            row.errors.append(
                f"More than one of your handymen is called “{wanted}”: write the username "
                f"instead ({usernames})."
            )
        else:
            # The same words whether or not such a person works for someone else.
            row.errors.append(
                f"No handyman called “{wanted}” works for you: write the username or full "
                "name of one of your handymen, or leave the cell empty."
            )


def _customer_keys(name: str, phone: str, email: str) -> list[tuple[str, str]]:
    keys = []
    if _digits(phone):
        keys.append((_norm(name), "phone:" + _digits(phone)))
    if email:
        keys.append((_norm(name), "email:" + email.casefold()))
    return keys


def _match_customers(rows: list[Row], partner: Partner) -> None:
    names = {_norm(row.values["customer_name"]) for row in rows if row.values["customer_name"]}
    if not names:
        return
    # SQLite's LOWER() folds ASCII letters only: ask for both spellings of each name, then
    # compare properly below.
    spellings = names | {"".join(c.lower() if c.isascii() else c for c in n) for n in names}
    spellings |= {
        "".join(c.lower() if c.isascii() else c for c in row.values["customer_name"].strip())
        for row in rows
    }
    known: dict[tuple[str, str], Customer] = {}
    candidates = (
        Customer.objects.filter(partner=partner)
        .annotate(lower_name=Lower("name"))
        .filter(lower_name__in=spellings)
        .order_by("pk")
    )
    for customer in candidates:
        for key in _customer_keys(customer.name, customer.phone, customer.email):
            known.setdefault(key, customer)  # the oldest customer wins
    for row in rows:
        v = row.values
        for key in _customer_keys(v["customer_name"], v["phone"], v["email"]):
            if key in known:
                row.customer = known[key]
                break


def _new_customers(rows: list[Row]) -> list[dict[str, str]]:
    """One new customer per person of the file who is not a customer yet (rows with errors
    included, so that row numbers of duplicates still make sense)."""
    seen: dict[tuple[str, str], int] = {}
    people: list[dict[str, str]] = []
    for row in rows:
        v = row.values
        if row.customer is not None or not v["customer_name"]:
            continue
        keys = _customer_keys(v["customer_name"], v["phone"], v["email"])
        index = next((seen[key] for key in keys if key in seen), None)
        if index is None:
            index = len(people)
            people.append(
                {
                    "name": v["customer_name"],
                    "phone": v["phone"],
                    "email": v["email"],
                    "address": row.address,
                }
            )
        for key in keys:
            seen.setdefault(key, index)
        row.new_customer = index
    return people


def _find_duplicates(rows: list[Row], partner: Partner) -> None:
    """A job already booked for the same customer, site and date; the same job twice in the
    file; one partner reference on two rows."""
    existing: dict[tuple[Any, str, date], int] = {}
    customer_ids = {row.customer.pk for row in rows if row.customer is not None}
    dates = {row.scheduled_date for row in rows if row.scheduled_date is not None}
    if customer_ids and dates:
        jobs = (
            Installation.objects.filter(
                partner=partner, customer_id__in=customer_ids, scheduled_date__in=dates
            )
            .exclude(status__in=_NOT_HAPPENING)
            .order_by("pk")
            .values_list("pk", "customer_id", "site_address", "scheduled_date")
        )
        for pk, customer_id, site, day in jobs:
            existing.setdefault((customer_id, _norm(site), day), pk)
    in_file: dict[tuple[Any, str, date], int] = {}
    references: dict[str, int] = {}
    for row in rows:
        reference = row.values["partner_reference"]
        if reference:
            if reference in references:
                row.errors.append(
                    f"The partner reference “{reference}” is also on row {references[reference]}: "
                    "each job needs its own."
                )
            references.setdefault(reference, row.number)
        if row.scheduled_date is None or not row.values["customer_name"]:
            continue
        who = ("existing", row.customer.pk) if row.customer else ("new", row.new_customer)
        key = (who, _norm(row.site_address), row.scheduled_date)
        if row.customer is not None:
            found = existing.get((row.customer.pk, key[1], key[2]))
            if found is not None:
                row.errors.append(
                    f"{row.customer.name} already has installation #{found} at this site on "
                    f"{row.scheduled_date:%d/%m/%Y}: remove this row, or change the date."
                )
        if key in in_file:
            row.errors.append(
                f"This row repeats row {in_file[key]} (the same customer, site and date): "
                "remove one of them."
            )
        in_file.setdefault(key, row.number)


def _check_handymen_free(rows: list[Row], partner: Partner) -> None:
    """A row's handyman off that day is an error; another job of his in an overlapping window
    that day (one of his open jobs, for any partner, or an earlier row of this file) is a
    warning. Two queries for the whole file."""
    dated = [row for row in rows if row.handyman is not None and row.scheduled_date is not None]
    if not dated:
        return
    ids = {row.handyman.pk for row in dated if row.handyman is not None}
    dates = {row.scheduled_date for row in dated if row.scheduled_date is not None}
    off = days_off(ids, min(dates), max(dates))
    for row in dated:
        if row.handyman and row.scheduled_date and (row.handyman.pk, row.scheduled_date) in off:
            row.errors.append(day_off_message(row.handyman, row.scheduled_date))
    # Only rows that would be imported can clash: the others create nothing.
    booking = [row for row in dated if row.creates and row.window is not None]
    if not booking:
        return
    jobs = busy_jobs(ids, {row.scheduled_date for row in booking if row.scheduled_date})
    earlier: list[tuple[Row, Handyman, date, time, time]] = []
    for row in booking:
        assert row.handyman and row.scheduled_date and row.window
        handyman, day, (start, end) = row.handyman, row.scheduled_date, row.window
        if conflicts := overlapping(jobs, handyman.pk, day, start, end):
            # Another partner's job is "a booking elsewhere": its customer is not ours to show.
            row.warnings.append(conflict_message(handyman, conflicts, partner.pk))
        clashes = [
            f"row {other.number} {window_text(other_start, other_end)}"
            for other, who, other_day, other_start, other_end in earlier
            if who == handyman
            and other_day == day
            and windows_overlap(start, end, other_start, other_end)
        ]
        if clashes:
            row.warnings.append(
                f"This file also gives {handyman.display_name} {' and '.join(clashes)} that day."
            )
        earlier.append((row, handyman, day, start, end))
