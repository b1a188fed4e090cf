"""The handyman's forms: the "On my way" estimate and the close checklist.

Photos are checked by what they are, not by what they say they are: Pillow must open and verify
each one as a JPEG or PNG, whatever its file name or content type, within a pixel limit. Each is
then re-encoded: what is stored is only the picture, without the EXIF block a phone writes into
it (GPS position of the customer's home, the phone's model and serial, the time to the second).
Its colours are converted to sRGB first: an iPhone's photo is in Display P3, and its numbers
read as sRGB (as every page, thumbnail and PDF would, once the profile is gone) look washed out.
"""

from __future__ import annotations

import io
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from . import services
from .contracts import COMPLETION_STATEMENT
from .forms import LinesField
from .signatures import BOMB_ERRORS, decode_signature, megapixels

PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png"}
# What to do about a photo too large (handyman.js says the same when it is chosen).
RETAKE = "Take it again at a lower resolution or choose another one."


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (the pattern of Django's "Uploading multiple files" docs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = list(data) if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        single_clean = super().clean
        return [single_clean(f, initial) for f in files]


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.1f}".rstrip("0").rstrip(".") if value < 10 else f"{value:.0f}"


def limits_sentence() -> str:
    return (
        f"A job can have at most {settings.MAX_PHOTOS_PER_JOB} photos and "
        f"{_megabytes(settings.MAX_PHOTO_TOTAL_BYTES)} MB of photos in all."
    )


def too_many_sentence() -> str:
    """Said by the server, and by the page as soon as the photos are chosen (handyman.js)."""
    return f"Too many photos at once. {limits_sentence()} Choose fewer or smaller photos."


def heic_sentence(name: str) -> str:
    """Said by the server, and by the page as soon as such a photo is chosen (handyman.js)."""
    return (
        f"“{name}” is a HEIC photo, which the portal cannot read. Choose it from the phone’s "
        "photo gallery (an iPhone then sends it as a JPEG), or set the camera to take JPEG "
        "photos (on an iPhone: Settings › Camera › Formats › Most Compatible)."
    )


def check_photo(photo: UploadedFile, *, max_bytes: int, max_pixels: int | None = None) -> File:
    """Return the photo as it will be stored, or raise ValidationError with a sentence.

    It must be a real JPEG or PNG no larger than `max_bytes` and `max_pixels`. What comes back is
    re-encoded in the format Pillow found (so a PNG called "photo.jpg" is stored as a .png),
    turned upright as the phone meant it, and without any metadata."""
    name = photo.name or "photo"
    max_pixels = max_pixels or settings.MAX_PHOTO_PIXELS
    if photo.size is not None and photo.size > max_bytes:
        raise ValidationError(
            f"“{name}” is {_megabytes(photo.size)} MB; each photo can be at most "
            f"{_megabytes(max_bytes)} MB. {RETAKE}",
            code="too_big",
        )
    too_many_pixels = ValidationError(
        f"“{name}” is larger than {megapixels(max_pixels)} megapixels, the most a photo can "
        f"have. {RETAKE}",
        code="too_many_pixels",
    )
    if photo.size == 0:
        # A photo the phone has not fetched from its cloud yet can arrive as 0 bytes.
        raise ValidationError(
            f"“{name}” is an empty file, not a photo. Choose the photo again.", code="empty"
        )
    found = None
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            # A JPEG with a second picture in it (an HDR gain map, a depth map: MPF) is a
            # phone's ordinary photo; Pillow calls it MPO. Its first picture is the photo.
            found = "JPEG" if image.format == "MPO" else image.format
            width, height = image.size
            # The header says how big it would be: refuse before decoding a single pixel.
            if width * height > max_pixels:
                raise too_many_pixels
            image.verify()
    except BOMB_ERRORS as exc:
        raise too_many_pixels from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if found in PHOTO_FORMATS:
            raise _not_whole(name, found) from exc
        found = None
    finally:
        photo.seek(0)
    if found not in PHOTO_FORMATS:
        if _is_heic(photo):
            raise ValidationError(heic_sentence(name), code="heic")
        raise ValidationError(
            f"“{name}” is not a JPEG or PNG photo. Take the photo again or choose another one.",
            code="not_a_photo",
        )
    try:
        stored = _reencoded(photo, found)
    except (OSError, SyntaxError, ValueError, *BOMB_ERRORS) as exc:
        # Its header was a JPEG's or a PNG's (verify() does not decode a JPEG): its pixels are not.
        raise _not_whole(name, found) from exc
    # The limits are said, and counted by the page, the upload and the form, in the sizes sent;
    # the service counts these too (re-encoding can make a photo larger).
    stored.sent_size = photo.size
    return stored


def _not_whole(name: str, found: str) -> ValidationError:
    return ValidationError(
        f"“{name}” is a {found} photo that did not arrive whole (it may have been cut off while "
        "it was copied or sent). Choose it again or take the photo again.",
        code="damaged",
    )


# The brands of an ISO "ftyp" box that mean HEIC/HEIF: what iPhones (and some Android phones)
# take by default. Telling it apart says what to do: "not a photo" would puzzle the handyman.
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def _is_heic(photo: UploadedFile) -> bool:
    photo.seek(0)
    head = photo.read(12)
    photo.seek(0)
    return len(head) == 12 and head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS


