"""Rescheduling, conflicts and time off in the service layer (issue 12)."""

from __future__ import annotations

from datetime import date, time, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from installations import services
from installations.errors import TransitionRefused
from installations.models import CustomerActor, Message, StatusChange, TimeOff
from installations.refusals import refusal_sentence
from installations.scheduling import selectors
from installations.scheduling.rules import ScheduleConflict, find_conflicts
from installations.scheduling.services import (
    installation_reschedule,
    time_off_add,
    time_off_remove,
)
from installations.scheduling.text import reschedule_text
from installations.statuses import Status

S = Status


def in_days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


def slot(day: date, start: str, end: str) -> str:
    # Written here with strftime, independently of the code's own formatting; the year only
    # outside this one.
    year = "" if day.year == timezone.localdate().year else f" {day.year}"
    return f"{day:%a} {day.day} {day:%b}{year} {start}–{end}"


def move(inst, actor, day, start=13, end=15, **extra):
    return installation_reschedule(
        installation=inst,
        actor=actor,
        scheduled_date=day,
        window_start=time(start),
        window_end=time(end),
        **extra,
    )


# --- Who and when ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.SCHEDULED, S.INSTALLER_ASSIGNED])
def test_it_moves_an_open_job_and_bumps_the_version(cast, status):
    inst = cast.installation(status)
    version = inst.version
    moved = move(inst, cast.partner_user, in_days(3), expected_version=version)
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.window_start, inst.window_end) == (
        in_days(3),
        time(13),
        time(15),
    )
    assert inst.status == status
    assert inst.version == version + 1 == moved.version
    assert not moved.replayed


@pytest.mark.parametrize(
    "status",
    [
        S.EN_ROUTE,
        S.INSTALLATION_IN_PROGRESS,
        S.INSTALLATION_COMPLETED,
        S.CONTRACT_SENT,
        S.CONTRACT_SIGNED,
        S.CUSTOMER_APPROVED,
        S.CANCELLED,
        S.REJECTED,
    ],
)
def test_it_refuses_once_the_handyman_has_set_off_or_later(cast, status):
    inst = cast.installation(status)
    before = (inst.scheduled_date, inst.version, inst.history.count())
    with pytest.raises(TransitionRefused) as refused:
        move(inst, cast.staff, in_days(3))
    # The scheduling room's and the board's words for it (tests/test_refusals.py).
    assert refused.value.message == refusal_sentence(inst, "reschedule")
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.version, inst.history.count()) == before


def test_staff_may_reschedule(cast):
    inst = cast.installation()
    move(inst, cast.staff, in_days(4))
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(4)


@pytest.mark.parametrize("who", ["other_partner_user", "handyman", "customer"])
def test_it_refuses_anyone_but_the_partner_and_staff(cast, who):
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    actor = {
        "other_partner_user": cast.other_partner_user,
        "handyman": cast.handyman.user,
        "customer": CustomerActor(inst.pk, "Jo"),
    }[who]
    with pytest.raises(TransitionRefused, match="not allowed to reschedule"):
        move(inst, actor, in_days(3))
    inst.refresh_from_db()
    assert inst.version == 2 and inst.scheduled_date == in_days(1)


def test_it_refuses_a_past_date_with_a_sentence(cast):
    inst = cast.installation()
    with pytest.raises(ValidationError) as err:
        move(inst, cast.partner_user, in_days(-1))
    assert "in the past" in err.value.message_dict["scheduled_date"][0]
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1) and inst.history.count() == 1


def _at(hour: int, minute: int = 0):
    """The service's clock set to `hour`:`minute` today (local time)."""
    now = timezone.localtime().replace(hour=hour, minute=minute, second=0, microsecond=0)
    return mock.patch("installations.scheduling.rules.local_now", return_value=now)


def test_it_allows_today(cast):
    inst = cast.installation()
    with _at(8):
        move(inst, cast.partner_user, in_days(0))
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(0)


