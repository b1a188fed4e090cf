"""Uploads are served only through the media view, and only to those who may see the record."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from installations.customer_links import make_token
from installations.models import Installation, InstallationPhoto
from installations.statuses import Status
from tests.factories import UserFactory


@pytest.fixture
def signed(cast) -> Installation:
    """A job with a photo, the completion signature and the customer's contract signature."""
    return cast.installation(Status.CONTRACT_SIGNED)


def _urls(installation: Installation) -> list[str]:
    return [
        installation.photos.get().image.url,
        installation.completion_signature.url,
        installation.contract_signature.url,
    ]


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _assert_served_as_png(response) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_templates_keep_media_url_as_the_prefix(signed):
    assert all(url.startswith("/media/") for url in _urls(signed))


@pytest.mark.parametrize("who", ["partner_user", "staff", "handyman"])
def test_the_records_people_see_its_photos_and_signatures(signed, cast, who):
    user = cast.handyman.user if who == "handyman" else getattr(cast, who)
    client = _client(user)
    for url in _urls(signed):
        _assert_served_as_png(client.get(url))


@pytest.mark.parametrize("who", ["anonymous", "other_partner_user", "other_handyman"])
def test_it_answers_404_to_anyone_else(signed, cast, who):
    user = {
        "anonymous": None,
        "other_partner_user": cast.other_partner_user,
        "other_handyman": cast.other_handyman.user,
    }[who]
    client = _client(user)
    for url in _urls(signed):
        assert client.get(url).status_code == 404, url


def test_a_staff_account_without_the_right_to_view_installations_sees_no_upload(signed):
    client = _client(UserFactory(username="no-rights", is_staff=True))
    for url in _urls(signed):
        assert client.get(url).status_code == 404, url


def test_the_holder_of_a_valid_customer_link_sees_the_uploads_until_the_link_is_replaced(signed):
    client = Client()
    assert client.get(signed.contract_signature.url).status_code == 404
    assert client.get(f"/c/{make_token(signed)}/").status_code == 200
    for url in _urls(signed):
        _assert_served_as_png(client.get(url))

    # A new link replaces the old one: the old one's session no longer opens anything.
    Installation.objects.filter(pk=signed.pk).update(link_nonce=uuid.uuid4().hex)
    for url in _urls(signed):
        assert client.get(url).status_code == 404, url


def test_a_customer_link_opens_only_its_own_record(cast):
    mine = cast.installation(Status.CONTRACT_SIGNED)
    theirs = cast.installation(Status.CONTRACT_SIGNED)
    client = Client()
    assert client.get(f"/c/{make_token(mine)}/").status_code == 200
    for url in _urls(theirs):
        assert client.get(url).status_code == 404, url


def test_a_file_that_is_not_an_image_is_never_served(signed, cast):
    photo = InstallationPhoto(installation=signed)
    photo.image.save("evil.png", ContentFile(b"<script>alert(1)</script>"), save=True)
    response = _client(cast.partner_user).get(photo.image.url)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "photos/nope.png",
        "../portal/settings.py",
        "signatures/",
        "%2e%2e/manage.py",
        # PostgreSQL refuses NUL in a query (a 500 there, never on SQLite): refused before it.
        "%00999999999999999999",
        "photos/a%00.png",
        "photos/" + "a" * 300 + ".png",
    ],
)
def test_names_no_record_owns_are_404(cast, name):
    assert _client(cast.staff).get(f"/media/{name}").status_code == 404


def test_the_wrong_method_is_refused(signed, cast):
    assert _client(cast.partner_user).post(signed.contract_signature.url).status_code == 405


def test_a_proxy_can_send_the_file_with_x_accel_redirect(signed, cast, settings):
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    response = _client(cast.partner_user).get(signed.contract_signature.url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-media/{signed.contract_signature.name}"
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"].startswith("private")
    assert response.content == b""


def test_a_proxy_can_send_the_file_with_x_sendfile(signed, cast, settings):
    settings.MEDIA_X_SENDFILE = True
    response = _client(cast.partner_user).get(signed.contract_signature.url)
    assert response.status_code == 200
    assert response["X-Sendfile"] == signed.contract_signature.path
    assert response.content == b""


def _photo(installation: Installation, image, fmt: str) -> InstallationPhoto:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    photo = InstallationPhoto(installation=installation)
    photo.image.save(f"p.{fmt.lower()}", ContentFile(buffer.getvalue()), save=True)
    return photo


def test_a_photos_thumbnail_is_a_small_copy_served_to_the_same_people_only(signed, cast):
    # A phone's 12-megapixel photo, twenty to a record: the record page shows them 160×120.
    noise = Image.effect_noise((2000, 1500), 40).convert("RGB")
    photo = _photo(signed, noise, "JPEG")
    client = _client(cast.partner_user)
    whole = client.get(photo.image.url)
    thumb = client.get(photo.image.url + "?size=thumb")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert thumb["Cache-Control"].startswith("private")
    assert thumb["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(thumb.content)) as small:
        assert small.size == (320, 240)
    assert len(thumb.content) * 10 < len(b"".join(whole.streaming_content))
    assert _client(cast.other_partner_user).get(photo.image.url + "?size=thumb").status_code == 404
    assert _client().get(photo.image.url + "?size=thumb").status_code == 404


def test_a_png_photos_thumbnail_keeps_its_clear_pixels(signed, cast):
    clear = Image.new("RGBA", (1200, 900), (0, 0, 0, 0))
    photo = _photo(signed, clear, "PNG")
    thumb = _client(cast.partner_user).get(photo.image.url + "?size=thumb")
    assert thumb["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(thumb.content)) as small:
        assert small.size == (320, 240) and small.getpixel((5, 5))[3] == 0


def test_a_file_that_is_not_an_image_has_no_thumbnail_either(signed, cast):
    photo = InstallationPhoto(installation=signed)
    photo.image.save("evil.png", ContentFile(b"<script>alert(1)</script>"), save=True)
    assert _client(cast.partner_user).get(photo.image.url + "?size=thumb").status_code == 404
