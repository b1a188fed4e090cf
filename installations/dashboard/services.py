"""Writes of the dashboard: the rollups moved by each history entry (inside the writing
transaction, from receivers.py), their rebuild from the rows, and a partner's thresholds."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..errors import TransitionRefused
from ..models import Installation, Partner, StatusChange, can_partner_or_staff
from ..statuses import NON_TERMINAL_STATUSES
from .models import (
    DashboardJob,
    DashboardReasonWeek,
    DashboardStatusDay,
    DashboardStepHandymanWeek,
    DashboardStepWeek,
    DashboardThresholds,
)
from .rollups import FIELDS, difference, facts_of
from .selectors import DEFAULT_THRESHOLDS

FLOW_KINDS = (StatusChange.Kind.CREATED, StatusChange.Kind.TRANSITION)


def _add(model: type[models.Model], keys: tuple[str, ...], rows: dict[tuple, tuple]) -> None:
    """Add `rows` ({key values: (amounts...)}) to the counters of `model` in ONE statement:
    INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n (SQLite ≥ 3.24 and PostgreSQL), so two
    transactions bumping the same day never lose a count and a new day needs no second query."""
    if not rows:
        return
    opts = model._meta
    amounts = [f.name for f in opts.concrete_fields if f.name not in keys and not f.primary_key]
    qn = connection.ops.quote_name
    table = qn(opts.db_table)
    key_cols = [qn(opts.get_field(k).column) for k in keys]
    amount_cols = [qn(opts.get_field(a).column) for a in amounts]
    one = "(" + ", ".join(["%s"] * (len(keys) + len(amounts))) + ")"
    params: list[Any] = []
    # Sorted, so that two writers touch shared rows in the same order (no deadlock).
    for key in sorted(rows):
        params.extend(
            connection.ops.adapt_datefield_value(v) if isinstance(v, date) else v for v in key
        )
        params.extend(rows[key])
    sql = (
        f"INSERT INTO {table} ({', '.join(key_cols + amount_cols)}) "
        f"VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT ({', '.join(key_cols)}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in amount_cols)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _flows(change: StatusChange, partner_id: int) -> dict[tuple, tuple[int, int]]:
    """The status entries and exits one history entry stands for: creations and transitions
    that change the status (a reassign that stays "assigned", an override or a reschedule
    changes none)."""
    if change.kind not in FLOW_KINDS or change.from_status == change.to_status:
        return {}
    day = timezone.localdate(change.created_at)
    rows = {(partner_id, day, change.to_status): (1, 0)}
    if change.from_status:
        rows[(partner_id, day, change.from_status)] = (0, 1)
    return rows


def _apply_facts(partner_id: int, new_steps: list, old_steps: list, new: list, old: list) -> None:
    step_diff = difference(new_steps, old_steps)
    weekly: dict[tuple, int] = defaultdict(int)
    per_handyman: dict[tuple, int] = defaultdict(int)
    for (step, week, handyman, bucket), n in step_diff.items():
        day = date.fromisoformat(week)
        weekly[(partner_id, day, step, bucket)] += n
        per_handyman[(partner_id, day, handyman, step, bucket)] += n
    _add(DashboardStepWeek, ("partner", "week", "step", "bucket"), _nonzero(weekly))
    _add(
        DashboardStepHandymanWeek,
        ("partner", "week", "handyman_id", "step", "bucket"),
        _nonzero(per_handyman),
    )
    reasons = {
        (partner_id, date.fromisoformat(week), outcome, reason): (n,)
        for (outcome, week, reason), n in difference(new, old).items()
    }
    _add(DashboardReasonWeek, ("partner", "week", "outcome", "reason"), reasons)


def _nonzero(rows: dict[tuple, int]) -> dict[tuple, tuple[int]]:
    return {key: (n,) for key, n in rows.items() if n}


def dashboard_record_change(*, change: StatusChange, installation: Installation) -> None:
    """Move the rollups by one history entry, in its transaction (the row is locked by it).

    Creations and transitions count an entry into the new status (and an exit from the old);
    then the installation's facts are recomputed from the saved row and only the difference
    from what it last contributed is applied: an override of a stage time or of the handyman,
    or a reschedule of an arrived job's window, moves its numbers to where they now belong."""
    partner_id = installation.partner_id
    _add(DashboardStatusDay, ("partner", "day", "status"), _flows(change, partner_id))
    facts = facts_of(installation)
    job = DashboardJob.objects.filter(pk=installation.pk).first()
    old_steps, old_reasons = (job.steps, job.reasons) if job is not None else ([], [])
    _apply_facts(partner_id, facts.steps, old_steps, facts.reasons, old_reasons)
    if job is None:
        DashboardJob.objects.create(
            installation_id=installation.pk,
            partner_id=partner_id,
            status=facts.status,
            since=facts.since,
            steps=facts.steps,
            reasons=facts.reasons,
        )
    elif (job.status, job.since, job.steps, job.reasons) != (
        facts.status,
        facts.since,
        facts.steps,
        facts.reasons,
    ):
        DashboardJob.objects.filter(pk=installation.pk).update(
            partner_id=partner_id,
            status=facts.status,
            since=facts.since,
            steps=facts.steps,
            reasons=facts.reasons,
        )


# --- Rebuild --------------------------------------------------------------------------------


ROLLUPS = (
    DashboardStatusDay,
    DashboardStepWeek,
    DashboardStepHandymanWeek,
    DashboardReasonWeek,
    DashboardJob,
)


