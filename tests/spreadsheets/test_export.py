"""The CSV export: exactly the list's filters, the partner's own rows, safe cells, streamed."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from installations import services
from installations.models import Installation
from installations.spreadsheets.export import HEADER, keep_as_text, neutralise
from installations.spreadsheets.reading import read_sheet
from installations.spreadsheets.validation import check
from installations.statuses import Status
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
EXPORT = reverse("spreadsheets:export")


def read(response) -> tuple[bytes, list[dict[str, str]]]:
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    raw = b"".join(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return raw, rows


def ids(rows: list[dict[str, str]]) -> list[int]:
    return [int(row["id"]) for row in rows]


@pytest.fixture
def partner_client(client, cast):
    client.force_login(cast.partner_user)
    return client


def test_it_exports_every_page_of_the_filtered_list_and_nothing_else(partner_client, cast):
    scheduled = [cast.installation(Status.SCHEDULED) for _ in range(27)]  # more than a page
    cast.installation(Status.EN_ROUTE)
    cast.installation(Status.REJECTED)
    _, rows = read(partner_client.get(EXPORT, {"group": "scheduled"}))
    assert ids(rows) == sorted(i.pk for i in scheduled)  # the list's order: date, window, id


def test_it_exports_the_status_group_with_its_two_statuses(partner_client, cast):
    waiting = cast.installation(Status.SCHEDULED)
    assigned = cast.installation(Status.INSTALLER_ASSIGNED)
    cast.installation(Status.CUSTOMER_APPROVED)
    _, rows = read(partner_client.get(EXPORT, {"group": "scheduled", "sort": "-date"}))
    assert set(ids(rows)) == {waiting.pk, assigned.pk}
    assert {row["status group"] for row in rows} == {"Scheduled"}
    assert {row["status"] for row in rows} == {"Scheduled", "Installer assigned"}


def test_it_honours_the_search_and_the_handyman_and_the_dates(partner_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Zebedee Quartz")
    found = cast.installation(Status.SCHEDULED, customer=customer, site_address=customer.address)
    cast.installation(Status.SCHEDULED)
    _, rows = read(partner_client.get(EXPORT, {"q": "zebedee"}))
    assert ids(rows) == [found.pk]

    hanks = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.other_handyman)
    _, rows = read(partner_client.get(EXPORT, {"handyman": cast.handyman.pk}))
    assert ids(rows) == [hanks.pk]

    later = cast.installation(
        Status.SCHEDULED, scheduled_date=timezone.localdate() + timezone.timedelta(days=30)
    )
    _, rows = read(partner_client.get(EXPORT, {"date_from": later.scheduled_date.isoformat()}))
    assert ids(rows) == [later.pk]


def test_it_never_exports_another_partners_rows(partner_client, cast):
    mine = cast.installation(Status.SCHEDULED)
    theirs = cast.installation(Status.SCHEDULED, partner=cast.other_partner)
    _, rows = read(partner_client.get(EXPORT))
    assert ids(rows) == [mine.pk]
    # Not even when asked for by number, nor by a search for its number.
    _, rows = read(partner_client.get(EXPORT, {"id": [mine.pk, theirs.pk]}))
    assert ids(rows) == [mine.pk]
    _, rows = read(partner_client.get(EXPORT, {"q": f"#{theirs.pk}"}))
    assert theirs.pk not in ids(rows)


def test_ids_restrict_the_export_to_the_chosen_rows_within_the_filters(partner_client, cast):
    a, b, c = (cast.installation(Status.SCHEDULED) for _ in range(3))
    _, rows = read(partner_client.get(EXPORT, {"id": [a.pk, c.pk]}))
    assert ids(rows) == [a.pk, c.pk]
    rejected = cast.installation(Status.REJECTED)
    _, rows = read(partner_client.get(EXPORT, {"id": [a.pk, rejected.pk], "group": "rejected"}))
    assert ids(rows) == [rejected.pk]


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "9" * 30, "\x00"])
def test_it_refuses_ids_it_cannot_read_with_words(partner_client, cast, bad):
    response = partner_client.get(EXPORT, {"id": bad})
    assert response.status_code == 422
    assert "Nothing was exported" in response.content.decode()


def test_it_refuses_filters_it_cannot_use_instead_of_exporting_everything(partner_client, cast):
    cast.installation(Status.SCHEDULED)
    response = partner_client.get(EXPORT, {"group": "nonsense", "date_from": "2026-02-30"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose a status group from the list." in page
    assert "Enter a date like 2026-05-31." in page


def test_it_writes_the_columns_a_spreadsheet_user_expects(partner_client, cast):
    inst = cast.installation(Status.SCHEDULED)
    services.installation_reject(installation=inst, reason="No access to site", actor=cast.staff)
    Installation.objects.filter(pk=inst.pk).update(partner_reference="PO-77")
    _, rows = read(partner_client.get(EXPORT))
    assert list(rows[0]) == list(HEADER)
    row = rows[0]
    inst.refresh_from_db()
    assert row["customer"] == inst.customer.name
    assert row["date"] == inst.scheduled_date.isoformat()
    assert row["window"] == "09:00-11:00"
    assert row["status"] == "Rejected"
    assert row["status group"] == "Rejected"
    assert row["reasons"] == "No access to site"
    assert row["partner reference"] == "PO-77"
    assert row["created"] == timezone.localtime(inst.created_at).strftime("%Y-%m-%d %H:%M")
    assert row["last change"] == timezone.localtime(inst.updated_at).strftime("%Y-%m-%d %H:%M")


def test_it_names_the_handyman(partner_client, cast):
    cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    _, rows = read(partner_client.get(EXPORT))
    assert rows[0]["handyman"] == cast.handyman.display_name


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil.example","click")', "+SUM(1,2)", "-cmd|' /C calc'!A0", "@SUM(A1)"],
)
def test_it_neutralises_cells_a_spreadsheet_would_run(partner_client, cast, value):
    customer = CustomerFactory(partner=cast.partner, name=value, phone="+44 7700 900555")
    inst = cast.installation(Status.SCHEDULED, customer=customer)
    # The services strip what is typed; a tab can still arrive through the admin or an import.
    Installation.objects.filter(pk=inst.pk).update(site_address=f"\t{value}")
    _, rows = read(partner_client.get(EXPORT))
    assert rows[0]["customer"] == "'" + value
    assert rows[0]["site address"] == "'\t" + value
    assert rows[0]["phone"] == "'+44 7700 900555"


def test_neutralise_leaves_ordinary_values_alone():
    assert neutralise("Ana Souza") == "Ana Souza"
    assert neutralise(31) == 31
    assert neutralise("\rx") == "'\rx"
    assert neutralise("") == ""


def test_text_a_spreadsheet_would_turn_into_a_number_or_a_date_is_written_as_text(
    partner_client, cast
):
    # Opened in Excel, a plain 07700900123 showed 7700900123 and 00123 showed 123.
    customer = CustomerFactory(partner=cast.partner, phone="07700900123")
    inst = cast.installation(Status.SCHEDULED, customer=customer, site_address="12")
    Installation.objects.filter(pk=inst.pk).update(partner_reference="00123")
    raw, rows = read(partner_client.get(EXPORT))
    assert b',"=""07700900123""",' in raw
    assert rows[0]["phone"] == '="07700900123"'
    assert rows[0]["partner reference"] == '="00123"'
    assert rows[0]["site address"] == "12"  # read as twelve, shown as 12: left alone
    assert rows[0]["date"] == inst.scheduled_date.isoformat()  # a real date, not text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("00123", '="00123"'),
        ("447700900123", '="447700900123"'),
        ("3-4", '="3-4"'),
        ("12/05", '="12/05"'),
        ("2026.05.31", '="2026.05.31"'),
        ("1E5", '="1E5"'),
        ("1.50", '="1.50"'),
        ("0", "0"),
        ("1001", "1001"),
        ("ORDER-0012", "ORDER-0012"),
        ("07700 900123", "07700 900123"),
        ('00"1', '00"1'),
        ("٠١٢", "٠١٢"),
        ("+447700900123", "'+447700900123"),
    ],
)
def test_only_digits_a_spreadsheet_would_change_are_wrapped(value, written):
    assert neutralise(keep_as_text(value)) == written


