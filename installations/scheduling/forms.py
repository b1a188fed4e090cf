"""The reschedule and day-off forms: they read the input; the services decide."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django import forms
from django.utils import timezone

from ..forms import WINDOWS, _DateInput
from ..models import Installation


def _key(start: time, end: time) -> str:
    return f"{start:%H:%M}-{end:%H:%M}"


class RescheduleForm(forms.Form):
    """A date and one of the partner's usual arrival windows (the job's own window is always a
    choice, whatever it is). Past dates are refused by the service, with its sentence."""

    scheduled_date = forms.DateField(
        label="New date",
        widget=_DateInput(),
        error_messages={"required": "Choose a date.", "invalid": "Enter a date like 2026-05-31."},
    )
    window = forms.ChoiceField(
        label="Arrival window",
        error_messages={
            "required": "Choose an arrival window.",
            "invalid_choice": "Choose an arrival window from the list.",
        },
    )
    reason = forms.CharField(
        label="Reason (optional)",
        help_text="Shown in the history, not sent to the customer.",
        required=False,
        max_length=500,
        widget=forms.TextInput,
    )

    def __init__(self, *args: Any, installation: Installation, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "scheduled_date": installation.scheduled_date,
                "window": _key(installation.window_start, installation.window_end),
            },
        )
        # Its own ids: the detail page that opens this dialog has a follow-up form with a
        # `scheduled_date` too, and a label must point at the field in the dialog.
        kwargs.setdefault("auto_id", "reschedule-%s")
        super().__init__(*args, **kwargs)
        self.windows = {_key(start, end): (start, end) for start, end in WINDOWS.values()}
        self.windows.setdefault(
            _key(installation.window_start, installation.window_end),
            (installation.window_start, installation.window_end),
        )
        self.fields["window"].choices = [
            (key, f"{start:%H:%M}–{end:%H:%M}")
            for key, (start, end) in sorted(self.windows.items(), key=lambda kv: kv[1])
        ]
        self.fields["scheduled_date"].widget.attrs["min"] = timezone.localdate().isoformat()

    def clean_reason(self) -> str:
        return self.cleaned_data["reason"].strip()

    @property
    def window_times(self) -> tuple[time, time]:
        return self.windows[self.cleaned_data["window"]]


class DayOffForm(forms.Form):
    day = forms.DateField(
        label="Day off",
        widget=_DateInput(),
        error_messages={"required": "Choose a day.", "invalid": "Enter a date like 2026-05-31."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "day-off-%s")
        super().__init__(*args, **kwargs)
        tomorrow: date = timezone.localdate() + timezone.timedelta(days=1)
        self.fields["day"].widget.attrs["min"] = tomorrow.isoformat()
