"""The pack says everything a dispute needs: read back from the PDF's text with pypdf."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from datetime import date, time, timedelta

import pypdfium2 as pdfium
import pytest
from django.utils import dateformat, timezone
from pypdf import PdfReader

from installations import services
from installations.contracts import COMPLETION_STATEMENT, TYPED_STATEMENT, contract_text
from installations.evidence import selectors
from installations.evidence.models import EvidencePack, SignedContract
from installations.evidence.services import evidence_pack_make
from installations.models import Customer, Installation, Partner
from installations.statuses import Status

from ..factories import make_installation
from .conftest import (
    COMPLETION_SIGNER,
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


def flat(text: str) -> str:
    """The PDF's words with any line breaks the layout put between them."""
    return " ".join(text.split())


def local(value) -> str:
    """A moment as the pack writes it: local date and time with the zone."""
    return dateformat.format(timezone.localtime(value), "j M Y, H:i:s T")


def day(value) -> str:
    return timezone.localtime(value).strftime("%-d %b %Y")


@pytest.fixture
def made(approved):
    return evidence_pack_make(installation=approved, made_by_name="Ann Partner")


def first_page_text(pdf: bytes) -> str:
    """Page 1's text, as pdfium reads it."""
    document = pdfium.PdfDocument(pdf)
    try:
        return document[0].get_textpage().get_text_range()
    finally:
        document.close()


# Polish, Greek, Arabic and Chinese: customers' names as they write them.
WORLD_NAME = "Łukasz Żółć · Ελένη Παπαδοπούλου · محمد العلي · 张伟"
WORLD_ADDRESS = "ul. Świętokrzyska 12, Warszawa · Οδός Ερμού 5, Αθήνα · 北京市朝阳区建国路88号"


def test_names_in_every_script_print_as_letters_not_empty_boxes(cast, approved, caplog):
    """A glyph no installed font has is printed as an empty box (.notdef): the text layer still
    holds the letter, but the page a customer or a court reads does not."""
    Customer.objects.filter(pk=approved.customer_id).update(name=WORLD_NAME, address=WORLD_ADDRESS)
    approved.refresh_from_db()
    approved.customer.refresh_from_db()
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        made = evidence_pack_make(installation=approved, made_by_name="Ann Partner")
    assert [r.getMessage() for r in caplog.records if ".notdef" in r.getMessage()] == []
    page = first_page_text(made.pdf)
    for word in ("Łukasz Żółć", "Ελένη", "张伟", "北京市朝阳区"):
        assert word in page


