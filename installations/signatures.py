"""Signatures drawn on screen arrive as PNG data URLs; this checks and decodes them."""

from __future__ import annotations

import base64
import binascii
import io

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

PREFIX = "data:image/png;base64,"
MAX_BYTES = 2 * 1024 * 1024
UNREADABLE = "The signature could not be read. Please clear it and sign again."
# What Pillow raises for an image whose header claims more pixels than it will decode (a
# "decompression bomb"): an error past twice its limit, a warning (turned into an error by
# strict warning filters) past the limit itself.
BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


def megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g}"


def decode_signature(data_url: str) -> bytes:
    """Return the PNG bytes of a drawn signature, or raise ValidationError with a sentence."""
    data_url = (data_url or "").strip()
    if not data_url:
        raise ValidationError("Please sign in the box.")
    if not data_url.startswith(PREFIX) or len(data_url) > MAX_BYTES * 4 // 3 + len(PREFIX) + 4:
        raise ValidationError(UNREADABLE)
    limit = settings.MAX_SIGNATURE_PIXELS
    too_big = ValidationError(
        f"The signature could not be read: it is larger than {megapixels(limit)} megapixels. "
        "Please clear it and sign again.",
        code="too_many_pixels",
    )
    try:
        raw = base64.b64decode(data_url[len(PREFIX) :], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValidationError(UNREADABLE)
            width, height = image.size
            # Checked before anything is decoded: the header alone says how big it would be.
            if width * height > limit:
                raise too_big
            image.verify()
        # verify() leaves the image unusable: opened again to look at its pixels.
        with Image.open(io.BytesIO(raw)) as image:
            blank = _has_no_ink(image)
    except BOMB_ERRORS as exc:
        raise too_big from exc
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValidationError(UNREADABLE) from exc
    if blank:
        # A pad that was cleared, or whose ink was lost (a screen turned mid-signature): an
        # empty picture is not a signature.
        raise ValidationError("Please sign in the box.")
    return raw


def _has_no_ink(image: Image.Image) -> bool:
    """True when nothing darker than light grey is drawn (transparent counts as paper)."""
    paper = Image.new("RGBA", image.size, "white")
    grey = Image.alpha_composite(paper, image.convert("RGBA")).convert("L")
    darkest, _ = grey.getextrema()
    return darkest > 200
