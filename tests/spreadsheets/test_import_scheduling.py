"""The import holds each row to the scheduling rules of an assignment: a handyman's day off and a
window already over today are refused; a handyman booked twice at once (by an existing job or
another row of the file) is a warning the partner confirms, in the preview and again, under the
same rules, at the commit."""

from __future__ import annotations

import re
from datetime import time
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from installations import services
from installations.models import Installation
from installations.scheduling.models import TimeOff
from installations.scheduling.rules import day_off_message
from installations.spreadsheets import validation
from installations.spreadsheets.models import Import
from installations.spreadsheets.reading import read_sheet
from installations.spreadsheets.validation import check
from installations.statuses import Status
from tests.factories import CustomerFactory

from .files import csv_bytes, day, job
from .test_import import world

pytestmark = pytest.mark.django_db
IMPORT = reverse("spreadsheets:import")
COMMIT = reverse("spreadsheets:commit")


def report_for(cast, rows):
    return check(read_sheet(csv_bytes(rows)), partner=cast.partner)


def _at(hour: int, minute: int = 0):
    """The scheduling clock set to `hour`:`minute` today (local time)."""
    now = timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)
    return mock.patch("installations.scheduling.rules.local_now", return_value=now)


def hanks_job(cast, **extra):
    """An open job of Hank's a week ahead, 09:00–11:00 (where the file's rows fall)."""
    return cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=day(), **extra)


@pytest.fixture(autouse=True)
def _hank_is_just_hank(cast):
    """The sentences below name him as the partner's page does: by his full name."""
    user = cast.handyman.user
    user.first_name, user.last_name = "Hank", ""
    user.save(update_fields=["first_name", "last_name"])


@pytest.fixture
def partner_client(client, cast):
    client.force_login(cast.partner_user)
    return client


def previewed(client, cast, rows):
    """Upload the rows; the stored import and its preview page."""
    response = client.post(IMPORT, {"file": SimpleUploadedFile("jobs.csv", csv_bytes(rows))})
    assert response.status_code == 303, response.content.decode()
    item = Import.objects.get(partner=cast.partner, status=Import.State.PREVIEWED)
    return item, client.get(response["Location"]).content.decode()


def words(page: str) -> str:
    """The page's text, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split()).replace(" :", ":")


def confirm_key(page: str) -> str:
    """What the page's "Import anyway" button posts."""
    match = re.search(r'name="confirm_conflicts" value="(\w+)"', page)
    assert match, "no confirmation offered"
    return match.group(1)


def commit(client, item, confirmed: str | None = None):
    data = {"upload": item.public_id}
    if confirmed is not None:
        data["confirm_conflicts"] = confirmed
    return client.post(COMMIT, data)


# --- The rows, in words -------------------------------------------------------------------------


def test_a_row_on_the_handymans_day_off_is_refused_naming_him(cast):
    TimeOff.objects.create(handyman=cast.handyman, day=day())
    report = report_for(cast, [job(1, handyman="hank"), job(2, handyman="hana")])
    assert report.rows[0].errors == [day_off_message(cast.handyman, day())]
    assert report.rows[0].errors[0].startswith("Hank is off on ")
    assert report.rows[1].errors == []  # another handyman that day
    assert not report.ok


def test_a_row_overlapping_the_handymans_job_is_a_warning_naming_that_job(cast):
    booked = hanks_job(cast)
    report = report_for(
        cast, [job(1, handyman="hank"), job(2, handyman="hank", window="12:00-14:00")]
    )
    first, second = report.rows
    assert first.errors == []
    assert first.warnings == [
        f"Hank already has #{booked.pk} {booked.customer.name} 09:00–11:00 that day."
    ]
    assert second.warnings == []  # 12:00–14:00 does not overlap
    assert report.ok and report.jobs == 2
    assert report.warning_rows == [first] and report.warnings_key


