"""The import holds each row to the scheduling rules of an assignment: a handyman's day off and a
window already over today are refused; a handyman booked twice at once (by an existing job or
another row of the file) is a warning the partner confirms, in the preview and again, under the
same rules, at the commit."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from installations import services
from installations.scheduling.models import TimeOff
from installations.scheduling.rules import day_off_message
from installations.spreadsheets.models import Import
from installations.spreadsheets.reading import read_sheet
from installations.spreadsheets.validation import check
from installations.statuses import Status

from .files import csv_bytes, day, job

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
