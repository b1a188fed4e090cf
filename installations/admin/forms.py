"""Forms for the staff admin: the installation change form, its locked-record override variant and
the one-reason-for-all form of the bulk cancel action."""

from __future__ import annotations

import uuid

from django import forms
from django.db.models import Q
from django.utils import timezone

from ..forms import AssignForm, LinesField, ReasonForm
from ..models import Handyman, Installation
from ..scheduling.text import SLOT_FIELDS
from ..services import EDITABLE_FIELDS
from .mixins import STALE, add_errors

# Fields staff may edit on an open record (the update service's list, plus date and window,
# which are saved as a reschedule) and, with a reason, on a finished one. Everything else is
# shown read-only; the status never appears in a form.
OPEN_FIELDS = (*EDITABLE_FIELDS, *SLOT_FIELDS)
OVERRIDE_FIELDS = (
    *OPEN_FIELDS,
    "handyman",
    "rejection_reason",
    "cancellation_reason",
    "completion_notes",
    "contract_signer_name",
)
# Form-only fields (not on the model).
VERSION_FIELD = "expected_version"
REASON_FIELD = "override_reason"
ADD_FIELDS = (
    "partner",
    "customer",
    "site_address",
    "scheduled_date",
    "window_start",
    "window_end",
    "notes",
)


class InstallationAdminForm(forms.ModelForm):
    # The version the page was loaded at: a save over someone else's newer change is refused.
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "expected_version" in self.fields:
            self.fields["expected_version"].initial = self.instance.version

    class Meta:
        model = Installation
        # The admin narrows this per page (add, open record, finished record).
        fields = tuple(dict.fromkeys((*ADD_FIELDS, *OVERRIDE_FIELDS)))

    def clean(self) -> dict:
        cleaned = super().clean()
        partner = cleaned.get("partner")
        customer = cleaned.get("customer")
        if partner and customer and customer.partner_id != partner.pk:
            self.add_error("customer", "This customer belongs to another partner.")
        start, end = cleaned.get("window_start"), cleaned.get("window_end")
        if start and end and start >= end:
            self.add_error("window_end", "The arrival window must end after it starts.")
        self._check_page_version(cleaned)
        if self.service_refusal is not None and not self.already_saved and not self._errors:
            # Unless the form now sees it itself (the day ended meanwhile): one sentence, not two.
            add_errors(self, self.service_refusal)
        return cleaned

    # Set by clean(): the page is older than the record, which already holds what it sends
    # (the same form sent twice): answered as saved, nothing written twice.
    already_saved = False

    # Set by the admin when the service refused this very post after clean() had let it through:
    # the page drawn again says why, unless the record now answers it (saved, or changed).
    service_refusal: forms.ValidationError | None = None

    def _check_page_version(self, cleaned: dict) -> None:
        """Refuse, on the page and with the input kept, a save from a page older than the
        record; the service checks again under its lock, for a change landing in between."""
        expected = cleaned.get(VERSION_FIELD)
        current = self.instance  # read on this request, not yet given the form's values
        if not current.pk or expected is None or expected == current.version:
            return
        if self._record_holds(cleaned):
            self.already_saved = True
            return
        # Saving again means "mine over theirs": the next save is from the record as it is now.
        self.data = self.data.copy()
        self.data[self.add_prefix(VERSION_FIELD)] = str(current.version)
        raise forms.ValidationError(
            "Someone else changed this installation while you had this page open: it is now "
            f"“{current.get_status_display()}”. Nothing was saved, and your changes are still "
            "below. Compare them with the record's history, then save again to keep yours.",
            code=STALE,
        )

    def _record_holds(self, cleaned: dict) -> bool:
        def plain(value):
            return getattr(value, "pk", value)

        return all(
            plain(cleaned.get(name)) == plain(getattr(self.instance, name))
            for name in self.fields
            if name in OVERRIDE_FIELDS or name in ADD_FIELDS
        )


class InstallationAddForm(InstallationAdminForm):
    # One-time, as every create-style form: a double click or a resent form adds one record.
    token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["token"].initial = uuid.uuid4()

    def clean_scheduled_date(self):
        day = self.cleaned_data["scheduled_date"]
        if day < timezone.localdate():
            raise forms.ValidationError("Choose today or a later date.")
        return day


class InstallationOverrideForm(InstallationAdminForm):
    """A finished record: every save is an override and needs a reason for the history."""

    override_reason = LinesField(
        label="Override reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=(
            "This installation is finished and locked. Say why you are changing it: the reason, "
            "your name and the old and new values are written to its history."
        ),
        error_messages={"required": "Give a reason to change a finished installation."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "handyman" in self.fields:
            # Offered by name, and only those who work for the record's partner (the service
            # checks the same rule); the one already on the job stays choosable.
            partner = self.instance.partner
            field = self.fields["handyman"]
            field.queryset = (
                Handyman.objects.filter(Q(partners=partner) | Q(pk=self.instance.handyman_id))
                .distinct()
                .select_related("user")
            )
            # Choosing who did the job: no add, edit or delete-a-handyman buttons beside it.
            for action in ("add", "change", "delete"):
                setattr(field.widget, f"can_{action}_related", False)
            field.error_messages["invalid_choice"] = (
                f"Choose a handyman who works for {partner}: that one does not."
            )

    def clean_override_reason(self) -> str:
        reason = self.cleaned_data["override_reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason to change a finished installation.")
        return reason


class AdminAssignForm(AssignForm):
    """Assign and reassign in the admin: nobody is chosen until staff choose (the partner pages'
    form has no empty choice)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["handyman"].empty_label = "Choose a handyman"


class BulkCancelForm(ReasonForm):
    """One reason for every selected installation."""