def test_it_refuses_a_window_that_has_already_ended_today(cast):
    inst = cast.installation()
    version = inst.version
    with _at(15, 30), pytest.raises(ValidationError) as err:
        move(inst, cast.partner_user, in_days(0), start=13, end=15)
    assert err.value.message_dict["window_end"] == [
        "The 13:00–15:00 window has already ended today: choose a later window or another day."
    ]
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.version) == (in_days(1), version)
    # A window still running, or later that day, is fine; so is that window another day.
    with _at(14, 59):
        move(inst, cast.partner_user, in_days(0), start=13, end=15)
    with _at(15, 30):
        move(inst, cast.partner_user, in_days(2), start=13, end=15)
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(2)


def test_a_window_ending_at_this_very_minute_has_already_ended(cast):
    inst = cast.installation()
    with _at(15), pytest.raises(ValidationError) as err:
        move(inst, cast.partner_user, in_days(0), start=13, end=15)
    assert "has already ended today" in err.value.message_dict["window_end"][0]
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1)


def test_it_refuses_a_window_that_does_not_end_after_it_starts(cast):
    inst = cast.installation()
    with pytest.raises(ValidationError) as err:
        move(inst, cast.partner_user, in_days(2), start=13, end=13)
    assert "window_end" in err.value.message_dict
    inst.refresh_from_db()
    assert inst.window_start == time(9)


def test_a_stale_page_is_refused(cast):
    inst = cast.installation()
    services.installation_update(installation=inst, actor=cast.partner_user, notes="x")
    with pytest.raises(TransitionRefused, match="changed this installation a moment ago"):
        move(inst, cast.partner_user, in_days(3), expected_version=1)


# --- History and messages ---------------------------------------------------------------------


def test_it_writes_one_history_entry_with_only_the_changed_fields(cast):
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    move(inst, cast.partner_user, in_days(1), start=13, end=15, reason="Customer at work")
    change = inst.history.order_by("-id").first()
    assert change.kind == StatusChange.Kind.RESCHEDULED
    assert change.from_status == change.to_status == S.INSTALLER_ASSIGNED
    assert change.changes == {"window_start": ["09:00", "13:00"], "window_end": ["11:00", "15:00"]}
    assert change.reason == "Customer at work"
    assert (change.from_version, change.to_version) == (2, 3)
    assert change.actor == cast.partner_user


def test_the_history_sentence_names_both_slots(cast):
    inst = cast.installation()
    move(inst, cast.partner_user, in_days(3), start=13, end=15)
    change = inst.history.get(kind=StatusChange.Kind.RESCHEDULED)
    assert change.changes["scheduled_date"] == [in_days(1).isoformat(), in_days(3).isoformat()]
    assert reschedule_text(change) == (
        f"Rescheduled from {slot(in_days(1), '09:00', '11:00')} "
        f"to {slot(in_days(3), '13:00', '15:00')}"
    )


def test_a_window_only_move_keeps_the_day_in_both_slots(cast):
    inst = cast.installation()
    move(inst, cast.partner_user, in_days(1), start=14, end=16)
    change = inst.history.get(kind=StatusChange.Kind.RESCHEDULED)
    assert reschedule_text(change) == (
        f"Rescheduled from {slot(in_days(1), '09:00', '11:00')} "
        f"to {slot(in_days(1), '14:00', '16:00')}"
    )


def test_a_move_to_another_year_says_the_year_to_the_customer_and_in_the_history(
    cast, settings, django_capture_on_commit_callbacks
):
    # 2030 typed for 2026: "moved from Fri 4 Dec to Wed 4 Dec" read as a move of two days back.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    later = in_days(4 * 365)
    with django_capture_on_commit_callbacks(execute=True):
        move(inst, cast.partner_user, later)
    said = f"{later:%a} {later.day} {later:%b} {later.year} 13:00–15:00"
    sms = Message.objects.get(recipient=inst.customer.phone, channel=Message.Channel.SMS)
    assert f"to {said}." in sms.body
    change = inst.history.get(kind=StatusChange.Kind.RESCHEDULED)
    assert reschedule_text(change).endswith(f"to {said}")


