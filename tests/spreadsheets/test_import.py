"""The import: every row checked in the preview, then one all-or-nothing commit through the
services; the same file twice adds nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from installations import services
from installations.forms import InstallationCreateForm
from installations.models import (
    Customer,
    Installation,
    Message,
    PartnerStatusCount,
    StatusChange,
)
from installations.spreadsheets import services as import_services
from installations.spreadsheets.models import Import
from installations.spreadsheets.reading import read_sheet
from installations.spreadsheets.validation import check
from installations.statuses import Status
from tests.factories import CustomerFactory, HandymanFactory, UserFactory

from .files import HEADER, csv_bytes, day, job

pytestmark = pytest.mark.django_db
IMPORT = reverse("spreadsheets:import")
COMMIT = reverse("spreadsheets:commit")


def report_for(cast, rows, **kwargs):
    return check(read_sheet(csv_bytes(rows, **kwargs)), partner=cast.partner)


def errors_of(cast, row: dict[str, str]) -> str:
    report = report_for(cast, [row])
    return " ".join(report.rows[0].errors)


def world() -> tuple:
    """Everything an import could write."""
    return (
        Installation.objects.count(),
        Customer.objects.count(),
        StatusChange.objects.count(),
        Message.objects.count(),
        tuple(PartnerStatusCount.objects.order_by("pk").values_list("status", "count")),
    )


@pytest.fixture
def partner_client(client, cast):
    client.force_login(cast.partner_user)
    return client


def upload(client, content: bytes, name: str = "jobs.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content)})


def stored(cast) -> Import:
    return Import.objects.get(partner=cast.partner)


# --- Each row's errors, in words ----------------------------------------------------------------


def test_a_valid_row_has_no_errors(cast):
    assert errors_of(cast, job()) == ""


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"date": "31/02/2027"}, "“31/02/2027” is not a date: write it like 2026-05-31"),
        ({"date": "tomorrow"}, "“tomorrow” is not a date"),
        ({"date": ""}, "The date is missing."),
        ({"window": "07:00-09:00"}, "We do not offer the arrival window “07:00-09:00”"),
        ({"window": "morning"}, "“morning” is not an arrival window"),
        ({"window": "25:00-26:00"}, "“25:00-26:00” is not an arrival window"),
        ({"window": ""}, "The arrival window is missing."),
        ({"customer_name": ""}, "The customer name is missing."),
        ({"address": "", "site_address": ""}, "The site address is missing."),
        ({"phone": "", "email": ""}, "A phone number or an email address is needed."),
        ({"email": "not-an-email"}, "“not-an-email” is not an email address."),
        ({"phone": "call me"}, "“call me” is not a phone number."),
        ({"phone": "12"}, "“12” is not a phone number."),
        ({"notes": "x" * 4001}, "The notes cell is too long: at most 4,000 characters."),
        ({"handyman": "nobody"}, "No handyman called “nobody” works for you"),
        (
            {"notes": '=HYPERLINK("http://evil.example","x")'},
            "The notes cell holds a spreadsheet formula",
        ),
    ],
)
def test_each_bad_cell_is_said_in_words(cast, overrides, words):
    assert words in errors_of(cast, job(**overrides))


# The most each cell may hold: what the field that keeps it holds (the handyman cell names a
# username).
LIMITS = [
    ("customer_name", Customer._meta.get_field("name").max_length),
    ("phone", Customer._meta.get_field("phone").max_length),
    ("email", Customer._meta.get_field("email").max_length),
    ("address", Customer._meta.get_field("address").max_length),
    ("site_address", Installation._meta.get_field("site_address").max_length),
    ("notes", InstallationCreateForm.base_fields["notes"].max_length),
    ("handyman", get_user_model()._meta.get_field("username").max_length),
    ("partner_reference", Installation._meta.get_field("partner_reference").max_length),
]


@pytest.mark.parametrize(("key", "limit"), LIMITS)
def test_a_cell_may_hold_as_many_characters_as_its_field_keeps_and_no_more(cast, key, limit):
    too_long = f"The {key.replace('_', ' ')} cell is too long: at most {limit:,} characters."
    assert too_long not in errors_of(cast, job(**{key: "x" * limit}))
    assert too_long in errors_of(cast, job(**{key: "x" * (limit + 1)}))


@pytest.mark.parametrize("key", ["date", "window"])
def test_a_date_or_window_cell_of_pages_of_text_is_refused_in_words(partner_client, cast, key):
    # Neither has a field of its own: the limit was looked up among the fields' and not found
    # (a server error).
    assert f"The {key} cell is too long: at most 255 characters." in errors_of(
        cast, job(**{key: "9" * 256})
    )
    assert "too long" not in errors_of(cast, job(**{key: "9" * 255}))
    response = upload(partner_client, csv_bytes([job(**{key: "9" * 256})]))
    assert response.status_code == 422
    assert f"The {key} cell is too long" in response.content.decode()
    assert not Import.objects.exists()


def test_a_row_shorter_than_the_header_reads_its_missing_cells_as_empty(cast):
    # Some programs leave out a row's trailing empty cells: this one stops after the window.
    short = f"Customer 1,07700 900001,,1 High Street,,{day().isoformat()},08:00-10:00"
    report = check(read_sheet(f"{','.join(HEADER)}\n{short}\n".encode()), partner=cast.partner)
    row = report.rows[0]
    assert row.errors == []
    assert [row.values[key] for key in ("notes", "handyman", "partner_reference")] == ["", "", ""]


def test_a_file_with_only_the_columns_it_needs_is_checked_with_the_others_empty(cast):
    needed = ["customer name", "phone", "address", "date", "window"]
    row = report_for(cast, [job(1)], header=needed).rows[0]
    assert row.errors == []
    assert (row.values["email"], row.values["site_address"], row.values["notes"]) == ("", "", "")
    assert row.site_address == "1 High Street, Leeds"


@pytest.mark.parametrize(
    ("phone", "is_one"),
    [
        ("901 234", True),  # 6 digits: the fewest a phone number has
        ("90 123", False),
        ("+44 7700 900123 123", True),  # 15 digits: the most an international number has
        ("+44 7700 900123 1234", False),
    ],
)
def test_a_phone_number_has_6_to_15_digits(cast, phone, is_one):
    assert (f"“{phone}” is not a phone number." not in errors_of(cast, job(phone=phone))) is is_one


def test_a_past_date_is_refused(cast):
    yesterday = timezone.localdate() - timedelta(days=1)
    words = errors_of(cast, job(date=yesterday.isoformat()))
    assert f"The date {yesterday:%d/%m/%Y} is in the past" in words
    # Today is fine while the row's window has not ended.
    early = timezone.localtime().replace(hour=7, minute=0)
    with mock.patch("installations.scheduling.rules.local_now", return_value=early):
        assert errors_of(cast, job(date=timezone.localdate().isoformat())) == ""


def test_dates_and_windows_are_read_in_the_usual_spellings(cast):
    d = day(9)
    for text in (d.isoformat(), f"{d:%d/%m/%Y}", f"{d:%d.%m.%Y}"):
        report = report_for(cast, [job(date=text, window="8-10")])
        assert report.rows[0].scheduled_date == d
        assert report.rows[0].errors == []
    for window in ("08:00–10:00", "8:00 - 10:00", "08.00-10.00", "8 to 10"):
        assert errors_of(cast, job(window=window)) == "", window


def test_phone_numbers_with_a_plus_are_not_formulas(cast):
    assert errors_of(cast, job(phone="+44 7700 900123")) == ""
    # As our own export writes it, with the leading ' that keeps spreadsheets from running it.
    report = report_for(cast, [job(phone="'+44 7700 900123")])
    assert report.rows[0].values["phone"] == "+44 7700 900123"


def test_a_handyman_who_serves_another_partner_only_is_refused_like_a_stranger(cast):
    outsider = HandymanFactory(user=UserFactory(username="otto", first_name="Otto"))
    outsider.partners.add(cast.other_partner)
    assert "No handyman called “otto” works for you" in errors_of(cast, job(handyman="otto"))


def test_a_handyman_is_found_by_username_or_full_name(cast):
    hana = cast.other_handyman
    by_username = report_for(cast, [job(handyman="HANA")]).rows[0]
    by_name = report_for(cast, [job(handyman=hana.user.get_full_name().upper())]).rows[0]
    assert by_username.handyman == hana
    assert by_name.handyman == hana


def test_two_handymen_of_the_same_name_need_the_username(cast):
    for username in ("sam1", "sam2"):
        twin = HandymanFactory(
            user=UserFactory(username=username, first_name="Sam", last_name="Smith")
        )
        twin.partners.add(cast.partner)
    assert "write the username instead (sam1 or sam2)" in errors_of(cast, job(handyman="sam smith"))


def test_a_job_already_booked_for_the_customer_site_and_date_is_a_duplicate(cast):
    customer = CustomerFactory(
        partner=cast.partner, name="Ana Souza", phone="+44 7700 900123", address="1 High St"
    )
    booked = cast.installation(customer=customer, site_address="1 High St", scheduled_date=day())
    row = job(
        customer_name="ana  souza", phone="07700 900123", email="", address="1 HIGH ST", date=""
    )
    row["date"] = day().isoformat()
    # The same phone digits, written differently.
    words = errors_of(cast, {**row, "phone": "+44 (7700) 900-123"})
    assert f"Ana Souza already has installation #{booked.pk} at this site on" in words
    # Another date, or another site, is not a duplicate.
    assert errors_of(cast, {**row, "phone": "+44 7700 900123", "date": day(8).isoformat()}) == ""
    other_site = {**row, "phone": "+44 7700 900123", "site address": "2 High St"}
    assert errors_of(cast, other_site) == ""


def test_a_cancelled_job_on_that_day_is_not_a_duplicate(cast):
    customer = CustomerFactory(partner=cast.partner, name="Ana", email="ana@example.com")
    inst = cast.installation(customer=customer, site_address="1 High St", scheduled_date=day())
    services.installation_cancel(installation=inst, reason="Moved", actor=cast.staff)
    row = job(customer_name="Ana", email="ana@example.com", phone="", address="1 High St")
    assert errors_of(cast, row) == ""


def test_a_job_twice_in_the_file_is_a_duplicate_of_its_first_row(cast):
    report = report_for(cast, [job(1), job(2), job(1, notes="again")])
    assert report.rows[2].errors == [
        "This row repeats row 2 (the same customer, site and date): remove one of them."
    ]
    assert report.rows[0].errors == []


def test_rows_without_a_date_or_a_name_are_not_called_repeats_of_each_other(cast):
    # Two dates that cannot be read are not the same date; two rows without a name are not
    # the same customer. Each row says what it lacks, and only that.
    report = report_for(
        cast,
        [
            job(1, date="next week"),
            job(1, date="in a fortnight"),
            job(2, customer_name=""),
            job(2, customer_name="", phone="07700 900003", email="someone@example.com"),
        ],
    )
    assert [row.errors for row in report.rows] == [
        ["“next week” is not a date: write it like 2026-05-31 or 31/05/2026."],
        ["“in a fortnight” is not a date: write it like 2026-05-31 or 31/05/2026."],
        ["The customer name is missing."],
        ["The customer name is missing."],
    ]


def test_a_reference_twice_in_the_file_is_refused(cast):
    report = report_for(cast, [job(1, partner_reference="PO-1"), job(2, partner_reference="PO-1")])
    assert "The partner reference “PO-1” is also on row 2" in report.rows[1].errors[0]


def test_a_new_customer_lives_at_the_address_given_else_at_the_site(cast):
    report = report_for(
        cast,
        [
            job(1, address="1 Home Road", site_address="9 Job Street"),
            job(2, address="", site_address="2 Site Lane"),
            job(3, address="3 Home Road", site_address=""),
        ],
    )
    assert [person["address"] for person in report.new_customers] == [
        "1 Home Road",
        "2 Site Lane",
        "3 Home Road",
    ]
    assert [row.site_address for row in report.rows] == [
        "9 Job Street",
        "2 Site Lane",
        "3 Home Road",
    ]


def test_the_preview_counts_new_and_existing_customers_and_jobs(cast):
    CustomerFactory(partner=cast.partner, name="Known Person", email="known@example.com")
    CustomerFactory(partner=cast.other_partner, name="Customer 2", email="customer2@example.com")
    rows = [
        job(1),
        job(1, date=day(8).isoformat()),  # the same new customer, another day
        job(2),  # another partner's customer of that name: new for us
        job(3, customer_name="KNOWN person", email="known@example.com", handyman="hank"),
    ]
    report = report_for(cast, rows)
    assert report.ok
    assert (report.jobs, report.new_customer_count, report.matched_customer_count) == (4, 2, 1)
    assert report.assignments == 1


def test_a_customer_is_matched_only_with_the_same_name_and_phone_or_email(cast):
    CustomerFactory(partner=cast.partner, name="Ana", phone="07700 900001", email="a@x.example")
    same_phone = job(customer_name="Ana", phone="07700900001", email="")
    same_email = job(customer_name="ana", phone="", email="A@X.EXAMPLE")
    other_person = job(customer_name="Ana", phone="07700 999999", email="b@x.example")
    report = report_for(cast, [same_phone, same_email, other_person])
    assert [row.customer is not None for row in report.rows] == [True, True, False]


# --- The page: preview, errors, commit ---------------------------------------------------------


def test_a_file_with_bad_rows_shows_each_error_and_stores_nothing(partner_client, cast):
    content = csv_bytes([job(1), job(2, date="31/02/2027"), job(3, window="07:00-09:00")])
    response = upload(partner_client, content)
    assert response.status_code == 422
    page = response.content.decode()
    assert "2 rows need correcting" in page
    assert "<strong>Row 3</strong> (Customer 2)" in page
    assert "<strong>Row 4</strong> (Customer 3)" in page
    assert "Nothing has been imported." in page
    assert 'name="upload"' not in page  # no commit button
    assert not Import.objects.exists()
    assert world() == (0, 0, 0, 0, ())


def test_the_preview_names_the_separator_once(partner_client, cast):
    response = upload(partner_client, csv_bytes([job(1)], delimiter=";"))
    page = partner_client.get(response["Location"]).content.decode()
    assert page.count("separated by semicolons") == 1


def test_a_good_file_is_stored_and_previewed_with_its_counts(partner_client, cast):
    response = upload(partner_client, csv_bytes([job(1), job(2, handyman="hank")]))
    assert response.status_code == 303
    item = stored(cast)
    assert response["Location"] == f"{IMPORT}?upload={item.public_id}"
    assert item.status == Import.State.PREVIEWED
    assert item.created_by == cast.partner_user
    assert len(item.fingerprint) == 64
    page = partner_client.get(response["Location"]).content.decode()
    assert "Ready to import" in page
    assert "<strong>2</strong> installations to create" in page
    assert "<strong>2</strong> new customers" in page
    assert "<strong>1</strong> assigned to a handyman" in page
    assert f'name="upload" value="{item.public_id}"' in page
    assert Installation.objects.count() == 0


def test_commit_creates_every_job_through_the_services(partner_client, cast):
    upload(partner_client, csv_bytes([job(1, partner_reference="PO-1"), job(2), job(1, date="")]))
    assert not Import.objects.exists()  # the third row had no date
    upload(partner_client, csv_bytes([job(1, partner_reference="PO-1"), job(2, notes="Gate")]))
    response = partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    assert response.status_code == 303
    item = stored(cast)
    assert item.status == Import.State.COMMITTED
    assert (item.jobs_created, item.customers_created) == (2, 2)
    jobs = list(Installation.objects.order_by("pk"))
    assert item.installation_ids == [j.pk for j in jobs]
    assert [j.partner_reference for j in jobs] == ["PO-1", ""]
    assert jobs[1].notes == "Gate"
    assert {j.status for j in jobs} == {Status.SCHEDULED}
    for inst in jobs:
        created = inst.history.get()
        assert created.kind == StatusChange.Kind.CREATED
        assert created.actor == cast.partner_user
    assert PartnerStatusCount.objects.get(partner=cast.partner, status=Status.SCHEDULED).count == 2
    page = partner_client.get(response["Location"]).content.decode()
    assert "Imported 2 installations from jobs.csv." in page


def test_commit_assigns_the_handyman_through_the_real_transition(partner_client, cast):
    upload(partner_client, csv_bytes([job(1, handyman="hank")]))
    partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    inst = Installation.objects.get()
    assert inst.status == Status.INSTALLER_ASSIGNED
    assert inst.handyman == cast.handyman
    assert inst.assigned_at is not None
    kinds = list(inst.history.values_list("kind", "transition", "to_status", "actor"))
    assert kinds == [
        ("created", "", Status.SCHEDULED, cast.partner_user.pk),
        ("transition", "assign", Status.INSTALLER_ASSIGNED, cast.partner_user.pk),
    ]
    counts = dict(
        PartnerStatusCount.objects.filter(partner=cast.partner).values_list("status", "count")
    )
    assert counts[Status.SCHEDULED] == 0
    assert counts[Status.INSTALLER_ASSIGNED] == 1


def test_commit_matches_existing_customers_instead_of_creating_them(partner_client, cast):
    known = CustomerFactory(partner=cast.partner, name="Customer 1", phone="07700 900001")
    upload(partner_client, csv_bytes([job(1, email=""), job(1, email="", date=day(9).isoformat())]))
    partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    assert Customer.objects.count() == 1
    assert set(Installation.objects.values_list("customer", flat=True)) == {known.pk}


def test_the_done_page_says_who_imported_the_jobs_and_how_many_customers_are_new(
    partner_client, cast
):
    CustomerFactory(partner=cast.partner, name="Customer 1", phone="07700 900001")
    rows = [job(1, email=""), job(2), job(2, date=day(9).isoformat())]
    upload(partner_client, csv_bytes(rows))
    response = partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    html = partner_client.get(response["Location"]).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    user = cast.partner_user
    who = user.get_full_name() or user.get_username()
    assert f" by {who}: 3 installations and 1 new customer. " in text


def test_a_failure_in_the_last_row_writes_nothing(partner_client, cast, monkeypatch):
    upload(partner_client, csv_bytes([job(1, handyman="hank"), job(2), job(3)]))
    before = world()
    real = services.installation_schedule
    calls = []

    def fail_on_third(**kwargs):
        calls.append(kwargs)
        if len(calls) == 3:
            raise ValidationError({"scheduled_date": "Choose today or a later date."})
        return real(**kwargs)

    monkeypatch.setattr(services, "installation_schedule", fail_on_third)
    response = partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    assert response.status_code == 409
    assert "Row 4 could not be imported" in response.content.decode()
    assert len(calls) == 3
    assert world() == before
    assert stored(cast).status == Import.State.PREVIEWED


def test_a_database_refusal_in_the_last_row_writes_nothing(partner_client, cast, monkeypatch):
    upload(partner_client, csv_bytes([job(1), job(2)]))
    before = world()
    real = services.installation_schedule
    calls = []

    def clash_on_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise IntegrityError("UNIQUE constraint failed: inst_partner_reference")
        return real(**kwargs)

    monkeypatch.setattr(services, "installation_schedule", clash_on_second)
    response = partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    assert response.status_code == 409
    assert "booked by someone else a moment ago" in response.content.decode()
    assert world() == before


def test_a_row_that_stopped_passing_since_the_preview_stops_the_commit(partner_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Customer 2", phone="07700 900002")
    upload(partner_client, csv_bytes([job(1), job(2)]))
    # Meanwhile, someone books the second row's job by hand.
    cast.installation(customer=customer, site_address="2 High Street, Leeds", scheduled_date=day())
    before = world()
    response = partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Some rows no longer pass their checks" in page
    assert "Customer 2 already has installation" in page
    assert world() == before


def test_a_second_commit_is_answered_as_done_with_the_first_import(partner_client, cast):
    upload(partner_client, csv_bytes([job(1), job(2)]))
    public_id = stored(cast).public_id
    first = partner_client.post(COMMIT, {"upload": public_id})
    after_first = world()
    second = partner_client.post(COMMIT, {"upload": public_id})
    assert second.status_code == 303
    assert second["Location"] == first["Location"]
    assert world() == after_first
    page = partner_client.get(second["Location"]).content.decode()
    assert "This file was already imported on" in page
    assert "nothing was added" in page


def test_the_already_imported_note_writes_its_date_as_the_page_beside_it_does(partner_client, cast):
    # "already imported on 04/12/2026" above "imported on 4 Dec 2026": one day, two spellings,
    # the first readable as 12 April.
    upload(partner_client, csv_bytes([job(1)]))
    public_id = stored(cast).public_id
    partner_client.post(COMMIT, {"upload": public_id})
    page = partner_client.get(partner_client.post(COMMIT, {"upload": public_id})["Location"])
    when = timezone.localtime(stored(cast).committed_at)
    said = f"{when.day} {when:%b %Y} at {when:%H:%M}"
    assert f"This file was already imported on {said} (1 installation)" in page.content.decode()
    assert f"was imported on {said}" in page.content.decode()


def test_the_same_file_uploaded_again_is_answered_as_done(partner_client, cast):
    content = csv_bytes([job(1), job(2)])
    upload(partner_client, content)
    first = stored(cast)
    partner_client.post(COMMIT, {"upload": first.public_id})
    after_first = world()
    again = upload(partner_client, content, name="jobs (copy).csv")
    assert again.status_code == 303
    assert again["Location"] == f"{IMPORT}?upload={first.public_id}"
    assert Import.objects.count() == 1
    assert world() == after_first
    assert "already imported" in partner_client.get(again["Location"]).content.decode()


def test_two_uploads_of_one_file_before_the_commit_share_one_stored_import(partner_client, cast):
    content = csv_bytes([job(1)])
    upload(partner_client, content)
    upload(partner_client, content)
    assert Import.objects.count() == 1


def _two_stored_imports_of_one_file(cast) -> tuple[Import, Import]:
    """The same bytes stored twice (as two tabs could before an upload reused its twin)."""
    content = csv_bytes([job(1)])
    a = import_services.import_upload(
        partner=cast.partner, actor=cast.partner_user, filename="a.csv", content=content
    ).upload
    b = Import.objects.create(
        partner=cast.partner, content=content, fingerprint=a.fingerprint, filename="b.csv"
    )
    return a, b


def test_a_stale_preview_of_an_imported_file_cannot_import_it_twice(cast):
    """Two stored imports of the same bytes (as two tabs could make before the reuse above):
    the second commit finds the first, and the constraint would stop a race."""
    a, b = _two_stored_imports_of_one_file(cast)
    import_services.import_commit(upload=a, actor=cast.partner_user)
    done = import_services.import_commit(upload=b, actor=cast.partner_user)
    assert done.pk == a.pk and done.replayed
    assert Installation.objects.count() == 1
    b.status = Import.State.COMMITTED
    with pytest.raises(IntegrityError):
        b.save()


def test_rows_imported_before_by_reference_are_left_as_they_are(partner_client, cast):
    upload(partner_client, csv_bytes([job(1, partner_reference="PO-1")]))
    partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    first_job = Installation.objects.get()
    # A longer file with that row again (even if its date has passed since) and a new one.
    longer = csv_bytes(
        [job(1, partner_reference="PO-1", date="2001-01-01"), job(2, partner_reference="PO-2")]
    )
    response = upload(partner_client, longer, name="more.csv")
    assert response.status_code == 303
    page = partner_client.get(response["Location"]).content.decode()
    link = f'<a href="/installations/{first_job.pk}/">#{first_job.pk}</a>'
    assert f"Already imported as {link}" in page
    assert "<strong>1</strong> installation to create" in page
    partner_client.post(COMMIT, {"upload": Import.objects.get(filename="more.csv").public_id})
    refs = sorted(Installation.objects.values_list("partner_reference", flat=True))
    assert refs == ["PO-1", "PO-2"]


def test_the_preview_counts_the_rows_imported_before(partner_client, cast):
    first = csv_bytes([job(1, partner_reference="PO-1"), job(2, partner_reference="PO-2")])
    response = upload(partner_client, first)
    assert (
        "already imported before" not in partner_client.get(response["Location"]).content.decode()
    )
    partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    again = [job(1, partner_reference="PO-1"), job(2, partner_reference="PO-2"), job(3)]
    response = upload(partner_client, csv_bytes(again), name="again.csv")
    page = partner_client.get(response["Location"]).content.decode()
    assert "<strong>2</strong> already imported before (left as they are)" in page
    assert "<strong>1</strong> installation to create" in page


def test_a_file_whose_every_row_was_imported_offers_nothing_to_import(partner_client, cast):
    upload(partner_client, csv_bytes([job(1, partner_reference="PO-1")]))
    partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    response = upload(partner_client, csv_bytes([job(1, partner_reference="PO-1", notes="x")]))
    assert response.status_code == 422
    assert "Every row of this file was imported before" in response.content.decode()


def test_another_partners_import_is_not_found(client, cast):
    client.force_login(cast.partner_user)
    upload(client, csv_bytes([job(1)]))
    public_id = stored(cast).public_id
    client.force_login(cast.other_partner_user)
    assert client.get(IMPORT, {"upload": public_id}).status_code == 404
    assert client.post(COMMIT, {"upload": public_id}).status_code == 404
    assert Installation.objects.count() == 0


@pytest.mark.parametrize("value", ["nonsense", "1", "' OR 1=1", "\x00"])
def test_an_unknown_import_is_not_found(partner_client, cast, value):
    assert partner_client.get(IMPORT, {"upload": value}).status_code == 404
    assert partner_client.post(COMMIT, {"upload": value}).status_code == 404


def test_a_commit_without_an_upload_is_answered_in_words(partner_client, cast):
    response = partner_client.post(COMMIT, {})
    assert response.status_code == 422
    assert "Upload a file first" in response.content.decode()


def test_an_upload_without_a_file_is_answered_in_words(partner_client, cast):
    response = partner_client.post(IMPORT, {"file": "not a file"})
    assert response.status_code == 422
    assert "Choose a CSV file to upload." in response.content.decode()


def test_only_the_partners_own_users_can_commit_through_the_service(cast):
    content = csv_bytes([job(1)])
    item = import_services.import_upload(
        partner=cast.partner, actor=cast.partner_user, filename="a.csv", content=content
    ).upload
    from installations.errors import TransitionRefused

    for stranger in (cast.other_partner_user, cast.handyman.user, cast.staff):
        with pytest.raises(TransitionRefused):
            import_services.import_commit(upload=item, actor=stranger)
    assert Installation.objects.count() == 0


def test_only_the_partners_own_users_can_upload_through_the_service(cast):
    from installations.errors import TransitionRefused

    for stranger in (cast.other_partner_user, cast.handyman.user, cast.staff):
        with pytest.raises(TransitionRefused):
            import_services.import_upload(
                partner=cast.partner, actor=stranger, filename="a.csv", content=csv_bytes([job(1)])
            )
    assert not Import.objects.exists()


def test_a_file_name_is_kept_to_its_first_255_characters(cast):
    name = "jobs-" + "x" * 300 + ".csv"
    item = import_services.import_upload(
        partner=cast.partner, actor=cast.partner_user, filename=name, content=csv_bytes([job(1)])
    ).upload
    item.refresh_from_db()
    assert item.filename == name[:255]


def test_a_commit_that_loses_the_race_to_the_same_files_commit_is_answered_as_done(
    cast, monkeypatch
):
    """Two commits of one file that both found it not yet imported: the partial UNIQUE
    constraint stops the second as it marks its import done, and it is answered with the
    first, as a second click is."""
    a, b = _two_stored_imports_of_one_file(cast)
    import_services.import_commit(upload=a, actor=cast.partner_user)
    after_first = world()

    def loses_the_race(upload, actor, confirmed):
        raise IntegrityError("UNIQUE constraint failed: import_committed_once")

    monkeypatch.setattr(import_services, "_commit", loses_the_race)
    done = import_services.import_commit(upload=b, actor=cast.partner_user)
    assert (done.pk, done.replayed) == (a.pk, True)
    assert world() == after_first


def test_the_list_and_the_nav_link_to_the_import(partner_client, cast):
    page = partner_client.get(reverse("partner:list")).content.decode()
    # The sections' line, its copy in the phone's "Menu" (one of the two is shown), the list's.
    assert page.count(f'href="{IMPORT}"') == 3


def test_the_imported_jobs_are_in_the_list(partner_client, cast):
    upload(partner_client, csv_bytes([job(1, customer_name="Imported Ivy")]))
    partner_client.post(COMMIT, {"upload": stored(cast).public_id})
    page = partner_client.get(reverse("partner:list"), {"q": "ivy"}).content.decode()
    assert "Imported Ivy" in page
