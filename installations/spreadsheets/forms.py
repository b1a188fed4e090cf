from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

from .reading import MAX_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="At most 2 MB and 500 rows.",
        error_messages={
            "required": "Choose a CSV file to upload.",
            "invalid": "Choose a CSV file to upload.",
            "empty": "The file is empty: there is nothing to import.",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        # Refused before a byte of it is read.
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; at most "
                f"{MAX_BYTES // (1024 * 1024)} MB can be imported at once. Split it into "
                "smaller files."
            )
        return upload
