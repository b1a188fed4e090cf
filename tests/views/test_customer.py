"""The customer's pages, reached by a signed link without an account."""

from __future__ import annotations

import base64
import io
import re
import struct
import time
import zlib
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

import pytest
from django.core import signing
from django.test.signals import template_rendered
from django.urls import reverse
from django.utils import dateformat, timezone
from PIL import Image

from installations import notifications, services
from installations.customer_links import MAX_AGE, SALT, make_token, read_token
from installations.customer_status import CUSTOMER_WORDS
from installations.demo import png_bytes
from installations.models import Installation, Message, Partner
from installations.scheduling.text import dated_slot_text
from installations.statuses import Status

SIGNATURE = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


@pytest.fixture
def sent(cast) -> Installation:
    return cast.installation(Status.CONTRACT_SENT)


def _url(name: str, installation_or_token, *args) -> str:
    token = (
        installation_or_token
        if isinstance(installation_or_token, str)
        else make_token(installation_or_token)
    )
    return reverse(f"customer:{name}", args=[token, *args])


def _sign(client, token_or_installation, name="Carol Customer", signature=SIGNATURE):
    return client.post(_url("sign", token_or_installation), {"name": name, "signature": signature})


def _status(installation) -> str:
    return Installation.objects.get(pk=installation.pk).status