def test_an_exported_file_imports_back_with_its_leading_zeros(partner_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Ana Souza", phone="07700900123")
    inst = cast.installation(Status.SCHEDULED, customer=customer)
    Installation.objects.filter(pk=inst.pk).update(partner_reference="00123")
    raw, _ = read(partner_client.get(EXPORT))
    [row] = check(read_sheet(raw), partner=cast.partner).rows
    assert row.values["phone"] == "07700900123"
    assert row.values["partner_reference"] == "00123"


def test_it_is_utf8_with_a_bom_so_that_excel_reads_accented_names(partner_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Élodie Müller-Ørsted")
    cast.installation(Status.SCHEDULED, customer=customer, site_address="Straße 1")
    response = partner_client.get(EXPORT)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw, rows = read(response)
    assert raw.startswith(b"\xef\xbb\xbfid,customer,")
    assert rows[0]["customer"] == "Élodie Müller-Ørsted"
    assert rows[0]["site address"] == "Straße 1"


def test_it_is_a_dated_attachment(partner_client, cast):
    response = partner_client.get(EXPORT)
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="installations-{today}.csv"'
    read(response)


def test_it_streams_and_its_queries_do_not_grow_with_the_rows(partner_client, cast):
    def measure() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            _, rows = read(partner_client.get(EXPORT, {"q": "e", "sort": "-changed"}))
        return len(ctx.captured_queries), len(rows)

    for _ in range(2):
        cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.other_handyman)
    partner_client.get(EXPORT)  # the session, warm
    small_queries, small_rows = measure()
    for _ in range(18):
        cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.other_handyman)
    large_queries, large_rows = measure()
    assert large_rows > small_rows
    assert large_queries == small_queries


