from __future__ import annotations

from django import forms

from ..statuses import NON_TERMINAL_STATUSES, Status
from .services import HOURS_WANTED, MAX_HOURS


def seen_text(hours: dict[str, int]) -> str:
    """The thresholds a page showed, as its hidden `seen` field carries them."""
    return ",".join(f"{s}:{hours[str(s)]}" for s in NON_TERMINAL_STATUSES if str(s) in hours)


class ThresholdsForm(forms.Form):
    """Hours per open status after which a job counts as stuck."""

    # The thresholds the page showed (seen_text): the service refuses to put them back over
    # what someone else saved meanwhile. Missing or unreadable: not checked.
    seen = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for status in NON_TERMINAL_STATUSES:
            self.fields[str(status)] = forms.IntegerField(
                label=f"{Status(status).label}",
                min_value=1,
                max_value=MAX_HOURS,
                help_text="hours",
                # The service's sentence, not Django's "Ensure this value is less than or
                # equal to 8760."
                error_messages=dict.fromkeys(
                    ("required", "invalid", "min_value", "max_value"), HOURS_WANTED
                ),
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def full_clean(self) -> None:
        super().full_clean()
        # The first refused field takes the focus when its answer loads (no JavaScript needed):
        # the keyboard and a screen reader start at the field and its sentence.
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["autofocus"] = True
                break

    def clean_seen(self) -> dict[str, int] | None:
        seen: dict[str, int] = {}
        for pair in self.cleaned_data["seen"].split(","):
            status, _, hours = pair.partition(":")
            if status not in NON_TERMINAL_STATUSES or not hours.isdigit():
                return None
            seen[status] = int(hours)
        return seen if len(seen) == len(NON_TERMINAL_STATUSES) else None

    def hours(self) -> dict[str, int]:
        return {str(s): self.cleaned_data[str(s)] for s in NON_TERMINAL_STATUSES}