def test_it_tells_the_customer_by_sms_and_email_and_the_handyman(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    with django_capture_on_commit_callbacks(execute=True):
        move(inst, cast.partner_user, in_days(3))
    messages = {(m.recipient, m.channel): m for m in Message.objects.filter(installation=inst)}
    sentence = (
        f"Your installation moved from {slot(in_days(1), '09:00', '11:00')} "
        f"to {slot(in_days(3), '13:00', '15:00')}"
    )
    sms = messages[(inst.customer.phone, Message.Channel.SMS)]
    email = messages[(inst.customer.email, Message.Channel.EMAIL)]
    assert sentence in sms.body and sentence in email.body
    handyman = messages[(cast.handyman.phone, Message.Channel.SMS)]
    assert f"job #{inst.pk}" in handyman.body
    assert slot(in_days(3), "13:00", "15:00") in handyman.body
    assert len(messages) == 3
    # Delivered on commit, through the outbox.
    assert {m.status for m in messages.values()} == {Message.State.SENT}


def test_an_unassigned_job_tells_only_the_customer(cast):
    inst = cast.installation()
    move(inst, cast.partner_user, in_days(3))
    assert set(Message.objects.filter(installation=inst).values_list("recipient", flat=True)) == {
        inst.customer.phone,
        inst.customer.email,
    }


def test_a_refused_move_sends_nothing(cast):
    inst = cast.installation(S.EN_ROUTE)
    sent = Message.objects.count()
    with pytest.raises(TransitionRefused):
        move(inst, cast.partner_user, in_days(3))
    assert Message.objects.count() == sent


# --- Repeats ------------------------------------------------------------------------------------


def test_a_repeat_from_the_same_page_is_answered_as_done(cast):
    inst = cast.installation()
    move(inst, cast.partner_user, in_days(3), expected_version=1)
    again = move(inst, cast.partner_user, in_days(3), expected_version=1)
    assert again.replayed
    assert inst.history.filter(kind=StatusChange.Kind.RESCHEDULED).count() == 1
    assert Message.objects.filter(installation=inst).count() == 2


def test_someone_elses_identical_move_from_an_old_page_is_stale(cast):
    inst = cast.installation()
    move(inst, cast.partner_user, in_days(3), expected_version=1)
    with pytest.raises(TransitionRefused, match="a moment ago"):
        move(inst, cast.staff, in_days(3), expected_version=1)


def test_a_different_move_from_the_same_old_page_is_stale(cast):
    inst = cast.installation()
    move(inst, cast.partner_user, in_days(3), expected_version=1)
    with pytest.raises(TransitionRefused, match="a moment ago"):
        move(inst, cast.partner_user, in_days(4), expected_version=1)


def test_the_same_slot_as_now_changes_nothing(cast):
    inst = cast.installation()
    same = move(inst, cast.partner_user, in_days(1), start=9, end=11, expected_version=1)
    assert same.replayed and same.version == 1
    assert not inst.history.filter(kind=StatusChange.Kind.RESCHEDULED).exists()
    assert not Message.objects.filter(installation=inst).exists()


# --- Conflicts ----------------------------------------------------------------------------------


def test_find_conflicts_returns_overlapping_open_jobs_only(cast):
    day = in_days(2)
    mine = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day)  # 09–11
    touching = cast.installation(
        S.INSTALLER_ASSIGNED, scheduled_date=day, window_start=time(11), window_end=time(12)
    )
    cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day + timedelta(days=1))
    cast.installation(S.INSTALLATION_COMPLETED, scheduled_date=day)
    cast.installation(S.CANCELLED, scheduled_date=day)
    cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day, handyman=cast.other_handyman)
    found = find_conflicts(cast.handyman, day, time(10), time(12), exclude_pk=None)
    assert [j.pk for j in found] == [mine.pk, touching.pk]
    assert find_conflicts(cast.handyman, day, time(8), time(9), exclude_pk=None) == []
    assert find_conflicts(cast.handyman, day, time(9), time(11), exclude_pk=mine.pk) == []


def test_a_window_starting_as_another_ends_is_no_conflict_on_either_side(cast):
    day = in_days(2)
    nine_to_eleven = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day)
    assert find_conflicts(cast.handyman, day, time(11), time(13)) == []  # right after it
    assert find_conflicts(cast.handyman, day, time(7), time(9)) == []  # right before it
    assert find_conflicts(cast.handyman, day, time(10, 59), time(13)) == [nine_to_eleven]
    assert find_conflicts(cast.handyman, day, time(7), time(9, 1)) == [nine_to_eleven]


