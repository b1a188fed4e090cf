"""Installations: the list (filters, labels, bulk cancel, CSV export) and the change form's shape.
The pages that write are in ``views.py``."""

from __future__ import annotations

from itertools import chain
from typing import Any

from django import http
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django_fsm.admin import FSMAdminMixin

from .. import history_text, services
from ..bulk.services import MAX_ROWS as MAX_CANCEL_ROWS
from ..lookups import in_group
from ..models import ADMIN_EVERY_PARTNER, Handyman, Installation, Message, StatusChange
from ..services import TransitionRefused
from ..spreadsheets.export import lines_of
from ..statuses import GROUP_CHOICES, GROUPS_BY_SLUG, Status
from .board import BoardAdminMixin
from .counting import changelist_paginator, filters_used
from .forms import (
    ADD_FIELDS,
    OPEN_FIELDS,
    OVERRIDE_FIELDS,
    REASON_FIELD,
    VERSION_FIELD,
    AdminAssignForm,
    BulkCancelForm,
    InstallationAddForm,
    InstallationAdminForm,
    InstallationOverrideForm,
)
from .mixins import (
    MAX_ID,
    ReadOnlyMixin,
    admin_change_url,
    can_override,
    changed_values_text,
    error_text,
    is_id,
)
from .searching import search_results, searched_paginator
from .views import InstallationPagesMixin, transition_log_text


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
        if value and is_id(value):
            return queryset.filter(handyman_id=int(value))
        return queryset


class HistoryFormSet(BaseInlineFormSet):
    """The history's rows, each given its "old → new" words as it is read: the handymen that
    overrides moved jobs between are named by one query for the whole history, not one per
    entry."""

    def get_queryset(self):
        entries = super().get_queryset()  # the formset keeps it: its rows are these objects
        if not getattr(self, "_worded", False):
            handymen = history_text.handyman_names(entries)
            for entry in entries:
                entry.worded_changes = changed_values_text(entry, handymen)
            self._worded = True
        return entries


class StatusChangeInline(ReadOnlyMixin, admin.TabularInline):
    """The history, read-only: entries are written by the service layer only."""

    model = StatusChange
    formset = HistoryFormSet
    template = "admin/edit_inline/tabular_scrolling.html"
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
        worded = getattr(obj, "worded_changes", None)
        return changed_values_text(obj) if worded is None else worded


def _installation_links(rows: QuerySet[Installation] | list[Installation]) -> str:
    items = format_html_join(
        "",
        '<li><a href="{}">#{} · {} · {}</a></li>',
        ((admin_change_url(i), i.pk, i.scheduled_date, i.get_status_display()) for i in rows),
    )
    return format_html("<ul>{}</ul>", items) if items else "—"


def _visits(obj: Installation) -> dict[str, list[Installation]]:
    """The record's parent, its follow-up visits, the record it was rebooked from and its
    rebookings, for the change page's three fields that link them: one query (a few rows by
    their indexes), kept on the object the page renders."""
    if (visits := getattr(obj, "_admin_visits", None)) is not None:
        return visits
    near = [pk for pk in (obj.parent_id, obj.rebooked_from_id) if pk is not None]
    rows = list(
        Installation.objects.filter(
            Q(pk__in=near) | Q(parent_id=obj.pk) | Q(rebooked_from_id=obj.pk)
        ).order_by("scheduled_date", "pk")
    )
    obj._admin_visits = visits = {
        "parent": [r for r in rows if r.pk == obj.parent_id],
        "follow_ups": [r for r in rows if r.parent_id == obj.pk],
        "rebooked_from": [r for r in rows if r.pk == obj.rebooked_from_id],
        "rebookings": sorted((r for r in rows if r.rebooked_from_id == obj.pk), key=lambda r: r.pk),
    }
    return visits