@pytest.mark.parametrize("copy", [EvidencePack.Copy.FULL, EvidencePack.Copy.CUSTOMER])
def test_thai_and_hindi_names_and_an_emoji_in_the_notes_print_as_letters(
    cast, approved, caplog, copy
):
    """Thai and Devanagari names, and the emoji a handyman types in his notes ("Done 👍"),
    printed as empty boxes: no installed font had them (.ci/run installs one that does)."""
    Customer.objects.filter(pk=approved.customer_id).update(
        name="สมชาย ใจดี · राहुल शर्मा", address="12 ถนนสุขุมวิท กรุงเทพฯ · 5 महात्मा गांधी मार्ग"
    )
    Installation.objects.filter(pk=approved.pk).update(
        completion_notes="Done 👍 ✅ tap fixed 🔧, customer happy 🙂"
    )
    approved = Installation.objects.select_related("partner", "customer", "handyman__user").get(
        pk=approved.pk
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        made = evidence_pack_make(installation=approved, made_by_name="Ann Partner", copy=copy)
    assert [r.getMessage() for r in caplog.records if ".notdef" in r.getMessage()] == []
    page = first_page_text(made.pdf)
    assert "สมชาย" in page


def test_south_asian_names_as_british_customers_write_them_print_as_letters(cast, approved, caplog):
    """Bengali, Tamil, Gujarati and Gurmukhi (Punjabi) names, each the first language of many
    customers, printed as empty boxes: no installed font had them (.ci/run installs
    fonts-noto-core, which does)."""
    names = "রহিম উদ্দিন · முருகன் செல்வம் · પટેલ રમેશ · ਹਰਪ੍ਰੀਤ ਸਿੰਘ"
    Customer.objects.filter(pk=approved.customer_id).update(name=names)
    approved = Installation.objects.select_related("partner", "customer", "handyman__user").get(
        pk=approved.pk
    )
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        evidence_pack_make(installation=approved, made_by_name="Ann Partner")
    assert [r.getMessage() for r in caplog.records if ".notdef" in r.getMessage()] == []


LONG_WORD = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessenschafe"
A4_WIDTH_PT, RIGHT_MARGIN_PT = 595.28, 16 / 25.4 * 72


@pytest.mark.parametrize("copy", [EvidencePack.Copy.FULL, EvidencePack.Copy.CUSTOMER])
def test_a_long_unbroken_name_address_or_reason_wraps_inside_the_page(cast, approved, copy):
    """A word wider than its column (a long surname, an email address, a serial number pasted
    as a reason) is broken onto the next line: before, it ran past the page's edge and that
    part of the evidence was not on the paper at all."""
    Customer.objects.filter(pk=approved.customer_id).update(
        name=f"Hubert {LONG_WORD}",
        email=f"hubert.{LONG_WORD.lower()}@example.co.uk",
        address=f"Flat 2, {LONG_WORD} House",
    )
    services.installation_override(
        installation=approved,
        actor=cast.superuser,
        reason="Serial " + "0123456789ABCDEF" * 6,
        changes={"completion_notes": "Replaced: " + "ABCDEFGHIJ" * 12},
    )
    approved = Installation.objects.select_related("partner", "customer", "handyman__user").get(
        pk=approved.pk
    )
    made = evidence_pack_make(installation=approved, made_by_name="x", copy=copy)
    edge = A4_WIDTH_PT - RIGHT_MARGIN_PT + 1
    assert [x for x in rightmost_letters(made.pdf) if x > edge] == []


def test_a_fact_and_its_label_are_never_split_across_pages():
    """A two-line label ("Signed from IP address") at the foot of a page: the row moves to the
    next page whole. Split, the address printed under "Signed at" on one page and its label
    stood alone on the next. The pack's own stylesheet, the row put at each height in turn
    near the page's foot (the printable height is 257 mm)."""
    from installations.evidence.pdf import html_to_pdf

    sections = "".join(
        f'<section style="break-before: page"><div style="height: {height}mm"></div>'
        f'<table class="facts"><tr><th scope="row">Signed from IP address {height}</th>'
        f"<td>value-{height}</td></tr></table></section>"
        for height in range(240, 257)
    )
    pdf = html_to_pdf(
        f'<html><head><link rel="stylesheet" href="/static/css/evidence.css"></head>'
        f"<body>{sections}</body></html>",
        {},
    )
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]
    for height in range(240, 257):
        label = [n for n, text in enumerate(pages) if f"address {height}" in text]
        value = [n for n, text in enumerate(pages) if f"value-{height}" in text]
        assert label == value, f"at {height} mm the label is on page {label}, its value on {value}"


def rightmost_letters(pdf: bytes) -> list[float]:
    """Where each page's rightmost letter ends, in points from the page's left edge."""
    document = pdfium.PdfDocument(pdf)
    try:
        ends = []
        for page in document:
            text = page.get_textpage()
            ends.append(max((text.get_charbox(i)[2] for i in range(text.count_chars())), default=0))
        return ends
    finally:
        document.close()


def test_it_names_the_partner_customer_site_and_kind(approved, made):
    text = flat(pdf_text(made.pdf))
    assert "Acme Appliances" in text
    assert "Jane Customer, +447700900555, jane@example.com" in text
    assert f"Customer address {approved.customer.address}" in text
    assert "Site address 14 Acacia Avenue, Leeds" in text
    assert "Kind Installation" in text
    assert "Status Customer approved" in text
    assert "Handyman Hank" in text


def test_the_timeline_has_who_when_from_to_and_reason_for_every_entry(approved, made):
    text = flat(pdf_text(made.pdf))
    history = list(approved.history.order_by("created_at", "id"))
    assert len(history) == 10  # created, reschedule, 7 transitions, the override
    for change in history:
        when = timezone.localtime(change.created_at).strftime("%-d %b %Y, %H:%M:%S")
        assert when in text, change
        assert change.actor_name in text, change
    assert "“Scheduled” → “Installer assigned”: assigned to Hank" in text
    assert "“Contract sent” → “Contract signed”" in text
    assert "Jane Customer (customer)" in text
    assert "“Contract signed” → “Customer approved”" in text


def test_the_timeline_shows_a_reschedule_with_old_and_new_values(made):
    text = flat(pdf_text(made.pdf))
    assert "Rescheduled: the date or arrival window moved" in text
    assert "Arrival window from: 09:00 → 13:00" in text
    assert "Arrival window to: 11:00 → 15:00" in text
    assert RESCHEDULE_REASON in text


