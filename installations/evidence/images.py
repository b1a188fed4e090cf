"""The evidence pack's images and fingerprint: every photo scaled to print resolution, each
signature to a sensible size, and the content fingerprint (pdf.py turns the HTML into a PDF).

The fingerprint (printed on the last page and kept in EvidencePack.sha256) is the SHA-256 of:
``installation-evidence-pack/1`` (for the customer's copy ``installation-customer-copy/1``) and
a newline, the rendered HTML of the pack's content (the template's `content` partial: everything
the pack says, but not when or by whom it was made, nor the fingerprint itself), then for each
image in the order it appears a newline, its name and the SHA-256 of its ORIGINAL stored bytes
(or ``missing``). Two packs of an unchanged record have the same fingerprint; any change to what
the pack says, or to any photo or signature file, changes it. The PDF file's own SHA-256 cannot
be printed inside itself: it is kept beside (EvidencePack.pdf_sha256) so that a copy of the file
can be checked byte for byte too.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass

from django.db.models.fields.files import FieldFile
from PIL import Image, ImageOps, UnidentifiedImageError

FINGERPRINT_PREFIX = b"installation-evidence-pack/1\n"
# The customer's copy hashes under its own prefix: its fingerprint can never be taken for a
# full pack's, even were the two texts ever to read the same.
CUSTOMER_COPY_PREFIX = b"installation-customer-copy/1\n"

# Print resolution: 1600 px on the long side is ~270 dpi across the 150 mm a photo is printed
# at. Each photo is then held to a byte budget (lower quality, then fewer pixels, until it
# fits), so that the pack's size is bounded whatever the camera: 50 photos × 280 kB = 14 MB.
PHOTO_LONG_SIDE = 1600
PHOTO_BUDGET_BYTES = 280_000
PHOTO_LADDER = ((1600, 80), (1600, 70), (1280, 65), (1024, 60), (800, 55), (640, 50))
SIGNATURE_LONG_SIDE = 1200
# The size a pack of MAX_PHOTOS_STATED photos stays under (tests/evidence/test_size.py).
MAX_PHOTOS_STATED = 50
MAX_PACK_BYTES = 15 * 1024 * 1024

# Where the template finds the prepared images (pdf.OwnFilesOnly serves them).
ASSET_PATH = "/evidence-assets/"


@dataclass(frozen=True)
class Asset:
    """An image of the pack: prepared bytes (None when the original is missing or unreadable)
    and the hash of the original as stored."""

    name: str
    data: bytes | None
    mime: str
    original_sha256: str
    width: int = 0
    height: int = 0

    @property
    def url(self) -> str:
        return f"{ASSET_PATH}{self.name}"


def _read(file: FieldFile) -> bytes | None:
    if not file:
        return None
    try:
        with file.storage.open(file.name, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def scale_photo(raw: bytes) -> tuple[bytes, int, int]:
    """A JPEG of at most PHOTO_LONG_SIDE px on the long side and PHOTO_BUDGET_BYTES, turned
    the way the camera meant (EXIF orientation). Raises OSError for what is not an image."""
    with Image.open(io.BytesIO(raw)) as opened:
        scale = PHOTO_LONG_SIDE / max(opened.size)
        if scale < 1 and opened.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 straight away: a 12-megapixel photo costs a quarter.
            opened.draft("RGB", (math.ceil(opened.width * scale), math.ceil(opened.height * scale)))
        image = _on_paper(ImageOps.exif_transpose(opened))
    data = b""
    for long_side, quality in PHOTO_LADDER:
        image.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
        data = buffer.getvalue()
        if len(data) <= PHOTO_BUDGET_BYTES:
            break
    return data, image.width, image.height


def _on_paper(image: Image.Image) -> Image.Image:
    """RGB for the JPEG, a see-through background laid on white: the clear pixels of a PNG
    (a screenshot, a drawing) are black underneath, and would print black."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, "white")
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image.convert("RGB")


def scale_signature(raw: bytes) -> tuple[bytes, int, int]:
    with Image.open(io.BytesIO(raw)) as opened:
        # Keep transparency where the drawing has it (the pad's PNG): a white box would hide
        # nothing, but a converted palette could lose the strokes.
        mode = "RGBA" if opened.mode in ("P", "LA", "RGBA") else "RGB"
        image = opened.convert(mode)
    image.thumbnail((SIGNATURE_LONG_SIDE, SIGNATURE_LONG_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), image.width, image.height


def prepare(name: str, file: FieldFile, *, photo: bool) -> Asset:
    raw = _read(file)
    if raw is None:
        return Asset(name, None, "", "missing")
    original = hashlib.sha256(raw).hexdigest()
    try:
        data, width, height = (scale_photo if photo else scale_signature)(raw)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return Asset(name, None, "", original)
    return Asset(name, data, "image/jpeg" if photo else "image/png", original, width, height)


def fingerprint(
    content_html: str, assets: list[Asset], *, prefix: bytes = FINGERPRINT_PREFIX
) -> str:
    digest = hashlib.sha256(prefix)
    digest.update(content_html.encode("utf-8"))
    for asset in assets:
        digest.update(f"\n{asset.name} {asset.original_sha256}".encode())
    return digest.hexdigest()
