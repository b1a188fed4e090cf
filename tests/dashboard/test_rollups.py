"""The rollups follow every kind of change, and always equal the slow computation and the
rebuild command after random changes through the services."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from installations import services
from installations.dashboard.models import (
    DashboardJob,
    DashboardReasonWeek,
    DashboardStatusDay,
    DashboardStepWeek,
)
from installations.dashboard.rollups import bucket_of, week_of
from installations.statuses import Status

from .helpers import Clock, random_changes, reference, stored, stuck_clocks

S = Status
START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch, START)


def _entered(partner, status) -> int:
    return sum(
        DashboardStatusDay.objects.filter(partner=partner, status=status).values_list(
            "entered", flat=True
        )
    )


def _left(partner, status) -> int:
    return sum(
        DashboardStatusDay.objects.filter(partner=partner, status=status).values_list(
            "left", flat=True
        )
    )


def _steps(partner, step) -> dict:
    rows = DashboardStepWeek.objects.filter(partner=partner, step=step, count__gt=0)
    return {(r.week, r.bucket): r.count for r in rows}


def test_a_creation_counts_an_entry_into_scheduled_on_its_day(cast, clock):
    inst = cast.installation(S.SCHEDULED)
    row = DashboardStatusDay.objects.get(partner=cast.partner, status=S.SCHEDULED)
    assert (row.day, row.entered, row.left) == (timezone.localdate(START), 1, 0)
    job = DashboardJob.objects.get(pk=inst.pk)
    # Booked for tomorrow without a handyman: its wait counts from a week before its window.
    opens = datetime.combine(
        inst.scheduled_date, inst.window_start, timezone.get_current_timezone()
    )
    assert (job.status, job.since) == (S.SCHEDULED, opens - timedelta(days=7))
    assert job.since < inst.created_at


def test_each_transition_moves_one_job_out_of_one_status_into_the_next(cast, clock):
    inst = cast.installation(S.SCHEDULED)
    clock.advance(hours=5)
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert _left(cast.partner, S.SCHEDULED) == 1
    assert _entered(cast.partner, S.INSTALLER_ASSIGNED) == 1
    assert _steps(cast.partner, "created_assigned") == {(week_of(START), bucket_of(5 * 3600)): 1}


def test_a_reassign_that_stays_assigned_counts_no_entry_but_moves_the_assignment_time(cast, clock):
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    clock.advance(hours=30)
    services.installation_reassign(
        installation=inst, handyman=cast.other_handyman, actor=cast.partner_user
    )
    assert _entered(cast.partner, S.INSTALLER_ASSIGNED) == 1
    # The assignment that stands is the one measured, under the handyman who has it.
    assert _steps(cast.partner, "created_assigned") == {(week_of(START), bucket_of(30 * 3600)): 1}
    assert DashboardJob.objects.get(pk=inst.pk).steps == [
        [
            "created_assigned",
            week_of(START).isoformat(),
            cast.other_handyman.pk,
            bucket_of(30 * 3600),
        ]
    ]


def test_a_cancel_counts_the_outcome_and_its_reason_and_ends_the_stuck_clock(cast, clock):
    inst = cast.installation(S.EN_ROUTE)
    clock.advance(days=8)
    services.installation_cancel(installation=inst, reason="  Customer   moved ", actor=cast.staff)
    assert _left(cast.partner, S.EN_ROUTE) == 1
    assert _entered(cast.partner, S.CANCELLED) == 1
    reason = DashboardReasonWeek.objects.get(partner=cast.partner)
    assert (reason.week, reason.outcome, reason.reason, reason.count) == (
        week_of(START + timedelta(days=8)),
        "cancelled",
        "Customer moved",
        1,
    )
    assert DashboardJob.objects.get(pk=inst.pk).status == S.CANCELLED


def test_a_rejection_counts_its_reason(cast, clock):
    cast.installation(S.REJECTED)
    assert DashboardReasonWeek.objects.get(partner=cast.partner).reason == (
        "Outside our service area."
    )
    assert _entered(cast.partner, S.REJECTED) == 1


def test_an_override_of_the_arrival_time_moves_the_flow_times_it_feeds(cast, clock):
    inst = cast.installation(S.EN_ROUTE)
    clock.advance(hours=2)
    inst = services.installation_arrive(installation=inst, actor=cast.handyman.user)
    clock.advance(hours=1)
    inst = services.installation_complete(
        installation=inst,
        photos=[__import__("installations.demo").demo.photo_upload()],
        signature_png=__import__("installations.demo").demo.png_bytes(),
        actor=cast.handyman.user,
    )
    assert _steps(cast.partner, "on_site") == {(week_of(START), bucket_of(3600)): 1}
    flows_before = stored()["entered"]
    services.installation_override(
        installation=inst,
        actor=cast.superuser,
        reason="Arrived earlier, the phone had no signal",
        changes={"arrived_at": inst.arrived_at - timedelta(hours=3)},
    )
    # Time on site is now 4 hours; the old hour is gone, not kept beside it.
    assert _steps(cast.partner, "on_site") == {(week_of(START), bucket_of(4 * 3600)): 1}
    assert stored()["entered"] == flows_before  # an override moves no status
    assert stored() == reference()


def test_an_override_of_the_handyman_moves_the_job_to_the_new_handymans_row(cast, clock):
    inst = cast.installation(S.INSTALLATION_IN_PROGRESS)
    services.installation_override(
        installation=inst,
        actor=cast.superuser,
        reason="Wrong person",
        changes={"handyman": cast.other_handyman},
    )
    handymen = {row[2] for row in DashboardJob.objects.get(pk=inst.pk).steps}
    assert handymen == {cast.other_handyman.pk}
    assert stored() == reference()


def test_an_override_of_a_cancellation_reason_moves_the_count_to_the_new_reason(cast, clock):
    inst = cast.installation(S.CANCELLED)
    services.installation_override(
        installation=inst,
        actor=cast.superuser,
        reason="Typo",
        changes={"cancellation_reason": "Customer moved abroad"},
    )
    assert {
        r.reason: r.count for r in DashboardReasonWeek.objects.filter(partner=cast.partner)
    } == {"Customer moved house.": 0, "Customer moved abroad": 1}


def test_a_failed_change_leaves_the_rollups_as_they_were(cast, clock):
    inst = cast.installation(S.SCHEDULED)
    before = stored(), stuck_clocks()
    with pytest.raises(services.TransitionRefused):
        services.installation_arrive(installation=inst, actor=cast.handyman.user)
    assert (stored(), stuck_clocks()) == before


def test_another_partners_changes_never_touch_this_partners_rollups(cast, clock):
    cast.installation(S.CUSTOMER_APPROVED)
    mine = {k: v for k, v in stored()["steps"].items() if k[0] == cast.partner.pk}
    cast.installation(S.CUSTOMER_APPROVED, partner=cast.other_partner)
    cast.installation(S.CANCELLED, partner=cast.other_partner)
    assert {k: v for k, v in stored()["steps"].items() if k[0] == cast.partner.pk} == mine


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_changes_keep_the_rollups_equal_to_the_history_and_to_the_rebuild(cast, clock, seed):
    done = random_changes(cast, random.Random(seed), clock, n=130)
    # The run exercised the kinds of change that matter (not a vacuous equality).
    assert done["create"] and done["assign"] and done["cancel"] + done["reject"]
    assert done["override"] and done["arrive"] and done["reschedule"]
    incremental = stored()
    clocks = stuck_clocks()
    assert incremental == reference()
    assert incremental["steps"] and incremental["entered"]
    call_command("rebuild_dashboard", verbosity=0)
    assert stored() == incremental
    assert stuck_clocks() == clocks


def test_the_rebuild_of_one_partner_leaves_the_others_alone(cast, clock):
    # Booked for the day it was done: the rebuild reads the record's date as it stands.
    cast.installation(S.CUSTOMER_APPROVED, scheduled_date=timezone.localdate())
    cast.installation(S.CANCELLED, partner=cast.other_partner)
    before = stored()
    DashboardStepWeek.objects.filter(partner=cast.partner).update(count=99)
    services_rebuild = __import__("installations.dashboard.services").dashboard.services
    services_rebuild.dashboard_rebuild(partner_ids=[cast.partner.pk])
    assert stored() == before


def test_the_pipeline_of_past_weeks_is_what_was_open_at_each_weeks_end(cast, clock):
    from installations.dashboard.selectors import period_of, pipeline

    a = cast.installation(S.SCHEDULED)
    b = cast.installation(S.SCHEDULED)
    cast.installation(S.SCHEDULED, partner=cast.other_partner)  # never counted here
    clock.advance(days=7)
    a = services.installation_assign(
        installation=a, handyman=cast.handyman, actor=cast.partner_user
    )
    a = services.installation_set_off(installation=a, eta_minutes=30, actor=cast.handyman.user)
    services.installation_arrive(installation=a, actor=cast.handyman.user)
    clock.advance(days=7)
    services.installation_cancel(installation=b, reason="Moved", actor=cast.staff)
    weeks = pipeline(cast.partner, period_of(3, today=timezone.localdate(clock.now)))
    assert [w.week for w in weeks] == [week_of(START + timedelta(days=7 * k)) for k in range(3)]
    assert [
        (w.groups["scheduled"], w.groups["en_route"], w.groups["in_progress"]) for w in weeks
    ] == [(2, 0, 0), (1, 0, 1), (0, 0, 1)]
    assert [(w.groups["rejected"], w.outcomes["cancelled"]) for w in weeks] == [
        (0, 0),
        (0, 0),
        (1, 1),
    ]


def test_a_reschedule_counts_no_entry_and_the_arrival_is_measured_against_the_new_window(
    cast, clock
):
    from datetime import time

    from installations.scheduling.services import installation_reschedule

    inst = cast.installation(S.INSTALLER_ASSIGNED)  # booked for tomorrow 09:00-11:00
    before = stored()
    tomorrow = timezone.localdate(START) + timedelta(days=1)
    inst = installation_reschedule(
        installation=inst,
        actor=cast.partner_user,
        scheduled_date=tomorrow,
        window_start=time(14),
        window_end=time(16),
        reason="Customer asked",
    )
    assert inst.history.filter(kind="rescheduled").count() == 1
    assert stored() == before  # no status entered, nothing measured yet
    # Set off and arrive at 11:30 the next day: after the old window, before the new one.
    clock.now = datetime(2026, 3, 3, 11, 0, tzinfo=timezone.get_current_timezone())
    inst = services.installation_set_off(
        installation=inst, eta_minutes=30, actor=cast.handyman.user
    )
    clock.advance(minutes=30)
    services.installation_arrive(installation=inst, actor=cast.handyman.user)
    assert _steps(cast.partner, "arrived_before") == {(week_of(START), bucket_of(2.5 * 3600)): 1}
    assert _steps(cast.partner, "arrived_after") == {}
    assert stored() == reference()


def test_a_job_waiting_for_its_day_counts_its_wait_from_it_and_a_reschedule_moves_it(cast, clock):
    """Assigned three weeks ahead: its wait counts from its window's start, not from its
    assignment; moved two days later, from the new window's; the same after a rebuild. Without a
    handyman: from a week before its window. A job that sets off counts from then."""
    from datetime import time

    from installations.scheduling.services import installation_reschedule

    zone = timezone.get_current_timezone()
    day = timezone.localdate(START) + timedelta(days=21)
    waiting = cast.installation(S.SCHEDULED, scheduled_date=day)
    inst = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day)  # 09:00-11:00
    assert stuck_clocks()[inst.pk] == (S.INSTALLER_ASSIGNED, datetime.combine(day, time(9), zone))
    opens = datetime.combine(day, time(9), zone) - timedelta(days=7)
    assert stuck_clocks()[waiting.pk] == (S.SCHEDULED, opens)
    inst = installation_reschedule(
        installation=inst,
        actor=cast.partner_user,
        scheduled_date=day + timedelta(days=2),
        window_start=time(14),
        window_end=time(16),
    )
    moved = datetime.combine(day + timedelta(days=2), time(14), zone)
    assert stuck_clocks()[inst.pk] == (S.INSTALLER_ASSIGNED, moved)
    clocks = stuck_clocks()
    call_command("rebuild_dashboard", verbosity=0)
    assert stuck_clocks() == clocks
    clock.now = moved - timedelta(hours=1)
    inst = services.installation_set_off(
        installation=inst, eta_minutes=30, actor=cast.handyman.user
    )
    assert stuck_clocks()[inst.pk] == (S.EN_ROUTE, clock.now)


@pytest.mark.parametrize(
    ("zone", "approved_utc", "week"),
    [
        # 23:30 on Sunday 28 June in New York is 03:30 on Monday in UTC.
        ("America/New_York", datetime(2026, 6, 29, 3, 30, tzinfo=UTC), date(2026, 6, 22)),
        # 00:30 on Monday 29 June in London (summer time) is 23:30 on Sunday in UTC.
        ("Europe/London", datetime(2026, 6, 28, 23, 30, tzinfo=UTC), date(2026, 6, 29)),
        # The first night of summer time: 23:30 UTC on Sunday 29 March is 00:30 on Monday.
        ("Europe/London", datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30)),
        # The night it ends: 23:30 UTC on Sunday 25 October is 23:30 on Sunday there.
        ("Europe/London", datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 19)),
    ],
)
def test_a_job_approved_near_midnight_counts_in_its_local_week_live_and_rebuilt(
    cast, monkeypatch, settings, zone, approved_utc, week
):
    from installations.dashboard.selectors import period_of, pipeline

    settings.TIME_ZONE = zone
    clock = Clock(monkeypatch, approved_utc - timedelta(days=2))
    inst = cast.installation(S.CONTRACT_SIGNED, scheduled_date=timezone.localdate(clock.now))
    clock.now = approved_utc
    services.installation_approve(installation=inst.pk, actor=cast.customer_of(inst))

    def approved_by_week() -> dict:
        weeks = pipeline(cast.partner, period_of(3, today=week + timedelta(days=9)))
        return {w.week: w.outcomes["approved"] for w in weeks if w.outcomes["approved"]}

    assert approved_by_week() == {week: 1}
    assert DashboardStepWeek.objects.get(partner=cast.partner, step="signed_approved").week == week
    call_command("rebuild_dashboard")
    assert approved_by_week() == {week: 1}
    assert DashboardStepWeek.objects.get(partner=cast.partner, step="signed_approved").week == week