def test_the_timeline_shows_an_admin_override_with_old_and_new_values(made):
    text = flat(pdf_text(made.pdf))
    assert "Admin override: the locked record was edited" in text
    assert "Site address: 12 Acacia Avenue, Leeds → 14 Acacia Avenue, Leeds" in text
    assert OVERRIDE_REASON in text
    assert "(staff)" in text


def test_an_override_names_the_handymen_and_writes_its_times_in_the_local_zone(cast, approved):
    """An auditor reads who the job was moved from and to, not two row ids, and a corrected
    time as every other time of the pack (local, with the zone), not as stored (UTC)."""
    services.installation_override(
        installation=approved,
        actor=cast.superuser,
        reason="The arrival was logged late; Hana did the job",
        changes={"handyman": cast.other_handyman, "arrived_at": at(13, 40)},
    )
    approved.refresh_from_db()
    text = flat(pdf_text(evidence_pack_make(installation=approved, made_by_name="x").pdf))
    hank, hana = cast.handyman.display_name, cast.other_handyman.display_name
    assert f"Handyman: {hank} → {hana}" in text
    logged, corrected = (local(at(13, 52, 30)), local(at(13, 40)))
    assert f"Arrived at: {logged} → {corrected}" in text


def test_an_override_of_the_day_and_window_reads_as_the_rest_of_the_pack(cast, approved):
    """A corrected day and window printed as stored ("2030-01-15", "14:00:00") in the pack
    whose every other day and time reads the portal's way."""
    services.installation_override(
        installation=approved,
        actor=cast.superuser,
        reason="Booked on another day than recorded",
        changes={
            "scheduled_date": date(2030, 1, 15),
            "window_start": time(14),
            "window_end": time(16),
        },
    )
    approved.refresh_from_db()
    text = flat(pdf_text(evidence_pack_make(installation=approved, made_by_name="x").pdf))
    before = dateformat.format(timezone.localdate(), "D j M Y")  # the day it was booked for
    assert f"{before} → Tue 15 Jan 2030" in text
    assert "Arrival window from: 13:00 → 14:00" in text
    assert "Arrival window to: 15:00 → 16:00" in text
    assert "2030-01-15" not in text and "14:00:00" not in text


def test_it_sets_the_promised_eta_against_the_arrival_and_the_window(made):
    text = flat(pdf_text(made.pdf))
    d = day(at(13, 0))
    assert f"Arrival window {d}, 13:00–15:00" in text
    assert f"ETA promised 40 minutes, on setting off at {d}, 13:05:00" in text
    assert "expected at 13:45:00" in text
    assert f"Actual arrival {d}, 13:52:30" in text
    assert "Against the window Inside the window" in text
    assert "Against the ETA 7 minutes later than promised" in text


def test_it_gives_the_time_on_site_by_the_portal_rule(approved, made):
    text = flat(pdf_text(made.pdf))
    # formatting.duration_text: whole minutes, rounded down (1 h 27 min 30 s).
    assert "Time on site 1 hour 27 minutes" in text


def test_it_has_the_handymans_notes(made):
    assert NOTES in flat(pdf_text(made.pdf))


def test_it_lists_every_photo_in_order_with_its_time(approved, made):
    text = flat(pdf_text(made.pdf))
    d = day(at(15, 0))
    positions = [text.index(f"Photo {n} of 3, added {d}, 15:1{n - 1}:05") for n in (1, 2, 3)]
    assert positions == sorted(positions)


def test_it_has_the_signer_name_time_and_address(approved, made):
    text = flat(pdf_text(made.pdf))
    signed = timezone.localtime(approved.signed_at).strftime("%-d %b %Y, %H:%M:%S")
    assert f"Signed by {SIGNER}" in text
    assert f"Signed at {signed}" in text
    assert f"Signed from IP address {SIGNER_IP}" in text
    assert "Signature Drawn" in text
    assert "Signature on the handyman’s device at completion" in text


def test_both_signatures_are_embedded_as_images(approved, made):
    sizes = sorted((img.width, img.height) for img in embedded_images(made.pdf))
    # Three photos (640×480) and two signatures (300×120).
    assert sizes == [(300, 120), (300, 120), (640, 480), (640, 480), (640, 480)]


def test_it_has_the_contract_text_exactly_as_signed(approved, made):
    kept = SignedContract.objects.get(installation=approved)
    assert "14 Acacia" not in kept.text  # the override came after signing
    assert "12 Acacia Avenue, Leeds" in kept.text
    assert flat(kept.text) in flat(pdf_text(made.pdf))


