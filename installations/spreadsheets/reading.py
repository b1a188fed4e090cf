"""Reading an uploaded CSV file into rows: the limits, the encoding, the separator and the column
names. Everything a person can get wrong about the file as a whole is refused here with a sentence
(FileRefused); what is wrong with one row is the validation's business (validation.py).

Python's csv module is enough: the file has one fixed shape and ten columns, and every message
must be in our words (tablib and django-import-export would add a dependency and their own
errors, and import-export's model resources would write around our service layer)."""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

MAX_BYTES = 2 * 1024 * 1024
# The commit runs in the request, in one transaction, each row through the services (about 20
# queries a row with an assignment): 500 rows stay well inside gunicorn's 30-second timeout even
# on a slow machine (200 rows with assignments took 14 s on the shared, loaded test machine).
MAX_ROWS = 500
# Longer than any cell we store (notes: 4,000): a longer one is a broken file, not a long note.
MAX_CELL = 20_000


class FileRefused(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    name: str  # the template's heading
    aliases: tuple[str, ...] = ()
    required: bool = False


# The template's columns, in its order, with the other names spreadsheets commonly give them.
COLUMNS: dict[str, Column] = {
    "customer_name": Column("customer name", ("customer", "name", "full name"), required=True),
    "phone": Column("phone", ("telephone", "phone number", "mobile", "tel")),
    "email": Column("email", ("e mail", "email address", "e mail address", "mail")),
    "address": Column("address", ("customer address", "home address")),
    "site_address": Column("site address", ("site", "installation address", "job address")),
    "date": Column("date", ("scheduled date", "installation date", "day"), required=True),
    "window": Column("window", ("arrival window", "time window", "time"), required=True),
    "notes": Column("notes", ("note", "comments", "comment", "instructions")),
    "handyman": Column("handyman", ("installer", "handyman username", "handyman name")),
    "partner_reference": Column(
        "partner reference", ("reference", "your reference", "order number", "order reference")
    ),
}
# Of each pair, at least one column must be there.
ONE_OF = (("site_address", "address"), ("phone", "email"))

DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}

_SEPARATORS = re.compile(r"[\s_\-.]+")
# Control characters no text file has (tab, line feed and carriage return are allowed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_heading(text: str) -> str:
    """`Customer_Name`, ` customer  name `, `CUSTOMER-NAME` all read as `customer name`."""
    return _SEPARATORS.sub(" ", text.replace("\ufeff", "").strip().strip("\"'").casefold()).strip()


HEADINGS: dict[str, str] = {
    normalise_heading(name): key
    for key, column in COLUMNS.items()
    for name in (column.name, *column.aliases)
}


@dataclass
class Sheet:
    encoding: str  # as the page says it: "UTF-8", "Windows-1252", ...
    delimiter: str
    columns: dict[str, int]  # field -> cell index
    ignored: list[str]  # headings we do not know, left out
    records: list[tuple[int, list[str]]]  # (the spreadsheet's row number, cells)
    notes: list[str] = field(default_factory=list)  # sentences about how the file was read

    @property
    def delimiter_name(self) -> str:
        return DELIMITERS[self.delimiter]


BINARY = (
    "This does not look like a CSV file (it contains binary data). Save the spreadsheet as "
    "“CSV UTF-8 (comma delimited)” and upload that file."
)


def _is_opendocument(content: bytes) -> bool:
    """An OpenDocument file (.ods) begins with its uncompressed `mimetype` entry (the format
    requires it), so this is read from the first bytes, without unpacking anything."""
    return content[30:38] == b"mimetype" and b"opendocument.spreadsheet" in content[38:100]


