"""The endpoint form: the URL is checked (scheme, DNS, public address) before it is saved."""

from __future__ import annotations

from typing import Any

from django import forms

from ..forms import OneTimeForm
from ..statuses import Status
from .delivery import AddressRefused, check_url
from .models import WebhookEndpoint


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="Where we POST the events, e.g. https://shop.example.com/hooks/portal.",
        error_messages={"required": "Enter the address to send events to."},
        widget=forms.URLInput(attrs={"autocomplete": "off", "inputmode": "url"}),
    )
    description = forms.CharField(label="Description (optional)", max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events to send",
        choices=WebhookEndpoint.EventType.choices,
        help_text="A status change, a move to another date or window and an edit of the "
        "installation's other details are separate events: tick each one you want.",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one kind of event.",
            "invalid_choice": "Choose events from the list.",
        },
    )
    statuses = forms.MultipleChoiceField(
        label="Only status changes to these statuses (optional)",
        help_text="Leave all unticked to receive every status change.",
        choices=Status.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Choose statuses from the list."},
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            check_url(url)
        except AddressRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        wanted = cleaned.get("event_types") or []
        if cleaned.get("statuses") and WebhookEndpoint.EventType.STATUS_CHANGED not in wanted:
            self.add_error("statuses", "Tick “Status changes” too, or leave the statuses unticked.")
        return cleaned


class EndpointCreateForm(OneTimeForm, EndpointForm):
    """The same fields, drawn with a one-time token: a resent form makes one endpoint."""


class EndpointTestForm(OneTimeForm):
    """ "Send a test event": only the one-time token, so a double click sends one test."""
