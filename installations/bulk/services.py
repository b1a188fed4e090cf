"""Bulk actions on the partner list: one handyman or one rejection reason for many rows.

Each row goes through the core service on its own (``services.installation_assign`` /
``installation_reject``): its own transaction, row lock, version check, history entry and
messages. A row that cannot change is reported with the reason in words and the others go on;
nothing is ever half-changed, because the core's transaction is the unit. A repeat of the same
request (double click, resent form) carries the same page versions, so the core recognises each
row's own earlier change and answers it as done instead of changing it twice.

Call these outside any transaction: inside one, each row's transaction would become a savepoint
of the caller's, and a later failure of the caller would undo rows reported as changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django_fsm import can_proceed

from .. import selectors, services
from ..errors import TransitionRefused
from ..models import Handyman, Installation, Partner
from ..refusals import refusal

logger = logging.getLogger("installations.events")

MAX_ROWS = 100
ACTIONS = ("assign", "reject")

NOT_FOUND = "not found"
NO_VERSION = "this page did not say which version of it you saw: reload the list and try again"


@dataclass(frozen=True)
class RowResult:
    pk: int
    changed: bool
    # "#31 Alice Moreau" for the partner's own rows; just "#31" for an id we do not show.
    label: str
    reason: str = ""  # why it was not changed, in words
    # Already changed by this same person's identical request (a double click, a resent form).
    repeated: bool = False


@dataclass(frozen=True)
class BulkResult:
    action: str
    rows: tuple[RowResult, ...]
    handyman_name: str = ""
    # What the bar held (reason, handyman, confirm_conflict), offered again with the rows it
    # left selected: acting on them again after reading why needs no retyping.
    kept: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def changed(self) -> list[RowResult]:
        return [row for row in self.rows if row.changed]

    @property
    def refused(self) -> list[RowResult]:
        return [row for row in self.rows if not row.changed]

    def summary(self) -> str:
        """ "28 assigned to Hank Silva; 2 not changed"."""
        done = len(self.changed)
        if self.action == "assign":
            what = f"{done} assigned to {self.handyman_name}" if done else "None assigned"
        else:
            what = f"{done} rejected" if done else "None rejected"
        refused = len(self.refused)
        return f"{what}; {refused} not changed" if refused else what


def check_selection_size(rows: Mapping[int, int | None]) -> None:
    if not rows:
        raise ValidationError({"id": "Select at least one installation."})
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            {
                "id": f"You selected {len(rows)} installations; at most {MAX_ROWS} can be changed "
                "at a time. Nothing was changed: select fewer and try again."
            }
        )


def _refusal(refused: TransitionRefused, name: str, version: int | None) -> str:
    """The core's refusal, short enough to stand beside a row in a list."""
    inst = refused.installation
    if inst is None:
        return NOT_FOUND
    status = inst.get_status_display()
    if version is not None and inst.version != version:
        return f"changed by someone else (it is now “{status}”)"
    if not can_proceed(getattr(inst, name)):  # `name` is one of ACTIONS, never input
        return refusal(inst.status, name)
    return refused.message


def _run(
    *,
    partner: Partner,
    rows: Mapping[int, int | None],
    name: str,
    change: Callable[[int, int], Installation],
) -> tuple[RowResult, ...]:
    check_selection_size(rows)
    # Another partner's id is simply not found: the same words as an id that never existed.
    labels = dict(
        selectors.installations_for_partner(partner)
        .filter(pk__in=list(rows))
        .order_by()
        .values_list("pk", "customer__name")
    )
    results = []
    for pk, version in rows.items():
        if pk not in labels:
            results.append(RowResult(pk, False, f"#{pk}", NOT_FOUND))
            continue
        label = f"#{pk} {labels[pk]}"
        if version is None:
            results.append(RowResult(pk, False, label, NO_VERSION))
            continue
        try:
            updated = change(pk, version)
        except TransitionRefused as refused:
            results.append(RowResult(pk, False, label, _refusal(refused, name, version)))
        except ValidationError as error:
            results.append(RowResult(pk, False, label, " ".join(error.messages)))
        except Exception:
            # The row's own transaction rolled back (nothing of it is stored); the rows before
            # it are committed and the rows after it deserve their chance too.
            logger.exception("bulk %s: installation %s failed", name, pk)
            results.append(
                RowResult(pk, False, label, "it could not be changed because of an error")
            )
        else:
            results.append(RowResult(pk, True, label, repeated=updated.replayed))
    return tuple(results)


def installations_bulk_assign(
    *,
    partner: Partner,
    rows: Mapping[int, int | None],
    handyman: Handyman,
    actor: Any,
    confirm_conflict: bool = False,
) -> BulkResult:
    """Assign `handyman` to each row (id -> the version the page showed), each on its own. A row
    that would overlap another job of the handyman that day is refused with that job named,
    unless `confirm_conflict` (the scheduling rule of issue 12, as for one row)."""
    return BulkResult(
        "assign",
        _run(
            partner=partner,
            rows=rows,
            name="assign",
            change=lambda pk, version: services.installation_assign(
                installation=pk,
                handyman=handyman,
                actor=actor,
                expected_version=version,
                confirm_conflict=confirm_conflict,
            ),
        ),
        handyman_name=handyman.display_name,
    )


def installations_bulk_reject(
    *, partner: Partner, rows: Mapping[int, int | None], reason: str, actor: Any
) -> BulkResult:
    """Reject each row with the same reason, each on its own. No reason refuses them all."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Please give a reason for the rejection."})
    return BulkResult(
        "reject",
        _run(
            partner=partner,
            rows=rows,
            name="reject",
            change=lambda pk, version: services.installation_reject(
                installation=pk, reason=reason, actor=actor, expected_version=version
            ),
        ),
    )
