"""The dashboard's arithmetic, with no database: which facts an installation contributes, the
log-spaced buckets the flow times are counted in, and percentiles read back from them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.utils import timezone

from ..statuses import Status
from .models import Step

# Eight buckets per doubling: a bucket's middle is within 4.4% of every value in it, finer than
# the minutes and hours the page shows, and a year of seconds fits in ~200 buckets.
BUCKETS_PER_DOUBLING = 8
ZERO_BUCKET = -1  # under a second (and arrivals inside the window)

# When the job entered its current status: the stage time the transition into it stamped.
SINCE_FIELD = {
    Status.SCHEDULED: "created_at",
    Status.INSTALLER_ASSIGNED: "assigned_at",
    Status.EN_ROUTE: "departed_at",
    Status.INSTALLATION_IN_PROGRESS: "arrived_at",
    Status.INSTALLATION_COMPLETED: "completed_at",
    Status.CONTRACT_SENT: "contract_sent_at",
    Status.CONTRACT_SIGNED: "signed_at",
    Status.CUSTOMER_APPROVED: "approved_at",
    Status.CANCELLED: "cancelled_at",
    Status.REJECTED: "rejected_at",
}
# How long before its window's start a job waiting for its booked day starts to count its wait:
# an assigned job at the window itself, a job without a handyman a week before (see waiting_since).
BOOKED_DAY_LEAD = {
    Status.SCHEDULED: timedelta(days=7),
    Status.INSTALLER_ASSIGNED: timedelta(0),
}
# The statuses whose wait counts from that moment even when the job entered the status after it:
# a job booked tomorrow and still without a handyman is late the moment it is created.
BOOKED_DAY_ONLY = frozenset({Status.SCHEDULED})
# Every field facts_of reads: the rebuild loads only these.
FIELDS = (
    "pk",
    "partner_id",
    "handyman_id",
    "status",
    "created_at",
    "updated_at",
    "scheduled_date",
    "window_start",
    "window_end",
    "cancellation_reason",
    "rejection_reason",
    *sorted(set(SINCE_FIELD.values()) - {"created_at"}),
)
NO_REASON = "(no reason given)"
REASON_LENGTH = 200


def bucket_of(seconds: float) -> int:
    if seconds < 1:
        return ZERO_BUCKET
    return math.floor(BUCKETS_PER_DOUBLING * math.log2(seconds))


def bucket_value(bucket: int) -> float:
    """The bucket's geometric middle, in seconds."""
    if bucket <= ZERO_BUCKET:
        return 0.0
    return 2 ** ((bucket + 0.5) / BUCKETS_PER_DOUBLING)


def percentile(histogram: Mapping[int, int], q: float) -> float | None:
    """The nearest-rank q-quantile of the counted values (as its bucket's middle); None when
    nothing was counted."""
    total = sum(n for n in histogram.values() if n > 0)
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += max(histogram[bucket], 0)
        if seen >= rank:
            return bucket_value(bucket)
    return None  # pragma: no cover - the loop reaches the total


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(moment: datetime) -> date:
    return monday(timezone.localdate(moment))


def tidy_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    return text[:REASON_LENGTH] or NO_REASON


@dataclass(frozen=True)
class Facts:
    status: str
    since: datetime
    steps: list[list[Any]]  # [step, week ISO, handyman id (0: none), bucket]
    reasons: list[list[str]]  # [outcome, week ISO, reason]


def _window(inst: Any) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(inst.scheduled_date, inst.window_start), tz)
    end = timezone.make_aware(datetime.combine(inst.scheduled_date, inst.window_end), tz)
    return start, end


def facts_of(inst: Any) -> Facts:
    """What one installation contributes now, from its own stage times: a pure function of the
    row, so the rebuild and the incremental path agree by construction and any change to a time,
    the window or the handyman (override, reschedule, reassign) moves its contribution."""
    handyman = inst.handyman_id or 0
    steps: list[list[Any]] = []

    def add(step: str, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None:
            seconds = max((end - start).total_seconds(), 0.0)
            steps.append([str(step), week_of(end).isoformat(), handyman, bucket_of(seconds)])

    add(Step.CREATED_ASSIGNED, inst.created_at, inst.assigned_at)
    add(Step.ASSIGNED_ARRIVED, inst.assigned_at, inst.arrived_at)
    if inst.arrived_at is not None:
        start, end = _window(inst)
        if inst.arrived_at < start:
            add(Step.ARRIVED_BEFORE, inst.arrived_at, start)
        elif inst.arrived_at > end:
            add(Step.ARRIVED_AFTER, end, inst.arrived_at)
        else:
            add(Step.ARRIVED_INSIDE, inst.arrived_at, inst.arrived_at)
    add(Step.ON_SITE, inst.arrived_at, inst.completed_at)
    add(Step.COMPLETED_SIGNED, inst.completed_at, inst.signed_at)
    add(Step.SIGNED_APPROVED, inst.signed_at, inst.approved_at)

    reasons: list[list[str]] = []
    if inst.status == Status.CANCELLED and inst.cancelled_at is not None:
        reasons.append(
            [
                "cancelled",
                week_of(inst.cancelled_at).isoformat(),
                tidy_reason(inst.cancellation_reason),
            ]
        )
    if inst.status == Status.REJECTED and inst.rejected_at is not None:
        reasons.append(
            ["rejected", week_of(inst.rejected_at).isoformat(), tidy_reason(inst.rejection_reason)]
        )
    return Facts(str(inst.status), waiting_since(inst), steps, reasons)


def waiting_since(inst: Any) -> datetime:
    """Since when the job's wait in its status counts towards "stuck": when it entered the
    status (the stage time the transition stamped), except for a job waiting for its booked
    day. An assigned job counts from its window's start if that is later (booked three weeks
    ahead, it is waiting for its day, not stuck). A job without a handyman counts from a week
    before its window, even if it was created later: the office has until then to find one, so
    a job booked for tomorrow is already days late (and the list, oldest first, puts the
    soonest day at its top). Stored, so that the stuck list stays one index range on
    (partner, status, since) whatever the thresholds; the page never shows this moment as the
    start of a wait for a job without a handyman (it says the booked day instead)."""
    lead = BOOKED_DAY_LEAD.get(inst.status)
    booked = None if lead is None else (_window(inst)[0] - lead).astimezone(UTC)
    if booked is not None and inst.status in BOOKED_DAY_ONLY:
        return booked
    entered = getattr(inst, SINCE_FIELD[inst.status]) or inst.updated_at
    return entered if booked is None else max(entered, booked)


def counted(rows: Iterable[Iterable[Any]]) -> dict[tuple, int]:
    """Rows (lists, as stored in JSON) as a multiset of tuples."""
    out: dict[tuple, int] = {}
    for row in rows:
        key = tuple(row)
        out[key] = out.get(key, 0) + 1
    return out


def difference(new: Iterable, old: Iterable) -> dict[tuple, int]:
    """new − old as a multiset, without the zeros."""
    diff = counted(new)
    for key, n in counted(old).items():
        diff[key] = diff.get(key, 0) - n
    return {key: n for key, n in diff.items() if n}
