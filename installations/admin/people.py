"""Partners, their users, handymen and customers."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.db import connection

from .. import search
from ..accounts.admin import send_password_links
from ..filters import SEARCH_MAX_LENGTH
from ..forms import require_a_way_to_reach
from ..models import Handyman, Installation, PartnerUser
from ..scheduling.rules import BUSY_STATUSES
from .mixins import (
    IdSearchMixin,
    KeepsInstallationsMixin,
    OnceAddMixin,
    StaleEditMixin,
    StaleRowsFormSet,
)


class HandymanForm(forms.ModelForm):
    class Meta:
        model = Handyman
        fields = ("user", "partners", "phone")

    def clean_partners(self):
        """A handyman stops working for a partner only once none of its jobs waits on him:
        otherwise his phone still shows them and the partner still sees him assigned."""
        partners = self.cleaned_data["partners"]
        if self.instance.pk is None:
            return partners
        kept = list(
            Installation.objects.filter(handyman=self.instance, status__in=BUSY_STATUSES)
            .exclude(partner__in=partners)
            .select_related("partner")
            .order_by("partner__name", "scheduled_date", "pk")
        )
        if kept:
            by_partner: dict[str, list[str]] = {}
            for job in kept:
                by_partner.setdefault(job.partner.name, []).append(f"#{job.pk}")
            listed = "; ".join(f"{name}: {', '.join(jobs)}" for name, jobs in by_partner.items())
            raise forms.ValidationError(
                f"{self.instance.display_name} still has open jobs for a partner you removed "
                f"({listed}): give them to someone else first."
            )
        return partners


class CustomerForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        require_a_way_to_reach(self, "phone", "email")  # as the new-installation form asks
        return cleaned


class PartnerUserInline(admin.TabularInline):
    model = PartnerUser
    formset = StaleRowsFormSet
    extra = 0
    raw_id_fields = ("user",)


class PartnerAdmin(OnceAddMixin, StaleEditMixin, KeepsInstallationsMixin, admin.ModelAdmin):
    installation_field = "partner"
    list_display = ("name", "email", "created_at")
    search_fields = ("name", "email")
    inlines = (PartnerUserInline,)


class PartnerUserAdmin(OnceAddMixin, StaleEditMixin, admin.ModelAdmin):
    list_display = ("user", "partner")
    list_select_related = ("user", "partner")
    list_filter = ("partner",)
    search_fields = ("user__username", "user__first_name", "user__last_name", "partner__name")
    raw_id_fields = ("user",)


class HandymanAdmin(OnceAddMixin, StaleEditMixin, KeepsInstallationsMixin, admin.ModelAdmin):
    installation_field = "handyman"
    form = HandymanForm
    list_display = ("display_name", "phone", "serves")
    search_fields = ("user__username", "user__first_name", "user__last_name", "phone")
    list_filter = ("partners",)
    raw_id_fields = ("user",)
    filter_horizontal = ("partners",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("partners")

    def get_readonly_fields(self, request, obj=None):
        # His login is who he is: another one would be handed his jobs and their customers'
        # names, phones and addresses. A new login is a new handyman.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "user") if obj is not None else fields

    @admin.display(description="name", ordering="user__first_name")
    def display_name(self, obj: Handyman) -> str:
        return obj.display_name

    @admin.display(description="works for")
    def serves(self, obj: Handyman) -> str:
        return ", ".join(p.name for p in obj.partners.all()) or "—"


class IndexedCustomerSearch:
    """On SQLite, the customers' search through the partner list's FTS index, the same fields
    and folding: Django's OR of four `icontains` read every customer of every partner (a
    surname: 437 ms at a million installations). PostgreSQL's trigram indexes already answer
    Django's own search, and walk the name order for a common word, so it is left to Django."""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or connection.vendor != "sqlite":
            return super().get_search_results(request, queryset, search_term)
        matches = search.matching_customers(None, term[:SEARCH_MAX_LENGTH]).values("pk")
        return queryset.filter(pk__in=matches), False


class CustomerAdmin(
    OnceAddMixin, StaleEditMixin, IdSearchMixin, IndexedCustomerSearch, admin.ModelAdmin
):
    form = CustomerForm
    list_display = ("name", "partner", "phone", "email", "address")
    list_select_related = ("partner",)
    list_filter = ("partner",)
    # Django draws the search box for these; IndexedCustomerSearch searches them.
    search_fields = ("name", "phone", "email", "address")
    search_help_text = "A part of a name, phone, email or address, or a customer number."
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # A customer belongs to the partner who booked them: moving one would hand their
        # name, phone and address to another partner while their jobs stay with the first.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "partner") if obj is not None else fields


class PortalUserAdmin(OnceAddMixin, StaleEditMixin, KeepsInstallationsMixin, UserAdmin):
    """Django's users, except that deleting a handyman's login (which deletes him) is refused,
    without collecting his jobs, while he has any; and a save over another window's change
    (an account made inactive, a right taken away) is refused, not undone."""

    installation_field = "handyman__user"
    actions = [send_password_links]
    # Written by logging in and signing up, not typed: Django's inputs for them (a date and a
    # time, unlabelled) also failed axe's "label" rule on every user's page.
    readonly_fields = ("last_login", "date_joined")


class PortalGroupAdmin(OnceAddMixin, StaleEditMixin, GroupAdmin):
    """Django's groups, added once when the add form is sent twice, and not saved over another
    window's change to their permissions."""
