from __future__ import annotations

import copy
import uuid
from datetime import date, time
from typing import Any

from django import forms
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .customer_picker import Picker, label
from .models import Customer, Handyman, Installation
from .scheduling.models import TimeOff
from .scheduling.rules import window_over
from .statuses import Status


class LinesField(forms.CharField):
    """A text area's text, its line breaks counted as the browser counts them: one character
    each, though the form sends two (CR LF). Otherwise a box that stops typing at its maxlength
    was refused as too long, with Django's count, and the person could not see why."""

    def to_python(self, value: Any) -> str:
        return super().to_python(value).replace("\r\n", "\n")


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
    reason = LinesField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Please give a reason."},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Please give a reason.")
        return reason


# --- Partner portal ------------------------------------------------------------------------------

_NOT_COUNTED = (Status.CANCELLED, Status.REJECTED)
_COUNTED = [status for status in Status.values if status not in _NOT_COUNTED]


class HandymanDayChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Handyman) -> str:
        if getattr(obj, "off_that_day", False):
            # Choosing him is refused with the day named: say so before, in the list.
            return f"{obj.display_name} (day off)"
        jobs = getattr(obj, "jobs_that_day", None)
        if jobs is None:
            return obj.display_name
        return f"{obj.display_name} ({jobs} job{'' if jobs == 1 else 's'} that day)"


def jobs_on(day: date) -> QuerySet[Installation]:
    """For a handyman (the outer query's row), his jobs that day that still hold his time, as
    one count. The statuses are named, not excluded: each is then a probe of the
    (handyman, status, date) index, whatever the length of his past (a join of all his jobs
    took 0.2 s at a million rows)."""
    return (
        Installation.objects.filter(
            handyman=OuterRef("pk"), status__in=_COUNTED, scheduled_date=day
        )
        .order_by()
        .values("handyman")
        .annotate(jobs=Count("pk"))
        .values("jobs")
    )


class PartnerAssignForm(AssignForm):
    """AssignForm for the partner's dialog: the handymen who serve this partner, each with how many
    jobs they already have on the installation's day (one annotated query)."""

    handyman = HandymanDayChoiceField(
        queryset=Handyman.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a handyman.", "invalid_choice": "Choose a handyman."},
    )

    def __init__(self, *args, partner, day: date, exclude: int | None = None, **kwargs) -> None:
        super().__init__(*args, partner=partner, **kwargs)
        handymen = partner.handymen.select_related("user").annotate(
            jobs_that_day=Coalesce(Subquery(jobs_on(day)), 0),
            off_that_day=Exists(TimeOff.objects.filter(handyman=OuterRef("pk"), day=day)),
        )
        field = self.fields["handyman"]
        field.queryset = handymen
        if exclude is not None:
            # Reassign: the handyman who has the job now is not drawn as a choice (choosing him
            # could only be refused), but he is accepted when sent: a resent reassign names him,
            # and the service answers it as done, or refuses it in words (services.py).
            drawn = copy.deepcopy(field)
            drawn.queryset = handymen.exclude(pk=exclude)
            field.widget.choices = drawn.choices