def test_the_page_shows_the_job_photos_and_contract_without_a_login(client, sent):
    token = make_token(sent)  # one token: a new one a second later would differ
    response = client.get(_url("page", token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Appliances" in html
    assert sent.site_address in html
    assert "Hank" in html
    assert "Time on site" in html
    photo = sent.photos.get()
    assert _url("photo", token, photo.pk) in html
    # The default contract names both sides.
    assert f"between Acme Appliances and {sent.customer.name}" in html
    assert 'name="signature"' in html and "Sign the contract" in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert "noindex" in response["X-Robots-Tag"]


def test_a_partner_contract_replaces_the_default(client, cast, sent):
    cast.partner.contract_text = "Our own terms.\n\nSecond paragraph."
    cast.partner.save()
    html = client.get(_url("page", sent)).content.decode()
    assert "Our own terms." in html and "Second paragraph." in html
    assert "Installation agreement between" not in html


@pytest.mark.parametrize("status", [Status.CONTRACT_SIGNED, Status.CUSTOMER_APPROVED])
def test_once_signed_the_page_shows_the_contract_as_signed_not_as_edited_since(
    client, cast, status
):
    cast.partner.contract_text = "Old terms: clause 7 applies."
    cast.partner.save()
    inst = cast.installation(status)
    cast.partner.contract_text = "New terms: clause 9 applies."
    cast.partner.save()
    html = client.get(_url("page", inst)).content.decode()
    assert "Old terms: clause 7 applies." in html
    assert "clause 9" not in html


def test_a_photo_is_streamed_with_its_verified_type(client, sent):
    photo = sent.photos.get()
    response = client.get(_url("photo", sent, photo.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_a_photo_of_another_installation_is_not_found(client, cast, sent):
    other = cast.installation(Status.CONTRACT_SENT)
    response = client.get(_url("photo", sent, other.photos.get().pk))
    assert response.status_code == 404


def test_the_customer_signs_then_approves(client, sent):
    token = make_token(sent)
    response = _sign(client, token, name="  Carol Customer ")
    assert response.status_code == 302
    assert response["Location"] == _url("page", token) + "#approve"
    sent.refresh_from_db()
    assert sent.status == Status.CONTRACT_SIGNED
    assert sent.contract_signer_name == "Carol Customer"
    assert sent.contract_signed_ip == "127.0.0.1"
    assert sent.signed_at is not None
    assert sent.contract_signature.read().startswith(b"\x89PNG")
    assert sent.history.last().actor_name == f"{sent.customer.name} (customer)"

    html = client.get(_url("page", token)).content.decode()
    assert "Approve installation" in html and 'name="signature"' not in html
    assert "by Carol Customer" in html

    response = client.post(_url("approve", token))
    assert response.status_code == 302
    assert _status(sent) == Status.CUSTOMER_APPROVED

    # From then on: a thank-you and a read-only summary, with the same link.
    response = client.get(_url("page", token))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Thank you" in html
    assert "<form" not in html
    assert sent.site_address in html


def test_signing_twice_answers_409_and_changes_nothing(client, sent):
    token = make_token(sent)
    _sign(client, token)
    before = Installation.objects.get(pk=sent.pk)
    response = _sign(client, token, name="Someone Else")
    assert response.status_code == 409
    assert "already signed" in response.content.decode()
    after = Installation.objects.get(pk=sent.pk)
    assert (after.status, after.contract_signer_name, after.version) == (
        before.status,
        "Carol Customer",
        before.version,
    )


def _signing_form(client, token) -> dict[str, str]:
    """The sign form as the page draws it, filled in: the page's version and the mark of what
    it shows with it."""
    page = client.get(_url("page", token)).content.decode()
    version = re.search(r'class="sign-form".*?name="version" value="(\d+)"', page, re.S)
    assert version is not None, "the sign form carries the page's version"
    read = re.search(r'class="sign-form".*?name="read" value="([0-9a-f]+)"', page, re.S)
    assert read is not None, "the sign form carries the mark of what the page shows"
    return {
        "name": "Carol Customer",
        "signature": SIGNATURE,
        "version": version.group(1),
        "read": read.group(1),
    }


def test_the_same_signature_sent_twice_is_answered_as_signed_not_as_a_conflict(client, sent):
    """A double tap on "Sign the contract" without JavaScript, or the form sent again after a
    lost answer: the phone shows the second answer, which said "This contract is already
    signed. Nothing was changed." to the customer who had just signed."""
    token = make_token(sent)
    form = _signing_form(client, token)
    first = client.post(_url("sign", token), form)
    entries = sent.history.count()

    again = client.post(_url("sign", token), form)

    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert again["Location"] == _url("page", token) + "#approve"
    assert "Thank you for signing" in client.get(again["Location"]).content.decode()
    assert sent.history.count() == entries  # signed once
    assert Installation.objects.get(pk=sent.pk).contract_signer_name == "Carol Customer"


def test_another_signature_from_the_same_page_after_signing_is_still_refused(client, sent):
    token = make_token(sent)
    form = _signing_form(client, token)
    client.post(_url("sign", token), form)
    before = Installation.objects.get(pk=sent.pk)

    response = client.post(_url("sign", token), {**form, "name": "Someone Else"})

    assert response.status_code == 409
    assert "This contract is already signed. Nothing was changed." in response.content.decode()
    after = Installation.objects.get(pk=sent.pk)
    assert (after.contract_signer_name, after.version) == ("Carol Customer", before.version)


def test_a_signature_sent_from_a_page_drawn_before_the_office_edited_the_job_is_kept_to_resend(
    client, cast, sent
):
    """The contract names the address: one signed from a page drawn before the office changed
    it would be signed for words the customer never saw. It is refused, the page shows the
    contract as it now is, and what they typed and drew is still in the form."""
    token = make_token(sent)
    form = _signing_form(client, token)
    services.installation_update(
        installation=sent, actor=cast.partner_user, site_address="2 New Street"
    )

    response = client.post(_url("sign", token), {**form, "name": "Carol Q. Customer"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "Acme Appliances changed the details of your installation while you were signing" in html
    assert "2 New Street" in html
    assert 'value="Carol Q. Customer"' in html and f'value="{SIGNATURE}"' in html
    assert _status(sent) == Status.CONTRACT_SENT
    # Signed from the page as it now is.
    response = client.post(_url("sign", token), _signing_form(client, token))
    assert response.status_code == 302 and _status(sent) == Status.CONTRACT_SIGNED


def test_a_signature_is_taken_when_the_office_changed_only_what_the_page_does_not_show(
    client, cast, sent
):
    """The office's notes for the handyman are not on the customer's page: an edit of them
    while the customer reads is no reason to refuse what they signed."""
    token = make_token(sent)
    form = _signing_form(client, token)
    services.installation_update(installation=sent, actor=cast.partner_user, notes="Gate 4")

    response = client.post(_url("sign", token), form)

    assert response.status_code == 302
    assert _status(sent) == Status.CONTRACT_SIGNED
    assert sent.history.filter(transition="sign").count() == 1


def test_a_signature_is_refused_when_the_partners_terms_changed_while_they_read(client, cast, sent):
    """New terms change no installation (no version moves), yet they are not what was read."""
    token = make_token(sent)
    form = _signing_form(client, token)
    Partner.objects.filter(pk=cast.partner.pk).update(contract_text="New terms: pay twice.")

    response = client.post(_url("sign", token), {**form, "name": "Carol Q. Customer"})

    assert response.status_code == 409
    html = response.content.decode()
    assert "changed the details of your installation while you were signing" in html
    assert "New terms: pay twice." in html and 'value="Carol Q. Customer"' in html
    assert _status(sent) == Status.CONTRACT_SENT


def test_the_page_renders_the_contract_once_to_show_it_and_mark_it(client, sent):
    """The default contract is a template: the page shows it and its sign form carries a mark of
    it (contracts.read_mark), from one rendering."""
    rendered = []

    def count(sender, template, **kwargs):
        if template.name == "customer/default_contract.txt":
            rendered.append(template.name)

    template_rendered.connect(count)
    try:
        response = client.get(_url("page", make_token(sent)))
    finally:
        template_rendered.disconnect(count)

    assert response.status_code == 200
    assert 'name="read" value="' in response.content.decode()
    assert len(rendered) == 1


def test_approving_before_signing_answers_409(client, sent):
    response = client.post(_url("approve", sent))
    assert response.status_code == 409
    assert "sign the contract first" in response.content.decode()
    assert _status(sent) == Status.CONTRACT_SENT


def test_approving_again_is_answered_as_done_with_the_page_that_says_so(client, cast):
    # Only the customer approves: an approval that finds the job approved is their own, again
    # (a double tap on a slow connection, whose second answer is the one the phone shows; a
    # second tab). Not a 409 saying "Nothing was changed" to someone who just approved.
    approved = cast.installation(Status.CUSTOMER_APPROVED)
    token = make_token(approved)
    entries = approved.history.count()
    response = client.post(_url("approve", token))
    assert response.status_code == 302 and response["Location"] == _url("page", token)
    assert "You approved this installation" in client.get(response["Location"]).content.decode()
    assert approved.history.count() == entries
    assert _status(approved) == Status.CUSTOMER_APPROVED


def test_a_refusal_for_the_name_gives_a_readable_drawing_back_and_only_that(client, sent):
    response = _sign(client, sent, name="")
    assert response.status_code == 422
    assert f'id="id_signature" value="{SIGNATURE}"' in response.content.decode()
    unreadable = "data:image/png;base64,bm90IGEgcG5n"
    response = _sign(client, sent, name="", signature=unreadable)
    assert response.status_code == 422
    assert unreadable not in response.content.decode()
    assert _status(sent) == Status.CONTRACT_SENT


def test_the_approved_page_does_not_promise_to_stay_past_the_links_thirty_days(client, cast):
    # Coming back later: the link expires like any other, so the page says to keep the PDF and
    # how to get a new link, never that it "stays here" (it was gone after 30 days).
    approved = cast.installation(Status.CUSTOMER_APPROVED)
    html = client.get(_url("page", approved)).content.decode()
    assert "stays here" not in html
    assert f"This link works for {MAX_AGE.days} days from when it was sent" in html
    assert "ask Acme Appliances for a new link" in html


@pytest.mark.parametrize(
    ("name", "signature", "error"),
    [
        ("", SIGNATURE, "Type your full name."),
        ("Carol Customer", "", "Please sign in the box, or tick the statement"),
        ("Carol Customer", "data:image/png;base64,bm90IGEgcG5n", "could not be read"),
        ("Carol Customer", "data:text/html;base64,PGgxPg==", "could not be read"),
    ],
)
def test_a_missing_name_or_signature_is_shown_and_nothing_changes(
    client, sent, name, signature, error
):
    before = _snapshot(sent)
    response = _sign(client, sent, name=name, signature=signature)
    assert response.status_code == 422
    assert error in response.content.decode()
    assert _snapshot(sent) == before


def _snapshot(installation) -> dict:
    """Everything a sign could change: a refused one must leave all of it as it was."""
    row = Installation.objects.get(pk=installation.pk)
    return {
        "status": row.status,
        "version": row.version,
        "signer": (row.contract_signer_name, row.contract_signed_ip, row.signed_at),
        "signature": (row.contract_signature.name, row.contract_signature_kind),
        "history": list(row.history.values_list("pk", flat=True)),
        "messages": list(row.messages.values_list("pk", flat=True)),
    }


def _tampered(token: str) -> str:
    # Change one character of the payload, keeping it URL-safe.
    head, rest = token[0], token[1:]
    return ("A" if head != "A" else "B") + rest


@pytest.mark.parametrize(
    "make_bad_token",
    [
        pytest.param(lambda inst: _tampered(make_token(inst)), id="altered"),
        pytest.param(lambda inst: make_token(inst)[:-3] + "xyz", id="bad-signature"),
        pytest.param(
            lambda inst: signing.dumps(
                {"i": inst.pk, "n": inst.link_nonce}, key="k" * 50, salt=SALT
            ),
            id="forged-with-another-key",
        ),
        pytest.param(
            lambda inst: signing.dumps({"i": inst.pk, "n": inst.link_nonce}, salt="other"),
            id="another-purpose",
        ),
        pytest.param(
            lambda inst: signing.dumps({"i": inst.pk + 10_000, "n": inst.link_nonce}, salt=SALT),
            id="installation-that-does-not-exist",
        ),
        pytest.param(lambda inst: "not-a-token", id="garbage"),
    ],
)
def test_a_bad_token_shows_a_generic_page_and_changes_nothing(client, sent, make_bad_token):
    token = make_bad_token(sent)
    for response in (
        client.get(_url("page", token)),
        _sign(client, token),
        client.post(_url("approve", token)),
    ):
        assert response.status_code == 404
        html = response.content.decode()
        assert "This link does not work" in html
        assert "Acme Appliances" not in html  # nothing about the partner leaks
    assert client.get(_url("photo", token, sent.photos.get().pk)).status_code == 404
    assert _status(sent) == Status.CONTRACT_SENT


def test_an_expired_link_names_the_partner_and_changes_nothing(client, sent, monkeypatch):
    token = make_token(sent)
    later = time.time() + MAX_AGE.total_seconds() + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.get(_url("page", token))
    assert response.status_code == 410
    assert "This link has expired; ask Acme Appliances for a new one." in response.content.decode()
    assert _sign(client, token).status_code == 410
    assert client.get(_url("photo", token, sent.photos.get().pk)).status_code == 404
    assert _status(sent) == Status.CONTRACT_SENT


def test_a_link_just_inside_thirty_days_still_works(client, sent, monkeypatch):
    token = make_token(sent)
    later = time.time() + MAX_AGE.total_seconds() - 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert client.get(_url("page", token)).status_code == 200


def test_a_link_replaced_by_a_resend_stops_working(client, cast, sent):
    old = make_token(sent)
    notifications.contract_link_resend(installation=sent, actor=cast.partner_user)
    sent.refresh_from_db()
    new = make_token(sent)
    response = client.get(_url("page", old))
    assert response.status_code == 410
    assert "newer link" in response.content.decode()
    assert _sign(client, old).status_code == 410
    assert _status(sent) == Status.CONTRACT_SENT
    assert client.get(_url("page", new)).status_code == 200
    assert read_token(new).pk == sent.pk


def test_a_token_only_opens_its_own_installation(client, cast, sent):
    other = cast.installation(Status.CONTRACT_SENT)
    # Another installation's nonce under this installation's id: not a link we ever issued.
    mixed = signing.dumps({"i": sent.pk, "n": other.link_nonce}, salt=SALT)
    assert client.get(_url("page", mixed)).status_code == 410
    _sign(client, other)
    assert _status(other) == Status.CONTRACT_SIGNED
    assert _status(sent) == Status.CONTRACT_SENT


def test_a_cancelled_job_shows_a_clear_page_and_changes_nothing(client, cast, sent):
    token = make_token(sent)
    services.installation_cancel(installation=sent, reason="Customer moved.", actor=cast.staff)
    response = client.get(_url("page", token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "Cancelled" in html and "Acme Appliances" in html and "nothing was changed" in html
    response = _sign(client, token)
    assert response.status_code == 409
    assert client.post(_url("approve", token)).status_code == 409
    assert _status(sent) == Status.CANCELLED


def test_a_sign_that_loses_a_race_answers_409(client, cast, sent, monkeypatch):
    token = make_token(sent)
    real_sign = services.installation_sign

    def cancelled_meanwhile(**kwargs):
        services.installation_cancel(installation=sent, reason="Race.", actor=cast.staff)
        return real_sign(**kwargs)

    monkeypatch.setattr(services, "installation_sign", cancelled_meanwhile)
    response = _sign(client, token)
    assert response.status_code == 409
    assert _status(sent) == Status.CANCELLED


@pytest.mark.parametrize("name", ["sign", "approve"])
def test_an_action_address_reopened_goes_back_to_the_page_and_changes_nothing(client, sent, name):
    token = make_token(sent)
    response = client.get(_url(name, token))
    assert response.status_code == 302 and response["Location"] == _url("page", token)
    assert client.put(_url(name, token)).status_code == 405
    assert _status(sent) == Status.CONTRACT_SENT


def test_the_page_refuses_post(client, sent):
    assert client.post(_url("page", sent)).status_code == 405


# --- Signatures: typed or drawn, never a decompression bomb -------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` × `height` (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("alpha", [255, 0], ids=["white", "transparent"])
def test_a_signature_with_no_ink_is_refused_and_nothing_changes(client, sent, alpha):
    image = Image.new("RGBA", (300, 120), (255, 255, 255, alpha))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    empty = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()

    response = _sign(client, sent, signature=empty)

    assert response.status_code == 422
    assert "Please sign in the box." in response.content.decode()
    assert _status(sent) == Status.CONTRACT_SENT


@pytest.mark.parametrize("size", [(30000, 30000), (12000, 12000), (3000, 2000)])
def test_a_signature_with_too_many_pixels_is_refused_with_the_limit(client, sent, size):
    bomb = "data:image/png;base64," + base64.b64encode(png_header(*size)).decode()

    response = _sign(client, sent, signature=bomb)

    assert response.status_code == 422
    html = response.content.decode()
    assert "The signature could not be read" in html
    assert "4 megapixels" in html
    assert _status(sent) == Status.CONTRACT_SENT


def test_the_customer_can_sign_with_a_typed_name_without_drawing(client, sent):
    html = client.get(_url("page", sent)).content.decode()
    assert 'name="typed_signature"' in html
    assert "I agree that typing my full name above is my signature." in html

    response = client.post(
        _url("sign", sent), {"name": "Carol Customer", "typed_signature": "yes"}, follow=True
    )

    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == Status.CONTRACT_SIGNED
    assert sent.contract_signer_name == "Carol Customer"
    assert sent.contract_signature_kind == Installation.SignatureKind.TYPED
    assert not sent.contract_signature
    assert "by Carol Customer (typed name)" in response.content.decode()


def test_a_drawn_signature_is_recorded_as_drawn(client, sent):
    response = _sign(client, sent)

    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.contract_signature_kind == Installation.SignatureKind.DRAWN
    assert sent.contract_signature.read().startswith(b"\x89PNG")
    assert "(drawn signature)" in client.get(_url("page", sent)).content.decode()


def test_a_typed_name_without_the_statement_is_not_a_signature(client, sent):
    response = client.post(_url("sign", sent), {"name": "Carol Customer"})

    assert response.status_code == 422
    assert "tick the statement" in response.content.decode()
    sent.refresh_from_db()
    assert sent.status == Status.CONTRACT_SENT
    assert sent.contract_signature_kind == ""


def test_a_typed_signature_still_needs_the_name(client, sent):
    response = client.post(_url("sign", sent), {"name": " ", "typed_signature": "yes"})

    assert response.status_code == 422
    assert "Type your full name." in response.content.decode()
    assert _status(sent) == Status.CONTRACT_SENT


# --- What the page says is true -----------------------------------------------------------------


def test_the_contract_gives_the_day_the_work_was_done(client, cast):
    today = timezone.localdate()
    job = cast.installation(Status.CONTRACT_SENT, scheduled_date=today + timedelta(days=1))
    done = timezone.make_aware(datetime.combine(today - timedelta(days=1), dt_time(15)))
    Installation.objects.filter(pk=job.pk).update(completed_at=done)

    html = client.get(_url("page", job)).content.decode()

    done_words = dateformat.format(done.date(), "j F Y")
    booked_words = dateformat.format(job.scheduled_date, "j F Y")
    assert f"has installed the appliance at {job.site_address} on {done_words}." in html
    assert booked_words not in html


def test_a_follow_up_contract_speaks_of_a_visit(client, cast):
    parent = cast.installation(Status.CUSTOMER_APPROVED)
    child, _ = services.installation_ensure_follow_up(installation=parent, actor=cast.partner_user)
    from installations.demo import walk_to

    # The visit is today's: "On my way" opens on its day.
    Installation.objects.filter(pk=child.pk).update(scheduled_date=timezone.localdate())
    child.refresh_from_db()

    child = walk_to(
        child,
        Status.CONTRACT_SENT,
        partner_user=cast.partner_user,
        handyman=cast.handyman,
        staff=cast.staff,
    )

    html = client.get(_url("page", child)).content.decode()

    assert "installed the appliance" not in html
    assert f"carried out a follow-up visit for installation #{parent.pk}" in html
    assert "Follow-up visit agreement" in html


def test_time_on_site_reads_the_same_for_partner_customer_and_handyman(client, cast):
    job = cast.installation(Status.CONTRACT_SENT)
    for seconds, words in ((40, "less than a minute"), (65 * 60 + 20, "1 hour 5 minutes")):
        arrived = timezone.now() - timedelta(hours=3)
        Installation.objects.filter(pk=job.pk).update(
            arrived_at=arrived, completed_at=arrived + timedelta(seconds=seconds)
        )
        customer = client.get(_url("page", job)).content.decode()
        client.force_login(cast.partner_user)
        partner = client.get(reverse("partner:detail", args=[job.pk])).content.decode()
        client.force_login(cast.handyman.user)
        handyman = client.get(reverse("handyman:jobs")).content.decode()
        client.logout()

        assert f"<dd>{words}</dd>" in customer
        assert words in partner
        assert f"Time on site: {words}" in handyman


def test_photos_have_their_size_and_times_are_to_the_second(client, sent):
    html = client.get(_url("page", sent)).content.decode()

    photo = sent.photos.get()
    assert f'width="{photo.image.width}" height="{photo.image.height}"' in html
    stamps = re.findall(r'datetime="([^"]*)"', html)
    assert stamps
    assert all("." not in stamp for stamp in stamps)


# --- Where the job stands, in the customer's words (customer_status) -----------------------------


def _status_row(html: str) -> str:
    return re.search(r"<dt>Status</dt><dd>(.*?)</dd>", html).group(1)


def test_every_status_has_words_for_the_customer():
    assert set(CUSTOMER_WORDS) == set(Status)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (Status.CONTRACT_SENT, "Waiting for your signature"),
        (Status.CONTRACT_SIGNED, "Signed — please check the work and approve it"),
    ],
)
def test_the_page_says_where_the_customer_is_in_their_words_not_the_offices(
    client, cast, status, words
):
    html = client.get(_url("page", cast.installation(status))).content.decode()
    assert _status_row(html) == words
    assert status.label not in html


def test_the_approved_page_says_when_they_approved_not_the_offices_status(client, cast):
    approved = cast.installation(Status.CUSTOMER_APPROVED)
    html = client.get(_url("page", approved)).content.decode()
    day = dateformat.format(timezone.localtime(approved.approved_at), "j M Y")
    assert _status_row(html) == f"Approved on {day}, thank you"
    assert "Customer approved" not in html


def test_a_job_walked_back_by_the_office_is_told_in_the_customers_words(client, cast, sent):
    # A staff override can put a job back before its contract: the link then says where the
    # work stands for the customer, not "Installation completed".
    token = make_token(sent)
    Installation.objects.filter(pk=sent.pk).update(status=Status.INSTALLATION_COMPLETED)
    response = client.get(_url("page", token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "Where it stands now: The work is done; the contract is being prepared." in html
    assert "Installation completed" not in html


def test_a_refused_step_tells_the_customer_in_their_words(client, cast, sent, monkeypatch):
    token = make_token(sent)
    real_sign = services.installation_sign

    def signed_meanwhile(**kwargs):  # someone else at home signed in another tab a moment ago
        real_sign(**{**kwargs, "name": "Colin Customer", "expected_version": None})
        return real_sign(**kwargs)

    monkeypatch.setattr(services, "installation_sign", signed_meanwhile)
    response = _sign(client, token)
    assert response.status_code == 409
    html = response.content.decode()
    assert "It now says: Signed — please check the work and approve it." in html
    assert "Someone else changed" not in html and "Contract signed" not in html


def test_the_evidence_page_of_a_link_uses_the_customers_words(client, cast, sent):
    token = make_token(sent)
    services.installation_cancel(installation=sent, reason="Customer moved.", actor=cast.staff)
    Installation.objects.filter(pk=sent.pk).update(status=Status.REJECTED)
    response = client.get(reverse("evidence:customer-pack", args=[token]))
    assert response.status_code == 410
    html = response.content.decode()
    assert "Where your installation stands now: Not going ahead." in html
    assert "Rejected" not in html


# --- A cancelled job booked again: the old link says when, and nothing more (moved_to) ----------


def test_the_portals_booking_words_carry_the_day_the_year_and_the_window():
    assert dated_slot_text(date(2026, 12, 12), dt_time(9), dt_time(11)) == (
        "Sat 12 Dec 2026, 09:00–11:00"
    )


def _cancel_and_rebook(cast, installation, *, days=8) -> Installation:
    services.installation_cancel(installation=installation, reason="Moved.", actor=cast.staff)
    return services.installation_rebook(
        installation=installation,
        actor=cast.partner_user,
        scheduled_date=timezone.localdate() + timedelta(days=days),
        window_start=dt_time(9),
        window_end=dt_time(11),
    )


def _slot(job: Installation) -> str:
    return f"{dateformat.format(job.scheduled_date, 'D j M Y')}, 09:00–11:00"


def test_a_cancelled_and_rebooked_jobs_old_link_tells_the_new_day_and_nothing_more(
    client, cast, sent
):
    token = make_token(sent)
    new = _cancel_and_rebook(cast, sent)
    response = client.get(_url("page", token))
    assert response.status_code == 410
    html = response.content.decode()
    assert f"Your visit was moved to a new booking on {_slot(new)}." in html
    assert "You will get a new link when the new contract is ready." in html
    # Nothing of the new job but its day: no link into it, no number, not its status.
    assert "/c/" not in html and f"#{new.pk}" not in html
    assert reverse("partner:detail", args=[new.pk]) not in html
    assert "Booked" not in html and "Scheduled" not in html
    # A step posted to the old link: refused as before, with the same news.
    response = _sign(client, token)
    assert response.status_code == 409
    assert f"moved to a new booking on {_slot(new)}" in response.content.decode()
    assert _status(sent) == Status.CANCELLED and _status(new) == Status.SCHEDULED


def _link_message(new: Installation, channel: str, *, sent_at=None, **extra) -> Message:
    """The new job's link as the record keeps it: queued, then sent (or not) by delivery."""
    return Message.objects.create(
        partner=new.partner,
        installation=new,
        recipient=new.customer.email if channel == "email" else new.customer.phone,
        channel=channel,
        template=notifications.CONTRACT_LINK,
        body="Your link",
        status=Message.State.SENT if sent_at else Message.State.PENDING,
        sent_at=sent_at,
        **{"created_at": sent_at or timezone.now(), **extra},
    )


def test_a_rebooked_jobs_old_link_says_the_new_link_was_sent_once_it_has_gone_out(
    client, cast, sent
):
    """It said "You will get a new link" even after the new one had reached the customer, who
    then waited for a message that had already come."""
    token = make_token(sent)
    new = _cancel_and_rebook(cast, sent)
    at = datetime(2026, 12, 5, 10, 40, tzinfo=UTC)  # 10:40 in London
    # Queued, not delivered yet: it still follows.
    pending = _link_message(new, "email", created_at=at)
    html = client.get(_url("page", token)).content.decode()
    assert "You will get a new link when the new contract is ready." in html

    Message.objects.filter(pk=pending.pk).update(status=Message.State.SENT, sent_at=at)
    _link_message(new, "sms", sent_at=at + timedelta(seconds=2))
    response = client.get(_url("page", token))

    assert response.status_code == 410
    html = response.content.decode()
    assert f"Your visit was moved to a new booking on {_slot(new)}." in html
    said = "A new link for it was sent to you by email and text message on 5 Dec 2026 at 10:40"
    assert said in html
    assert "You will get a new link" not in html
    assert "/c/" not in html and f"#{new.pk}" not in html  # still nothing of the new job
    # A step posted to the old link says the same.
    assert said in _sign(client, token).content.decode()


@pytest.mark.parametrize(("channel", "how"), [("email", "by email"), ("sms", "by text message")])
def test_a_rebooked_jobs_old_link_names_the_one_way_the_new_link_went(
    client, cast, sent, channel, how
):
    token = make_token(sent)
    new = _cancel_and_rebook(cast, sent)
    _link_message(new, channel, sent_at=datetime(2026, 12, 5, 10, 40, tzinfo=UTC))

    html = client.get(_url("page", token)).content.decode()

    assert f"A new link for it was sent to you {how} on 5 Dec 2026 at 10:40" in html


def test_a_rebooked_jobs_old_link_does_not_count_a_failed_message_as_sent(client, cast, sent):
    token = make_token(sent)
    new = _cancel_and_rebook(cast, sent)
    failed = _link_message(new, "sms")
    Message.objects.filter(pk=failed.pk).update(status=Message.State.FAILED, attempts=5)

    html = client.get(_url("page", token)).content.decode()

    assert "You will get a new link when the new contract is ready." in html
    assert "was sent to you" not in html


def test_a_rebooking_cancelled_in_turn_leaves_the_old_link_saying_cancelled(client, cast, sent):
    token = make_token(sent)
    new = _cancel_and_rebook(cast, sent)
    services.installation_cancel(installation=new, reason="Again.", actor=cast.staff)
    response = client.get(_url("page", token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "Where it stands now: Cancelled." in html
    assert "moved" not in html and _slot(new) not in html


def test_a_rebooking_booked_again_in_turn_gives_the_booking_that_stands(client, cast, sent):
    token = make_token(sent)
    new = _cancel_and_rebook(cast, sent)
    newest = _cancel_and_rebook(cast, new, days=15)
    html = client.get(_url("page", token)).content.decode()
    assert f"moved to a new booking on {_slot(newest)}." in html
    assert _slot(new) not in html


def test_a_rebooking_for_another_customer_is_not_told_to_this_one(client, cast, sent):
    # Only a staff correction can move a record to another customer: the old link then says
    # nothing of it.
    token = make_token(sent)
    new = _cancel_and_rebook(cast, sent)
    other = cast.installation(Status.SCHEDULED).customer
    Installation.objects.filter(pk=new.pk).update(customer=other)
    html = client.get(_url("page", token)).content.decode()
    assert "Where it stands now: Cancelled." in html and _slot(new) not in html
