"""The bulk bar's form: which action, and its one handyman or one reason for every row."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict

from ..models import Partner

ACTION_CHOICES = [("assign", "Assign"), ("reject", "Reject"), ("export", "Export selected")]
MAX_ID_LENGTH = 10
MAX_NUMBER = 2**31 - 1  # the columns' range: a larger "id" is not one of ours


class BulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=ACTION_CHOICES,
        error_messages={
            "required": "Choose what to do with the selected installations.",
            "invalid_choice": "Choose what to do with the selected installations.",
        },
    )
    handyman = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Assign to",
        empty_label="Choose a handyman",
        error_messages={"invalid_choice": "Choose one of your handymen."},
    )
    # The board's rule holds in bulk too: a row whose window overlaps another job of the handyman
    # that day is refused with the job named, unless the user ticks this after reading it.
    confirm_conflict = forms.BooleanField(
        required=False, label="Assign even where the handyman already has a job at that time"
    )
    reason = forms.CharField(
        required=False, max_length=2000, label="Reason for rejecting", strip=True
    )

    def __init__(self, *args: Any, partner: Partner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the handymen who serve this partner can be chosen.
        self.fields["handyman"].queryset = partner.handymen.select_related("user")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action == "assign" and not data.get("handyman") and "handyman" not in self.errors:
            self.add_error("handyman", "Choose a handyman to assign.")
        if action == "reject" and not data.get("reason") and "reason" not in self.errors:
            self.add_error("reason", "Please give a reason for the rejection.")
        return data


def _number(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) <= MAX_ID_LENGTH):
        raise ValueError(raw)
    number = int(raw)
    if not 1 <= number <= MAX_NUMBER:
        raise ValueError(raw)
    return number


def selection(data: QueryDict) -> dict[int, int | None]:
    """The selected ids (`id=`, repeated) in page order, each with the version its row showed
    (`v<id>=`), None when the page did not send one. Raises ValueError for anything that is not
    an id or a version: such a page changes nothing."""
    rows: dict[int, int | None] = {}
    for raw in data.getlist("id"):
        pk = _number(raw)
        version = data.get(f"v{pk}", "")
        rows[pk] = _number(version) if version else None
    return rows