class InstallationAdmin(BoardAdminMixin, InstallationPagesMixin, FSMAdminMixin, admin.ModelAdmin):
    fsm_fields = ["status"]
    change_form_template = "admin/installations/installation/change_form.html"
    fsm_transition_form_template = "admin/installations/installation/transition_form.html"
    fsm_forms = {"assign": AdminAssignForm, "reassign": AdminAssignForm}
    form = InstallationAdminForm

    # No group column: the status says it, the group filter finds it, and the list must fit a
    # 1366 px screen beside the navigation and the filters (tests/browser/test_admin.py).
    list_display = (
        "id",
        "partner",
        "customer",
        "scheduled_date",
        "handyman",
        "status_label",
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
    # No date_hierarchy: it reads MIN/MAX(scheduled_date) over the filtered rows on every page,
    # at ten million rows the slowest query of the changelist; the "scheduled date" filter
    # (today, past 7 days, this month, this year) chooses dates without reading any row.
    # A million rows: no second COUNT(*) of the whole table when a filter is applied.
    show_full_result_count = False
    # Facet counts are an aggregate over every filtered row for each filter, on every page they
    # are shown: at ten million rows, seconds of a worker for numbers the counters do not hold.
    show_facets = admin.ShowFacets.NEVER
    # The customer list may be long (a raw id on the add page); the handyman is a choice among the
    # partner's handymen, by name (see InstallationOverrideForm).
    raw_id_fields = ("customer",)
    inlines = (StatusChangeInline,)
    actions = ("cancel_selected", "export_csv")

    # --- Permissions ---------------------------------------------------------------------------

    def has_change_permission(self, request, obj: Installation | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is not None and obj.is_locked:
            # Finished records are locked for everyone but those allowed to override.
            return allowed and can_override(request.user)
        return allowed

    def has_delete_permission(self, request, obj=None) -> bool:
        # Records stay for their history and the per-partner counters; cancel instead.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- The list ------------------------------------------------------------------------------

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not filters_used(request.GET):
            # Every row, in the changelist's order: its page is read from inst_admin_date.
            # Not under a filter: statuses follow the dates, so a walk of every partner's rows
            # in date order looking for, say, jobs under way read most of the table (1.3 s).
            queryset = queryset.filter(ADMIN_EVERY_PARTNER)
        return queryset.select_related("partner", "customer", "handyman__user")

    def get_search_results(self, request, queryset, search_term):
        # The partner list's search (its indexes, its number lookup, its bound), scoped to the
        # partner filter when there is one; no join, so no duplicates to remove.
        return search_results(request, queryset, search_term), False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        if queryset.model is not Installation:  # the history page pages its log entries
            return super().get_paginator(
                request, queryset, per_page, orphans, allow_empty_first_page
            )
        searched = searched_paginator(request, queryset, per_page)
        return searched or changelist_paginator(request, queryset, per_page)

    @admin.display(description="status", ordering="status")
    def status_label(self, obj: Installation) -> str:
        return obj.get_status_display()

    @admin.display(description="status group")
    def status_group(self, obj: Installation) -> str:
        return obj.group.label

    # --- The change form -----------------------------------------------------------------------

    def get_fieldsets(self, request, obj: Installation | None = None):
        if obj is None:
            return [(None, {"fields": (*ADD_FIELDS, "token")})]
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
                        "completion_signature_kind",
                        "completion_signer_name",
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
            editable = OVERRIDE_FIELDS if obj.is_locked else OPEN_FIELDS
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
        return _installation_links(_visits(obj)["parent"])

    @admin.display(description="follow-up visits")
    def follow_up_links(self, obj: Installation) -> str:
        return _installation_links(_visits(obj)["follow_ups"])

    @admin.display(description="rebooked from / as")
    def rebooking_links(self, obj: Installation) -> str:
        visits = _visits(obj)
        return _installation_links(visits["rebooked_from"] + visits["rebookings"])

    @admin.display(description="the customer's other installations")
    def other_installations(self, obj: Installation) -> str:
        rows = (
            Installation.objects.filter(customer_id=obj.customer_id)
            .exclude(pk=obj.pk)
            .order_by("-scheduled_date", "-pk")[:25]
        )
        return _installation_links(rows)

    # --- List actions ----------------------------------------------------------------------------

    @admin.action(description="Cancel selected installations", permissions=["change"])
    def cancel_selected(self, request, queryset):
        """Like Django's delete action: a confirmation page with one reason for all, then each
        installation is cancelled through the service; ones that cannot be are reported."""
        # "Select all" under a filter chooses every matching row (a million at most): the page
        # would list each, and its Yes cancel them all in one request. As many as the partner's
        # bulk bar takes, counted no further than that.
        if queryset.order_by()[: MAX_CANCEL_ROWS + 1].count() > MAX_CANCEL_ROWS:
            self.message_user(
                request,
                f"Nothing was cancelled: cancel at most {MAX_CANCEL_ROWS} installations at once. "
                "Narrow the list with its filters or search, then select them.",
                level=messages.ERROR,
            )
            return None
        confirmed = request.POST.get("post") == "yes"
        form = BulkCancelForm(request.POST if confirmed else None)
        conflicts: list[str] = []
        rows = queryset.select_related("partner", "customer").order_by("pk")
        if confirmed and form.is_valid():
            reason = form.cleaned_data["reason"]
            # The version each row had when this page was drawn: a row someone else changed
            # since is not cancelled over their change, but asked about again.
            versions = page_versions(request.POST)
            done, already, refused, changed = [], [], [], []
            for inst in rows:
                if inst.status == Status.CANCELLED:
                    # The form sent again (a double click, a reload), or cancelled meanwhile:
                    # what was asked is so, which is not a failure to report.
                    already.append(inst.pk)
                    continue
                try:
                    updated = services.installation_cancel(
                        installation=inst.pk,
                        reason=reason,
                        actor=request.user,
                        expected_version=versions.get(inst.pk),
                    )
                except TransitionRefused as err:
                    now = err.installation
                    if now is not None and versions.get(inst.pk) not in (None, now.version):
                        changed.append((now, err.message))
                    else:
                        refused.append(f"#{inst.pk}: {err.message}")
                except ValidationError as err:
                    refused.append(f"#{inst.pk}: {error_text(err)}")
                else:
                    done.append(inst.pk)
                    self.log_change(
                        request, updated, transition_log_text("cancel", inst, updated, reason)
                    )
            if done:
                self.message_user(
                    request,
                    f"Cancelled {len(done)} installation{'s' if len(done) != 1 else ''}: "
                    + ", ".join(f"#{pk}" for pk in done)
                    + ".",
                    level=messages.SUCCESS,
                )
            if already:
                self.message_user(
                    request,
                    "Already cancelled, so nothing was changed: "
                    + ", ".join(f"#{pk}" for pk in already)
                    + ".",
                    level=messages.INFO,
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
            if not changed:
                return None
            # The page again for the rows changed meanwhile, as they are now, with the reason
            # as typed: cancelling them is a choice made knowing the other person's change.
            rows = rows.filter(pk__in=[inst.pk for inst, _ in changed])
            conflicts = [f"#{inst.pk}: {message}" for inst, message in changed]
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel installations",
            "opts": self.opts,
            "rows": rows,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
            "conflicts": conflicts,
            "media": self.media,
        }
        status = 200
        if confirmed:
            status = 409 if conflicts else 422
        return TemplateResponse(
            request,
            "admin/installations/installation/cancel_selected_confirmation.html",
            context,
            status=status,
        )

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        rows = queryset.select_related("partner", "customer", "handyman__user").order_by(
            "scheduled_date", "window_start", "pk"
        )
        # The partner's export's own writer: the BOM Excel needs to read accented names, and
        # no cell a spreadsheet would run as a formula (a phone number too: '+44…).
        body = lines_of(
            chain([list(CSV_HEADER)], (_csv_row(inst) for inst in rows.iterator(chunk_size=2000)))
        )
        response = http.StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="installations.csv"'
        return response


def page_versions(data: http.QueryDict) -> dict[int, int]:
    """The version each selected row had on the confirmation page (`v<pk>`); a value that is
    not a number is no version (the row is then cancelled as it is, as before versions)."""
    return {
        int(key[1:]): int(value)
        for key, value in data.items()
        if key.startswith("v") and is_id(key[1:]) and is_id(value)
        if int(key[1:]) <= MAX_ID and int(value) <= MAX_ID
    }


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
