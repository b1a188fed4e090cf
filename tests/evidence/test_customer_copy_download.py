"""The record's partner (and staff) download the customer's copy the customer got, byte for byte
from what was kept when the customer downloaded it, never made again."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from installations.customer_links import make_token
from installations.evidence import pdf as evidence_pdf
from installations.evidence.models import EvidencePack
from installations.models import Installation


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _copy_url(pack: EvidencePack) -> str:
    return reverse("evidence:customer-copy", args=[pack.installation_id, pack.pk])


def _customer_downloads(installation: Installation) -> tuple[bytes, EvidencePack]:
    response = _client().get(reverse("evidence:customer-pack", args=[make_token(installation)]))
    assert response.status_code == 200
    return response.content, EvidencePack.objects.filter(installation=installation).latest("id")


@pytest.fixture
def given(approved) -> tuple[bytes, EvidencePack]:
    """The customer downloads their copy (fixtures run in the order a test names them: put
    this one before no_rendering)."""
    return _customer_downloads(approved)


@pytest.fixture
def no_rendering(monkeypatch):
    """From here on, any PDF made would fail the test: a download must give the kept bytes."""

    def refuse(*args, **kwargs):
        raise AssertionError("a PDF was rendered again")

    monkeypatch.setattr(evidence_pdf, "html_to_pdf", refuse)


def test_the_partner_downloads_exactly_the_bytes_the_customer_got(
    cast, approved, given, no_rendering
):
    content, pack = given
    detail = _client(cast.partner_user).get(reverse("partner:detail", args=[approved.pk]))
    assert f'href="{_copy_url(pack)}"' in detail.content.decode()
    response = _client(cast.partner_user).get(_copy_url(pack))
    assert response.status_code == 200
    assert response.content == content
    assert hashlib.sha256(response.content).hexdigest() == pack.pdf_sha256
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="installation-record-{approved.pk}-copy-{pack.pk}.pdf"'
    )
    assert "no-cache" in response["Cache-Control"]
    assert EvidencePack.objects.filter(installation=approved).count() == 1  # nothing new made


def test_staff_download_it_from_the_admin_list(cast, approved, given, no_rendering):
    content, pack = given
    admin = _client(cast.superuser)
    page = admin.get(reverse("admin:installations_evidencepack_changelist")).content.decode()
    assert f'href="{_copy_url(pack)}"' in page
    change = reverse("admin:installations_evidencepack_change", args=[pack.pk])
    change_page = admin.get(change).content.decode()
    assert f'href="{_copy_url(pack)}"' in change_page
    assert pack.file.url not in change_page  # no link to the media URL, which answers 404
    assert admin.get(_copy_url(pack)).content == content
    assert _client(cast.staff).get(_copy_url(pack)).content == content


def test_another_partner_handymen_and_other_packs_get_404(cast, approved, given, no_rendering):
    _, pack = given
    for user in (cast.other_partner_user, cast.handyman.user, cast.other_handyman.user):
        assert _client(user).get(_copy_url(pack)).status_code == 404
    anonymous = _client().get(_copy_url(pack))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    partner = _client(cast.partner_user)
    # The pack under another of the partner's records, and a full pack, are not customer's copies.
    other = cast.installation()
    assert partner.get(reverse("evidence:customer-copy", args=[other.pk, pack.pk])).status_code == (
        404
    )
    full = EvidencePack.objects.create(
        installation=approved, sha256="f" * 64, pdf_sha256="f" * 64, made_by_name="x", size=1
    )
    full.file.save("record.pdf", ContentFile(b"%PDF- not given to the customer"))
    assert partner.get(_copy_url(full)).status_code == 404
    assert partner.post(_copy_url(pack)).status_code == 405


def test_a_copy_made_before_copies_were_kept_offers_no_download(cast, approved, given):
    _, pack = given
    EvidencePack.objects.filter(pk=pack.pk).update(file="")
    partner = _client(cast.partner_user)
    detail = partner.get(reverse("partner:detail", args=[approved.pk])).content.decode()
    assert _copy_url(pack) not in detail
    assert pack.pdf_sha256 in detail  # still listed with its fingerprints
    assert partner.get(_copy_url(pack)).status_code == 404


def test_a_kept_file_that_changed_or_went_missing_is_not_given(cast, approved, given, caplog):
    _, pack = given
    with pack.file.storage.open(pack.file.name, "wb") as handle:
        handle.write(b"%PDF-1.7 something else")
    partner = _client(cast.partner_user)
    response = partner.get(_copy_url(pack))
    assert response.status_code == 410
    assert "is no longer stored as the customer got it" in response.content.decode()
    assert f"The file of customer's copy {pack.pk} is not the one given." in caplog.text
    pack.file.storage.delete(pack.file.name)
    assert partner.get(_copy_url(pack)).status_code == 410


def test_the_kept_file_is_never_served_by_the_media_url(cast, approved, given):
    _, pack = given
    for user in (cast.partner_user, cast.superuser, None):
        assert _client(user).get(pack.file.url).status_code == 404
