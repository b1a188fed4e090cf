"""Webhook endpoints and deliveries, readable by staff (written by the partner and the worker).
Signing secrets are never shown here: only their partner saw them, once."""

from __future__ import annotations

from django.contrib import admin

from ..models import WebhookAttempt, WebhookDelivery
from .mixins import ReadOnlyAdmin


class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("url", "partner", "is_active", "failing_since", "paused_at", "created_at")
    list_select_related = ("partner",)
    list_filter = ("is_active",)
    search_fields = ("url", "description", "partner__name")
    exclude = ("secret", "previous_secret", "creation_token")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    template = "admin/edit_inline/tabular_scrolling.html"
    extra = 0
    can_delete = False
    fields = ("started_at", "status_code", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "event_type",
        "installation_id",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_select_related = ("event", "endpoint")
    list_filter = ("status",)
    search_fields = ("endpoint__url", "event__type", "last_error")
    show_full_result_count = False
    # Newest first along the primary key: the model's created_at order has no index of its
    # own and sorted every delivery on every page; no "Show counts" over them either.
    ordering = ("-id",)
    show_facets = admin.ShowFacets.NEVER
    inlines = (WebhookAttemptInline,)
    readonly_fields = ("payload",)
    exclude = ("event",)

    @admin.display(description="event", ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description="payload (as signed and sent)")
    def payload(self, obj: WebhookDelivery) -> str:
        return obj.event.body