def test_the_contract_stays_as_signed_when_the_partner_edits_theirs(cast):
    Partner.objects.filter(pk=cast.partner.pk).update(contract_text="Old terms: clause 7 applies.")
    inst = build_approved(cast)
    Partner.objects.filter(pk=cast.partner.pk).update(contract_text="New terms: clause 9 applies.")
    inst.partner.refresh_from_db()
    assert "clause 9" in contract_text(inst)
    text = flat(pdf_text(evidence_pack_make(installation=inst, made_by_name="x").pdf))
    assert "Old terms: clause 7 applies." in text
    assert "clause 9" not in text


def test_a_typed_signature_shows_the_name_and_the_statement_ticked(cast):
    inst = build_approved(cast, typed=True)
    text = flat(pdf_text(evidence_pack_make(installation=inst, made_by_name="x").pdf))
    assert "Typed signature: the customer typed their full name and ticked the statement" in text
    assert TYPED_STATEMENT in text
    assert "Signature Typed name" in text
    assert text.count(SIGNER) >= 2  # the signature itself and "Signed by"


def test_a_typed_completion_signature_shows_the_name_and_the_statement_ticked(cast):
    inst = build_approved(cast, typed_completion=True)
    made = evidence_pack_make(installation=inst, made_by_name="x")
    text = flat(pdf_text(made.pdf))
    assert f"Signed by typing their name: {COMPLETION_SIGNER}." in text
    assert f"ticked the statement “{COMPLETION_STATEMENT}”" in text
    assert "Signature on the handyman’s device at completion" not in text
    # Three photos and the contract's drawn signature: no image for the typed one.
    sizes = sorted((img.width, img.height) for img in embedded_images(made.pdf))
    assert sizes == [(300, 120), (640, 480), (640, 480), (640, 480)]


def test_it_lists_the_messages_to_the_customer_with_their_delivery_state(approved, made):
    text = flat(pdf_text(made.pdf))
    assert "Messages sent to the customer" in text
    assert f"Sent {day(at(13, 0))}, 13:05:09" in text
    assert "Failed; 5 attempts; last error: SMTP 550 mailbox unavailable" in text
    assert "Pending; 0 attempts" in text
    assert "+447700900555" in text and "jane@example.com" in text


def test_it_leaves_out_the_partners_and_handymans_messages_and_the_link(cast, approved, made):
    assert approved.messages.filter(template__startswith="partner_").exists()
    to_handyman = approved.messages.get(template="rescheduled_handyman")
    text = flat(pdf_text(made.pdf))
    assert cast.partner.email not in text
    assert to_handyman.recipient not in text
    assert flat(to_handyman.subject) not in text
    # A message's body carries the customer's live link: the pack never prints it.
    assert "/c/" not in text


def test_every_page_has_its_number_of_the_total_and_the_time_made(made):
    reader = PdfReader(io.BytesIO(made.pdf))
    total = len(reader.pages)
    assert total >= 3
    stamp = timezone.localtime(made.pack.made_at).strftime("Made %-d %b %Y, %H:%M:%S")
    for number, page in enumerate(reader.pages, start=1):
        text = flat(page.extract_text())
        assert f"Page {number} of {total}" in text
        assert f"{stamp} GMT by Ann Partner" in text or f"{stamp} BST by Ann Partner" in text


