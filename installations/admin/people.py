"""Partners, their users, handymen and customers."""

from __future__ import annotations

from django.contrib import admin

from ..models import Handyman, PartnerUser
from .mixins import IdSearchMixin


class PartnerUserInline(admin.TabularInline):
    model = PartnerUser
    extra = 0
    raw_id_fields = ("user",)


class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "created_at")
    search_fields = ("name", "email")
    inlines = (PartnerUserInline,)


class PartnerUserAdmin(admin.ModelAdmin):
    list_display = ("user", "partner")
    list_select_related = ("user", "partner")
    list_filter = ("partner",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "partner__name")
    raw_id_fields = ("user",)


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


class CustomerAdmin(IdSearchMixin, admin.ModelAdmin):
    list_display = ("name", "partner", "phone", "email", "address")
    list_select_related = ("partner",)
    list_filter = ("partner",)
    search_fields = ("name", "phone", "email", "address")
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # A customer belongs to the partner who booked them: moving one would hand their
        # name, phone and address to another partner while their jobs stay with the first.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "partner") if obj is not None else fields
