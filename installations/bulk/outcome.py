"""A plain (no-JavaScript) bulk action's result, carried across its redirect in the session, so
that the list page the browser is sent to can show it once (like a flash message)."""

from __future__ import annotations

from django.http import HttpRequest

from .services import BulkResult, RowResult

SESSION_KEY = "bulk_outcome"


def keep_bulk_outcome(request: HttpRequest, result: BulkResult) -> None:
    request.session[SESSION_KEY] = {
        "action": result.action,
        "handyman_name": result.handyman_name,
        "rows": [[r.pk, r.changed, r.label, r.reason, r.repeated] for r in result.rows],
        "kept": dict(result.kept),
    }


def take_bulk_outcome(request: HttpRequest) -> BulkResult | None:
    """The kept result, removed as it is read. No session write when there is none."""
    data = request.session.pop(SESSION_KEY, None)
    if not isinstance(data, dict):
        return None
    try:
        rows = tuple(
            RowResult(int(pk), bool(changed), str(label), str(reason), bool(repeated))
            for pk, changed, label, reason, repeated in data["rows"]
        )
        kept = {str(k): str(v) for k, v in dict(data.get("kept") or {}).items()}
        return BulkResult(str(data["action"]), rows, str(data.get("handyman_name", "")), kept)
    except (KeyError, TypeError, ValueError):
        return None
