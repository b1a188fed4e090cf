"""Every change a partner or handyman can see numbers itself in their scope's change feed."""

from __future__ import annotations

import pytest
from django.db import transaction

from installations import services
from installations.live.models import LiveChange
from installations.live.selectors import handyman_stamp, partner_stamp
from installations.statuses import Status

pytestmark = pytest.mark.django_db


def numbers(*, partner=None, handyman=None) -> list[tuple[int, int]]:
    rows = LiveChange.objects.filter(partner=partner) if partner else LiveChange.objects
    if handyman is not None:
        rows = LiveChange.objects.filter(handyman=handyman)
    return list(rows.order_by("seq").values_list("seq", "installation_id"))


def test_creation_numbers_itself_in_the_partners_feed(cast):
    inst = cast.installation()
    assert numbers(partner=cast.partner) == [(1, inst.pk)]
    assert partner_stamp(cast.partner.pk) == 1


def test_an_assignment_numbers_itself_for_the_partner_and_the_handyman(cast):
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert numbers(partner=cast.partner) == [(1, inst.pk), (2, inst.pk)]
    assert numbers(handyman=cast.handyman) == [(1, inst.pk)]


@pytest.mark.usefixtures("jobs_booked_today")
def test_each_step_of_the_handyman_numbers_itself_in_both_feeds(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    before_p, before_h = partner_stamp(cast.partner.pk), handyman_stamp(cast.handyman.pk)
    services.installation_set_off(installation=inst, eta_minutes=30, actor=cast.handyman.user)
    services.installation_arrive(installation=inst, actor=cast.handyman.user)
    assert partner_stamp(cast.partner.pk) == before_p + 2
    assert handyman_stamp(cast.handyman.pk) == before_h + 2


def test_a_reassignment_tells_the_handyman_who_lost_the_job(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    lost_before = handyman_stamp(cast.handyman.pk)
    services.installation_reassign(
        installation=inst, handyman=cast.other_handyman, actor=cast.partner_user
    )
    assert handyman_stamp(cast.handyman.pk) == lost_before + 1
    assert numbers(handyman=cast.other_handyman) == [(1, inst.pk)]


def test_a_cancellation_by_staff_numbers_itself(cast):
    inst = cast.installation(Status.EN_ROUTE)
    before = partner_stamp(cast.partner.pk)
    services.installation_cancel(installation=inst, reason="Customer moved", actor=cast.staff)
    assert partner_stamp(cast.partner.pk) == before + 1


def test_an_override_numbers_itself_and_tells_a_replaced_handyman(cast):
    inst = cast.installation(Status.CUSTOMER_APPROVED)
    before_p, before_h = partner_stamp(cast.partner.pk), handyman_stamp(cast.handyman.pk)
    services.installation_override(
        installation=inst,
        actor=cast.superuser,
        reason="Wrong handyman recorded",
        changes={"handyman": cast.other_handyman},
    )
    assert partner_stamp(cast.partner.pk) == before_p + 1
    assert handyman_stamp(cast.handyman.pk) == before_h + 1
    assert numbers(handyman=cast.other_handyman) == [(1, inst.pk)]


def test_an_edit_that_writes_no_history_still_numbers_itself(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    before_p, before_h = partner_stamp(cast.partner.pk), handyman_stamp(cast.handyman.pk)
    services.installation_update(installation=inst, actor=cast.partner_user, notes="Gate 1234")
    assert partner_stamp(cast.partner.pk) == before_p + 1
    assert handyman_stamp(cast.handyman.pk) == before_h + 1


def test_a_refused_edit_numbers_nothing(cast):
    inst = cast.installation(Status.CANCELLED)
    before = partner_stamp(cast.partner.pk)
    with pytest.raises(services.TransitionRefused):  # a finished record is locked
        services.installation_update(installation=inst, actor=cast.partner_user, notes="Gate 4")
    assert partner_stamp(cast.partner.pk) == before
    assert LiveChange.objects.filter(partner=cast.partner).count() == before


def test_a_rolled_back_change_leaves_no_gap(cast):
    inst = cast.installation()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
        raise RuntimeError("the request failed after the change")
    services.installation_reject(installation=inst, reason="No access", actor=cast.partner_user)
    assert [seq for seq, _ in numbers(partner=cast.partner)] == [1, 2]


def test_another_partners_changes_never_number_themselves_in_mine(cast):
    mine = cast.installation()
    theirs = cast.installation(Status.EN_ROUTE, partner=cast.other_partner)
    assert numbers(partner=cast.partner) == [(1, mine.pk)]
    assert {pk for _, pk in numbers(partner=cast.other_partner)} == {theirs.pk}


def test_a_scope_keeps_its_last_numbers_and_a_page_older_than_them_is_told_to_reload(
    cast, monkeypatch
):
    from installations.live import services as live_services
    from installations.live.selectors import handyman_changes, partner_changes

    monkeypatch.setattr(live_services, "KEEP", 4)
    monkeypatch.setattr(live_services, "PRUNE_EVERY", 3)
    inst = cast.installation(Status.INSTALLER_ASSIGNED)  # partner numbers 1-2, handyman's 1
    for _ in range(4):  # partner 3-6, handyman 2-5
        live_services.live_record(installation=inst)

    # Number 3 pruned up to -1 (nothing), number 6 pruned what fell out of its last 4: 1 and 2.
    kept = LiveChange.objects.filter(partner=cast.partner).values_list("seq", flat=True)
    assert sorted(kept) == [3, 4, 5, 6]
    mine = LiveChange.objects.filter(handyman=cast.handyman).values_list("seq", flat=True)
    assert sorted(mine) == [1, 2, 3, 4, 5]  # his number 3 deleted nothing older than -1
    # A page drawn at 2 still catches up; one drawn at 1 missed pruned numbers: reload.
    assert not partner_changes(partner_id=cast.partner.pk, since=2).gap
    assert partner_changes(partner_id=cast.partner.pk, since=1).gap
    assert not handyman_changes(handyman_id=cast.handyman.pk, since=0).gap
