"""Django admin for platform staff.

Every status change made here goes through the service layer, exactly as on every page:
django-fsm-2's ``FSMAdminMixin`` shows the transition buttons (only the transitions marked
``custom["admin"]`` that the state machine and the user's rights allow), and its apply step is
routed to ``services.TRANSITION_SERVICES`` so that locking, the stale-page check, the history
entry and the messages are the same as anywhere else. Field edits go through
``services.installation_update`` (open records) or ``services.installation_override`` (finished
records, with a reason), never through ``ModelAdmin.save_model``'s plain ``save()``.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django import forms, http
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django_fsm import Transition
from django_fsm.admin import FSMAdminMixin, FSMTransitionContext

from . import notifications, services
from .admin_forms import (
    ADD_FIELDS,
    OVERRIDE_FIELDS,
    BulkCancelForm,
    InstallationAddForm,
    InstallationAdminForm,
    InstallationOverrideForm,
)
from .forms import AssignForm
from .lookups import in_group
from .models import (
    Customer,
    Handyman,
    Installation,
    Message,
    Partner,
    PartnerStatusCount,
    PartnerUser,
    StatusChange,
)
from .services import TransitionRefused
from .statuses import GROUP_CHOICES, GROUPS_BY_SLUG, Status

logger = logging.getLogger(__name__)

OVERRIDE_PERMISSION = "installations.override_locked_installation"

EDITABLE_FIELDS = services.EDITABLE_FIELDS
# Form-only fields (not on the model).
VERSION_FIELD = "expected_version"
REASON_FIELD = "override_reason"

# The largest id a search term is compared with (PostgreSQL's integer).
MAX_ID = 2**31 - 1


def can_override(user: Any) -> bool:
    return bool(
        getattr(user, "is_active", False)
        and (getattr(user, "is_superuser", False) or user.has_perm(OVERRIDE_PERMISSION))
    )


def _error_text(err: ValidationError) -> str:
    return " ".join(err.messages)


def _admin_change_url(obj: Any) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


class IdSearchMixin:
    """Search also matches the record's id (or `id_search_field`) when the term is a number,
    without casting the id column to text for the other terms."""

    id_search_field = "pk"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().lstrip("#")
        if term.isdigit() and int(term) <= MAX_ID:
            results = results | queryset.filter(**{self.id_search_field: int(term)})
        return results, may_have_duplicates


# --- Partners, their users, handymen and customers ---------------------------------------------


class PartnerUserInline(admin.TabularInline):
    model = PartnerUser
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "created_at")
    search_fields = ("name", "email")
    inlines = (PartnerUserInline,)


@admin.register(PartnerUser)
class PartnerUserAdmin(admin.ModelAdmin):
    list_display = ("user", "partner")
    list_select_related = ("user", "partner")
    list_filter = ("partner",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "partner__name")
    raw_id_fields = ("user",)


@admin.register(Handyman)
class HandymanAdmin(admin.ModelAdmin):
    list_display = ("display_name", "phone", "serves")
    search_fields = ("user__username", "user__first_name", "user__last_name", "phone")
    list_filter = ("partners",)
    raw_id_fields = ("user",)
    filter_horizontal = ("partners",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("partners")

    @admin.display(description="name", ordering="user__first_name")
    def display_name(self, obj: Handyman) -> str:
        return obj.display_name

    @admin.display(description="works for")
    def serves(self, obj: Handyman) -> str:
        return ", ".join(p.name for p in obj.partners.all()) or "—"


@admin.register(Customer)
class CustomerAdmin(IdSearchMixin, admin.ModelAdmin):
    list_display = ("name", "partner", "phone", "email", "address")
    list_select_related = ("partner",)
    list_filter = ("partner",)
    search_fields = ("name", "phone", "email", "address")
    show_full_result_count = False


# --- Installations -----------------------------------------------------------------------------


class StatusGroupFilter(admin.SimpleListFilter):
    """The five groups of the status guide; fixed choices, so no query to list them."""

    title = "status group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return GROUP_CHOICES

    def queryset(self, request, queryset):
        group = GROUPS_BY_SLUG.get(self.value() or "")
        return queryset.filter(in_group(group)) if group else queryset


class StatusFilter(admin.SimpleListFilter):
    """The ten statuses from the choices (Django's default would SELECT DISTINCT the column)."""

    title = "status"
    parameter_name = "status__exact"

    def lookups(self, request, model_admin):
        return Status.choices

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(status=value) if value in Status.values else queryset


class HandymanFilter(admin.SimpleListFilter):
    """Handymen with their users in one query (the default filter runs one per handyman)."""

    title = "handyman"
    parameter_name = "handyman"

    def lookups(self, request, model_admin):
        return [("none", "Nobody yet")] + [
            (str(h.pk), h.display_name) for h in Handyman.objects.select_related("user")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(handyman__isnull=True)
        if value and value.isdigit():
            return queryset.filter(handyman_id=int(value))
        return queryset


class ReadOnlyMixin:
    """Shown, never added, changed or deleted here (history, messages, counters)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StatusChangeInline(ReadOnlyMixin, admin.TabularInline):
    """The history, read-only: entries are written by the service layer only."""

    model = StatusChange
    verbose_name = "history entry"
    verbose_name_plural = "status history"
    fields = (
        "created_at",
        "kind",
        "transition",
        "from_status",
        "to_status",
        "actor_name",
        "reason",
        "changed_values",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at", "id")

    def has_view_permission(self, request, obj=None) -> bool:
        # Whoever may see the installation sees its history.
        user = request.user
        return user.has_perm("installations.view_installation") or user.has_perm(
            "installations.change_installation"
        )

    @admin.display(description="old → new")
    def changed_values(self, obj: StatusChange) -> str:
        return _changes_text(obj.changes)


def _changes_text(changes: dict) -> str:
    if not changes:
        return "—"
    return "; ".join(f"{field}: {old!r} → {new!r}" for field, (old, new) in changes.items())


def _installation_links(rows: QuerySet[Installation] | list[Installation]) -> str:
    items = format_html_join(
        "",
        '<li><a href="{}">#{} · {} · {}</a></li>',
        ((_admin_change_url(i), i.pk, i.scheduled_date, i.get_status_display()) for i in rows),
    )
    return format_html("<ul>{}</ul>", items) if items else "—"


@admin.register(Installation)
class InstallationAdmin(IdSearchMixin, FSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["status"]
    change_form_template = "admin/installations/installation/change_form.html"
    fsm_transition_form_template = "admin/installations/installation/transition_form.html"
    form = InstallationAdminForm

    list_display = (
        "id",
        "partner",
        "customer",
        "scheduled_date",
        "handyman",
        "status_label",
        "status_group",
    )
    list_display_links = ("id", "customer")
    list_filter = (
        StatusGroupFilter,
        StatusFilter,
        "partner",
        HandymanFilter,
        "scheduled_date",
    )
    list_select_related = ("partner", "customer", "handyman__user")
    search_fields = (
        "customer__name",
        "customer__phone",
        "customer__email",
        "customer__address",
        "site_address",
    )
    search_help_text = "Customer name, phone, email or address, or an installation number."
    date_hierarchy = "scheduled_date"
    # A million rows: no second COUNT(*) of the whole table when a filter is applied.
    show_full_result_count = False
    raw_id_fields = ("customer", "handyman")
    inlines = (StatusChangeInline,)
    actions = ("cancel_selected", "export_csv")

    # --- Permissions ---------------------------------------------------------------------------

    def has_change_permission(self, request, obj: Installation | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is not None and obj.is_locked:
            # Finished records are locked for everyone but those allowed to override.
            return allowed and can_override(request.user)
        return allowed

    def _may_transition(self, request, obj: Installation) -> bool:
        # The lock does not apply here: a transition posted from a page loaded before the record
        # was finished reaches the service, which refuses it with a sentence instead of a 403.
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Records stay for their history and the per-partner counters; cancel instead.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- The list ------------------------------------------------------------------------------

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("partner", "customer", "handyman__user")

    @admin.display(description="status", ordering="status")
    def status_label(self, obj: Installation) -> str:
        return obj.get_status_display()

    @admin.display(description="status group")
    def status_group(self, obj: Installation) -> str:
        return obj.group.label

    # --- The change form -----------------------------------------------------------------------

    def get_fieldsets(self, request, obj: Installation | None = None):
        if obj is None:
            return [(None, {"fields": ADD_FIELDS})]
        main = [
            "partner",
            "customer",
            "kind",
            "parent_link",
            "status",
            "status_group",
            "handyman",
            "site_address",
            "scheduled_date",
            "window_start",
            "window_end",
            "notes",
        ]
        if self.has_change_permission(request, obj):
            main.append(VERSION_FIELD)
            if obj.is_locked:
                main.append(REASON_FIELD)
        return [
            (None, {"fields": main}),
            (
                "Outcome",
                {
                    "fields": [
                        "rejection_reason",
                        "cancellation_reason",
                        "eta_minutes",
                        "expected_arrival_at",
                        "completion_notes",
                        "completion_signature",
                        "contract_signer_name",
                        "contract_signature",
                        "contract_signed_ip",
                    ]
                },
            ),
            (
                "Related visits",
                {"fields": ["follow_up_links", "rebooking_links", "other_installations"]},
            ),
            ("Messages", {"fields": ["message_list"]}),
            (
                "Timeline",
                {
                    "fields": [
                        "created_at",
                        "assigned_at",
                        "departed_at",
                        "arrived_at",
                        "completed_at",
                        "contract_sent_at",
                        "signed_at",
                        "approved_at",
                        "cancelled_at",
                        "rejected_at",
                        "updated_at",
                        "version",
                    ],
                    "classes": ["collapse"],
                },
            ),
        ]

    def get_readonly_fields(self, request, obj: Installation | None = None):
        if obj is None:
            return ()
        if not self.has_change_permission(request, obj):
            editable: tuple[str, ...] = ()
        else:
            editable = OVERRIDE_FIELDS if obj.is_locked else EDITABLE_FIELDS
        shown = flatten_fieldsets(self.get_fieldsets(request, obj))
        readonly = [
            f for f in shown if f not in editable and f not in (VERSION_FIELD, REASON_FIELD)
        ]
        if "status" not in readonly:  # never editable, whatever the lists above say
            readonly.append("status")
        return tuple(readonly)

    def get_form(self, request, obj: Installation | None = None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = InstallationAddForm
        elif obj.is_locked:
            kwargs["form"] = InstallationOverrideForm
        else:
            kwargs["form"] = InstallationAdminForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_formsets_with_inlines(self, request, obj=None):
        if obj is None:  # nothing to show on the add page
            return
        yield from super().get_formsets_with_inlines(request, obj)

    @admin.display(description="messages")
    def message_list(self, obj: Installation) -> str:
        """Every message about this installation; failed ones carry a Retry button. The button
        submits to the retry URL through `formaction`, since forms cannot nest in the admin's."""
        from django.urls import reverse
        from django.utils.html import format_html, format_html_join

        from .models import Message

        rows = list(obj.messages.order_by("-created_at", "-pk")[:50])
        if not rows:
            return "No messages yet."
        back = reverse("admin:installations_installation_change", args=[obj.pk])

        def retry(m: Message) -> str:
            if m.status != Message.State.FAILED:
                return ""
            url = reverse("notify:retry-message", args=[obj.pk, m.pk])
            return format_html(
                '<button type="submit" class="button" formaction="{}" formmethod="post" '
                'formnovalidate name="next" value="{}">Retry</button>',
                url,
                back,
            )

        return format_html(
            "<table><thead><tr><th>Message</th><th>To</th><th>Status</th><th>Attempts</th>"
            "<th>Last error</th><th></th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        m.subject or m.template,
                        m.get_channel_display(),
                        m.recipient,
                        m.get_status_display(),
                        m.attempts,
                        m.last_error or "—",
                        retry(m),
                    )
                    for m in rows
                ),
            ),
        )

    @admin.display(description="follow-up of")
    def parent_link(self, obj: Installation) -> str:
        if obj.parent_id is None:
            return "—"
        return _installation_links([obj.parent])

    @admin.display(description="follow-up visits")
    def follow_up_links(self, obj: Installation) -> str:
        return _installation_links(obj.follow_ups.order_by("scheduled_date", "pk"))

    @admin.display(description="rebooked from / as")
    def rebooking_links(self, obj: Installation) -> str:
        rows = list(obj.rebookings.order_by("pk"))
        if obj.rebooked_from_id:
            rows.insert(0, obj.rebooked_from)
        return _installation_links(rows)

    @admin.display(description="the customer's other installations")
    def other_installations(self, obj: Installation) -> str:
        rows = (
            Installation.objects.filter(customer_id=obj.customer_id)
            .exclude(pk=obj.pk)
            .order_by("-scheduled_date", "-pk")[:25]
        )
        return _installation_links(rows)

    # --- Saving fields: through the services -----------------------------------------------------

    def save_model(self, request, obj: Installation, form, change: bool) -> None:
        if not change:
            created = services.installation_create(
                actor=request.user, **{f: form.cleaned_data[f] for f in ADD_FIELDS}
            )
            # The admin goes on with `obj` (log entry, redirect): make it the saved record.
            obj.pk = created.pk
            obj.version = created.version
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        try:
            if obj.is_locked:
                services.installation_override(
                    installation=obj.pk,
                    actor=request.user,
                    reason=form.cleaned_data[REASON_FIELD],
                    changes={
                        f: form.cleaned_data[f] for f in form.changed_data if f in OVERRIDE_FIELDS
                    },
                    expected_version=form.cleaned_data.get(VERSION_FIELD),
                )
            else:
                changes = {
                    f: form.cleaned_data[f] for f in form.changed_data if f in EDITABLE_FIELDS
                }
                if changes:
                    services.installation_update(
                        installation=obj.pk,
                        actor=request.user,
                        expected_version=form.cleaned_data.get(VERSION_FIELD),
                        **changes,
                    )
        except TransitionRefused as err:
            self._refuse_save(request, err.message)
        except ValidationError as err:
            self._refuse_save(request, f"Nothing was changed: {_error_text(err)}")

    def _refuse_save(self, request, message: str) -> None:
        request._installation_save_refused = True
        self.message_user(request, message, level=messages.ERROR)

    def log_change(self, request, obj, message):
        if getattr(request, "_installation_save_refused", False):
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
                _admin_change_url(obj),
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

    def _get_fsm_extra_context(self, *, request, obj):
        if obj is None or not self.has_change_permission(request, obj):
            return []
        return list(super()._get_fsm_extra_context(request=request, obj=obj))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST" and self.fsm_post_param in request.POST:
            # A transition button: handled apart from the change form, so that no other field
            # of the form is saved with it.
            return self._transition_from_change_page(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _posted_version(data, obj: Installation) -> int:
        value = (data.get("_fsm_version") or "").strip()
        return int(value) if value.isdigit() and int(value) <= MAX_ID else obj.version

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
                request, f"Nothing was changed: {_error_text(err)}", level=messages.ERROR
            )
            return False
        self._transition_done(request, updated, transition_name)
        return True

    def _transition_done(self, request, updated: Installation, transition_name: str) -> None:
        label = self.get_fsm_label(self._admin_transitions()[transition_name])
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
                    self.message_user(request, err.message, level=messages.ERROR)
                    return self._back_to_change_page(request, obj)
                except ValidationError as err:
                    _add_errors(form, err)
                else:
                    self._transition_done(request, updated, transition.name)
                    return self._back_to_change_page(request, obj)
        else:
            available = {t.name for t in obj.get_available_user_status_transitions(request.user)}
            if transition.name not in available:
                self.message_user(
                    request,
                    f"This installation is “{obj.get_status_display()}”: “{label}” is not "
                    "possible now. Nothing was changed.",
                    level=messages.ERROR,
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
            "version": version,
            "change_url": _admin_change_url(obj),
            "media": self.media + form.media,
        }
        status = 422 if form.is_bound and form.errors else 200
        return TemplateResponse(request, self.fsm_transition_form_template, context, status=status)

    # --- List actions ----------------------------------------------------------------------------

    @admin.action(description="Cancel selected installations", permissions=["change"])
    def cancel_selected(self, request, queryset):
        """Like Django's delete action: a confirmation page with one reason for all, then each
        installation is cancelled through the service; ones that cannot be are reported."""
        confirmed = request.POST.get("post") == "yes"
        form = BulkCancelForm(request.POST if confirmed else None)
        rows = queryset.select_related("partner", "customer").order_by("pk")
        if confirmed and form.is_valid():
            reason = form.cleaned_data["reason"]
            done, refused = [], []
            for inst in rows:
                try:
                    services.installation_cancel(
                        installation=inst.pk, reason=reason, actor=request.user
                    )
                except TransitionRefused as err:
                    refused.append(f"#{inst.pk}: {err.message}")
                except ValidationError as err:
                    refused.append(f"#{inst.pk}: {_error_text(err)}")
                else:
                    done.append(inst.pk)
            if done:
                self.message_user(
                    request,
                    f"Cancelled {len(done)} installation{'s' if len(done) != 1 else ''}: "
                    + ", ".join(f"#{pk}" for pk in done)
                    + ".",
                    level=messages.SUCCESS,
                )
            if refused:
                self.message_user(
                    request,
                    (
                        "1 could not be cancelled and was left as it is. "
                        if len(refused) == 1
                        else f"{len(refused)} could not be cancelled and were left as they are. "
                    )
                    + " ".join(refused),
                    level=messages.WARNING,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel installations",
            "opts": self.opts,
            "rows": rows,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
            "media": self.media,
        }
        return TemplateResponse(
            request,
            "admin/installations/installation/cancel_selected_confirmation.html",
            context,
            status=422 if confirmed else 200,
        )

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        rows = queryset.select_related("partner", "customer", "handyman__user").order_by(
            "scheduled_date", "window_start", "pk"
        )
        writer = csv.writer(_Echo())

        def lines() -> Iterator[str]:
            yield writer.writerow(CSV_HEADER)
            for inst in rows.iterator(chunk_size=2000):
                yield writer.writerow([_csv_cell(v) for v in _csv_row(inst)])

        response = http.StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="installations.csv"'
        return response