def test_moving_onto_a_busy_window_raises_a_conflict_naming_the_other_job(cast):
    day = in_days(3)
    other = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day)
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    with pytest.raises(ScheduleConflict) as err:
        move(inst, cast.partner_user, day, start=10, end=12)
    assert err.value.conflicts == [other]
    assert err.value.message == (
        f"{cast.handyman.display_name} already has #{other.pk} {other.customer.name} "
        "09:00–11:00 that day."
    )
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1) and inst.version == 2


def test_a_conflict_with_another_partners_job_names_neither_its_number_nor_its_customer(cast):
    day = in_days(3)
    ours = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day)  # 09–11
    theirs = cast.installation(
        S.INSTALLER_ASSIGNED,
        partner=cast.other_partner,
        scheduled_date=day,
        window_start=time(10),
        window_end=time(12),
    )
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    with pytest.raises(ScheduleConflict) as err:
        move(inst, cast.partner_user, day, start=10, end=12)
    assert err.value.message == (
        f"{cast.handyman.display_name} already has #{ours.pk} {ours.customer.name} "
        "09:00–11:00 and a booking elsewhere 10:00–12:00 that day."
    )
    assert f"#{theirs.pk}" not in err.value.message


def test_a_confirmed_conflict_goes_ahead(cast):
    day = in_days(3)
    cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day)
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    move(inst, cast.partner_user, day, start=10, end=12, confirm_conflict=True)
    inst.refresh_from_db()
    assert inst.scheduled_date == day


def test_an_unassigned_job_has_no_conflicts(cast):
    day = in_days(3)
    cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day)
    inst = cast.installation()
    move(inst, cast.partner_user, day, start=9, end=11)


@pytest.mark.parametrize("action", ["assign", "reassign"])
def test_assigning_onto_a_busy_window_needs_confirmation(cast, action):
    day = in_days(2)
    other = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day, handyman=cast.handyman)
    if action == "assign":
        inst = cast.installation(scheduled_date=day, window_start=time(10), window_end=time(12))
    else:
        inst = cast.installation(
            S.INSTALLER_ASSIGNED,
            scheduled_date=day,
            window_start=time(10),
            window_end=time(12),
            handyman=cast.other_handyman,
        )
    service = getattr(services, f"installation_{action}")
    with pytest.raises(ScheduleConflict) as err:
        service(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert f"#{other.pk}" in err.value.message
    inst.refresh_from_db()
    assert inst.handyman_id != cast.handyman.pk
    done = service(
        installation=inst, handyman=cast.handyman, actor=cast.partner_user, confirm_conflict=True
    )
    assert done.handyman_id == cast.handyman.pk


# --- Time off -----------------------------------------------------------------------------------


def test_moving_onto_the_handymans_day_off_is_refused_naming_the_day(cast):
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    day = in_days(5)
    TimeOff.objects.create(handyman=cast.handyman, day=day)
    with pytest.raises(ValidationError) as err:
        move(inst, cast.partner_user, day, confirm_conflict=True)
    assert f"is off on {day:%a} {day.day} {day:%b}" in err.value.message_dict["scheduled_date"][0]
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1)


@pytest.mark.parametrize("action", ["assign", "reassign"])
def test_assigning_on_a_day_off_is_refused(cast, action):
    day = in_days(2)
    TimeOff.objects.create(handyman=cast.handyman, day=day)
    if action == "assign":
        inst = cast.installation(scheduled_date=day)
    else:
        inst = cast.installation(
            S.INSTALLER_ASSIGNED, scheduled_date=day, handyman=cast.other_handyman
        )
    service = getattr(services, f"installation_{action}")
    with pytest.raises(ValidationError) as err:
        service(
            installation=inst,
            handyman=cast.handyman,
            actor=cast.partner_user,
            confirm_conflict=True,
        )
    assert "is off on" in err.value.message_dict["handyman"][0]
    inst.refresh_from_db()
    assert inst.handyman_id != cast.handyman.pk


