"""History, messages, counters: read-only (written by the service layer only)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages

from .. import notifications
from ..models import Message, StatusChange
from .mixins import IdSearchMixin, ReadOnlyAdmin, changed_values_text

logger = logging.getLogger("installations.admin")


class StatusChangeAdmin(IdSearchMixin, ReadOnlyAdmin):
    id_search_field = "installation_id"
    id_search_only = True  # 2.2 million changes at 1 M: a number is the installation's history
    list_display = (
        "created_at",
        "installation",
        "kind",
        "transition",
        "status_change",
        "actor_name",
    )
    list_select_related = ("installation__customer",)
    list_filter = ("kind", "to_status")
    show_facets = admin.ShowFacets.NEVER  # counts over every change (2.2 million: 0.9 s)
    # Newest first, along the primary key: the model's (created_at, id) has no index of its
    # own, and sorting every change (2.2 million at a million installations) took 2.6 s.
    ordering = ("-id",)
    search_fields = ("actor_name", "reason")
    search_help_text = "Who or a reason; a number shows that installation's history."
    show_full_result_count = False
    # The changed fields in the record page's words ("old → new") in place of the stored
    # `changes` (ids, "13:00:00", "2026-12-05"): one entry must not read two ways on one page.
    exclude = ("changes",)
    readonly_fields = ("changed_values",)

    @admin.display(description="status", ordering="to_status")
    def status_change(self, obj: StatusChange) -> str:
        return f"{obj.get_from_status_display() or '—'} → {obj.get_to_status_display()}"

    @admin.display(description="old → new")
    def changed_values(self, obj: StatusChange) -> str:
        return changed_values_text(obj)


@functools.cache
def template_names() -> list[str]:
    """Every message template: each has a subject file in templates/notifications/."""
    return sorted(
        path.name.removesuffix(".subject.txt")
        for folder in settings.TEMPLATES[0]["DIRS"]
        for path in Path(folder, "notifications").glob("*.subject.txt")
    )


class TemplateFilter(admin.SimpleListFilter):
    """The message templates there are (their files), not SELECT DISTINCT over every message."""

    title = "template"
    parameter_name = "template"

    def lookups(self, request, model_admin):
        return [(name, name) for name in template_names()]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(template=value) if value else queryset


class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "installation_id",
        "channel",
        "recipient",
        "template",
        "cause",
        "status",
        "hold_reason",
        "attempts",
        "sent_at",
    )
    # "Held back" is a status: what the per-recipient ceiling kept from a customer, with why.
    list_filter = ("status", "cause", "channel", TemplateFilter)
    search_fields = ("recipient", "subject")
    show_full_result_count = False
    # Newest first along the primary key (messages are written when made): the model's
    # created_at order has no index, and every page sorted every message (3 million: 2.5 s).
    ordering = ("-id",)
    # "Show counts" would count every message for each filter on every page it is shown.
    show_facets = admin.ShowFacets.NEVER
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


class PartnerStatusCountAdmin(ReadOnlyAdmin):
    list_display = ("partner", "status", "count")
    list_select_related = ("partner",)
    list_filter = ("partner", "status")
