"""The partner dashboard for staff: one partner's (the same page partners see) or all partners'
together. "Partner dashboards" on the admin index lists the partners; each row opens that
partner's dashboard, and a button above the list opens everyone's. Nothing is changed here."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET

from ..dashboard import selectors
from ..dashboard.models import PartnerDashboard
from ..dashboard.presenters import page_context
from ..models import Partner
from .mixins import ReadOnlyAdmin

TEMPLATE = "admin/installations/dashboard.html"
URL_NAME = "installations_partnerdashboard_dashboard"


class PartnerChoiceForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.order_by("name"),
        required=False,
        empty_label="All partners",
        error_messages={"invalid_choice": "Choose a partner from the list."},
    )


def dashboard_view(request: HttpRequest, model_admin: admin.ModelAdmin) -> HttpResponse:
    chooser = PartnerChoiceForm(request.GET)
    partner = chooser.cleaned_data["partner"] if chooser.is_valid() else None
    weeks = selectors.weeks_from(request.GET.get("weeks"))
    url = reverse(f"admin:{URL_NAME}")
    base = f"{url}?partner={partner.pk}&" if partner else f"{url}?"
    ctx = {
        **model_admin.admin_site.each_context(request),
        **page_context(selectors.dashboard(partner=partner, weeks=weeks), base),
        "opts": model_admin.model._meta,
        "title": f"Dashboard: {partner.name if partner else 'all partners'}",
        "chooser": chooser,
        "chooser_url": url,
        "admin_links": True,
    }
    return TemplateResponse(request, TEMPLATE, ctx)


@admin.register(PartnerDashboard)
class PartnerDashboardAdmin(ReadOnlyAdmin):
    list_display = ("name", "dashboard")
    list_display_links = None
    search_fields = ("name",)
    show_full_result_count = False

    @admin.display(description="Dashboard")
    def dashboard(self, obj: Partner) -> str:
        url = reverse(f"admin:{URL_NAME}")
        return format_html('<a href="{}?partner={}">Open {}’s dashboard</a>', url, obj.pk, obj.name)

    def get_urls(self):
        @require_GET
        def view(request: HttpRequest) -> HttpResponse:
            if not self.has_view_permission(request):
                raise PermissionDenied
            return dashboard_view(request, self)

        urls = [path("dashboard/", self.admin_site.admin_view(view), name=URL_NAME)]
        return urls + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        extra = {"dashboard_url": reverse(f"admin:{URL_NAME}"), **(extra_context or {})}
        return super().changelist_view(request, extra)
