"""What the import reads out of a cell: text that starts like a formula is text (the export keeps
spreadsheets from running it), a string literal written as a formula (`="00123"`) is the text it
shows, any other formula the file holds instead of its result is refused, and a date cell
formatted as a number is read as the date it means and shown as such in the preview."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from installations.models import Installation
from installations.spreadsheets.models import Import
from installations.spreadsheets.reading import read_sheet
from installations.spreadsheets.validation import check, parse_day_number

from .files import csv_bytes, day, job

pytestmark = pytest.mark.django_db
IMPORT = reverse("spreadsheets:import")
COMMIT = reverse("spreadsheets:commit")
EXPORT = reverse("spreadsheets:export")


@pytest.fixture
def partner_client(client, cast):
    client.force_login(cast.partner_user)
    return client


def first_row(cast, **overrides: str):
    return check(read_sheet(csv_bytes([job(**overrides)])), partner=cast.partner).rows[0]


def upload(client, rows: list[dict[str, str]]):
    return client.post(IMPORT, {"file": SimpleUploadedFile("jobs.csv", csv_bytes(rows))})


def day_number(d: date) -> str:
    return str((d - date(1899, 12, 30)).days)


# --- Text that starts like a formula ------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("notes", "- ring twice"),
        ("notes", "+ bring ladder"),
        ("notes", "@ back door"),
        ("notes", "-cmd|' /C calc'!A0"),
        ("customer_name", "@Home Lettings"),
        ("address", "+ Flat 2, 4 Mill Lane"),
        ("partner_reference", "-0042"),
    ],
)
def test_text_starting_with_a_dash_a_plus_or_an_at_sign_is_imported_as_it_is(cast, column, value):
    row = first_row(cast, **{column: value})
    assert row.errors == []
    assert row.values[column] == value


def test_a_phone_number_starting_with_a_plus_is_still_a_phone_number(cast):
    assert first_row(cast, phone="+44 7700 900123").errors == []
    assert "“+ring me” is not a phone number." in first_row(cast, phone="+ring me").errors


@pytest.mark.parametrize("column", ["notes", "customer_name", "address", "partner_reference"])
@pytest.mark.parametrize(
    "value",
    [
        "=SUM(A1:A3)",
        "=B2&C2",
        # Close to a string literal, but something else is around it or it is not closed.
        '="00"&"123"',
        '="00123"&A1',
        '= "00123"',
        '=T("00123")',
        '="00123',
        '="a"b"',
    ],
)
def test_a_formula_the_file_holds_instead_of_its_result_is_refused(cast, column, value):
    words = " ".join(first_row(cast, **{column: value}).errors)
    name = column.replace("_", " ")
    assert f"The {name} cell holds a spreadsheet formula (“{value}”), not its result" in words
    assert "save the sheet with its values" in words


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("partner_reference", '="00123"', "00123"),
        ("phone", '="07700 900123"', "07700 900123"),
        ("notes", '="ring ""twice"" at the side gate"', 'ring "twice" at the side gate'),
        ("notes", '="a""&""b"', 'a"&"b'),
        ("notes", '=" keep my spaces "', " keep my spaces "),
        ("notes", '="=SUM(A1:A3)"', "=SUM(A1:A3)"),
        ("notes", '=""', ""),
        ("customer_name", '  ="007 Lettings"  ', "007 Lettings"),
    ],
)
def test_a_string_literal_written_as_a_formula_is_read_as_the_text_it_shows(
    cast, column, value, text
):
    # `="00123"`: how spreadsheet users and Excel exports keep leading zeros. The sheet shows
    # exactly the text between the quotes, a doubled quote standing for one.
    row = first_row(cast, **{column: value})
    assert row.errors == []
    assert row.formulas == ()
    assert row.values[column] == text


def test_a_file_with_every_cell_written_as_a_string_literal_previews_and_imports_the_text(
    partner_client, cast
):
    when = day(9)
    literal = {
        "customer_name": '="Ana ""Nan"" Souza"',
        "phone": '="07700900123"',
        "email": '="ana@example.com"',
        "address": '="0042 Mill Lane"',
        "date": f'="{when.isoformat()}"',
        "window": '="08:00-10:00"',
        "partner_reference": '="00123"',
    }
    response = upload(partner_client, [job(**literal)])
    assert response.status_code == 303
    page = partner_client.get(response["Location"]).content.decode()
    preview = page.split("What the file must contain")[0]
    assert "Ana &quot;Nan&quot; Souza" in preview
    assert "0042 Mill Lane" in preview
    assert f"{when.isoformat()} 08:00-10:00" in preview
    assert "=&quot;" not in preview
    assert "formula" not in preview

    item = Import.objects.get(partner=cast.partner)
    assert partner_client.post(COMMIT, {"upload": item.public_id}).status_code == 303
    inst = Installation.objects.select_related("customer").get()
    assert (inst.partner_reference, inst.site_address, inst.scheduled_date) == (
        "00123",
        "0042 Mill Lane",
        when,
    )
    assert (inst.customer.name, inst.customer.phone) == ('Ana "Nan" Souza', "07700900123")


def test_the_import_page_says_a_string_literal_is_read_as_its_text(partner_client):
    page = partner_client.get(IMPORT).content.decode()
    assert (
        'A cell written <code>="00123"</code> (to keep its leading zeros) is read as '
        "the text between the quotes"
    ) in page


def test_text_starting_with_an_equals_sign_behind_an_apostrophe_is_text(cast):
    # As our own export writes it (and as spreadsheets mark text): the ' is read off.
    row = first_row(cast, notes="'=> use the side gate")
    assert row.errors == []
    assert row.values["notes"] == "=> use the side gate"


def test_imported_text_that_starts_like_a_formula_is_exported_as_text_and_shown_escaped(
    partner_client, cast
):
    notes = "- ring twice\n+ bring ladder\n@ <b>back door</b>"
    row = job(
        customer_name="@Home Lettings",
        site_address="-cmd|' /C calc'!A0",
        partner_reference="+REF-1",
        notes=notes,
    )
    upload(partner_client, [row])
    item = Import.objects.get(partner=cast.partner)
    assert partner_client.post(COMMIT, {"upload": item.public_id}).status_code == 303
    inst = Installation.objects.get()
    assert (inst.notes, inst.site_address, inst.customer.name) == (
        notes,
        "-cmd|' /C calc'!A0",
        "@Home Lettings",
    )

    response = partner_client.get(EXPORT)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    exported = next(csv.DictReader(io.StringIO(text, newline="")))
    assert exported["customer"] == "'@Home Lettings"
    assert exported["site address"] == "'-cmd|' /C calc'!A0"
    assert exported["partner reference"] == "'+REF-1"

    page = partner_client.get(reverse("partner:detail", args=[inst.pk])).content.decode()
    assert "@ &lt;b&gt;back door&lt;/b&gt;" in page
    assert "<b>back door</b>" not in page
    assert "- ring twice<br>+ bring ladder" in page


# --- Dates given as spreadsheet day numbers -----------------------------------------------------


def test_a_day_number_means_the_date_excel_shows_for_it():
    # Excel's 1900 system, with its 29 February 1900: day 45658 is 1 January 2025.
    assert parse_day_number("45658") == date(2025, 1, 1)
    assert parse_day_number("46023") == date(2026, 1, 1)
    assert parse_day_number("46023.75") == date(2026, 1, 1)  # a time of day: the window says it
    assert parse_day_number("46023,5") == date(2026, 1, 1)


def test_day_numbers_are_dates_from_the_first_day_of_2000_to_the_last_of_2099():
    first, last = date(2000, 1, 1), date(2099, 12, 31)
    assert parse_day_number(day_number(first)) == first
    assert parse_day_number(day_number(last)) == last
    assert parse_day_number(day_number(date(1999, 12, 31))) is None
    assert parse_day_number(day_number(date(2100, 1, 1))) is None


@pytest.mark.parametrize("text", ["12345", "99999", "4602", "460230", "-46023", "46 023", "1e5"])
def test_a_number_that_is_no_date_of_this_century_is_not_a_date(cast, text):
    assert parse_day_number(text) is None
    row = first_row(cast, date=text)
    assert row.scheduled_date is None
    assert f"“{text}” is not a date: write it like 2026-05-31" in " ".join(row.errors)


def test_a_date_given_as_a_day_number_is_read_as_the_date_it_means(cast):
    row = first_row(cast, date=day_number(day(9)))
    assert row.errors == []
    assert (row.scheduled_date, row.from_day_number) == (day(9), True)


def test_a_day_number_in_the_past_is_refused_naming_the_date_it_means(cast):
    yesterday = day(-1)
    row = first_row(cast, date=day_number(yesterday))
    assert row.errors == [
        f"The date {yesterday:%d/%m/%Y} (the spreadsheet day number {day_number(yesterday)}) "
        "is in the past: choose today or a later date."
    ]


def test_the_preview_shows_the_date_each_day_number_was_read_as_and_the_commit_uses_it(
    partner_client, cast
):
    first, second = day(9), day(10)
    rows = [job(1, date=day_number(first)), job(2, date=day_number(second)), job(3)]
    response = upload(partner_client, rows)
    assert response.status_code == 303
    page = partner_client.get(response["Location"]).content.decode()
    assert (
        f'{first:%a} {first.day} {first:%b %Y} <span class="muted">(from {day_number(first)})'
        in page
    )
    assert (
        f"2 rows give their dates as a spreadsheet day number (such as {day_number(first)}: "
        "the date column is formatted as a number). The table shows the date each was read as"
    ) in page
    item = Import.objects.get(partner=cast.partner)
    partner_client.post(COMMIT, {"upload": item.public_id})
    dates = list(Installation.objects.order_by("pk").values_list("scheduled_date", flat=True))
    assert dates == [first, second, day()]


def test_a_preview_without_day_numbers_says_nothing_about_them(partner_client, cast):
    response = upload(partner_client, [job(1)])
    page = partner_client.get(response["Location"]).content.decode()
    assert "day number" not in page.split("What the file must contain")[0]


def _a_day_and_month_either_way_round() -> date:
    """A future date whose day-first spelling also reads as a month-first one (04/12/…)."""
    d = day(1)
    while d.day > 12 or d.day == d.month:
        d = date.fromordinal(d.toordinal() + 1)
    return d


def test_the_preview_shows_the_date_a_day_first_date_was_read_as(partner_client, cast):
    # 04/12/2026 is 4 December here and 12 April in a month-first spreadsheet: the preview
    # says which, so that the person checking the rows can see it before importing.
    when = _a_day_and_month_either_way_round()
    response = upload(partner_client, [job(1, date=f"{when:%d/%m/%Y}"), job(2)])
    page = partner_client.get(response["Location"]).content.decode()
    read_as = f'{when:%a} {when.day} {when:%b %Y} <span class="muted">(from {when:%d/%m/%Y})'
    assert read_as in page
    # An ISO date cannot be read two ways: it is shown as written.
    assert f'<td data-label="Date and window">{day().isoformat()} 08:00-10:00</td>' in page


def _next_year(month: int, day_of_month: int) -> date:
    return date(timezone.localdate().year + 1, month, day_of_month)


def _us(d: date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def test_a_sheet_that_writes_dates_month_first_is_read_month_first_throughout(partner_client, cast):
    """A sheet from the United States: 5/31 can only be 31 May, so its 3/4 is 4 March, not 3
    April (read day first, it was a job booked a month off, unseen). The preview says how the
    sheet was read and why; the import books the dates as read."""
    may, march = _next_year(5, 31), _next_year(3, 4)
    response = upload(partner_client, [job(1, date=_us(may)), job(2, date=_us(march))])
    page = partner_client.get(response["Location"]).content.decode()
    assert (
        f"This file writes its dates month first, as row 2’s “{_us(may)}” shows: each date "
        "with slashes is read that way (3/4/2026 is 4 March 2026)."
    ) in page
    assert f'{march:%a} 4 Mar {march.year} <span class="muted">(from {_us(march)})' in page
    item = Import.objects.get(partner=cast.partner)
    partner_client.post(COMMIT, {"upload": item.public_id})
    dates = list(Installation.objects.order_by("pk").values_list("scheduled_date", flat=True))
    assert dates == [may, march]


def test_a_sheet_that_writes_dates_both_ways_refuses_the_ones_that_read_either_way(cast):
    """31/05 is day first and 5/31 month first: in such a sheet 3/4 could be either, and is
    refused, saying both dates and the rows that show the two ways. The others are read as
    the only date they can be."""
    may, march = _next_year(5, 31), _next_year(3, 4)
    rows = check(
        read_sheet(
            csv_bytes(
                [
                    job(1, date=f"{may:%d/%m/%Y}"),
                    job(2, date=_us(may)),
                    job(3, date=_us(march)),
                ]
            )
        ),
        partner=cast.partner,
    ).rows
    assert [row.scheduled_date for row in rows[:2]] == [may, may]
    assert not rows[0].errors and not rows[1].errors
    assert rows[2].scheduled_date is None
    assert rows[2].errors == [
        f"“{_us(march)}” could be 3 April {march.year} or 4 March {march.year}: this file "
        f"writes dates day first (“{may:%d/%m/%Y}” in row 2) and month first "
        f"(“{_us(may)}” in row 3). Write it as {march.year}-04-03 or {march.year}-03-04."
    ]


def test_in_a_sheet_writing_dates_both_ways_a_date_is_in_doubt_only_when_both_parts_are_months(
    cast,
):
    may = _next_year(5, 31)
    year = may.year

    def row_for(text: str):
        both_ways = [job(1, date=f"{may:%d/%m/%Y}"), job(2, date=_us(may)), job(3, date=text)]
        return check(read_sheet(csv_bytes(both_ways)), partner=cast.partner).rows[2]

    # 12 is a month: 12/3 is 12 March or 3 December.
    assert (
        row_for(f"12/3/{year}")
        .errors[0]
        .startswith(f"“12/3/{year}” could be 12 March {year} or 3 December {year}:")
    )
    # 13 is not: 13/3 can only be 13 March, and 3/3 is 3 March either way.
    for text, meant in ((f"13/3/{year}", date(year, 3, 13)), (f"3/3/{year}", date(year, 3, 3))):
        row = row_for(text)
        assert (row.errors, row.scheduled_date) == ([], meant), text


def test_only_a_part_over_12_shows_which_way_round_a_sheet_writes_its_dates(cast):
    year = timezone.localdate().year + 1

    def rows_of(*dates: str):
        rows = [job(n, date=text) for n, text in enumerate(dates, start=1)]
        return check(read_sheet(csv_bytes(rows)), partner=cast.partner).rows

    # 12/5 and 5/12 show nothing (12 can be a month): 5/31 makes the first sheet month first,
    # 31/5 the second day first, and neither is in doubt.
    twelve_five = rows_of(f"12/5/{year}", f"5/31/{year}")[0]
    assert (twelve_five.errors, twelve_five.scheduled_date) == ([], date(year, 12, 5))
    five_twelve = rows_of(f"31/5/{year}", f"5/12/{year}")[1]
    assert (five_twelve.errors, five_twelve.scheduled_date) == ([], date(year, 12, 5))
    # 13/12 is day first and 12/13 month first: the sheet writes both ways, 3/4 is in doubt.
    both = rows_of(f"13/12/{year}", f"12/13/{year}", f"3/4/{year}")
    assert both[2].errors[0].startswith(f"“3/4/{year}” could be 3 April {year} or 4 March")
    assert "(“13/12/" in both[2].errors[0] and "(“12/13/" in both[2].errors[0]


def test_a_day_first_sheet_says_nothing_of_month_first_dates(partner_client, cast):
    when = _a_day_and_month_either_way_round()
    response = upload(partner_client, [job(1, date=f"{when:%d/%m/%Y}")])
    page = partner_client.get(response["Location"]).content.decode()
    assert "month first" not in page.split("What the file must contain")[0]


# --- Cells as spreadsheets save them ------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "lost"),
    [("7700900123.0", "a leading 0"), ("7.7009E+09", "its last digits"), ("4.4E+11", "its last")],
)
def test_a_phone_number_saved_as_a_spreadsheet_number_is_refused_saying_what_it_lost(
    cast, written, lost
):
    # 7700900123.0 passed as a phone number of 11 digits, ".0" and all, and was imported.
    row = first_row(cast, phone=written)
    assert row.errors == [
        f"“{written}” is a phone number saved as a spreadsheet number, which loses {lost}"
        + row.errors[0].partition(lost)[2]
    ]
    assert "format the phone column as Text" in row.errors[0]


@pytest.mark.parametrize(
    "written",
    [
        "{d:%d/%m/%y}",  # LibreOffice's default date format
        "{d:%d.%m.%y}",
        "{d:%d/%m/%Y} 00:00",  # Excel, a date cell formatted with its time
        "{d:%Y-%m-%d} 00:00:00",  # LibreOffice and programs, a date-time cell
        "{d:%Y-%m-%d}T00:00:00",
        "{d:%d/%m/%Y} 14:30",  # a time of day: the window says when, as with a day number
    ],
)
def test_a_date_cell_as_spreadsheets_save_it_is_read_as_its_day(cast, written):
    text = written.format(d=day(9))
    row = first_row(cast, date=text)
    assert (row.scheduled_date, row.errors) == (day(9), [])


def test_a_two_digit_year_in_the_past_is_refused_naming_the_date_read(cast):
    row = first_row(cast, date=f"{day(-400):%d/%m/%y}")
    assert row.errors == [
        f"The date {day(-400):%d/%m/%Y} is in the past: choose today or a later date."
    ]


@pytest.mark.parametrize("text", ["31/05/2026 25:00", "31/05/2026 noon", "31/05/2026 00:00 x"])
def test_a_date_with_something_other_than_a_time_after_it_is_not_a_date(cast, text):
    assert "is not a date" in " ".join(first_row(cast, date=text).errors)


def test_a_window_of_time_cells_saved_with_seconds_is_read(cast):
    row = first_row(cast, window="08:00:00-10:00:00")
    assert row.errors == [] and row.window is not None
    assert f"{row.window[0]:%H:%M}-{row.window[1]:%H:%M}" == "08:00-10:00"
    assert "is not an arrival window" in " ".join(first_row(cast, window="08:00:30-10:00").errors)
