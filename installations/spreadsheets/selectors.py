"""Reads of the spreadsheets room: what an export contains and a partner's imports."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from ..models import Installation, Partner
from . import export
from .models import Import


def export_queryset(filtered: QuerySet[Installation], ids: list[int] | None) -> QuerySet:
    """The list's filtered rows (the filterset already scoped them to the partner and ordered
    them), restricted to the chosen ids when some were given, as the export's plain values."""
    if ids is not None:
        filtered = filtered.filter(pk__in=ids)
    return filtered.values_list(*export.COLUMNS)


def import_for_partner(partner: Partner, public_id: str) -> Import | None:
    """One of the partner's imports by its public id; None for anything else."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return Import.objects.filter(partner=partner, public_id=key).select_related("partner").first()


def recent_imports(partner: Partner, limit: int = 10) -> list[Import]:
    return list(
        Import.objects.filter(partner=partner, status=Import.State.COMMITTED)
        .select_related("committed_by")
        .defer("content")
        .order_by("-committed_at", "-id")[:limit]
    )


def first_commit_of(partner: Partner, fingerprint: str) -> Import | None:
    """The import that already brought these very bytes in, if one did."""
    return (
        Import.objects.filter(
            partner=partner, fingerprint=fingerprint, status=Import.State.COMMITTED
        )
        .defer("content")
        .first()
    )
