"""The customer's copy of the pack (their link): what they are entitled to see, and none of the
partner's internal record. Read back from the PDF with pypdf, beside the partner's pack of the
same job, which keeps everything."""

from __future__ import annotations

import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from installations import services
from installations.evidence.models import EvidencePack, SignedContract
from installations.evidence.services import evidence_pack_make
from installations.models import Installation

from .conftest import (
    NOTES,
    OVERRIDE_REASON,
    RESCHEDULE_REASON,
    SIGNER,
    SIGNER_IP,
    at,
    build_approved,
    embedded_images,
    pdf_text,
)

BOOKING_NOTE = "Customer difficult, insist on payment first."
REFERENCE = "CRM-4711"
OFFICE_NAME = "Olive Officer"
HANDYMAN_SURNAME = "Hammersmith"
OVERRIDE_DIFF = "Site address: 12 Acacia Avenue, Leeds → 14 Acacia Avenue, Leeds"

CUSTOMER = EvidencePack.Copy.CUSTOMER


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def job(cast) -> Installation:
    """The approved job of conftest, booked by an office user with a full name, done by a
    handyman with a surname, with the partner's booking notes and reference."""
    user = cast.partner_user
    user.first_name, user.last_name = OFFICE_NAME.split()
    user.save()
    cast.handyman.user.last_name = HANDYMAN_SURNAME
    cast.handyman.user.save()
    inst = build_approved(cast)
    Installation.objects.filter(pk=inst.pk).update(notes=BOOKING_NOTE, partner_reference=REFERENCE)
    inst.refresh_from_db()
    return inst


@pytest.fixture
def copy_text(job) -> str:
    made = evidence_pack_make(installation=job, made_by_name="Jane (customer)", copy=CUSTOMER)
    return flat(pdf_text(made.pdf))


@pytest.fixture
def pack_text(job) -> str:
    return flat(pdf_text(evidence_pack_make(installation=job, made_by_name="Ann Partner").pdf))


def test_it_is_titled_as_the_customers_own_record(copy_text):
    assert "Your installation record" in copy_text
    assert "Evidence pack" not in copy_text


def test_it_leaves_out_the_partners_booking_notes_and_reference(copy_text):
    assert BOOKING_NOTE not in copy_text
    assert "Booking notes" not in copy_text
    assert REFERENCE not in copy_text


def test_it_leaves_out_the_reasons_given_inside_the_office(copy_text):
    assert RESCHEDULE_REASON not in copy_text
    assert OVERRIDE_REASON not in copy_text
    assert "Reason" not in copy_text


def test_it_leaves_out_an_overrides_old_and_new_values_but_says_the_record_was_corrected(
    copy_text,
):
    assert OVERRIDE_DIFF not in copy_text
    assert "→ 14 Acacia Avenue" not in copy_text
    assert "Admin override" not in copy_text
    assert "Record corrected" in copy_text
    assert "Site address 14 Acacia Avenue, Leeds" in copy_text  # the record as it stands


def test_it_names_no_office_user_and_the_installer_by_first_name_only(cast, copy_text):
    assert OFFICE_NAME not in copy_text and "Olive" not in copy_text
    assert "(staff)" not in copy_text
    assert HANDYMAN_SURNAME not in copy_text
    assert "Installer Hank" in copy_text  # as the customer's page shows them


def test_its_timeline_is_the_steps_with_their_times(job, copy_text):
    history = list(job.history.order_by("created_at", "id"))
    for change in history:
        when = timezone.localtime(change.created_at).strftime("%-d %b %Y, %H:%M:%S")
        assert when in copy_text, change
    steps = [
        "Visit booked",
        "Installer assigned",
        "Visit moved",
        "On the way",
        "Installer arrived",
        "Work finished",
        "Contract sent to you",
        "You signed the contract",
        "You approved the work",
        "Record corrected",
    ]
    positions = [copy_text.index(step) for step in steps]
    assert positions == sorted(positions)
    # Their own appointment moved: the old and new window, as the message told them.
    assert "Arrival window from: 09:00 → 13:00" in copy_text


def test_it_has_the_arrival_against_the_promise_and_the_time_on_site(copy_text):
    d = timezone.localtime(at(13, 0)).strftime("%-d %b %Y")
    assert f"ETA promised 40 minutes, on setting off at {d}, 13:05:00" in copy_text
    assert f"Actual arrival {d}, 13:52:30" in copy_text
    assert "Against the ETA 7 minutes later than promised" in copy_text
    assert "Time on site 1 hour 27 minutes" in copy_text


