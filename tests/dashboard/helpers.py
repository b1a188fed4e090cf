"""A settable clock, random changes through the real services, and the dashboard's numbers
computed the slow, obvious way from the history and the installations' own stage times."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from installations import services
from installations.dashboard.models import (
    DashboardJob,
    DashboardReasonWeek,
    DashboardStatusDay,
    DashboardStepHandymanWeek,
    DashboardStepWeek,
)
from installations.dashboard.rollups import bucket_of, week_of
from installations.demo import photo_upload, png_bytes
from installations.models import (
    CustomerActor,
    Installation,
    InstallationPhoto,
    StatusChange,
)
from installations.scheduling.services import installation_reschedule
from installations.statuses import Status

S = Status


class Clock:
    """`timezone.now()` and the models' `default=timezone.now`, moved by hand."""

    def __init__(self, monkeypatch, start: datetime) -> None:
        self.now = start
        monkeypatch.setattr(timezone, "now", self)
        for model, name in (
            (Installation, "created_at"),
            (Installation, "updated_at"),
            (StatusChange, "created_at"),
            (InstallationPhoto, "created_at"),
        ):
            monkeypatch.setattr(model._meta.get_field(name), "_get_default", self)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def made_in_the_past(cast, status, *, days_ago: float, booked_for: date) -> Installation:
    """A job created (and walked to `status`) `days_ago` days ago, booked for `booked_for`
    09:00-11:00, still in `status` (the real clock runs again afterwards)."""
    with pytest.MonkeyPatch.context() as patch:
        Clock(patch, timezone.now() - timedelta(days=days_ago))
        return cast.installation(
            status, scheduled_date=booked_for, window_start=time(9), window_end=time(11)
        )


# --- The slow, obvious computation --------------------------------------------------------------


def reference() -> dict[str, Counter]:
    """What the rollups must hold, without their code: status entries and exits from every
    history entry, flow times and reasons straight from each installation's stage times."""
    entered: Counter = Counter()
    left: Counter = Counter()
    for change in StatusChange.objects.select_related("installation"):
        if change.kind not in ("created", "transition") or change.from_status == change.to_status:
            continue
        day = timezone.localdate(change.created_at)
        entered[(change.installation.partner_id, day, change.to_status)] += 1
        if change.from_status:
            left[(change.installation.partner_id, day, change.from_status)] += 1
    steps: Counter = Counter()
    per_handyman: Counter = Counter()
    reasons: Counter = Counter()
    tz = timezone.get_current_timezone()
    for inst in Installation.objects.all():
        measured = []
        pairs = {
            "created_assigned": (inst.created_at, inst.assigned_at),
            "assigned_arrived": (inst.assigned_at, inst.arrived_at),
            "on_site": (inst.arrived_at, inst.completed_at),
            "completed_signed": (inst.completed_at, inst.signed_at),
            "signed_approved": (inst.signed_at, inst.approved_at),
        }
        for step, (a, b) in pairs.items():
            if a and b:
                measured.append((step, b, (b - a).total_seconds()))
        if inst.arrived_at:
            opens = datetime.combine(inst.scheduled_date, inst.window_start, tz)
            closes = datetime.combine(inst.scheduled_date, inst.window_end, tz)
            if inst.arrived_at < opens:
                measured.append(
                    ("arrived_before", opens, (opens - inst.arrived_at).total_seconds())
                )
            elif inst.arrived_at > closes:
                measured.append(
                    ("arrived_after", inst.arrived_at, (inst.arrived_at - closes).total_seconds())
                )
            else:
                measured.append(("arrived_inside", inst.arrived_at, 0))
        for step, end, seconds in measured:
            bucket = bucket_of(max(seconds, 0))
            steps[(inst.partner_id, week_of(end), step, bucket)] += 1
            per_handyman[(inst.partner_id, week_of(end), inst.handyman_id or 0, step, bucket)] += 1
        if inst.status == S.CANCELLED:
            text = " ".join(inst.cancellation_reason.split()) or "(no reason given)"
            reasons[(inst.partner_id, week_of(inst.cancelled_at), "cancelled", text)] += 1
        if inst.status == S.REJECTED:
            text = " ".join(inst.rejection_reason.split()) or "(no reason given)"
            reasons[(inst.partner_id, week_of(inst.rejected_at), "rejected", text)] += 1
    return {
        "entered": entered,
        "left": left,
        "steps": steps,
        "per_handyman": per_handyman,
        "reasons": reasons,
    }


def stored() -> dict[str, Counter]:
    """The rollups as stored, zero rows left out (a count that went back to 0 stays a row)."""

    def nonzero(pairs) -> Counter:
        return Counter({key: n for key, n in pairs if n})

    days = list(DashboardStatusDay.objects.all())
    return {
        "entered": nonzero(((r.partner_id, r.day, r.status), r.entered) for r in days),
        "left": nonzero(((r.partner_id, r.day, r.status), r.left) for r in days),
        "steps": nonzero(
            ((r.partner_id, r.week, r.step, r.bucket), r.count)
            for r in DashboardStepWeek.objects.all()
        ),
        "per_handyman": nonzero(
            ((r.partner_id, r.week, r.handyman_id, r.step, r.bucket), r.count)
            for r in DashboardStepHandymanWeek.objects.all()
        ),
        "reasons": nonzero(
            ((r.partner_id, r.week, r.outcome, r.reason), r.count)
            for r in DashboardReasonWeek.objects.all()
        ),
    }


