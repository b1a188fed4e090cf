"""The partner dashboard for staff: one partner's (the same page partners see) or all partners'
together. It is the admin page of the thresholds model, so the admin index links to it as
"Partner dashboards"; nothing is added, changed or deleted here."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from ..dashboard import selectors
from ..dashboard.models import DashboardThresholds
from ..dashboard.presenters import page_context
from ..models import Partner

TEMPLATE = "admin/installations/dashboard.html"


class PartnerChoiceForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.order_by("name"),
        required=False,
        empty_label="All partners",
        error_messages={"invalid_choice": "Choose a partner from the list."},
    )


class DashboardAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        chooser = PartnerChoiceForm(request.GET)
        partner = chooser.cleaned_data["partner"] if chooser.is_valid() else None
        weeks = selectors.weeks_from(request.GET.get("weeks"))
        url = reverse("admin:installations_dashboardthresholds_changelist")
        base = f"{url}?partner={partner.pk}&" if partner else f"{url}?"
        ctx = {
            **self.admin_site.each_context(request),
            **page_context(selectors.dashboard(partner=partner, weeks=weeks), base),
            "opts": self.model._meta,
            "title": f"Dashboard: {partner.name if partner else 'all partners'}",
            "chooser": chooser,
            "chooser_url": url,
            "admin_links": True,
        }
        return TemplateResponse(request, TEMPLATE, ctx)


admin.site.register(DashboardThresholds, DashboardAdmin)
