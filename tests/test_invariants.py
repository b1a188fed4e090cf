"""Random actions by random actors through the service layer, with the invariants checked after
every step (Hypothesis stateful testing)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from installations import services
from installations.demo import photo_upload, png_bytes
from installations.models import CustomerActor, Installation, PartnerStatusCount, StatusChange
from installations.statuses import TERMINAL_STATUSES, Status

from .factories import make_installation
from .test_state_machine import EXPECTED_EDGES

ACTIONS = [
    "assign",
    "reassign",
    "reject",
    "set_off",
    "arrive",
    "complete",
    "send_contract",
    "sign",
    "approve",
    "cancel",
    "update",
    "follow_up",
    "rebook",
]
ACTORS = ["acme", "beta", "hank", "hana", "staff", "own_customer", "other_customer"]


def snapshot(inst: Installation) -> tuple:
    return (
        inst.status,
        inst.handyman_id,
        inst.version,
        inst.notes,
        inst.site_address,
        inst.scheduled_date,
        inst.rejection_reason,
        inst.cancellation_reason,
    )


def _owns(cast, inst: Installation, who: str, action: str) -> bool:
    """Whether this actor is entitled to change this record with this action."""
    partner_side = {"acme": cast.partner, "beta": cast.other_partner}
    if who in partner_side:
        return action in {"assign", "reassign", "reject", "update", "follow_up", "rebook"} and (
            partner_side[who] == inst.partner
        )
    if who in {"hank", "hana"}:
        handyman = cast.handyman if who == "hank" else cast.other_handyman
        return action in {"set_off", "arrive", "complete", "send_contract", "follow_up"} and (
            inst.handyman_id == handyman.pk
        )
    if who == "staff":
        return action in {
            "assign",
            "reassign",
            "reject",
            "send_contract",
            "cancel",
            "update",
            "follow_up",
            "rebook",
        }
    if who == "own_customer":
        return action in {"sign", "approve"}
    return False


# Each open status's next step on the happy path, and whose it is.
HAPPY_STEPS = {
    Status.SCHEDULED: ("assign", "partner"),
    Status.INSTALLER_ASSIGNED: ("set_off", "handyman"),
    Status.EN_ROUTE: ("arrive", "handyman"),
    Status.INSTALLATION_IN_PROGRESS: ("complete", "handyman"),
    Status.INSTALLATION_COMPLETED: ("send_contract", "handyman"),
    Status.CONTRACT_SENT: ("sign", "customer"),
    Status.CONTRACT_SIGNED: ("approve", "customer"),
}


class PortalMachine(RuleBasedStateMachine):
    cast: Any = None  # set by the test

    @initialize()
    def create_records(self) -> None:
        c = self.cast
        # Booked for today: "On my way" opens on the job's day (models.its_day_has_come), and a
        # walk of tomorrow's jobs never got past "Installer assigned".
        today = timezone.localdate()
        self.records = [
            make_installation(partner=c.partner, actor=c.partner_user, scheduled_date=today),
            make_installation(partner=c.partner, actor=c.partner_user, scheduled_date=today),
            make_installation(
                partner=c.other_partner, actor=c.other_partner_user, scheduled_date=today
            ),
        ]
        self.finished: dict[int, tuple] = {}

    def _actor(self, who: str, inst: Installation) -> Any:
        c = self.cast
        return {
            "acme": c.partner_user,
            "beta": c.other_partner_user,
            "hank": c.handyman.user,
            "hana": c.other_handyman.user,
            "staff": c.staff,
            "own_customer": CustomerActor(inst.pk, inst.customer.name),
            "other_customer": CustomerActor(inst.pk + 10_000, "Someone else"),
        }[who]

    def _do(self, action: str, inst: Installation, actor: Any, pick: int) -> None:
        c = self.cast
        handymen = [c.handyman, c.other_handyman]
        today = inst.scheduled_date
        calls = {
            "assign": lambda: services.installation_assign(
                installation=inst.pk, handyman=handymen[pick % 2], actor=actor
            ),
            "reassign": lambda: services.installation_reassign(
                installation=inst.pk, handyman=handymen[pick % 2], actor=actor
            ),
            "reject": lambda: services.installation_reject(
                installation=inst.pk, reason="No stock", actor=actor
            ),
            "cancel": lambda: services.installation_cancel(
                installation=inst.pk, reason="Moved", actor=actor
            ),
            "set_off": lambda: services.installation_set_off(
                installation=inst.pk, eta_minutes=15 * (1 + pick % 4), actor=actor
            ),
            "arrive": lambda: services.installation_arrive(installation=inst.pk, actor=actor),
            "complete": lambda: services.installation_complete(
                installation=inst.pk,
                photos=[photo_upload()],
                signature_png=png_bytes(),
                actor=actor,
            ),
            "send_contract": lambda: services.installation_send_contract(
                installation=inst.pk, actor=actor
            ),
            "sign": lambda: services.installation_sign(
                installation=inst.pk,
                name="Jo",
                signature_png=png_bytes(),
                ip="10.0.0.1",
                actor=actor,
            ),
            "approve": lambda: services.installation_approve(installation=inst.pk, actor=actor),
            "update": lambda: services.installation_update(
                installation=inst.pk, actor=actor, notes=f"note {pick}"
            ),
            "follow_up": lambda: services.installation_book_follow_up(
                installation=inst.pk, actor=actor
            ),
            "rebook": lambda: services.installation_rebook(
                installation=inst.pk, actor=actor, scheduled_date=today
            ),
        }
        created = calls[action]()
        if action in ("follow_up", "rebook") and isinstance(created, Installation):
            self.records.append(created)

    @rule(
        index=st.integers(0, 50),
        who=st.sampled_from(ACTORS),
        action=st.sampled_from(ACTIONS),
        pick=st.integers(0, 3),
    )
    def act(self, index: int, who: str, action: str, pick: int) -> None:
        inst = Installation.objects.get(pk=self.records[index % len(self.records)].pk)
        self._attempt(inst, who, action, pick)

    @rule(index=st.integers(0, 50), pick=st.integers(0, 3))
    def advance(self, index: int, pick: int) -> None:
        """The next step of the happy path, by the one person who may take it. Random actors and
        actions alone never got a record past "Installer assigned" (no "On my way" in any walk),
        so the field and customer steps were never mixed with the rest."""
        inst = Installation.objects.get(pk=self.records[index % len(self.records)].pk)
        step = HAPPY_STEPS.get(inst.status)
        if step is None:
            return
        action, role = step
        if role == "partner":
            who = "acme" if inst.partner_id == self.cast.partner.pk else "beta"
        elif role == "handyman":
            who = "hank" if inst.handyman_id == self.cast.handyman.pk else "hana"
        else:
            who = "own_customer"
        self._attempt(inst, who, action, pick)

    def _attempt(self, inst: Installation, who: str, action: str, pick: int) -> None:
        before = snapshot(inst)
        records_before = Installation.objects.count()
        actor = self._actor(who, inst)
        try:
            self._do(action, inst, actor, pick)
            succeeded = True
        except (services.TransitionRefused, ValidationError):
            succeeded = False
        inst.refresh_from_db()
        changed = snapshot(inst) != before or Installation.objects.count() != records_before
        if changed:
            assert succeeded
            assert _owns(self.cast, inst, who, action), (who, action, before, snapshot(inst))
        if not succeeded:
            assert snapshot(inst) == before

    def _mine(self):
        return Installation.objects.filter(pk__in=[r.pk for r in self.records])

    @invariant()
    def statuses_are_the_ten(self) -> None:
        for inst in self._mine():
            assert inst.status in Status.values

    @invariant()
    def history_replays_through_allowed_edges(self) -> None:
        for inst in self._mine().prefetch_related("history"):
            entries = [e for e in inst.history.all() if e.kind != "override"]
            assert entries[0].kind == "created" and entries[0].to_status == Status.SCHEDULED
            state = Status.SCHEDULED
            for entry in entries[1:]:
                assert (entry.from_status, entry.to_status, entry.transition) in EXPECTED_EDGES
                assert entry.from_status == state
                state = entry.to_status
            assert state == inst.status

    @invariant()
    def finished_records_never_change(self) -> None:
        for inst in self._mine().filter(status__in=TERMINAL_STATUSES):
            snap = snapshot(inst)
            assert self.finished.setdefault(inst.pk, snap) == snap

    @invariant()
    def group_counts_add_up_to_the_total(self) -> None:
        real = {
            (row["partner_id"], row["status"]): row["n"]
            for row in Installation.objects.values("partner_id", "status").annotate(n=Count("*"))
        }
        counted = {
            (c.partner_id, c.status): c.count
            for c in PartnerStatusCount.objects.filter(count__gt=0)
        }
        assert counted == real
        for partner in (self.cast.partner, self.cast.other_partner):
            from installations.selectors import group_counts

            total = sum(g.count for g in group_counts(partner))
            assert total == Installation.objects.filter(partner=partner).count()


@pytest.mark.django_db
def test_random_use_keeps_every_invariant(cast):
    PortalMachine.cast = cast
    runner = PortalMachine.TestCase
    runner.settings = settings(
        max_examples=15,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    runner().runTest()
    # The random walk really moved records on, not only got refused.
    assert Installation.objects.exclude(status=Status.SCHEDULED).exists()
    assert Installation.objects.filter(status__in=TERMINAL_STATUSES).exists()
    # And through the field and customer steps to the end of the happy path.
    assert StatusChange.objects.filter(transition="set_off").exists()
    assert Installation.objects.filter(status=Status.CUSTOMER_APPROVED).exists()