def stuck_clocks() -> dict[int, tuple[str, datetime]]:
    return {j.pk: (j.status, j.since) for j in DashboardJob.objects.all()}


# --- Random changes through the services ------------------------------------------------------


NEXT = {
    S.SCHEDULED: "assign",
    S.INSTALLER_ASSIGNED: "set_off",
    S.EN_ROUTE: "arrive",
    S.INSTALLATION_IN_PROGRESS: "complete",
    S.INSTALLATION_COMPLETED: "send_contract",
    S.CONTRACT_SENT: "sign",
    S.CONTRACT_SIGNED: "approve",
}
REASONS = ["Customer moved house.", "Outside our service area.", "  Duplicate   booking ", ""]


def random_changes(cast, rnd: random.Random, clock: Clock, n: int) -> Counter:
    """n random changes by the people allowed to make them; refused ones are part of life (they
    must change nothing). Returns how many of each kind went through."""
    done: Counter = Counter()
    partners = [(cast.partner, cast.partner_user), (cast.other_partner, cast.other_partner_user)]
    handymen = [cast.handyman, cast.other_handyman]
    jobs: list[Installation] = []
    for _ in range(n):
        clock.advance(minutes=rnd.choice([5, 40, 180, 60 * 20, 60 * 24 * 3]))
        if not jobs or rnd.random() < 0.2:
            from tests.factories import make_installation

            partner, user = rnd.choice(partners)
            jobs.append(
                make_installation(
                    partner=partner,
                    actor=user,
                    scheduled_date=timezone.localdate() + timedelta(days=rnd.randint(0, 9)),
                    window_start=time(rnd.choice([8, 10, 13])),
                    window_end=time(rnd.choice([14, 16])),
                )
            )
            done["create"] += 1
            continue
        inst = Installation.objects.get(pk=rnd.choice(jobs).pk)
        moves = _moves(cast, inst, rnd, handymen)
        # Mostly the job's next step (so jobs get far), sometimes anything (refusals included).
        natural = NEXT.get(inst.status)
        name = natural if natural and rnd.random() < 0.6 else rnd.choice(sorted(moves))
        move = (name, moves[name])
        try:
            move[1]()
        except Exception as exc:  # refused: must have changed nothing
            from django.core.exceptions import ValidationError

            from installations.errors import TransitionRefused

            if not isinstance(exc, TransitionRefused | ValidationError):
                raise
            continue
        done[move[0]] += 1
    return done


def _moves(cast, inst: Installation, rnd: random.Random, handymen: list) -> dict:
    """Every kind of change, ready to try on `inst` by whoever may make it."""
    user = cast.partner_user if inst.partner_id == cast.partner.pk else cast.other_partner_user
    who = inst.handyman or handymen[0]
    customer = CustomerActor(inst.pk, inst.customer.name)
    return {
        "assign": lambda i=inst: services.installation_assign(
            installation=i, handyman=rnd.choice(handymen), actor=user
        ),
        "reassign": lambda i=inst: services.installation_reassign(
            installation=i, handyman=rnd.choice(handymen), actor=user
        ),
        "set_off": lambda i=inst: services.installation_set_off(
            installation=i, eta_minutes=30, actor=who.user
        ),
        "arrive": lambda i=inst: services.installation_arrive(installation=i, actor=who.user),
        "complete": lambda i=inst: services.installation_complete(
            installation=i,
            photos=[photo_upload()],
            signature_png=png_bytes(),
            actor=who.user,
        ),
        "send_contract": lambda i=inst: services.installation_send_contract(
            installation=i, actor=who.user
        ),
        "sign": lambda i=inst: services.installation_sign(
            installation=i,
            name="Jo",
            signature_png=b"",
            typed=True,
            ip=None,
            actor=customer,
        ),
        "approve": lambda i=inst: services.installation_approve(installation=i, actor=customer),
        "cancel": lambda i=inst: services.installation_cancel(
            installation=i, reason=rnd.choice(REASONS) or "x", actor=cast.staff
        ),
        "reject": lambda i=inst: services.installation_reject(
            installation=i, reason=rnd.choice(REASONS) or "y", actor=user
        ),
        "override": lambda i=inst: services.installation_override(
            installation=i,
            actor=cast.superuser,
            reason="Corrected",
            changes=_override(i, rnd, handymen),
        ),
        "reschedule": lambda i=inst: _reschedule(i, rnd, user),
    }