def test_a_clash_with_another_partners_job_is_a_booking_elsewhere(cast):
    theirs = hanks_job(cast, partner=cast.other_partner)
    warnings = report_for(cast, [job(1, handyman="hank")]).rows[0].warnings
    assert warnings == ["Hank already has a booking elsewhere 09:00–11:00 that day."]
    assert f"#{theirs.pk}" not in warnings[0] and theirs.customer.name not in warnings[0]


def test_a_cancelled_job_is_no_clash(cast):
    services.installation_cancel(installation=hanks_job(cast), reason="Moved", actor=cast.staff)
    assert report_for(cast, [job(1, handyman="hank")]).rows[0].warnings == []


def test_two_rows_giving_one_handyman_overlapping_windows_warn_on_the_later_row(cast):
    rows = [
        job(1, handyman="hank", window="08:00-12:00"),
        job(2, handyman="hank", window="10:00-12:00"),
        job(3, handyman="hank", window="12:00-14:00"),  # touching: no clash
        job(4, handyman="hana", window="08:00-10:00"),  # another handyman
        job(5, handyman="hank", window="08:00-10:00", date=day(8).isoformat()),  # another day
    ]
    report = report_for(cast, rows)
    assert [row.warnings for row in report.rows] == [
        [],
        ["This file also gives Hank row 2 08:00–12:00 that day."],
        [],
        [],
        [],
    ]
    assert report.ok


def test_a_row_with_errors_books_nothing_so_no_later_row_clashes_with_it(cast):
    rows = [job(1, handyman="hank", email="not-an-email"), job(2, handyman="hank")]
    first, second = report_for(cast, rows).rows
    assert first.errors == ["“not-an-email” is not an email address."]
    assert (first.warnings, second.errors, second.warnings) == ([], [], [])


def test_a_row_today_whose_window_has_ended_is_refused(cast):
    today = timezone.localdate().isoformat()
    with _at(12, 30):
        report = report_for(
            cast, [job(1, date=today, window="08:00-10:00"), job(2, date=today, window="14-16")]
        )
    assert report.rows[0].errors == [
        "The 08:00–10:00 window has already ended today: choose a later window or another day."
    ]
    assert report.rows[1].errors == []


def test_the_checks_cost_the_same_queries_for_one_row_as_for_many(cast):
    TimeOff.objects.create(handyman=cast.other_handyman, day=day(8))
    hanks_job(cast)
    one = [job(1, handyman="hank")]
    many = [
        job(n, handyman="hana" if n % 2 else "hank", date=day(7 + n).isoformat()) for n in range(8)
    ]
    counts = []
    for rows in (one, many):
        with CaptureQueriesContext(connection) as queries:
            report = report_for(cast, rows)
        counts.append(len(queries))
    assert report.rows[1].errors and report.rows[0].warnings  # both checks had rows to find
    assert counts[0] == counts[1]


# --- Preview and commit -------------------------------------------------------------------------


def test_an_overlap_is_previewed_with_its_row_and_an_import_anyway_button(partner_client, cast):
    booked = hanks_job(cast)
    item, page = previewed(partner_client, cast, [job(1), job(2, handyman="hank")])
    text = words(page)
    assert "Conflict: this row books a handyman at the same time as another job" in text
    assert (
        f"Row 3 (Customer 2): Hank already has #{booked.pk} {booked.customer.name} 09:00–11:00 "
        "that day." in text
    )
    assert "Import 2 installations anyway" in text
    assert confirm_key(page)


def test_a_file_without_overlaps_needs_no_confirmation(partner_client, cast):
    item, page = previewed(partner_client, cast, [job(1, handyman="hank")])
    assert "confirm_conflicts" not in page and "Conflict:" not in page
    assert commit(partner_client, item).status_code == 303
    assert Import.objects.get().status == Import.State.COMMITTED


def test_a_commit_that_does_not_confirm_the_overlap_imports_nothing(partner_client, cast):
    hanks_job(cast)
    item, _ = previewed(partner_client, cast, [job(1, handyman="hank")])
    before = world()
    response = commit(partner_client, item)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Some handymen would have two jobs at the same time. Nothing was imported" in page
    assert "Import 1 installation anyway" in page  # the confirmation, offered again
    assert world() == before


