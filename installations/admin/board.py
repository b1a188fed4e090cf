"""The dispatch board for staff: the partner board (installations/board), for any partner, in the
admin. Read-only: each card opens the installation's admin page, whose transition buttons go
through the same services. A partner must be chosen first: across all partners a week holds
thousands of jobs and handymen, which no one can plan on one screen."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from ..board.views import board_context, url_parts
from ..models import Partner

TEMPLATE = "admin/installations/installation/board.html"


def admin_link() -> Callable[[int], str]:
    head, tail = url_parts("admin:installations_installation_change") or ("", "")
    return lambda pk: f"{head}{pk}{tail}"


class PartnerChoiceForm(forms.Form):
    partner = forms.ModelChoiceField(
        queryset=Partner.objects.order_by("name"),
        empty_label="Choose a partner",
        error_messages={"invalid_choice": "Choose a partner from the list."},
    )


def board_view(request: HttpRequest, model_admin: admin.ModelAdmin) -> HttpResponse:
    chooser = PartnerChoiceForm(request.GET if "partner" in request.GET else None)
    ctx = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Dispatch board",
        "chooser": chooser,
        "board_url": reverse("admin:installations_installation_board"),
    }
    if chooser.is_bound and chooser.is_valid():
        partner = chooser.cleaned_data["partner"]
        ctx.update(board_context(request, partner, actions=None, link=admin_link()))
        ctx["title"] = f"Dispatch board: {partner.name}"
        ctx["partner"] = partner
    return TemplateResponse(request, TEMPLATE, ctx)


class BoardAdminMixin:
    """For InstallationAdmin: adds `board/` beside its changelist (staff with view permission)."""

    def get_urls(self):
        @require_GET
        def view(request: HttpRequest) -> HttpResponse:
            if not self.has_view_permission(request):  # type: ignore[attr-defined]
                raise PermissionDenied
            return board_view(request, self)  # type: ignore[arg-type]

        board = path(
            "board/",
            self.admin_site.admin_view(view),  # type: ignore[attr-defined]
            name="installations_installation_board",
        )
        return [board, *super().get_urls()]  # type: ignore[misc]
