"""The installation pages that write: the change form's saves (edits of open records, overrides
of finished ones) and django-fsm-2's transition buttons and pages, all through the services.

Every status change made here goes through the service layer, exactly as on every page:
django-fsm-2's ``FSMAdminMixin`` shows the transition buttons (only the transitions marked
``custom["admin"]`` that the state machine and the user's rights allow), and its apply step is
routed to ``services.TRANSITION_SERVICES`` so that locking, the stale-page check, the history
entry and the messages are the same as anywhere else. Field edits go through
``services.installation_update`` (open records) or ``services.installation_override`` (finished
records, with a reason), never through ``ModelAdmin.save_model``'s plain ``save()``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms, http
from django.contrib import messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django_fsm import Transition
from django_fsm.admin import FSMTransitionContext

from .. import services
from ..forms import AssignForm
from ..models import Installation
from ..refusals import refusal_sentence
from ..scheduling.services import installation_reschedule
from ..scheduling.text import SLOT_FIELDS
from ..services import EDITABLE_FIELDS, TransitionRefused
from .forms import ADD_FIELDS, OVERRIDE_FIELDS, REASON_FIELD, VERSION_FIELD
from .mixins import (
    CONFLICT,
    MAX_ID,
    RefusedSaveStatusMixin,
    add_errors,
    admin_change_url,
    error_text,
    is_id,
)

# The admin's own names where the state machine's read wrongly here: beside "Save", a bare
# "Cancel" reads like "cancel editing".
ADMIN_LABELS = {"cancel": "Cancel installation"}

# How Django's History page words each admin transition. Our StatusChange timeline stays the
# record of truth; these LogEntry rows only make the admin's own page tell the same story.
DONE_WORDS = {
    "assign": "Assigned",
    "reassign": "Reassigned",
    "reject": "Rejected",
    "cancel": "Cancelled",
    "send_contract": "Sent the contract",
}


def transition_log_text(name: str, before: Installation, after: Installation, reason: str) -> str:
    """ "Assigned Hana Sato", "Reassigned from Hana Sato to Hank Hill", "Cancelled: reason"."""
    text = DONE_WORDS.get(name, name.replace("_", " ").capitalize())
    if after.handyman_id and after.handyman_id != before.handyman_id:
        new = after.handyman.display_name
        text += (
            f" from {before.handyman.display_name} to {new}" if before.handyman_id else f" {new}"
        )
    return f"{text}: {reason}" if reason else text


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return f"“{value}”"
    return str(value)  # a handyman by name, a date as written


def override_log_text(
    before: Installation, after: Installation, fields: tuple[str, ...], reason: str
) -> str:
    """ "Override: handyman Hana Sato → Hank Hill, notes “a” → “b”; reason" ("" if no change)."""
    changed = [
        f"{before._meta.get_field(f).verbose_name} {_shown(old)} → {_shown(new)}"
        for f in fields
        if (old := getattr(before, f)) != (new := getattr(after, f))
    ]
    return f"Override: {', '.join(changed)}; {reason}" if changed else ""


class _SaveRefused(Exception):
    """The service refused a save the change form had let through: raised out of ``save_model``
    (before anything is logged or answered), then the page is drawn again from the same post."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error)
        self.error = error