def _add_errors(form: forms.Form, err: ValidationError) -> None:
    if hasattr(err, "error_dict"):
        for field, errors in err.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, err)


CSV_HEADER = (
    "id",
    "partner",
    "customer",
    "phone",
    "email",
    "site address",
    "date",
    "window",
    "handyman",
    "status",
    "group",
)


def _csv_row(inst: Installation) -> list[Any]:
    return [
        inst.pk,
        inst.partner.name,
        inst.customer.name,
        inst.customer.phone,
        inst.customer.email,
        inst.site_address,
        inst.scheduled_date.isoformat(),
        f"{inst.window_start:%H:%M}–{inst.window_end:%H:%M}",
        inst.handyman.display_name if inst.handyman_id else "",
        inst.get_status_display(),
        inst.group.label,
    ]


_PHONE_LIKE = re.compile(r"^[+-][\d\s()-]*$")


def _csv_cell(value: Any) -> Any:
    """Keep a spreadsheet from reading a typed-in value as a formula (phone numbers stay)."""
    formula_like = isinstance(value, str) and value[:1] in ("=", "@", "+", "-", "\t", "\r")
    if formula_like and not _PHONE_LIKE.match(value):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


# --- History, messages, counters: read-only ------------------------------------------------------


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


@admin.register(StatusChange)
class StatusChangeAdmin(IdSearchMixin, ReadOnlyAdmin):
    id_search_field = "installation_id"
    list_display = (
        "created_at",
        "installation",
        "kind",
        "transition",
        "from_status",
        "to_status",
        "actor_name",
    )
    list_select_related = ("installation__customer",)
    list_filter = ("kind", "to_status")
    search_fields = ("actor_name", "reason")
    search_help_text = "Who, a reason, or an installation number."
    show_full_result_count = False
    readonly_fields = ("changed_values",)

    @admin.display(description="old → new")
    def changed_values(self, obj: StatusChange) -> str:
        return _changes_text(obj.changes)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "installation_id",
        "channel",
        "recipient",
        "template",
        "status",
        "attempts",
        "sent_at",
    )
    list_filter = ("status", "channel", "template")
    search_fields = ("recipient", "subject")
    show_full_result_count = False
    actions = ("retry_delivery",)

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("installations.change_message")

    @admin.action(description="Retry delivery of the failed messages", permissions=["retry"])
    def retry_delivery(self, request, queryset):
        retried, skipped, errors = 0, 0, []
        for message in queryset:
            if message.status != Message.State.FAILED:
                skipped += 1
                continue
            try:
                notifications.message_retry(message=message)
            except Exception as err:  # one broken message must not stop the others
                logger.exception("Retrying message %s failed", message.pk)
                errors.append(f"#{message.pk}: {err}")
            else:
                retried += 1
        if retried:
            self.message_user(
                request, f"Queued {retried} failed message(s) for another try.", messages.SUCCESS
            )
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} message(s) that had not failed: only failed ones are retried.",
                messages.WARNING,
            )
        if errors:
            self.message_user(request, "Could not retry: " + " ".join(errors), level=messages.ERROR)


@admin.register(PartnerStatusCount)
class PartnerStatusCountAdmin(ReadOnlyAdmin):
    list_display = ("partner", "status", "count")
    list_select_related = ("partner",)
    list_filter = ("partner", "status")
