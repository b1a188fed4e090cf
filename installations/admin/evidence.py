"""Evidence packs made: read-only, searchable by fingerprint, so that staff can check a copy."""

from __future__ import annotations

from django.contrib import admin

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
    )
    list_filter = ("copy",)
    list_select_related = ("installation__customer",)
    search_fields = ("=sha256", "=pdf_sha256", "made_by_name")
    search_help_text = (
        "A fingerprint (content or PDF file), who made it, or an installation number."
    )
    show_full_result_count = False