def test_it_has_the_installers_notes_as_the_customers_page_shows_them(copy_text):
    assert NOTES in copy_text


def test_it_has_every_photo_with_its_number_and_time(copy_text):
    d = timezone.localtime(at(15, 0)).strftime("%-d %b %Y")
    assert "Photos (3)" in copy_text
    positions = [copy_text.index(f"Photo {n} of 3, added {d}, 15:1{n - 1}:05") for n in (1, 2, 3)]
    assert positions == sorted(positions)


def test_it_has_both_signatures_and_the_signers_name_time_and_own_ip(job):
    made = evidence_pack_make(installation=job, made_by_name="x", copy=CUSTOMER)
    text = flat(pdf_text(made.pdf))
    signed = timezone.localtime(job.signed_at).strftime("%-d %b %Y, %H:%M:%S")
    assert f"Signed by {SIGNER}" in text
    assert f"Signed at {signed}" in text
    assert f"Signed from IP address {SIGNER_IP}" in text
    assert "Signature on the installer’s device at completion" in text
    sizes = sorted((img.width, img.height) for img in embedded_images(made.pdf))
    assert sizes == [(300, 120), (300, 120), (640, 480), (640, 480), (640, 480)]


def test_it_has_the_contract_exactly_as_signed(job, copy_text):
    kept = SignedContract.objects.get(installation=job)
    assert "The contract text, exactly as signed" in copy_text
    assert flat(kept.text) in copy_text


def test_it_lists_the_messages_sent_to_the_customer_without_the_providers_errors(copy_text):
    assert "Messages sent to you" in copy_text
    assert "Failed; 5 attempts" in copy_text
    assert "SMTP 550" not in copy_text
    assert "/c/" not in copy_text  # never a message's body with the live link


def test_the_partners_pack_still_has_everything_the_copy_leaves_out(pack_text):
    assert "Evidence pack" in pack_text
    assert f"Booking notes {BOOKING_NOTE}" in pack_text
    assert REFERENCE in pack_text
    assert RESCHEDULE_REASON in pack_text and OVERRIDE_REASON in pack_text
    assert OVERRIDE_DIFF in pack_text
    assert OFFICE_NAME in pack_text
    assert f"Hank {HANDYMAN_SURNAME}" in pack_text
    assert "SMTP 550 mailbox unavailable" in pack_text


def test_the_copy_has_its_own_fingerprint_kept_beside_the_partners_packs(job):
    full = evidence_pack_make(installation=job, made_by_name="Ann Partner")
    mine = evidence_pack_make(installation=job, made_by_name="Jane", copy=CUSTOMER)
    again = evidence_pack_make(installation=job, made_by_name="Jane", copy=CUSTOMER)
    assert mine.pack.sha256 != full.pack.sha256
    assert again.pack.sha256 == mine.pack.sha256  # an unchanged record, the same fingerprint
    last = flat(PdfReader(io.BytesIO(mine.pdf)).pages[-1].extract_text())
    assert re.search(r"\b[0-9a-f]{64}\b", last).group(0) == mine.pack.sha256
    kept = EvidencePack.objects.filter(installation=job)
    assert sorted(kept.values_list("copy", flat=True)) == ["customer", "customer", "full"]
    assert mine.filename == f"installation-record-{job.pk}.pdf"
    assert full.filename == f"evidence-installation-{job.pk}.pdf"


def _customers(installation: Installation) -> str:
    made = evidence_pack_make(installation=installation, made_by_name="x", copy=CUSTOMER)
    return made.pack.sha256


def _partners(installation: Installation) -> str:
    return evidence_pack_make(installation=installation, made_by_name="x").pack.sha256


def test_a_change_the_customer_can_see_changes_their_fingerprint_an_internal_one_does_not(job):
    before, full_before = _customers(job), _partners(job)
    Installation.objects.filter(pk=job.pk).update(notes="Paid in full.")
    job.refresh_from_db()
    assert _customers(job) == before
    assert _partners(job) != full_before
    services.installation_override(
        installation=job,
        actor=job.history.filter(kind="override").get().actor,
        reason="Typo",
        changes={"completion_notes": NOTES + " Checked again."},
    )
    assert _customers(Installation.objects.get(pk=job.pk)) != before
