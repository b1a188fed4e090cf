"""The file as a whole: limits, encodings, separators, column names; always words, never a 500."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from installations.models import Customer, Installation
from installations.spreadsheets.models import Import
from installations.spreadsheets.reading import MAX_BYTES, MAX_ROWS, FileRefused, read_sheet

from .files import HEADER, csv_bytes, job

IMPORT = reverse("spreadsheets:import")


def refused(content: bytes) -> str:
    with pytest.raises(FileRefused) as info:
        read_sheet(content)
    return info.value.message


# --- read_sheet, no database -------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \r\n\r\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n"])
def test_it_refuses_an_empty_file(content):
    assert "The file is empty" in refused(content)


def test_it_refuses_a_file_with_column_names_and_no_rows():
    assert "no rows" in refused(csv_bytes([]))


def test_it_refuses_binary_data():
    assert "binary data" in refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "binary data" in refused(b"customer name,date\nA\x01B,2026-01-01\n")


def test_it_refuses_an_excel_workbook_with_what_to_do():
    message = refused(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40)
    assert "Excel workbook (.xlsx)" in message
    assert "CSV UTF-8" in message


def test_it_tells_a_libreoffice_user_how_to_save_a_csv_not_how_excel_does():
    # An .ods was answered "This is an Excel workbook (.xlsx) … In Excel choose File › Save As".
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    message = refused(ods.getvalue())
    assert message.startswith("This is a LibreOffice or OpenOffice spreadsheet (.ods)")
    assert "“Text CSV (.csv)”" in message and "Excel" not in message


def _zip(names: dict[str, str]) -> bytes:
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for name, text in names.items():
            archive.writestr(name, text)
    return packed.getvalue()


@pytest.mark.parametrize(
    ("names", "words"),
    [
        (
            {"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"},
            "This is a Word document (.docx), not a CSV file.",
        ),
        (
            {"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"},
            "This is a LibreOffice or OpenOffice document, not a spreadsheet, and not a CSV file.",
        ),
        ({"jobs.csv": "customer name,date\n"}, "This is a compressed (zip) file, not a CSV file."),
    ],
)
def test_a_document_or_an_archive_is_not_called_an_excel_workbook(names, words):
    # Every zip file but an .ods was "an Excel workbook (.xlsx) … In Excel choose File › Save As".
    message = refused(_zip(names))
    assert message.startswith(words) and "Excel workbook" not in message
    assert "“CSV UTF-8 (comma delimited)”" in message


def test_a_workbook_is_still_called_one_whatever_its_first_entry():
    names = {"docProps/app.xml": "<Properties/>", "xl/workbook.xml": "<workbook/>"}
    assert "This is an Excel workbook (.xlsx)" in refused(_zip(names))


@pytest.mark.parametrize(
    "content",
    [
        b"<html><body><table><tr><td>customer name</td><td>date</td></tr></table></body></html>",
        b'\xef\xbb\xbf<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:'
        b'office:spreadsheet"><Worksheet ss:Name="Jobs"/></Workbook>',
    ],
)
def test_an_html_or_xml_export_named_xls_is_refused_saying_what_it_is(content):
    # It was told "The first line of the file must name the columns …".
    message = refused(content)
    assert message.startswith("This is a web page or an XML file, not a CSV file")
    assert "CSV UTF-8" in message


def test_a_zip_bomb_named_xlsx_is_refused_without_being_unpacked():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)  # 50 MB in ~50 kB
    assert len(bomb.getvalue()) < MAX_BYTES
    assert "Excel workbook (.xlsx)" in refused(bomb.getvalue())


def test_it_refuses_a_file_over_the_size_limit():
    assert "at most 2 MB" in refused(b"a" * (MAX_BYTES + 1))


def test_a_file_of_2_mb_is_read_and_one_byte_more_is_refused():
    # The page says "at most 2 MB": 2 × 1024 × 1024 bytes, not a byte fewer.
    two_mb = 2 * 1024 * 1024
    assert "at most 2 MB" not in refused(b"a" * two_mb)  # refused for another reason
    assert "at most 2 MB" in refused(b"a" * (two_mb + 1))


def test_a_cell_of_20000_characters_is_read_and_a_longer_one_is_taken_for_a_broken_file():
    longest = read_sheet(csv_bytes([job(1, notes="x" * 20_000)]))
    assert len(longest.records[0][1][HEADER.index("notes")]) == 20_000
    message = refused(csv_bytes([job(1, notes="x" * 20_001)]))
    assert message == (
        "Row 2 has a cell of more than 20,000 characters: a quote is probably missing its "
        "closing quote."
    )


def test_it_refuses_more_rows_than_the_limit():
    message = refused(csv_bytes([job(n) for n in range(MAX_ROWS + 1)]))
    assert f"at most {MAX_ROWS:,}" in message
    assert len(read_sheet(csv_bytes([job(n) for n in range(MAX_ROWS)])).records) == MAX_ROWS


def test_rows_are_numbered_as_the_spreadsheet_numbers_them_whatever_lines_a_cell_spans():
    content = csv_bytes([job(1, notes="Ring twice.\nSide gate.\nDog."), job(2), job(3)])
    # Row 1 is the column names; the notes cell spans three lines of the file but one row.
    assert [row for row, _ in read_sheet(content).records] == [2, 3, 4]


def test_it_reads_utf8_with_and_without_the_bom():
    for bom in (False, True):
        sheet = read_sheet(csv_bytes([job(customer_name="Jürgen Müller")], bom=bom))
        assert sheet.encoding == "UTF-8"
        assert sheet.records[0][1][0] == "Jürgen Müller"
        assert sheet.notes == []


def test_it_reads_windows_1252_and_says_so():
    sheet = read_sheet(csv_bytes([job(customer_name="Zoë Brontë – Café")], encoding="cp1252"))
    assert sheet.encoding == "Windows-1252"
    assert sheet.records[0][1][0] == "Zoë Brontë – Café"
    assert any("read as Windows-1252" in note for note in sheet.notes)


def test_it_reads_excels_unicode_text_utf16_with_tabs():
    content = codecs.BOM_UTF16_LE + csv_bytes(
        [job(customer_name="Łukasz")], delimiter="\t", encoding="utf-16-le"
    )
    sheet = read_sheet(content)
    assert (sheet.encoding, sheet.delimiter) == ("UTF-16", "\t")
    assert sheet.records[0][1][0] == "Łukasz"


def test_it_refuses_characters_it_cannot_read():
    # 0x81 is neither UTF-8 here nor any Windows-1252 character.
    assert "neither UTF-8 nor Windows-1252" in refused(b"customer name,date\n\x81\x81,x\n")


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_it_finds_semicolons_and_tabs(delimiter, name):
    sheet = read_sheet(csv_bytes([job(address="1 Rue de Paris, Lyon")], delimiter=delimiter))
    assert sheet.delimiter == delimiter and sheet.delimiter_name == name
    # Said once, by the preview's line about the file, not again among the notes.
    assert "separated by" not in " ".join(sheet.notes)
    assert sheet.records[0][1][sheet.columns["address"]] == "1 Rue de Paris, Lyon"


def test_it_finds_commas_even_when_cells_hold_semicolons():
    sheet = read_sheet(csv_bytes([job(notes="gate; dog; ring twice")]))
    assert sheet.delimiter == ","


def test_it_refuses_a_separator_it_does_not_know_with_words():
    message = refused(csv_bytes([job()], delimiter="|"))
    assert "separated by commas, semicolons or tabs" in message


def test_it_reads_column_names_in_any_case_and_spacing():
    header = [
        "  Customer_Name ",
        "PHONE",
        "E-mail",
        "Address",
        "Site  Address",
        "Date",
        "Arrival window",
        "Notes",
        "Handyman",
        "Partner-Reference",
    ]
    content = csv_bytes([job()], header=header)
    # csv_bytes looks values up by the template's names: write the row by hand.
    content = content.split(b"\r\n")[0] + b"\r\n" + csv_bytes([job()]).split(b"\r\n")[1] + b"\r\n"
    sheet = read_sheet(content)
    assert set(sheet.columns) == {
        "customer_name",
        "phone",
        "email",
        "address",
        "site_address",
        "date",
        "window",
        "notes",
        "handyman",
        "partner_reference",
    }


def test_it_names_the_missing_required_columns():
    header = [h for h in HEADER if h not in ("date", "window", "phone", "email")]
    message = refused(csv_bytes([job()], header=header))
    assert "no column for: date, window, phone or email" in message


def test_it_needs_a_customer_name_column():
    header = [h for h in HEADER if h != "customer name"]
    assert "no column for: customer name." in refused(csv_bytes([job()], header=header))


def test_a_first_line_too_long_for_the_csv_reader_is_refused_in_words():
    # Longer than the csv module's largest field: it raises on the heading line itself.
    assert refused(b"x" * 200_000).startswith("The first line of the file must name the columns")


def test_it_refuses_a_column_given_twice():
    message = refused(b"customer name,name,date,window,phone,address\nA,B,2026-01-01,x,1,y\n")
    assert "appears twice" in message


def test_it_says_which_columns_it_left_out():
    sheet = read_sheet(csv_bytes([job()], header=[*HEADER, "VAT number"]))
    assert "“VAT number”" in " ".join(sheet.notes)


def test_it_refuses_an_unclosed_quote_with_words():
    content = csv_bytes([job()]) + b'"Ana,' + b"x" * 30_000 + b"\n"
    assert "missing its closing quote" in refused(content)


# --- Through the page: 422 and words, nothing stored --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "The file is empty"),
        (b"\n\n", "The file is empty"),
        (b"\x00\x01\x02binary\xff", "binary data"),
        (b"PK\x03\x04rest", "Excel workbook"),
        (b"name|date|window\nA|B|C\n", "separated by commas, semicolons or tabs"),
        (b"customer name,date,window\nA,2026-01-01,08:00-10:00\n", "no column for"),
    ],
)
def test_the_page_answers_a_bad_file_with_words_and_stores_nothing(client, cast, content, words):
    client.force_login(cast.partner_user)
    response = client.post(IMPORT, {"file": SimpleUploadedFile("jobs.csv", content)})
    assert response.status_code == 422
    assert words in response.content.decode()
    assert not Import.objects.exists()
    assert not Installation.objects.exists()
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_the_page_refuses_a_large_file_before_reading_it(client, cast, monkeypatch):
    client.force_login(cast.partner_user)
    read = []
    monkeypatch.setattr(
        "installations.spreadsheets.services.read_sheet", lambda c: read.append(c) or None
    )
    big = SimpleUploadedFile("big.csv", b"x" * (MAX_BYTES + 1))
    response = client.post(IMPORT, {"file": big})
    assert response.status_code == 422
    assert "at most 2 MB" in response.content.decode()
    assert read == []


@pytest.mark.django_db
def test_the_page_says_its_limits(client, cast):
    client.force_login(cast.partner_user)
    page = client.get(IMPORT).content.decode()
    assert "At most 2 MB and 500 rows" in page
    assert reverse("spreadsheets:template") in page


@pytest.mark.django_db
def test_the_template_is_a_file_the_import_reads_without_errors(client, cast):
    client.force_login(cast.partner_user)
    response = client.get(reverse("spreadsheets:template"))
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(codecs.BOM_UTF8 + b"customer name,phone,email")
    response = client.post(IMPORT, {"file": SimpleUploadedFile("t.csv", response.content)})
    assert response.status_code == 303
