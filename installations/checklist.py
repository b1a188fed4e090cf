"""The handyman's forms: the "On my way" estimate and the close checklist.

Photos are checked by what they are, not by what they say they are: Pillow must open and verify
each one as a JPEG or PNG, whatever its file name or content type.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from . import services
from .signatures import decode_signature

PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png"}


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


def check_photo(photo: UploadedFile, *, max_bytes: int) -> None:
    """Raise ValidationError unless `photo` is a real JPEG or PNG no larger than `max_bytes`.

    On success the file's name is replaced by one whose extension matches what Pillow found, so
    that a PNG called "photo.jpg" is stored as a .png."""
    name = photo.name or "photo"
    if photo.size is not None and photo.size > max_bytes:
        raise ValidationError(
            f"“{name}” is {_megabytes(photo.size)} MB; each photo can be at most "
            f"{_megabytes(max_bytes)} MB.",
            code="too_big",
        )
    found = None
    try:
        photo.seek(0)
        with Image.open(photo) as image:
            found = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        found = None
    finally:
        photo.seek(0)
    if found not in PHOTO_FORMATS:
        raise ValidationError(
            f"“{name}” is not a JPEG or PNG photo. Take the photo again or choose another one.",
            code="not_a_photo",
        )
    photo.name = f"photo.{PHOTO_FORMATS[found]}"


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
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}),
        error_messages={"required": "Add at least one photo of the finished work."},
    )
    signature = forms.CharField(
        label="Customer’s signature",
        widget=forms.HiddenInput,
        error_messages={"required": "Ask the customer to sign in the box."},
    )
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_photos(self) -> list[UploadedFile]:
        photos = self.cleaned_data["photos"]
        errors = []
        for photo in photos:
            try:
                check_photo(photo, max_bytes=settings.MAX_PHOTO_BYTES)
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return photos

    def clean_signature(self) -> bytes:
        return decode_signature(self.cleaned_data["signature"])

    def clean_notes(self) -> str:
        return self.cleaned_data["notes"].strip()