def _reencoded(photo: UploadedFile, found: str) -> File:
    """The picture alone, in sRGB: EXIF (GPS), XMP, ICC profiles, comments and thumbnails do
    not survive."""
    with Image.open(photo) as image:
        image.load()
        upright = _in_srgb(ImageOps.exif_transpose(image), image.info.get("icc_profile"))
    buffer = io.BytesIO()
    if found == "JPEG":
        if upright.mode not in ("RGB", "L"):
            upright = upright.convert("RGB")
        upright.save(buffer, format="JPEG", quality=90, optimize=True)
    else:
        upright.save(buffer, format="PNG", optimize=False)
    photo.seek(0)
    return ContentFile(buffer.getvalue(), name=f"photo.{PHOTO_FORMATS[found]}")


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# The modes whose colours a profile describes and littlecms converts; the output mode of each.
CONVERTIBLE = {"RGB": "RGB", "RGBA": "RGBA", "CMYK": "RGB"}


def _in_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """The picture's colours as sRGB numbers, if it says (by its ICC profile) that they are in
    another space. Without a profile, or with one littlecms cannot read, its numbers are
    taken as sRGB already: what every browser does with them."""
    if not icc or image.mode not in CONVERTIBLE:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, SRGB, outputMode=CONVERTIBLE[image.mode])
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image


class PhotoLimitHandler(FileUploadHandler):
    """First in the upload chain of the checklist: counts the photos and their bytes as they
    stream in. Past the limits the rest is read off the network and dropped, never written to
    disk, and the form says why (`exceeded`)."""

    def __init__(self, request: HttpRequest | None = None, *, field: str = "photos") -> None:
        super().__init__(request)
        self.field = field
        self.count = 0
        self.total = 0
        self.exceeded = False
        self._counting = False

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        self._counting = field_name == self.field
        if self._counting:
            self.count += 1

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        # Skipped here, not in new_file: Django closes the file the next handler is building
        # when a file is skipped, and only here is that file this one (not the one before).
        if self._counting:
            self.total += len(raw_data)
            if (
                self.count > settings.MAX_PHOTOS_PER_JOB
                or self.total > settings.MAX_PHOTO_TOTAL_BYTES
            ):
                self.exceeded = True
                raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler in the chain makes the file


class SetOffForm(forms.Form):
    eta_minutes = forms.TypedChoiceField(
        label="Arriving in about",
        choices=[(m, f"{m} minutes") for m in services.ETA_CHOICES],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose when you expect to arrive.",
            "invalid_choice": "Choose when you expect to arrive.",
        },
    )


class ChecklistForm(forms.Form):
    photos = MultipleFileField(
        label="Photos of the finished work",
        allow_empty_file=True,  # check_photo says which one is empty
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}),
        error_messages={"required": "Add at least one photo of the finished work."},
    )
    # The drawing is optional here: the typed name with the statement ticked signs too (clean).
    signature = forms.CharField(
        label="Customer’s signature", widget=forms.HiddenInput, required=False
    )
    signer_name = forms.CharField(label="Customer’s full name", max_length=120, required=False)
    typed_signature = forms.BooleanField(label=COMPLETION_STATEMENT, required=False)
    notes = LinesField(
        label="Notes (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, limit: PhotoLimitHandler | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def clean_photos(self) -> list[File]:
        photos = self.cleaned_data["photos"]
        over = (
            (self.limit is not None and self.limit.exceeded)
            or len(photos) > settings.MAX_PHOTOS_PER_JOB
            or sum(p.size or 0 for p in photos) > settings.MAX_PHOTO_TOTAL_BYTES
        )
        if over:
            raise self._too_many()
        errors = []
        stored = []
        for photo in photos:
            try:
                stored.append(check_photo(photo, max_bytes=settings.MAX_PHOTO_BYTES))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return stored

    def _too_many(self) -> ValidationError:
        return ValidationError(too_many_sentence(), code="too_many_photos")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.limit is not None and self.limit.exceeded:
            # Some photos were dropped unread: whatever the field said of the rest, this is why.
            self.errors.pop("photos", None)
            self.add_error("photos", self._too_many())
        self._clean_signing(cleaned)
        return cleaned

    def _clean_signing(self, cleaned: dict[str, Any]) -> None:
        """Leave `signature` as the PNG bytes of the drawing, or b"" when the customer signs
        with their typed name (the ticked statement wins, as on the customer's own page)."""
        drawing = cleaned.get("signature", "")
        name = cleaned.get("signer_name", "")
        cleaned["signature"] = b""
        if cleaned.get("typed_signature"):
            if not name and "signer_name" not in self.errors:
                self.add_error("signer_name", "Type the customer’s full name to sign with it.")
            return
        if drawing:
            try:
                cleaned["signature"] = decode_signature(drawing)
            except ValidationError as exc:
                self.add_error("signature", exc)
        elif name:
            self.add_error(
                "typed_signature",
                "Ask the customer to tick the statement to sign with their typed name.",
            )
        else:
            self.add_error("signature", services.SIGN_OR_TYPE)

    def clean_notes(self) -> str:
        return self.cleaned_data["notes"].strip()
