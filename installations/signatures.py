"""Signatures drawn on screen arrive as PNG data URLs; this checks and decodes them."""

from __future__ import annotations

import base64
import binascii
import io

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

PREFIX = "data:image/png;base64,"
MAX_BYTES = 2 * 1024 * 1024


def decode_signature(data_url: str) -> bytes:
    """Return the PNG bytes of a drawn signature, or raise ValidationError with a sentence."""
    data_url = (data_url or "").strip()
    if not data_url:
        raise ValidationError("Please sign in the box.")
    if not data_url.startswith(PREFIX) or len(data_url) > MAX_BYTES * 4 // 3 + len(PREFIX) + 4:
        raise ValidationError("The signature could not be read. Please clear it and sign again.")
    try:
        raw = base64.b64decode(data_url[len(PREFIX) :], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValidationError("The signature could not be read.")
            image.verify()
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValidationError(
            "The signature could not be read. Please clear it and sign again."
        ) from exc
    return raw
