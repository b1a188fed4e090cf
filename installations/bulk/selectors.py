"""What the list's bulk bar shows: the actions its rows allow, the handymen, the last result."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..models import Installation
from .services import ACTIONS, MAX_ROWS, BulkResult

# The bar's choices kept for the rows a bulk action left selected: none until one does.
NOTHING_KEPT = {"reason": "", "handyman": "", "confirm_conflict": ""}


@dataclass(frozen=True)
class BulkRow:
    """A list row (installation and its actions, as the list's own Row) with its checkbox state
    and, after a bulk action, why it was not changed."""

    installation: Installation
    actions: list[Any]
    selected: bool = False
    refusal: str = ""


def bulk_context(
    rows: Iterable[Any], handymen: Callable[[], list[tuple[int, str]]]
) -> dict[str, Any]:
    """The bar's controls: each bulk action any row on the page allows (the state machine's own
    list, as the row buttons use). With JavaScript the bar narrows them to the actions EVERY
    selected row allows; without it the server answers the rows that do not with reasons.
    `handymen` gives the partner's (id, name) handymen: the list's filter field, whose one read
    the bar shares."""
    allowed = {action.name for row in rows for action in row.actions}
    return {
        "bulk_actions": [name for name in ACTIONS if name in allowed],
        # A callable: the template calls it only when the bar offers Assign.
        "bulk_handymen": handymen,
        "bulk_max": MAX_ROWS,
        "bulk_kept": NOTHING_KEPT,
    }


def bulk_outcome_context(
    result: BulkResult | None,
    rows: Iterable[Any],
    *,
    selected: Iterable[int] = (),
) -> dict[str, Any]:
    """The rows with their checkboxes as the person left them: the refused rows stay selected
    (with their reason beside them) so that they can act on them again; `selected` keeps a
    selection the server refused as a whole (no handyman, no reason, too many)."""
    refusals = {row.pk: row.reason for row in result.refused} if result is not None else {}
    keep = set(selected) | set(refusals)
    if not keep and result is None:
        return {}
    return {
        "rows": [
            BulkRow(
                row.installation,
                row.actions,
                selected=row.installation.pk in keep,
                refusal=refusals.get(row.installation.pk, ""),
            )
            for row in rows
        ],
        "bulk_result": result,
        # The reason and handyman the bar held, kept for the rows it left selected.
        "bulk_kept": {**NOTHING_KEPT, **(result.kept if result is not None else {})},
    }