class RejectForm(ReasonForm):
    reason = LinesField(
        label="Reason for rejecting",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": "Please give a reason for the rejection."},
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Please give a reason for the rejection.")
        return reason


# Arrival windows offered when scheduling: fixed choices keep the end after the start.
WINDOWS: dict[str, tuple[time, time]] = {
    "08-10": (time(8), time(10)),
    "10-12": (time(10), time(12)),
    "12-14": (time(12), time(14)),
    "14-16": (time(14), time(16)),
    "16-18": (time(16), time(18)),
    "08-12": (time(8), time(12)),
    "12-17": (time(12), time(17)),
}
WINDOW_CHOICES = [(key, f"{start:%H:%M}–{end:%H:%M}") for key, (start, end) in WINDOWS.items()]


def _not_in_past(value: date) -> date:
    if value < timezone.localdate():
        raise forms.ValidationError("Choose today or a later date.")
    return value


def _min_today(form: forms.Form) -> None:
    # A hint for the date picker; the server still checks (the forms are novalidate).
    form.fields["scheduled_date"].widget.attrs["min"] = timezone.localdate().isoformat()


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class OneTimeForm(forms.Form):
    """A create-style form drawn with a one-time token: the service creates at most one record
    per token (a UNIQUE column), so a double click, a replay or a retry answers with the record
    the first submission made. A form posted without a token is not protected, never refused."""

    token = forms.UUIDField(
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": "This form could not be read: reload the page and try again."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # The token is hidden: its error must be said where the person can read it.
        if "token" in self.errors:
            self.add_error(None, list(self.errors.pop("token")))
        return cleaned


NEW_CUSTOMER = "A new customer (enter below)"


def require_a_way_to_reach(form: forms.Form, phone: str, email: str) -> None:
    """A customer needs a phone number or an email address (the import asks it too): the
    contract link reaches them by text or e-mail; without either a job would stop at
    "Contract sent" with nobody told. Said on the phone field, unless either field already
    has an error of its own."""
    data = form.cleaned_data
    if (data.get(phone, "") or "").strip() or data.get(email) or {phone, email} & set(form.errors):
        return
    form.add_error(
        phone,
        "Enter a phone number or an email address: the customer is sent the contract to sign "
        "through one of them.",
    )


NEW_CUSTOMER_FIELDS = ("new_name", "new_phone", "new_email")


class InstallationCreateForm(OneTimeForm):
    # Validated against all the partner's customers, drawn as only the picker's few
    # (customer_picker): never a list of every customer.
    customer = forms.ModelChoiceField(
        label="Customer for this installation",
        queryset=Customer.objects.none(),
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Choose one of your customers."},
    )
    new_name = forms.CharField(label="New customer's name", max_length=120, required=False)
    new_phone = forms.CharField(label="New customer's phone", max_length=32, required=False)
    new_email = forms.EmailField(label="New customer's email", required=False)
    site_address = forms.CharField(
        label="Site address",
        max_length=255,
        required=False,
        help_text="Leave empty to use the existing customer's address.",
    )
    scheduled_date = forms.DateField(
        label="Date",
        widget=_DateInput(),
        error_messages={"required": "Choose a date.", "invalid": "Enter a date like 2026-05-31."},
    )
    window = forms.ChoiceField(
        label="Arrival window",
        choices=WINDOW_CHOICES,
        error_messages={"invalid_choice": "Choose an arrival window from the list."},
    )
    notes = LinesField(
        label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000
    )

    def __init__(self, *args, partner, picker: Picker | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["customer"]
        field.queryset = partner.customers.all()
        offered = picker.choices if picker else []
        field.widget.choices = [("", NEW_CUSTOMER)] + [(c.pk, label(c)) for c in offered]
        _min_today(self)

    def clean_scheduled_date(self) -> date:
        return _not_in_past(self.cleaned_data["scheduled_date"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        day, window = cleaned.get("scheduled_date"), WINDOWS.get(cleaned.get("window", ""))
        if day and window and (over := window_over(day, *window)):
            self.add_error("window", over)
        customer = cleaned.get("customer")
        if customer is not None:
            # An existing customer chosen: the new customer's fields are hidden (portal.css) and
            # not used, so what is left in them (an e-mail typed wrong before the search) can
            # neither be seen nor be the reason the form is refused.
            for name in NEW_CUSTOMER_FIELDS:
                self.errors.pop(name, None)
                cleaned[name] = ""
        elif "customer" not in self.errors:
            if not cleaned.get("new_name", "").strip():
                self.add_error(
                    "new_name", "Enter the new customer's name, or choose an existing customer."
                )
            if not cleaned.get("site_address", "").strip():
                self.add_error("site_address", "Enter the address of the site.")
            require_a_way_to_reach(self, "new_phone", "new_email")
        return cleaned

    @property
    def window_times(self) -> tuple[time, time]:
        return WINDOWS[self.cleaned_data["window"]]


class FollowUpForm(OneTimeForm):
    scheduled_date = forms.DateField(
        label="Date of the follow-up visit",
        widget=_DateInput(),
        error_messages={"required": "Choose a date.", "invalid": "Enter a date like 2026-05-31."},
    )
    notes = LinesField(
        label="What needs doing", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _min_today(self)

    def clean_scheduled_date(self) -> date:
        return _not_in_past(self.cleaned_data["scheduled_date"])


class RebookForm(OneTimeForm):
    scheduled_date = forms.DateField(
        label="New date",
        widget=_DateInput(),
        error_messages={"required": "Choose a date.", "invalid": "Enter a date like 2026-05-31."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _min_today(self)

    def clean_scheduled_date(self) -> date:
        return _not_in_past(self.cleaned_data["scheduled_date"])
