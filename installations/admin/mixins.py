"""What the admin's modules share: the override right, id search, read-only admins and small
helpers for sentences and links."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import router, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property

from .. import done_before, history_text
from ..models import Installation, StatusChange
from ..scheduling.text import reschedule_text

OVERRIDE_PERMISSION = "installations.override_locked_installation"

# The largest id a search term is compared with (PostgreSQL's integer).
MAX_ID = 2**31 - 1

# How many of the selected rows a refusal names (the delete page of "select all").
MAX_NAMED = 20


def can_override(user: Any) -> bool:
    return bool(
        getattr(user, "is_active", False)
        and (getattr(user, "is_superuser", False) or user.has_perm(OVERRIDE_PERMISSION))
    )


def is_id(value: str) -> bool:
    """0-9 only: `str.isdigit` also accepts "²" and other digits that int() refuses."""
    return value.isascii() and value.isdigit()


def error_text(err: ValidationError) -> str:
    return " ".join(err.messages)


def admin_change_url(obj: Any) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def changed_values_text(change: StatusChange, handymen: dict[int, str] | None = None) -> str:
    """A history entry's "old → new" in the record page's words (history_text), not as stored:
    "Window start: 10:00 → 13:00", not "window_start: '10:00:00' → '13:00:00'"."""
    if change.kind == StatusChange.Kind.RESCHEDULED:
        return reschedule_text(change)
    return history_text.changes_text(change, handymen)


class IdSearchMixin:
    """Search also matches the record's id (or `id_search_field`) when the term is a number,
    without casting the id column to text for the other terms."""

    id_search_field = "pk"
    # A number is only the record's number, not also a part of the text fields: for logs of
    # millions of rows (the history), where "4521" read every row to find words containing it.
    id_search_only = False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lstrip("#")
        number = int(term) if is_id(term) and int(term) <= MAX_ID else None
        if number is not None and self.id_search_only:
            return queryset.filter(**{self.id_search_field: number}), False
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if number is not None:
            results = results | queryset.filter(**{self.id_search_field: number})
        return results, may_have_duplicates


class ReadOnlyMixin:
    """Shown, never added, changed or deleted here (history, messages, counters)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class KeepsInstallationsMixin:
    """For the admins of what installations point at with PROTECT (partners, handymen): one
    that has installations is not deleted, and the delete page says so without collecting.

    Django's delete page and "delete selected" action collect every related row before they
    say "cannot": a GET of the bench's big partner's delete page read its 300,000 installations
    and 100,000 customers (73 s) to answer that. ``installation_field`` is the installation's
    field that points here."""

    installation_field: str

    def get_deleted_objects(self, objs, request):
        if not isinstance(objs, QuerySet):  # the delete page passes a list of one
            objs = self.model._default_manager.filter(pk__in=[obj.pk for obj in objs])
        jobs = Installation.objects.filter(**{self.installation_field: OuterRef("pk")})
        # One query, whatever their number: whether each has any, never which.
        kept = list(objs.filter(Exists(jobs)).order_by("pk")[:MAX_NAMED])
        if kept:
            protected = [
                f"The installations of {obj} (kept for their history: a "
                f"{self.opts.verbose_name} with installations is never deleted)"
                for obj in kept
            ]
            return [], {}, set(), protected
        return super().get_deleted_objects(objs, request)


LOADED_FIELD = "loaded_values"

# The code of a refusal of a page older than the record: answered 409, not 422 (refused input).
STALE = "stale"
# The code of a save the service refused for the record's state as it is now (another job of the
# handyman in that window, a status that no longer allows it): a conflict too, answered 409.
CONFLICT = "conflict"


def _says_stale(errors) -> bool:
    return any(error.code in (STALE, CONFLICT) for error in errors.as_data())


def add_errors(form: forms.Form, err: ValidationError) -> None:
    """A service's refusal on the form: each field's sentence beside its field, the rest (and a
    field the form does not show) above them all."""
    if hasattr(err, "error_dict"):
        for field, errors in err.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, err)