def _zip_names(content: bytes) -> list[str]:
    """The names a zip file lists, read from its directory without unpacking anything (a zip
    bomb stays packed); none when the directory cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return []


def _not_a_workbook(names: list[str]) -> str:
    """What to say of a zip file whose names show it is no workbook (a document uploaded by
    mistake, an archive); empty when it may be one: an .xlsx, or a file too broken to tell."""
    if not names or any(name.startswith("xl/") for name in names):
        return ""
    if any(name.startswith("word/") for name in names):
        what = "a Word document (.docx),"
    elif "mimetype" in names:
        what = "a LibreOffice or OpenOffice document, not a spreadsheet, and"
    else:
        what = "a compressed (zip) file,"
    return (
        f"This is {what} not a CSV file. Open the jobs in your spreadsheet program, save them "
        "as “CSV UTF-8 (comma delimited)” (in LibreOffice: “Text CSV (.csv)”), and upload "
        "that file."
    )


def decode(content: bytes) -> tuple[str, str, list[str]]:
    """The file's text, the encoding's name and notes about it. UTF-8 (with or without the BOM
    Excel writes), UTF-16 with a BOM (Excel's "Unicode text"), then Windows-1252, which is what
    older Excel versions write on Western European Windows; anything else is refused."""
    if content.startswith(b"PK\x03\x04") and _is_opendocument(content):
        raise FileRefused(
            "This is a LibreOffice or OpenOffice spreadsheet (.ods), not a CSV file. In "
            "LibreOffice Calc choose File › Save As, pick “Text CSV (.csv)” with the character "
            "set “Unicode (UTF-8)”, and upload that file."
        )
    if content.startswith(b"PK\x03\x04") and (other := _not_a_workbook(_zip_names(content))):
        raise FileRefused(other)
    if content.startswith(b"PK\x03\x04"):
        raise FileRefused(
            "This is an Excel workbook (.xlsx), not a CSV file. In Excel choose File › Save As › "
            "“CSV UTF-8 (comma delimited)” and upload that file."
        )
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRefused(
            "This is an old Excel workbook (.xls), not a CSV file. In Excel choose File › Save "
            "As › “CSV UTF-8 (comma delimited)” and upload that file."
        )
    notes: list[str] = []
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text, encoding = content.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise FileRefused(BINARY) from None
    elif b"\x00" in content:
        raise FileRefused(BINARY)
    elif content.startswith(codecs.BOM_UTF8):
        try:
            text, encoding = content.decode("utf-8-sig"), "UTF-8"
        except UnicodeDecodeError:
            raise FileRefused(
                "This file says it is UTF-8 but is not: save it again as "
                "“CSV UTF-8 (comma delimited)” and upload that file."
            ) from None
    else:
        try:
            text, encoding = content.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text, encoding = content.decode("cp1252"), "Windows-1252"
            except UnicodeDecodeError:
                raise FileRefused(
                    "We could not read the characters of this file: it is neither UTF-8 nor "
                    "Windows-1252. Save it as “CSV UTF-8 (comma delimited)” and upload it again."
                ) from None
            notes.append(
                "The file is not UTF-8, so it was read as Windows-1252 (Western European): "
                "check that accented names look right below. Saving as “CSV UTF-8” avoids this."
            )
    if _CONTROL.search(text):
        raise FileRefused(BINARY)
    return text, encoding, notes


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def _headings(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


def sniff(text: str) -> str:
    """The separator under which the first line names the most of our columns: commas, or the
    semicolons a spreadsheet in a European language writes, or tabs. csv.Sniffer guesses from
    the data and is easily fooled by commas inside addresses; the column names are certain."""
    line = _first_line(text)
    scores = {
        delimiter: sum(normalise_heading(h) in HEADINGS for h in _headings(line, delimiter))
        for delimiter in DELIMITERS
    }
    best = max(scores, key=lambda d: scores[d])
    if scores[best] == 0 and line.lstrip().startswith("<"):
        # Many systems' "Excel export" is an HTML table or an XML Spreadsheet named .xls.
        raise FileRefused(
            "This is a web page or an XML file, not a CSV file (some systems save these with a "
            ".xls or .xlsx name). Open it in your spreadsheet, then save it as "
            "“CSV UTF-8 (comma delimited)” and upload that file."
        )
    if scores[best] == 0:
        raise FileRefused(
            "The first line of the file must name the columns (customer name, phone, email, "
            "address, site address, date, window, notes, handyman, partner reference), "
            "separated by commas, semicolons or tabs. We found none of them: download the "
            "template and copy your rows into it."
        )
    return best


def _map_columns(headings: list[str]) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, heading in enumerate(headings):
        key = HEADINGS.get(normalise_heading(heading))
        if key is None:
            if heading.strip():
                ignored.append(heading.strip())
            continue
        if key in columns:
            raise FileRefused(
                f"The column “{COLUMNS[key].name}” appears twice (as “{headings[columns[key]]}” "
                f"and “{heading}”): keep one of them."
            )
        columns[key] = index
    missing = [COLUMNS[key].name for key, column in COLUMNS.items() if column.required]
    missing = [name for name in missing if HEADINGS[name] not in columns]
    missing += [
        f"{COLUMNS[a].name} or {COLUMNS[b].name}"
        for a, b in ONE_OF
        if a not in columns and b not in columns
    ]
    if missing:
        raise FileRefused(
            f"The file has no column for: {', '.join(missing)}. Add "
            f"{'it' if len(missing) == 1 else 'them'} (the template has every column)."
        )
    return columns, ignored


def read_sheet(content: bytes) -> Sheet:
    """The file's rows, or FileRefused with the sentence that says what to do."""
    if len(content) > MAX_BYTES:
        raise FileRefused(
            f"The file is {len(content) / (1024 * 1024):.1f} MB; at most "
            f"{MAX_BYTES // (1024 * 1024)} MB can be imported at once. Split it into smaller "
            "files."
        )
    if not content.strip():
        raise FileRefused("The file is empty: there is nothing to import.")
    text, encoding, notes = decode(content)
    if not text.strip():
        raise FileRefused("The file is empty: there is nothing to import.")
    delimiter = sniff(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        headings: list[str] = []
        # The row as the spreadsheet numbers it: a cell with line breaks in it is one row,
        # though several lines of the file (reader.line_num counts those).
        for row, cells in enumerate(reader, start=1):
            if not any(cell.strip() for cell in cells):
                continue
            if any(len(cell) > MAX_CELL for cell in cells):
                raise FileRefused(
                    f"Row {row} has a cell of more than {MAX_CELL:,} characters: "
                    "a quote is probably missing its closing quote."
                )
            if not headings:
                headings = cells
                continue
            records.append((row, cells))
            if len(records) > MAX_ROWS:
                raise FileRefused(
                    f"The file has more than {MAX_ROWS:,} rows; at most {MAX_ROWS:,} can be "
                    "imported at once. Split it into several files."
                )
    except csv.Error as error:
        raise FileRefused(
            f"The file could not be read as CSV near line {reader.line_num} ({error}). "
            "Save it again from your spreadsheet as CSV."
        ) from None
    columns, ignored = _map_columns(headings)
    if not records:
        raise FileRefused("The file has its column names but no rows: there is nothing to import.")
    # The separator found is said once, by the preview's line about the file.
    if ignored:
        notes.append(
            f"Columns we do not use were left out: {', '.join(f'“{h}”' for h in ignored)}."
        )
    return Sheet(encoding, delimiter, columns, ignored, records, notes)
