"""Evidence packs made: read-only, searchable by fingerprint, so that staff can check a copy."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from ..evidence.models import EvidencePack
from .mixins import IdSearchMixin, ReadOnlyAdmin


@admin.register(EvidencePack)
class EvidencePackAdmin(IdSearchMixin, ReadOnlyAdmin):
    id_search_field = "installation_id"
    list_display = (
        "made_at",
        "installation",
        "copy",
        "made_by_name",
        "sha256",
        "pdf_sha256",
        "size",
        "customer_copy_file",
    )
    list_filter = ("copy",)
    # The stored file is given by the checked download (its media URL answers 404 to everyone).
    exclude = ("file",)
    readonly_fields = ("customer_copy_file",)
    list_select_related = ("installation__customer",)
    search_fields = ("=sha256", "=pdf_sha256", "made_by_name")
    search_help_text = (
        "A fingerprint (content or PDF file), who made it, or an installation number."
    )
    show_full_result_count = False
    # Newest first along the primary key (a pack is stored when made): made_at has no index
    # of its own, so its order sorted every pack on every page.
    ordering = ("-id",)

    @admin.display(description="File")
    def customer_copy_file(self, pack: EvidencePack) -> str:
        """The customer's copy as they got it (the partner's download, open to staff too)."""
        if pack.copy != EvidencePack.Copy.CUSTOMER or not pack.file:
            return "—"
        url = reverse("evidence:customer-copy", args=[pack.installation_id, pack.pk])
        return format_html('<a href="{}">Download the copy the customer got</a>', url)
