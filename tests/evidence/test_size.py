"""A large job (50 photos of a 12-megapixel phone camera) stays under the stated size."""

from __future__ import annotations

import io
import time

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from installations import services
from installations.demo import png_bytes
from installations.evidence import images
from installations.evidence.services import evidence_pack_make
from installations.statuses import Status

from .conftest import embedded_images, pdf_text

PHOTOS = images.MAX_PHOTOS_STATED  # 50
CAMERA = (3000, 4000)  # 12 megapixels, portrait


def noisy_photos(count: int) -> list[bytes]:
    """Photo-like JPEGs: a gradient under sensor noise (so that they compress like photos, not
    like flat colour), each with its own shapes so that no two files are alike."""
    noise = Image.effect_noise(CAMERA, 30)
    gradient = Image.linear_gradient("L").resize(CAMERA)
    base = Image.merge(
        "RGB",
        [
            Image.blend(gradient, noise, 0.3),
            Image.blend(gradient.rotate(180), noise, 0.3),
            Image.blend(gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise, 0.2),
        ],
    )
    photos = []
    for n in range(count):
        image = base.copy()
        draw = ImageDraw.Draw(image)
        draw.rectangle((200 + 40 * n, 400, 2600, 600 + 60 * n), outline="white", width=30)
        draw.ellipse((500, 2000 + 30 * n, 2500, 3800), outline=(n * 5, 0, 0), width=40)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=88)
        photos.append(buffer.getvalue())
    return photos


def test_fifty_camera_photos_stay_under_the_stated_size(cast, settings):
    settings.MAX_PHOTOS_PER_JOB = PHOTOS
    settings.MAX_PHOTO_TOTAL_BYTES = 400 * 1024 * 1024
    inst = cast.installation(Status.INSTALLATION_IN_PROGRESS)
    originals = noisy_photos(PHOTOS)
    inst = services.installation_complete(
        installation=inst,
        photos=[
            SimpleUploadedFile(f"p{n}.jpg", raw, content_type="image/jpeg")
            for n, raw in enumerate(originals)
        ],
        signature_png=png_bytes((600, 240)),
        notes="Fifty photos.",
        actor=cast.handyman.user,
    )
    assert inst.photos.count() == PHOTOS
    assert sum(map(len, originals)) > 100 * 1024 * 1024  # what would go in unscaled

    started = time.monotonic()
    made = evidence_pack_make(installation=inst, made_by_name="x")
    elapsed = time.monotonic() - started

    assert made.pack.size == len(made.pdf) < images.MAX_PACK_BYTES, (
        f"{len(made.pdf) / 2**20:.1f} MB for {PHOTOS} photos ({elapsed:.0f} s)"
    )
    embedded = [img for img in embedded_images(made.pdf) if (img.width, img.height) != (600, 240)]
    assert len(embedded) == PHOTOS
    for image in embedded:
        assert max(image.width, image.height) <= images.PHOTO_LONG_SIDE
        # Passed through as the JPEG we made (DCT), not re-encoded bigger by the renderer.
        assert image.filter == "/DCTDecode"
        assert image.stream_bytes <= images.PHOTO_BUDGET_BYTES
    assert f"Photo {PHOTOS} of {PHOTOS}, added" in pdf_text(made.pdf)