def refused_save_status(response) -> int | None:
    """The status of a change page sent back with errors: 409 when the page (the record or one
    of its inline rows) is older than the database, the product's answer to a stale change;
    422 for input refused for itself. None when the page is not a refusal."""
    context = getattr(response, "context_data", None) or {}
    if not context.get("errors"):
        return None
    forms = [context["adminform"].form]
    lists = []
    for inline in context.get("inline_admin_formsets", ()):
        forms.extend(inline.formset.forms)
        lists.append(inline.formset.non_form_errors())
    lists.extend(form.non_field_errors() for form in forms)
    return 409 if any(_says_stale(errors) for errors in lists) else 422


class RefusedSaveStatusMixin:
    """A change page's refused save answers 409 (stale) or 422 (invalid), never Django's 200."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        if request.method == "POST" and (status := refused_save_status(response)):
            response.status_code = status
        return response


def _shown_values(form) -> dict[str, str]:
    """The record's values of the form's editable model fields, as text: what the page showed
    when built from the record (or what the record holds now, when read again on a save)."""
    instance = form.instance
    values = {}
    for name, form_field in form.fields.items():
        if form_field.disabled:
            # Not this form's to change, so never its conflict; and a user's password hash
            # (shown disabled) must not be written into the page.
            continue
        try:
            field = instance._meta.get_field(name)
        except FieldDoesNotExist:
            continue  # a form-only field
        if field.many_to_many:
            pks = sorted(row.pk for row in field.value_from_object(instance))
            values[name] = ",".join(map(str, pks))
        else:
            value = field.value_from_object(instance)
            values[name] = "" if value is None else str(value)
    return values


def _sent_text(field: Any, value: Any) -> str:
    """A cleaned value as `_shown_values` writes the record's: a row by its key, rows (a
    many-to-many) as their sorted keys, nothing as ""."""
    if field.many_to_many:
        return ",".join(map(str, sorted(row.pk for row in value or ())))
    value = getattr(value, "pk", value)
    return "" if value is None else str(value)


def _conflicts(loaded: dict, now: dict, sent: dict) -> list[str]:
    """The fields someone else changed since the page was drawn (`loaded` → `now`) to something
    other than what this save sends. A change to the very value sent is no conflict: it is this
    same save sent again (a double click, a resent form), or two people who agree."""
    return [
        name
        for name, value in now.items()
        if name in loaded and loaded[name] != value and sent.get(name, value) != value
    ]


class StaleEditForm(forms.ModelForm):
    """A change form that carries the values its page showed: a save over another window's change
    made meanwhile is refused with a sentence, the person's input kept on the page."""

    loaded_values = forms.CharField(widget=forms.HiddenInput, required=False)

    # Set by clean(): the record already holds every value this save sends, and did not when
    # its page was drawn (the same save sent again): answered as saved, nothing written twice.
    already_saved = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.fields[LOADED_FIELD].initial = json.dumps(_shown_values(self))

    @cached_property
    def changed_data(self) -> list[str]:
        # The page's own record of what it showed is not the person's change: a save of an
        # untouched page logged "Changed loaded_values" (a name nobody typed), every time.
        return [name for name in super().changed_data if name != LOADED_FIELD]

    def clean(self) -> dict:
        cleaned = super().clean()
        sent = cleaned.get(LOADED_FIELD)
        if not self.instance.pk or not sent:
            # A page from before this field (or a script's post) says nothing of what it saw.
            return cleaned
        try:
            loaded = json.loads(sent)
        except ValueError:
            loaded = None
        # Not yet changed by this form (construct_instance runs after clean): the row as it is.
        now = _shown_values(self)
        if not isinstance(loaded, dict):
            changed = ["the page's own record of what it showed"]
        else:
            sent = {
                name: _sent_text(self.instance._meta.get_field(name), cleaned[name])
                for name in now
                if name in cleaned
            }
            changed = [
                str(self.fields[name].label or name) for name in _conflicts(loaded, now, sent)
            ]
            self.already_saved = not changed and sent == now and loaded != now
        if changed:
            # Saving again means "mine over theirs": the next save compares with the row as now.
            self.data = self.data.copy()
            self.data[self.add_prefix(LOADED_FIELD)] = json.dumps(now)
            noun = self.instance._meta.verbose_name
            raise forms.ValidationError(
                f"Someone else changed this {noun} while you had this page open "
                f"({', '.join(changed).lower()}). Nothing was saved: your changes are still "
                "below. Reload the page to see theirs, or save again to replace them with yours.",
                code=STALE,
            )
        return cleaned