class InstallationPagesMixin(RefusedSaveStatusMixin):
    """For InstallationAdmin (before ``FSMAdminMixin`` in its bases): saves and transitions.
    A refused save answers 409 (a page older than the record) or 422 (refused input)."""

    def _changeform_view(self, request, object_id, form_url, extra_context):
        # Inside the request's transaction (Django's changeform_view), where the service has
        # already rolled its own writes back: nothing of this post is saved.
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except _SaveRefused as refused:
            # Between the form's check and the service's lock someone saved, or a rule only the
            # service knows said no: the same post again, read against the record as it is now
            # (its own first send is answered as saved, another's change as the form's own stale
            # refusal), and otherwise refused on the page with the service's sentence.
            request._installation_refusal = refused.error
            return super()._changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_installation_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"service_refusal": refusal})

    def _may_transition(self, request, obj: Installation) -> bool:
        # The lock does not apply here: a transition posted from a page loaded before the record
        # was finished reaches the service, which refuses it with a sentence instead of a 403.
        return super().has_change_permission(request, obj)

    # --- Saving fields: through the services -----------------------------------------------------

    def save_model(self, request, obj: Installation, form, change: bool) -> None:
        if not change:
            try:
                created = services.installation_create(
                    actor=request.user,
                    token=form.cleaned_data.get("token"),
                    **{f: form.cleaned_data[f] for f in ADD_FIELDS},
                )
            except ValidationError as err:  # the day ended between the form's check and this
                raise _SaveRefused(err) from err
            # The same form sent again (its token): the record it added, and no second "Added".
            request._installation_already_added = getattr(created, "replayed", False)
            # The admin goes on with `obj` (log entry, redirect): make it the saved record.
            obj.pk = created.pk
            obj.version = created.version
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        if form.already_saved:  # the same form sent again: its change is made already
            request._installation_already_saved = True
            return
        try:
            if obj.is_locked:
                # `obj` already carries the form's values: the old ones come from the database.
                before = Installation.objects.select_related("handyman__user").get(pk=obj.pk)
                reason = form.cleaned_data[REASON_FIELD]
                updated = services.installation_override(
                    installation=obj.pk,
                    actor=request.user,
                    reason=reason,
                    changes={
                        f: form.cleaned_data[f] for f in form.changed_data if f in OVERRIDE_FIELDS
                    },
                    expected_version=form.cleaned_data.get(VERSION_FIELD),
                )
                if updated.version == before.version:
                    # No field differs: nothing is written, not even the reason.
                    request._installation_save_refused = True
                    self.message_user(
                        request,
                        "Nothing was changed: every field is as it was, so the override and its "
                        "reason were not recorded.",
                        level=messages.WARNING,
                    )
                elif text := override_log_text(before, updated, OVERRIDE_FIELDS, reason):
                    request._installation_log_text = text
            else:
                self._save_open(request, obj, form)
        except TransitionRefused as err:
            said = err.message
            if "Nothing was" not in said:  # "… already has #12 that day.": and then?
                said += " Nothing was saved: your changes are still below."
            raise _SaveRefused(ValidationError(said, code=CONFLICT)) from err
        except ValidationError as err:
            raise _SaveRefused(err) from err

    def _save_open(self, request, obj: Installation, form) -> None:
        """An open record: a new date or window is a reschedule (history entry, day-off and
        conflict checks, messages); the other fields an update. One transaction: both or none."""
        version = form.cleaned_data.get(VERSION_FIELD)
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in EDITABLE_FIELDS}
        with transaction.atomic():
            if any(f in form.changed_data for f in SLOT_FIELDS):
                moved = installation_reschedule(
                    installation=obj.pk,
                    actor=request.user,
                    scheduled_date=form.cleaned_data["scheduled_date"],
                    window_start=form.cleaned_data["window_start"],
                    window_end=form.cleaned_data["window_end"],
                    expected_version=version,
                )
                version = moved.version
            if changes:
                services.installation_update(
                    installation=obj.pk, actor=request.user, expected_version=version, **changes
                )

    def construct_change_message(self, request, form, formsets, add=False):
        # An override is logged in words, as on the timeline (Django's default names the fields).
        text = getattr(request, "_installation_log_text", None)
        return text or super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        if getattr(request, "_installation_already_added", False):
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if getattr(request, "_installation_save_refused", False) or getattr(
            request, "_installation_already_saved", False
        ):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        if getattr(request, "_installation_save_refused", False):
            return self._back_to_change_page(request, obj)
        return super().response_change(request, obj)

    def _back_to_change_page(self, request, obj) -> http.HttpResponseRedirect:
        return http.HttpResponseRedirect(
            add_preserved_filters(
                {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts},
                admin_change_url(obj),
            )
        )

    # --- Transitions: django-fsm-2's buttons, the services' writes -------------------------------

    def is_fsm_transition_visible(self, transition: Transition) -> bool:
        # Only transitions the model marks for the admin (the mixin's default shows all).
        return transition.custom.get("admin") is True and (
            transition.name in services.TRANSITION_SERVICES
        )

    def _admin_transitions(self) -> dict[str, Transition]:
        """The admin's transitions by name, from the state machine itself: the only names a
        posted value is ever compared with."""
        field = self.model._meta.get_field("status")
        return {
            t.name: t
            for t in field.get_all_transitions(self.model)
            if self.is_fsm_transition_visible(t)
        }

    def get_fsm_label(self, transition: Transition) -> str:
        return ADMIN_LABELS.get(transition.name) or super().get_fsm_label(transition)

    def _get_fsm_extra_context(self, *, request, obj):
        if obj is None or not self.has_change_permission(request, obj):
            return []
        blocks = list(super()._get_fsm_extra_context(request=request, obj=obj))
        transitions = self._admin_transitions()
        for block in blocks:
            for button in block.available_transitions:
                # A button that opens a page asking for more says so, with the usual "…".
                if self.get_fsm_transition_form(transitions[button.name]) is not None:
                    button.label += "…"
        return blocks

    def get_object(self, request, object_id, from_field=None):
        # django-fsm-2's change_view reads the record for its buttons, then Django's change form
        # reads it again: a page that only shows it reads it once (issue 20: <= 8 queries). A
        # POST reads afresh, as Django does.
        if request.method not in ("GET", "HEAD"):
            return super().get_object(request, object_id, from_field)
        read = request.__dict__.setdefault("_admin_objects", {})
        key = (self.model, object_id, from_field)
        if key not in read:
            read[key] = super().get_object(request, object_id, from_field)
        return read[key]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST" and self.fsm_post_param in request.POST:
            # A transition button: handled apart from the change form, so that no other field
            # of the form is saved with it.
            return self._transition_from_change_page(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _posted_version(data, obj: Installation) -> int:
        value = (data.get("_fsm_version") or "").strip()
        return int(value) if is_id(value) and int(value) <= MAX_ID else obj.version

    def _transition_from_change_page(self, request, object_id: str) -> http.HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self._may_transition(request, obj):
            raise PermissionDenied
        name = request.POST.get(self.fsm_post_param, "")
        transition = self._admin_transitions().get(name)
        if transition is None:
            self.message_user(request, "That is not an action you can take here.", messages.ERROR)
            return self._back_to_change_page(request, obj)
        version = self._posted_version(request.POST, obj)
        if self.get_fsm_transition_form(transition) is not None:
            url = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_transition",
                kwargs={"object_id": obj.pk, "transition_name": transition.name},
            )
            query = {"_fsm_version": version}
            if preserved := self.get_preserved_filters(request):
                query["_changelist_filters"] = QueryDict(preserved).get("_changelist_filters", "")
            return redirect(f"{url}?{urlencode(query)}")
        self._apply_fsm_transition(
            obj=obj, transition_name=transition.name, request=request, expected_version=version
        )
        return self._back_to_change_page(request, obj)

    def _run_transition_service(
        self,
        *,
        obj: Installation,
        transition_name: str,
        request,
        kwargs: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> Installation:
        """Run the named transition's service; raises TransitionRefused or ValidationError."""
        if transition_name not in self._admin_transitions():
            raise TransitionRefused("That is not an action you can take here.", installation=obj)
        service = services.TRANSITION_SERVICES[transition_name]
        return service(
            installation=obj.pk,
            actor=request.user,
            expected_version=obj.version if expected_version is None else expected_version,
            **(kwargs or {}),
        )

    def _apply_fsm_transition(
        self,
        *,
        obj: Installation,
        transition_name: str,
        request,
        kwargs: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> bool:
        """django-fsm-2's apply step, routed to the service layer: the service locks the row,
        checks the version and the user's right, writes the history once and queues messages.
        The mixin's own transition call and ``obj.save()`` never run."""
        try:
            updated = self._run_transition_service(
                obj=obj,
                transition_name=transition_name,
                request=request,
                kwargs=kwargs,
                expected_version=expected_version,
            )
        except TransitionRefused as err:
            self.message_user(request, err.message, level=messages.ERROR)
            return False
        except ValidationError as err:
            self.message_user(
                request, f"Nothing was changed: {error_text(err)}", level=messages.ERROR
            )
            return False
        self._transition_done(
            request, before=obj, updated=updated, name=transition_name, kwargs=kwargs
        )
        return True

    def _transition_done(
        self,
        request,
        *,
        before: Installation,
        updated: Installation,
        name: str,
        kwargs: dict[str, Any] | None,
    ) -> None:
        reason = (kwargs or {}).get("reason", "")
        if not getattr(updated, "replayed", False):
            # A repeat of this person's own change (a resent form) changed nothing: log nothing.
            self.log_change(request, updated, transition_log_text(name, before, updated, reason))
        label = self.get_fsm_label(self._admin_transitions()[name])
        self.message_user(
            request,
            f"“{label}” done: installation #{updated.pk} is now “{updated.get_status_display()}”.",
            level=messages.SUCCESS,
        )

    def _transition_form(self, form_class, obj: Installation, data=None) -> forms.Form:
        if issubclass(form_class, forms.ModelForm):
            return form_class(data=data, instance=obj)
        if issubclass(form_class, AssignForm):
            # Only the handymen who work for this partner.
            return form_class(data=data, partner=obj.partner)
        return form_class(data=data)

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        """The page of a transition that needs input (a reason, a handyman)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self._may_transition(request, obj):
            raise PermissionDenied
        transition = self._admin_transitions().get(transition_name)
        form_class = self.get_fsm_transition_form(transition) if transition else None
        if form_class is None:
            raise http.Http404("No such action.")
        label = self.get_fsm_label(transition)
        gone = False

        if request.method == "POST":
            version = self._posted_version(request.POST, obj)
            form = self._transition_form(form_class, obj, request.POST)
            if form.is_valid():
                try:
                    updated = self._run_transition_service(
                        obj=obj,
                        transition_name=transition.name,
                        request=request,
                        kwargs=form.cleaned_data,
                        expected_version=version,
                    )
                except TransitionRefused as err:
                    now = self.get_object(request, unquote(object_id))  # read afresh
                    if now is None:
                        self.message_user(request, err.message, level=messages.ERROR)
                        return self._back_to_change_page(request, obj)
                    # Changed meanwhile: the page again (409) with what was typed (a reason is
                    # not lost), at the record's version. Still possible, applying it again is
                    # a choice made knowing theirs; no longer possible, the page says so and
                    # offers only the way back.
                    form.add_error(None, ValidationError(err.message, code=CONFLICT))
                    gone = not self._still_possible(request, now, transition.name)
                    obj, version = now, now.version
                except ValidationError as err:
                    add_errors(form, err)
                else:
                    self._transition_done(
                        request,
                        before=obj,
                        updated=updated,
                        name=transition.name,
                        kwargs=form.cleaned_data,
                    )
                    return self._back_to_change_page(request, obj)
        else:
            if not self._still_possible(request, obj, transition.name):
                # The words its POST would be refused with (the service's).
                self.message_user(
                    request, refusal_sentence(obj, transition.name), level=messages.ERROR
                )
                return self._back_to_change_page(request, obj)
            version = self._posted_version(request.GET, obj)
            form = self._transition_form(form_class, obj)

        context = {
            **self.admin_site.each_context(request),
            "title": f"{label}: installation #{obj.pk}",
            "opts": self.opts,
            "original": obj,
            "transition": FSMTransitionContext(
                name=transition.name, label=label, help_text=self.get_help_text(transition)
            ),
            "transition_form": form,
            "gone": gone,
            "version": version,
            "change_url": admin_change_url(obj),
            "media": self.media + form.media,
        }
        status = 200
        if form.is_bound and form.errors:
            conflict = any(e.code == CONFLICT for e in form.non_field_errors().as_data())
            status = 409 if conflict else 422
        return TemplateResponse(request, self.fsm_transition_form_template, context, status=status)

    @staticmethod
    def _still_possible(request, obj: Installation, name: str) -> bool:
        return name in {t.name for t in obj.get_available_user_status_transitions(request.user)}