def _reschedule(inst: Installation, rnd: random.Random, actor) -> Installation:
    start = rnd.choice([8, 10, 13])
    return installation_reschedule(
        installation=inst,
        actor=actor,
        scheduled_date=timezone.localdate() + timedelta(days=rnd.randint(0, 6)),
        window_start=time(start),
        window_end=time(start + rnd.choice([1, 2, 4])),
        reason=rnd.choice(["", "Customer asked"]),
        confirm_conflict=True,
    )


def _override(inst: Installation, rnd: random.Random, handymen: list) -> dict[str, Any]:
    choice = rnd.choice(
        ["arrived_at", "handyman", "cancellation_reason", "completed_at", "created_at"]
    )
    if choice == "handyman":
        return {"handyman": rnd.choice(handymen)}
    if choice == "cancellation_reason":
        return {"cancellation_reason": rnd.choice(REASONS[:3])}
    value = getattr(inst, choice)
    if value is None:
        return {"notes": f"Corrected {rnd.random()}"}
    return {choice: value - timedelta(minutes=rnd.choice([30, 90, 600]))}


def populate(cast, clock: Clock, rnd: random.Random, weeks: int = 12) -> int:
    """A believable quarter for the partner, through the services with the clock moved: jobs
    booked every week, assigned, visited around their window, signed and approved after a
    while; some cancelled or rejected with reasons, the latest still open. Returns the count."""
    end = clock.now
    made = 0
    handymen = [cast.handyman, cast.other_handyman]
    for week in range(weeks, -1, -1):
        for _ in range(rnd.randint(4, 8)):
            clock.now = end - timedelta(weeks=week, hours=rnd.randint(0, 150))
            if clock.now >= end:
                continue
            start = time(rnd.choice([8, 10, 13]))
            day = timezone.localdate(clock.now) + timedelta(days=rnd.randint(1, 4))
            inst = _populate_one(cast, clock, rnd, end, day, start, rnd.choice(handymen))
            made += inst is not None
    clock.now = end
    return made


def _populate_one(cast, clock: Clock, rnd, end, day, start, handyman) -> Installation | None:
    from tests.factories import make_installation

    inst = make_installation(
        partner=cast.partner,
        actor=cast.partner_user,
        scheduled_date=day,
        window_start=start,
        window_end=time(start.hour + 2),
    )
    fate = rnd.random()
    if fate < 0.07:
        clock.advance(hours=rnd.randint(1, 30))
        if clock.now < end:
            services.installation_reject(
                installation=inst, reason=rnd.choice(REJECTIONS), actor=cast.partner_user
            )
        return inst
    clock.advance(hours=rnd.uniform(1, 40))
    if clock.now >= end:
        return inst
    inst = services.installation_assign(
        installation=inst, handyman=handyman, actor=cast.partner_user
    )
    if fate < 0.15:
        clock.advance(hours=rnd.randint(2, 30))
        if clock.now < end:
            services.installation_cancel(
                installation=inst, reason=rnd.choice(CANCELLATIONS), actor=cast.staff
            )
        return inst
    if fate < 0.3:  # some wait for a handyman to set off: the oldest show as stuck
        return inst
    window = datetime.combine(day, start, timezone.get_current_timezone())
    steps = [
        (window - timedelta(minutes=rnd.randint(-60, 80)), "set_off"),
        (None, "arrive"),
        (None, "complete"),
        (None, "send_contract"),
        (None, "sign"),
        (None, "approve"),
    ]
    gaps = {
        "arrive": lambda: timedelta(minutes=rnd.randint(15, 70)),
        "complete": lambda: timedelta(minutes=rnd.randint(50, 300)),
        "send_contract": lambda: timedelta(minutes=rnd.randint(1, 20)),
        "sign": lambda: timedelta(hours=rnd.lognormvariate(1.5, 1.2)),
        "approve": lambda: timedelta(hours=rnd.lognormvariate(1, 1.3)),
    }
    customer = CustomerActor(inst.pk, inst.customer.name)
    for at, step in steps:
        # Never before the step that came first (a late assignment sets off at once).
        clock.now = max(at, clock.now + timedelta(minutes=10)) if at else clock.now + gaps[step]()
        if clock.now >= end:
            break
        if step == "set_off":
            inst = services.installation_set_off(
                installation=inst, eta_minutes=30, actor=handyman.user
            )
        elif step == "arrive":
            inst = services.installation_arrive(installation=inst, actor=handyman.user)
        elif step == "complete":
            inst = services.installation_complete(
                installation=inst,
                photos=[photo_upload()],
                signature_png=png_bytes(),
                actor=handyman.user,
            )
        elif step == "send_contract":
            inst = services.installation_send_contract(installation=inst, actor=handyman.user)
        elif step == "sign":
            inst = services.installation_sign(
                installation=inst, name="Jo", signature_png=b"", typed=True, ip=None, actor=customer
            )
        else:
            inst = services.installation_approve(installation=inst, actor=customer)
    return inst


REJECTIONS = ["Outside our service area.", "Outside our service area.", "Wrong appliance ordered."]
CANCELLATIONS = [
    "Customer moved house.",
    "Customer cancelled by phone.",
    "Customer cancelled by phone.",
]