def test_a_handyman_adds_a_future_day_once(cast):
    day = in_days(4)
    row, added = time_off_add(handyman=cast.handyman, day=day, actor=cast.handyman.user)
    again, added_again = time_off_add(handyman=cast.handyman, day=day, actor=cast.handyman.user)
    assert added and not added_again and row.pk == again.pk
    assert TimeOff.objects.filter(handyman=cast.handyman).count() == 1


@pytest.mark.parametrize("offset", [0, -1])
def test_it_refuses_today_and_past_days_off_with_a_sentence(cast, offset):
    with pytest.raises(ValidationError) as err:
        time_off_add(handyman=cast.handyman, day=in_days(offset), actor=cast.handyman.user)
    assert "not in the future" in err.value.message_dict["day"][0]
    assert not TimeOff.objects.exists()


def test_only_the_handyman_himself_or_staff_change_his_days_off(cast):
    with pytest.raises(TransitionRefused):
        time_off_add(handyman=cast.handyman, day=in_days(4), actor=cast.other_handyman.user)
    with pytest.raises(TransitionRefused):
        time_off_add(handyman=cast.handyman, day=in_days(4), actor=cast.partner_user)
    _, added = time_off_add(handyman=cast.handyman, day=in_days(4), actor=cast.staff)
    assert added


def test_only_the_handyman_himself_or_staff_give_a_day_off_back(cast):
    day = in_days(4)
    TimeOff.objects.create(handyman=cast.handyman, day=day)
    for someone_else in (cast.other_handyman.user, cast.partner_user):
        with pytest.raises(TransitionRefused):
            time_off_remove(handyman=cast.handyman, day=day, actor=someone_else)
    assert TimeOff.objects.filter(handyman=cast.handyman, day=day).exists()
    assert time_off_remove(handyman=cast.handyman, day=day, actor=cast.handyman.user)


def test_todays_day_off_can_be_given_back_and_yesterdays_stays(cast):
    for day in (in_days(0), in_days(-1)):
        TimeOff.objects.create(handyman=cast.handyman, day=day)
    assert time_off_remove(handyman=cast.handyman, day=in_days(0), actor=cast.handyman.user)
    with pytest.raises(ValidationError):
        time_off_remove(handyman=cast.handyman, day=in_days(-1), actor=cast.handyman.user)
    assert list(TimeOff.objects.values_list("day", flat=True)) == [in_days(-1)]


def test_removing_a_day_twice_is_done_once(cast):
    day = in_days(4)
    time_off_add(handyman=cast.handyman, day=day, actor=cast.handyman.user)
    assert time_off_remove(handyman=cast.handyman, day=day, actor=cast.handyman.user)
    assert not time_off_remove(handyman=cast.handyman, day=day, actor=cast.handyman.user)
    assert not TimeOff.objects.exists()


def test_days_off_selector_reads_a_range_in_one_query(cast, django_assert_num_queries):
    TimeOff.objects.create(handyman=cast.handyman, day=in_days(2))
    TimeOff.objects.create(handyman=cast.other_handyman, day=in_days(3))
    TimeOff.objects.create(handyman=cast.handyman, day=in_days(9))
    with django_assert_num_queries(1):
        found = selectors.days_off(
            [cast.handyman.pk, cast.other_handyman.pk], in_days(1), in_days(7)
        )
    assert found == {(cast.handyman.pk, in_days(2)), (cast.other_handyman.pk, in_days(3))}


def test_jobs_on_days_off_flags_open_jobs_on_newly_blocked_days(cast, django_assert_num_queries):
    day = in_days(3)
    flagged = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day)
    cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day, handyman=cast.other_handyman)
    cast.installation(S.CANCELLED, scheduled_date=day)
    cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=day, partner=cast.other_partner)
    TimeOff.objects.create(handyman=cast.handyman, day=day)
    with django_assert_num_queries(1):
        found = list(selectors.jobs_on_days_off(cast.partner, in_days(0), in_days(7)))
    assert found == [flagged]


