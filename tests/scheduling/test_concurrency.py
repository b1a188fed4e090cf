"""Rescheduling and time off under real concurrency: threads with their own connections, on both
databases (PostgreSQL: row locks; SQLite: the write lock taken at BEGIN IMMEDIATE)."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from installations.errors import TransitionRefused
from installations.models import Installation, Message, StatusChange, TimeOff
from installations.scheduling.rules import ScheduleConflict
from installations.scheduling.services import installation_reschedule, time_off_add
from installations.statuses import Status
from tests.racing import race

pytestmark = pytest.mark.django_db(transaction=True)


def in_days(n: int):
    return timezone.localdate() + timedelta(days=n)


def test_two_reschedules_from_one_page_make_one_entry(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    seen = inst.version
    actors = [cast.partner_user, cast.staff]
    results = race(
        2,
        lambda i: installation_reschedule(
            installation=inst.pk,
            actor=actors[i],
            scheduled_date=in_days(3 + i),
            window_start=time(14),
            window_end=time(16),
            expected_version=seen,
        ),
    )
    wins = [r for r in results if isinstance(r, Installation)]
    losses = [r for r in results if isinstance(r, TransitionRefused)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert "a moment ago" in losses[0].message
    inst.refresh_from_db()
    assert inst.scheduled_date == wins[0].scheduled_date and inst.version == seen + 1
    assert (
        StatusChange.objects.filter(installation=inst, kind=StatusChange.Kind.RESCHEDULED).count()
        == 1
    )


def test_a_double_submit_racing_itself_is_one_entry_answered_as_done(cast):
    inst = cast.installation(Status.SCHEDULED)
    seen = inst.version
    results = race(
        2,
        lambda i: installation_reschedule(
            installation=inst.pk,
            actor=cast.partner_user,
            scheduled_date=in_days(3),
            window_start=time(14),
            window_end=time(16),
            expected_version=seen,
        ),
    )
    assert all(isinstance(r, Installation) for r in results), results
    assert sum(r.replayed for r in results) == 1
    assert (
        StatusChange.objects.filter(installation=inst, kind=StatusChange.Kind.RESCHEDULED).count()
        == 1
    )
    assert Message.objects.filter(installation=inst, template="rescheduled").count() == 2


def test_adding_one_day_off_twice_at_once_is_one_row(cast):
    results = race(
        2,
        lambda i: time_off_add(handyman=cast.handyman, day=in_days(5), actor=cast.handyman.user),
    )
    assert sorted(added for _, added in results) == [False, True], results
    assert TimeOff.objects.filter(handyman=cast.handyman).count() == 1


def test_two_jobs_moved_onto_one_free_slot_at_once_one_lands_the_other_is_a_conflict(cast):
    a = cast.installation(Status.INSTALLER_ASSIGNED)
    b = cast.installation(Status.INSTALLER_ASSIGNED, window_start=time(13), window_end=time(15))
    results = race(
        2,
        lambda i: installation_reschedule(
            installation=(a, b)[i].pk,
            actor=cast.partner_user,
            scheduled_date=in_days(4),
            window_start=time(14),
            window_end=time(16),
        ),
    )
    moved = [r for r in results if isinstance(r, Installation)]
    conflicts = [r for r in results if isinstance(r, ScheduleConflict)]
    assert len(moved) == 1 and len(conflicts) == 1, results
    assert conflicts[0].conflicts == [moved[0]]