def test_it_reads_the_rows_in_chunks_rather_than_all_at_once(partner_client, cast, monkeypatch):
    from django.db.models.query import QuerySet

    calls = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        calls.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    cast.installation(Status.SCHEDULED)
    read(partner_client.get(EXPORT))
    assert calls == [2000]


def test_the_list_links_to_the_export_of_its_own_filters(partner_client, cast):
    cast.installation(Status.SCHEDULED)
    page = partner_client.get(reverse("partner:list"), {"group": "scheduled", "q": "a b"})
    html = page.content.decode()
    assert f'href="{EXPORT}?group=scheduled&amp;q=a+b"' in html
    # Also in the fragment htmx swaps in when the filters change.
    fragment = partner_client.get(
        reverse("partner:list"), {"group": "rejected"}, headers={"HX-Request": "true"}
    )
    assert f'href="{EXPORT}?group=rejected"' in fragment.content.decode()


def test_the_export_is_only_for_partner_users(client, cast):
    cast.installation(Status.SCHEDULED)
    client.force_login(cast.handyman.user)
    assert client.get(EXPORT).status_code == 404
    client.force_login(cast.staff)
    assert client.get(EXPORT).status_code == 404


def test_its_memory_stays_flat_while_the_rows_grow(partner_client, cast):
    """Peak memory of exporting 2,500 rows and then 10,000: the same chunks, not four times as
    much (a list() of the rows, or one string of the file, would grow with them)."""
    import tracemalloc
    from datetime import time

    customer = CustomerFactory(partner=cast.partner, name="Élodie Müller")

    def add(k: int) -> None:
        Installation.objects.bulk_create(
            Installation(
                partner=cast.partner,
                customer=customer,
                site_address="1 Rue de la Paix, Paris",
                scheduled_date=timezone.localdate(),
                window_start=time(8),
                window_end=time(10),
                handyman=cast.handyman,
            )
            for _ in range(k)
        )

    def peak() -> tuple[int, int]:
        tracemalloc.start()
        try:
            response = partner_client.get(EXPORT)
            lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
            return tracemalloc.get_traced_memory()[1], lines
        finally:
            tracemalloc.stop()

    partner_client.get(EXPORT)  # the session, warm
    add(2500)
    small, small_lines = peak()
    add(7500)
    large, large_lines = peak()
    assert (small_lines, large_lines) == (2501, 10001)
    assert large < small * 1.5, (small, large)