def test_a_reschedule_is_announced_to_the_history_followers_in_its_transaction(cast):
    from installations.signals import history_recorded

    seen = []

    def receiver(sender, change, installation, **kwargs):
        seen.append((change.kind, installation.scheduled_date))

    history_recorded.connect(receiver)
    try:
        inst = cast.installation()
        move(inst, cast.partner_user, in_days(3))
    finally:
        history_recorded.disconnect(receiver)
    assert seen[-1] == (StatusChange.Kind.RESCHEDULED, in_days(3))


# --- The board's drop on another handyman's day: one change ---------------------------------------


def test_a_move_with_another_handyman_is_checked_for_him_on_the_new_day(cast):
    day = in_days(3)
    hanas = cast.installation(
        S.INSTALLER_ASSIGNED, handyman=cast.other_handyman, scheduled_date=day
    )
    inst = cast.installation(S.INSTALLER_ASSIGNED)  # Hank's, in_days(1), 09–11
    with pytest.raises(ScheduleConflict) as err:
        move(inst, cast.partner_user, day, 9, 11, handyman=cast.other_handyman, expected_version=2)
    assert err.value.conflicts == [hanas]
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.handyman, inst.version) == (in_days(1), cast.handyman, 2)


def test_a_move_with_another_handyman_ignores_the_old_ones_day_off_and_makes_both_changes(cast):
    day = in_days(3)
    TimeOff.objects.create(handyman=cast.handyman, day=day)
    inst = cast.installation(S.INSTALLER_ASSIGNED)  # Hank's
    moved = move(
        inst, cast.partner_user, day, 9, 11, handyman=cast.other_handyman, expected_version=2
    )
    assert (moved.scheduled_date, moved.handyman, moved.version) == (day, cast.other_handyman, 4)
    kinds = list(inst.history.order_by("id").values_list("kind", "transition"))[-2:]
    assert kinds == [
        (StatusChange.Kind.RESCHEDULED, ""),
        (StatusChange.Kind.TRANSITION, "reassign"),
    ]
    # Hank is not told his old job moved: he no longer has it (the reassignment tells him).
    told = Message.objects.filter(installation=inst, template="rescheduled_handyman")
    assert not told.exists()


def test_a_move_with_the_handyman_who_already_has_it_is_a_plain_move(cast):
    # The board's drop on another day of the same handyman: no reassignment to him again.
    inst = cast.installation(S.INSTALLER_ASSIGNED)  # Hank's
    moved = move(inst, cast.partner_user, in_days(3), handyman=cast.handyman, expected_version=2)
    assert (moved.scheduled_date, moved.handyman, moved.version) == (in_days(3), cast.handyman, 3)
    assert inst.history.order_by("-id").values_list("kind", flat=True)[0] == (
        StatusChange.Kind.RESCHEDULED
    )
    # He keeps the job, so he is told it moved.
    assert Message.objects.filter(installation=inst, template="rescheduled_handyman").exists()


def test_a_confirmed_conflict_with_another_handyman_makes_the_move_and_the_reassignment(cast):
    day = in_days(3)
    theirs = cast.installation(
        S.INSTALLER_ASSIGNED, scheduled_date=day, handyman=cast.other_handyman
    )
    inst = cast.installation(S.INSTALLER_ASSIGNED)  # Hank's
    with pytest.raises(ScheduleConflict):
        move(inst, cast.partner_user, day, 10, 12, handyman=cast.other_handyman, expected_version=2)
    moved = move(
        inst,
        cast.partner_user,
        day,
        10,
        12,
        handyman=cast.other_handyman,
        expected_version=2,
        confirm_conflict=True,
    )
    assert (moved.scheduled_date, moved.window_start, moved.handyman) == (
        day,
        time(10),
        cast.other_handyman,
    )
    theirs.refresh_from_db()
    assert theirs.handyman == cast.other_handyman  # both jobs are his, knowingly


def test_a_move_with_a_handyman_who_cannot_take_it_changes_nothing(cast):
    from tests.factories import HandymanFactory

    stranger = HandymanFactory()
    stranger.partners.add(cast.other_partner)
    inst = cast.installation(S.SCHEDULED)
    with pytest.raises(ValidationError):
        move(inst, cast.partner_user, in_days(3), handyman=stranger, expected_version=1)
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.handyman, inst.version) == (in_days(1), None, 1)
    assert inst.history.count() == 1