@pytest.mark.parametrize(
    ("utc", "said"),
    [("2027-10-31T00:30:00+00:00", "01:30:00 BST"), ("2027-10-31T01:30:00+00:00", "01:30:00 GMT")],
    ids=["first 01:30", "second 01:30"],
)
def test_a_pack_made_in_the_hour_the_clocks_go_back_says_which_01_30_it_was(
    approved, monkeypatch, utc, said
):
    """Django's `date` filter leaves its time zone out for a moment of that hour: "Made 31 Oct
    2027, 01:30:00" could be either of two moments an hour apart, in a record whose every time
    is evidence."""
    from datetime import datetime

    from ..dashboard.helpers import Clock

    Clock(monkeypatch, datetime.fromisoformat(utc))
    pdf = evidence_pack_make(installation=approved, made_by_name="Ann Partner").pdf
    text = flat(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert f"Made 31 Oct 2027, {said} by Ann Partner" in text


def test_the_fingerprint_printed_on_the_last_page_is_the_one_kept(approved, made):
    reader = PdfReader(io.BytesIO(made.pdf))
    last = flat(reader.pages[-1].extract_text())
    printed = re.search(r"\b[0-9a-f]{64}\b", last)
    assert printed is not None
    kept = EvidencePack.objects.get(installation=approved)
    assert printed.group(0) == kept.sha256 == made.pack.sha256
    assert kept.pdf_sha256 == hashlib.sha256(made.pdf).hexdigest()
    assert kept.size == len(made.pdf)
    assert kept.made_by_name == "Ann Partner"


def test_an_unchanged_record_makes_the_same_fingerprint_and_a_change_another(approved, made):
    again = evidence_pack_make(installation=approved, made_by_name="Someone else")
    assert again.pack.sha256 == made.pack.sha256
    assert again.pack.pdf_sha256 != made.pack.pdf_sha256  # made at another time, by another
    services.installation_override(
        installation=approved,
        actor=approved.history.filter(kind="override").get().actor,
        reason="Typo",
        changes={"completion_notes": NOTES + " Checked again."},
    )
    changed = Installation.objects.get(pk=approved.pk)
    assert (
        evidence_pack_make(installation=changed, made_by_name="x").pack.sha256 != made.pack.sha256
    )


def test_a_photo_file_changed_on_disk_changes_the_fingerprint(approved, made):
    photo = approved.photos.order_by("id").first()
    with photo.image.storage.open(photo.image.name, "rb") as handle:
        raw = handle.read()
    # The same picture with one more byte after its end: the pack would look the same.
    path = photo.image.storage.path(photo.image.name)
    with open(path, "wb") as handle:
        handle.write(raw + b"\0")
    assert evidence_pack_make(installation=approved, made_by_name="x").pack.sha256 != (
        made.pack.sha256
    )


def _tomorrow():
    # Not today: a window already over today is refused, whatever the hour the suite runs.
    return timezone.localdate() + timedelta(days=1)


def test_a_follow_up_names_its_parent_and_the_parent_its_follow_ups(cast, approved):
    child = services.installation_book_follow_up(
        installation=approved, actor=cast.partner_user, scheduled_date=_tomorrow()
    )
    child_text = flat(pdf_text(evidence_pack_make(installation=child, made_by_name="x").pdf))
    assert f"Kind Follow-up visit: follow-up visit of installation #{approved.pk}" in child_text
    parent_text = flat(pdf_text(evidence_pack_make(installation=approved, made_by_name="x").pdf))
    assert f"Follow-up visits #{child.pk} on" in parent_text


def test_a_rebooking_names_the_job_it_was_rebooked_from(cast):
    cancelled = cast.installation(Status.CANCELLED)
    rebooked = services.installation_rebook(
        installation=cancelled,
        actor=cast.partner_user,
        scheduled_date=_tomorrow(),
        window_start=cancelled.window_start,
        window_end=cancelled.window_end,
    )
    text = flat(pdf_text(evidence_pack_make(installation=rebooked, made_by_name="x").pdf))
    assert f"Rebooked from Installation #{cancelled.pk}" in text
    old = flat(pdf_text(evidence_pack_make(installation=cancelled, made_by_name="x").pdf))
    assert f"Rebooked as #{rebooked.pk} on" in old
    assert "Cancellation reason Customer moved house." in old


def test_a_pack_of_an_unfinished_job_says_what_has_not_happened(cast):
    inst = make_installation(partner=cast.partner, actor=cast.partner_user)
    text = flat(pdf_text(evidence_pack_make(installation=inst, made_by_name="x").pdf))
    assert "No estimate was given" in text
    assert "Not arrived" in text
    assert "The contract has not been signed." in text
    assert "No photos were taken." in text


@pytest.mark.parametrize(
    ("arrived", "verdict"),
    [
        ((12, 40), "early: 20 minutes before the window"),
        ((13, 0), "inside the window"),
        ((15, 0), "inside the window"),
        ((15, 31), "late: 31 minutes after the window"),
    ],
)
def test_the_arrival_is_inside_early_or_late_against_the_window(arrived, verdict, approved):
    approved.arrived_at = at(*arrived)
    assert selectors.arrival(approved).window_verdict == verdict


@pytest.mark.parametrize(
    ("arrived", "verdict"),
    [
        ((13, 45, 40), "on time (within a minute of the promised time)"),
        ((13, 30, 0), "15 minutes earlier than promised"),
        ((14, 46, 0), "1 hour 1 minute later than promised"),
    ],
)
def test_the_arrival_is_on_time_early_or_late_against_the_eta(arrived, verdict, approved):
    approved.arrived_at = at(*arrived)
    assert selectors.arrival(approved).eta_verdict == verdict