class StaleEditMixin(RefusedSaveStatusMixin):
    """For a ModelAdmin edited from more than one window: its change form is a StaleEditForm,
    and the row is read FOR UPDATE on a save, so that no other save lands between the check and
    this one (PostgreSQL; SQLite writes one at a time). A refusal answers 409."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            base = kwargs.get("form") or self.form
            if not issubclass(base, StaleEditForm):
                kwargs["form"] = type(base.__name__, (StaleEditForm, base), {})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        # Django's fieldsets list the form's fields, this one too: shown only where it is sent.
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f != LOADED_FIELD]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        if obj is None or not self.has_change_permission(request, obj):
            return fieldsets
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], LOADED_FIELD]}), *rest]

    def save_model(self, request, obj, form, change) -> None:
        if getattr(form, "already_saved", False):
            request._stale_edit_already_saved = True  # and no second "Changed …" in its history
            return
        super().save_model(request, obj, form, change)

    def log_change(self, request, obj, message):
        # Nothing changed (an untouched page saved, or sent again): nothing to log.
        if getattr(request, "_stale_edit_already_saved", False) or not message:
            return None
        return super().log_change(request, obj, message)

    def get_object(self, request, object_id, from_field=None):
        if request.method == "POST":
            queryset = self.get_queryset(request).select_for_update(of=("self",))
            model = queryset.model
            field = model._meta.pk if from_field is None else model._meta.get_field(from_field)
            try:
                object_id = field.to_python(object_id)
                return queryset.get(**{field.name: object_id})
            except (model.DoesNotExist, ValidationError, ValueError):
                return None
        return super().get_object(request, object_id, from_field)


class LabelledRowsFormSet(BaseInlineFormSet):
    """A tabular inline's rows, each input named for a screen reader: Django puts the field's
    label in the column's heading only, and axe fails every input of the table (its "label"
    rule, serious) on the handyman's days off and the partner's users."""

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        row = (
            "new row"
            if index is None or index >= self.initial_form_count()
            else (f"row {index + 1}")
        )
        for name, field in form.fields.items():
            if not field.widget.is_hidden:
                label = field.label or name.replace("_", " ")
                field.widget.attrs.setdefault("aria-label", f"{label} ({row})")


SHOWN_ROWS = "SHOWN_ROWS"  # in an inline's management form: what its rows held as drawn


def _row_values(row: Any, names: list[str]) -> dict[str, str]:
    values = {}
    for name in names:
        value = row._meta.get_field(name).value_from_object(row)
        values[name] = "" if value is None else str(value)
    return values


class StaleRowsFormSet(LabelledRowsFormSet):
    """An inline's rows, carrying what the page showed of them (in the management form, which
    every inline template draws): a save over a colleague's newer change of a row, or a row they
    deleted or added meanwhile, is refused naming the row and the field, with what was typed
    kept; saving again replaces theirs knowingly (the page then carries the rows as they are).
    The rows are read FOR UPDATE, as the record itself is (StaleEditMixin)."""

    def _compared(self) -> list[str]:
        skip = {self.model._meta.pk.name, self.fk.name}
        names = []
        for name in self.form.base_fields:
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue  # a form-only field
            if name not in skip and not field.many_to_many:
                names.append(name)
        return names

    def _shown(self, rows: list[Any]) -> str:
        names = self._compared()
        return json.dumps({str(row.pk): _row_values(row, names) for row in rows})

    @cached_property
    def management_form(self):
        form = super().management_form
        if self.instance.pk is None:
            return form  # a new record: its rows are all new
        form.fields[SHOWN_ROWS] = forms.CharField(widget=forms.HiddenInput, required=False)
        if not self.is_bound:
            form.fields[SHOWN_ROWS].initial = self._shown([f.instance for f in self.initial_forms])
        return form

    def _sent(self, form: Any, names: list[str]) -> dict[str, str]:
        """What a row's form sends, as `_row_values` writes a row. A field the form refused
        for itself (a day already marked off: by this very save, when it is sent again) is read
        from its input."""
        cleaned = getattr(form, "cleaned_data", {})
        sent = {}
        for name in names:
            if name in cleaned:
                value = cleaned[name]
            else:
                try:
                    value = form.fields[name].clean(form[name].value())
                except ValidationError:
                    continue
            sent[name] = _sent_text(self.model._meta.get_field(name), value)
        return sent

    def _already_there(self, form: Any) -> None:
        """A new row this save already added: not added twice, and not refused as a copy of
        itself (the row it would duplicate is that very row). Marked deleted, its form is
        neither saved nor asked whether it is valid (BaseFormSet.is_valid skips deleted forms),
        so its own complaint about the copy goes unsaid."""
        form.cleaned_data[DELETION_FIELD_NAME] = True

    def _row_name(self, row: Any, number: int | None) -> str:
        names = self._compared()
        text = str(getattr(row, names[0])) if names else str(row)
        return f"row {number} ({text})" if number else f"a row added meanwhile ({text})"

    def clean(self) -> None:
        super().clean()
        if self.instance.pk is None or not self.is_bound:
            return
        kept = self.model._default_manager.filter(**{self.fk.name: self.instance})
        rows = {str(row.pk): row for row in kept.select_for_update().order_by("pk")}
        pk_name = self.model._meta.pk.name
        numbers, problems = {}, []
        for number, form in enumerate(self.initial_forms, start=1):
            pk = str(form.data.get(form.add_prefix(pk_name), ""))
            numbers[pk] = number
            if pk not in rows and not self._should_delete_form(form):
                # Saved again, it would not come back: Django refuses its form (its id).
                problems.append(
                    f"row {number} was deleted (tick its Delete box to save the others)"
                )
        sent = self.data.get(self.add_prefix(SHOWN_ROWS))
        if sent:  # a page from before this field (or a script's post) says nothing of its rows
            try:
                shown = json.loads(sent)
            except ValueError:
                shown = None
            if not isinstance(shown, dict):
                problems.append("the page's own record of its rows")
                shown = {}
            names = self._compared()
            sent_by_pk = {
                str(form.data.get(form.add_prefix(pk_name), "")): self._sent(form, names)
                for form in self.initial_forms
                if not self._should_delete_form(form)
            }
            added = [form for form in self.extra_forms if form.has_changed()]
            for pk, row in rows.items():
                now = _row_values(row, names)
                if pk not in shown:
                    # The same row added by this very save before (sent again): kept once.
                    twin = next((f for f in added if self._sent(f, names) == now), None)
                    if twin is None:
                        problems.append(self._row_name(row, numbers.get(pk)))
                    else:
                        added.remove(twin)
                        self._already_there(twin)
                    continue
                was = shown[pk] if isinstance(shown[pk], dict) else {}
                if pk in sent_by_pk:
                    conflicting = _conflicts(was, now, sent_by_pk[pk])
                else:  # deleted by this save: any change of theirs is one it would undo
                    conflicting = [name for name in names if was.get(name) != now[name]]
                changed = [
                    str(self.form.base_fields[name].label or name).lower() for name in conflicting
                ]
                if changed:
                    problems.append(f"{self._row_name(row, numbers.get(pk))}: {', '.join(changed)}")
        if problems:
            # Saving again means "mine over theirs": the next save compares with the rows as now.
            self.data = self.data.copy()
            self.data[self.add_prefix(SHOWN_ROWS)] = self._shown(list(rows.values()))
            self.management_form.data = self.data
            raise ValidationError(
                f"Someone else changed the {self.model._meta.verbose_name_plural} while you had "
                f"this page open ({'; '.join(problems)}). Nothing was saved: your changes are "
                "still below. Reload the page to see theirs, or save again to replace them with "
                "yours.",
                code=STALE,
            )


ONCE_FIELD = "once"


class OnceAddForm(forms.ModelForm):
    once = forms.UUIDField(widget=forms.HiddenInput, required=False, initial=uuid.uuid4)


class OnceAddMixin:
    """An add form sent twice (a double click, a resent form, a second tab) adds one row, as
    every create-style form: the page carries a one-time token, its first send claims it in the
    database inside the transaction that adds the row (done_before.claim_add), and a second send,
    at the same moment or later, goes to that row's page, answered as saved ("already exists"
    would be the person's own row named as someone else's). The installation's add keeps its
    token on the row instead (services.installation_create). Every admin with an add page has
    it, Django's users and groups too (tests/test_admin_resent_saves.py)."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            # Django's UserAdmin adds with its own form (add_form), chosen after this runs.
            base = kwargs.get("form") or getattr(self, "add_form", None) or self.form  # type: ignore[attr-defined]
            if not issubclass(base, OnceAddForm):
                kwargs["form"] = type(base.__name__, (OnceAddForm, base), {})
        return super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is not None or ONCE_FIELD in flatten_fieldsets(fieldsets):
            return fieldsets
        # Fieldsets written out (the user's add page) draw only the fields they name.
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": (*options["fields"], ONCE_FIELD)}), *rest]

    def add_view(self, request, form_url="", extra_context=None):
        token = _once_token(request) if request.method == "POST" else None
        if token is None:
            return super().add_view(request, form_url, extra_context)  # type: ignore[misc]
        model = self.model  # type: ignore[attr-defined]
        with transaction.atomic(using=router.db_for_write(model)):
            earlier = done_before.claim_add(token, request.user, model._meta.label)
            if earlier is not None and (refusal := self._sent_before(request, earlier)):
                return refusal
            request.once_token = token
            return super().add_view(request, form_url, extra_context)  # type: ignore[misc]

    def response_add(self, request, obj, post_url_continue=None):
        token = getattr(request, "once_token", None)
        if token is not None:
            done_before.added(token, obj)
        return super().response_add(request, obj, post_url_continue)  # type: ignore[misc]

    def _sent_before(self, request, earlier) -> HttpResponseRedirect | None:
        """The answer to a form sent before; None when this send may add: the person's own
        form that added nothing (refused for its errors, now corrected) or whose row is gone."""
        model = self.model  # type: ignore[attr-defined]
        if earlier.user_pk != request.user.pk or earlier.model != model._meta.label:
            self.message_user(  # type: ignore[attr-defined]
                request,
                "This form was already used from another account. Nothing was added: here is "
                "a fresh one.",
                messages.WARNING,
            )
            return HttpResponseRedirect(request.get_full_path())  # a popup stays a popup
        row = None
        if earlier.object_id:
            row = model._default_manager.filter(pk=earlier.object_id).first()
        if row is None:
            return None
        if IS_POPUP_VAR in request.POST:
            # The first send's own answer: it hands the row to the page that opened the popup.
            return super().response_add(request, row)  # type: ignore[misc]
        self.message_user(  # type: ignore[attr-defined]
            request, f"Already saved: {row}. Nothing was added again.", messages.INFO
        )
        if "_addanother" in request.POST:
            return HttpResponseRedirect(request.get_full_path())
        return HttpResponseRedirect(admin_change_url(row))


def _once_token(request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get(ONCE_FIELD, ""))
    except ValueError:
        return None