def _history_flows(partner_ids: list[int] | None) -> dict[tuple, list[int]]:
    changes = StatusChange.objects.filter(kind__in=FLOW_KINDS).exclude(from_status=F("to_status"))
    if partner_ids is not None:
        changes = changes.filter(installation__partner_id__in=partner_ids)
    changes = changes.annotate(
        partner=F("installation__partner_id"),
        day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()),
    )
    flows: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in changes.values("partner", "day", "to_status").annotate(n=Count("*")).order_by():
        flows[(row["partner"], row["day"], row["to_status"])][0] += row["n"]
    exits = changes.exclude(from_status="")
    for row in exits.values("partner", "day", "from_status").annotate(n=Count("*")).order_by():
        flows[(row["partner"], row["day"], row["from_status"])][1] += row["n"]
    return flows


def dashboard_rebuild(*, partner_ids: list[int] | None = None, batch: int = 5000) -> dict:
    """Recompute every rollup from the rows: status entries and exits from the history, flow
    times, reasons and stuck-job clocks from the installations' stage times. One transaction;
    memory bounded by `batch` rows plus the counters themselves."""
    with transaction.atomic():
        for model in ROLLUPS:
            rows = model.objects.all()
            if partner_ids is not None:
                rows = rows.filter(partner_id__in=partner_ids)
            rows.delete()
        flows = _history_flows(partner_ids)
        DashboardStatusDay.objects.bulk_create(
            (
                DashboardStatusDay(partner_id=p, day=d, status=s, entered=e, left=lf)
                for (p, d, s), (e, lf) in flows.items()
            ),
            batch_size=batch,
        )
        weekly: dict[tuple, int] = defaultdict(int)
        per_handyman: dict[tuple, int] = defaultdict(int)
        reasons: dict[tuple, int] = defaultdict(int)
        jobs = Installation.objects.order_by()
        if partner_ids is not None:
            jobs = jobs.filter(partner_id__in=partner_ids)
        chunk: list[DashboardJob] = []
        n_jobs = 0
        for row in jobs.values(*FIELDS).iterator(chunk_size=batch):
            inst = SimpleNamespace(**row)
            facts = facts_of(inst)
            for step, week, handyman, bucket in facts.steps:
                weekly[(inst.partner_id, week, step, bucket)] += 1
                per_handyman[(inst.partner_id, week, handyman, step, bucket)] += 1
            for outcome, week, reason in facts.reasons:
                reasons[(inst.partner_id, week, outcome, reason)] += 1
            chunk.append(
                DashboardJob(
                    installation_id=inst.pk,
                    partner_id=inst.partner_id,
                    status=facts.status,
                    since=facts.since,
                    steps=facts.steps,
                    reasons=facts.reasons,
                )
            )
            if len(chunk) >= batch:
                DashboardJob.objects.bulk_create(chunk)
                n_jobs += len(chunk)
                chunk = []
        DashboardJob.objects.bulk_create(chunk)
        n_jobs += len(chunk)
        DashboardStepWeek.objects.bulk_create(
            (
                DashboardStepWeek(partner_id=p, week=w, step=s, bucket=b, count=n)
                for (p, w, s, b), n in weekly.items()
            ),
            batch_size=batch,
        )
        DashboardStepHandymanWeek.objects.bulk_create(
            (
                DashboardStepHandymanWeek(
                    partner_id=p, week=w, handyman_id=h, step=s, bucket=b, count=n
                )
                for (p, w, h, s, b), n in per_handyman.items()
            ),
            batch_size=batch,
        )
        DashboardReasonWeek.objects.bulk_create(
            (
                DashboardReasonWeek(partner_id=p, week=w, outcome=o, reason=r, count=n)
                for (p, w, o, r), n in reasons.items()
            ),
            batch_size=batch,
        )
    return {
        "status days": len(flows),
        "jobs": n_jobs,
        "step weeks": len(weekly),
        "step handyman weeks": len(per_handyman),
        "reason weeks": len(reasons),
    }


# --- Stuck-job thresholds -------------------------------------------------------------------

MAX_HOURS = 24 * 365
HOURS_WANTED = f"Give a whole number of hours from 1 to {MAX_HOURS}."


class ThresholdsChanged(TransitionRefused):
    """Someone else saved other thresholds since the page was drawn (`current`: them)."""

    def __init__(self, current: dict[str, int]) -> None:
        super().__init__("Someone else saved other thresholds while you were editing.")
        self.current = current


def dashboard_thresholds_update(
    *,
    partner: Partner,
    actor: Any,
    hours: dict[str, int],
    seen: dict[str, int] | None = None,
) -> DashboardThresholds:
    """Store a partner's stuck-job thresholds (hours per open status). Setting the same values
    again changes nothing, so a repeated form is answered as done. `seen`: the thresholds the
    form's page showed; if someone saved others since, ThresholdsChanged (every hour of the
    page would otherwise be put back over theirs, unseen)."""
    probe = Installation(partner=partner)
    if not can_partner_or_staff(probe, actor):
        raise TransitionRefused("You are not allowed to change this partner's thresholds.")
    errors = {}
    clean: dict[str, int] = {}
    for status, value in hours.items():
        if status not in NON_TERMINAL_STATUSES:
            raise ValueError(f"Not an open status: {status}")
        if not isinstance(value, int) or not 1 <= value <= MAX_HOURS:
            errors[status] = HOURS_WANTED
        else:
            clean[str(status)] = value
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row, created = DashboardThresholds.objects.select_for_update().get_or_create(
            partner=partner, defaults={"hours": clean}
        )
        current = {**DEFAULT_THRESHOLDS, **row.hours} if not created else dict(DEFAULT_THRESHOLDS)
        if seen is not None and seen != current and current != clean:
            raise ThresholdsChanged(current)  # a row created just now goes with the transaction
        if not created and row.hours != clean:
            row.hours = clean
            row.save(update_fields=["hours", "updated_at"])
    return row
