from __future__ import annotations

from django import forms

from .models import Handyman


class AssignForm(forms.Form):
    handyman = forms.ModelChoiceField(
        queryset=Handyman.objects.select_related("user"),
        empty_label=None,
        error_messages={"required": "Choose a handyman.", "invalid_choice": "Choose a handyman."},
    )

    def __init__(self, *args, partner=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if partner is not None:
            self.fields["handyman"].queryset = partner.handymen.select_related("user")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Please give a reason."},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Please give a reason.")
        return reason