def test_a_confirmed_overlap_is_imported_and_assigned(partner_client, cast):
    booked = hanks_job(cast)
    rows = [job(1, handyman="hank"), job(2, handyman="hank")]
    item, page = previewed(partner_client, cast, rows)
    assert "This file also gives Hank row 2 08:00–10:00 that day." in words(page)
    response = commit(partner_client, item, confirm_key(page))
    assert response.status_code == 303
    item.refresh_from_db()
    assert item.status == Import.State.COMMITTED and item.jobs_created == 2
    assert booked.pk not in item.installation_ids
    created = Installation.objects.filter(pk__in=item.installation_ids)
    assert {(j.handyman, j.status) for j in created} == {(cast.handyman, Status.INSTALLER_ASSIGNED)}


def test_a_resent_confirm_creates_nothing_twice(partner_client, cast):
    hanks_job(cast)
    item, page = previewed(partner_client, cast, [job(1, handyman="hank")])
    key = confirm_key(page)
    first = commit(partner_client, item, key)
    assert first.status_code == 303
    after_first = world()
    # Its own jobs would now clash with its rows: the import is found done before any check.
    again = commit(partner_client, item, key)
    assert again.status_code == 303 and again["Location"] == first["Location"]
    assert world() == after_first


def test_a_day_off_marked_after_the_preview_stops_the_commit(partner_client, cast):
    item, _ = previewed(partner_client, cast, [job(1), job(2, handyman="hank")])
    TimeOff.objects.create(handyman=cast.handyman, day=day())
    before = world()
    response = commit(partner_client, item)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Some rows no longer pass their checks" in page
    assert "Row 3 (Customer 2): Hank is off on " in words(page)
    assert world() == before


def test_a_job_booked_for_the_handyman_after_the_preview_must_be_confirmed(partner_client, cast):
    item, _ = previewed(partner_client, cast, [job(1, handyman="hank")])
    hanks_job(cast)
    before = world()
    response = commit(partner_client, item)
    assert response.status_code == 409
    assert "Some handymen would have two jobs at the same time" in response.content.decode()
    assert world() == before


def test_an_overlap_that_changed_after_the_preview_must_be_confirmed_again(partner_client, cast):
    hanks_job(cast)
    item, page = previewed(partner_client, cast, [job(1, handyman="hank")])
    hanks_job(cast, window_start=time(8), window_end=time(10))
    before = world()
    response = commit(partner_client, item, confirm_key(page))
    assert response.status_code == 409
    page = response.content.decode()
    assert "bookings have changed since the preview" in page
    assert world() == before
    # Confirmed again, as the page now shows them: imported.
    assert commit(partner_client, item, confirm_key(page)).status_code == 303
    assert Import.objects.get().status == Import.State.COMMITTED


def test_a_window_that_ended_since_the_preview_stops_the_commit(partner_client, cast):
    today = timezone.localdate().isoformat()
    with _at(11):
        item, _ = previewed(partner_client, cast, [job(1, date=today, window="12:00-14:00")])
    before = world()
    with _at(14, 5):
        response = commit(partner_client, item)
    assert response.status_code == 409
    assert "The 12:00–14:00 window has already ended today" in response.content.decode()
    assert world() == before


def test_a_row_without_a_warning_is_checked_again_by_the_assign_service(
    partner_client, cast, monkeypatch
):
    """A job booked for the handyman between the commit's check and its assignment (simulated
    by a check that misses it) still stops the import: the row is assigned unconfirmed."""
    item, _ = previewed(partner_client, cast, [job(1), job(2, handyman="hank")])
    booked = hanks_job(cast, customer=CustomerFactory(partner=cast.partner, name="Zoe Late"))
    monkeypatch.setattr(validation, "busy_jobs", lambda *args: [])
    before = world()
    response = commit(partner_client, item)
    assert response.status_code == 409
    page = response.content.decode()
    assert f"Row 3 could not be imported (Hank already has #{booked.pk} Zoe Late" in page
    assert world() == before
