"""Two people acting at once: real threads, separate connections, one winner, on both databases
(PostgreSQL: the row lock; SQLite: the write lock taken at BEGIN IMMEDIATE)."""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import time, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from installations import services
from installations.models import Installation, StatusChange
from installations.statuses import Status
from tests.racing import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.postgres
def test_the_database_is_postgresql():
    assert connection.vendor == "postgresql"


def test_two_concurrent_assigns_exactly_one_wins(cast):
    inst = cast.installation(Status.SCHEDULED)
    handymen = [cast.handyman, cast.other_handyman]
    results = race(
        2,
        lambda i: services.installation_assign(
            installation=inst.pk,
            handyman=handymen[i],
            actor=cast.partner_user,
            expected_version=inst.version,
        ),
    )
    wins = [r for r in results if isinstance(r, Installation)]
    losses = [r for r in results if isinstance(r, services.TransitionRefused)]
    assert len(wins) == 1 and len(losses) == 1, results
    inst.refresh_from_db()
    assert inst.status == Status.INSTALLER_ASSIGNED and inst.handyman == wins[0].handyman
    assert StatusChange.objects.filter(installation=inst, transition="assign").count() == 1


def test_a_double_click_racing_itself_is_one_change_answered_as_done_twice(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    seen = inst.version
    results = race(
        2,
        lambda i: services.installation_reassign(
            installation=inst.pk,
            handyman=cast.other_handyman,
            actor=cast.partner_user,
            expected_version=seen,
        ),
    )
    # Same person, same page, same arguments: the second finds its own change and is answered
    # with the record as it now is, not as someone else's conflict.
    assert all(isinstance(r, Installation) for r in results), results
    assert sorted(r.replayed for r in results) == [False, True]
    assert {r.version for r in results} == {seen + 1}
    assert StatusChange.objects.filter(installation=inst, transition="reassign").count() == 1


def test_the_same_change_by_two_people_at_once_is_one_change_and_one_conflict(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    seen = inst.version
    actors = [cast.partner_user, cast.staff]
    results = race(
        2,
        lambda i: services.installation_reassign(
            installation=inst.pk,
            handyman=cast.other_handyman,
            actor=actors[i],
            expected_version=seen,
        ),
    )
    assert sum(isinstance(r, Installation) for r in results) == 1, results
    assert sum(isinstance(r, services.TransitionRefused) for r in results) == 1, results


def test_fifty_threads_race_the_same_transition_and_exactly_one_wins(cast, jobs_booked_today):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    results = race(
        50,
        lambda i: services.installation_set_off(
            installation=inst.pk, eta_minutes=30, actor=cast.handyman.user
        ),
    )
    wins = [r for r in results if isinstance(r, Installation)]
    refused = [r for r in results if isinstance(r, services.TransitionRefused)]
    assert len(wins) == 1, results
    assert len(refused) == 49, [r for r in results if not isinstance(r, Installation)]
    inst.refresh_from_db()
    assert inst.status == Status.EN_ROUTE
    assert StatusChange.objects.filter(installation=inst, transition="set_off").count() == 1


def outcome(inst: Installation) -> tuple:
    inst.refresh_from_db()
    return (
        inst.status,
        inst.handyman_id,
        tuple(
            inst.history.exclude(kind="created").order_by("id").values_list("transition", flat=True)
        ),
    )


def serial_outcomes(cast, start_status: str, actions) -> set[tuple]:
    outcomes = set()
    for order in (actions, actions[::-1]):
        inst = cast.installation(start_status)
        for action in order:
            with contextlib.suppress(Exception):  # a refusal is part of the outcome
                action(inst.pk)
        outcomes.add(outcome(inst))
    return outcomes


@pytest.mark.parametrize("scenario", ["assign_vs_reject", "reassign_vs_set_off"])
def test_racing_different_transitions_ends_as_one_serial_order_would(
    cast, scenario, jobs_booked_today
):
    if scenario == "assign_vs_reject":
        start = Status.SCHEDULED
        actions = [
            lambda pk: services.installation_assign(
                installation=pk, handyman=cast.handyman, actor=cast.partner_user
            ),
            lambda pk: services.installation_reject(
                installation=pk, reason="No stock", actor=cast.partner_user
            ),
        ]
    else:
        start = Status.INSTALLER_ASSIGNED  # assigned to hank
        actions = [
            lambda pk: services.installation_reassign(
                installation=pk, handyman=cast.other_handyman, actor=cast.partner_user
            ),
            lambda pk: services.installation_set_off(
                installation=pk, eta_minutes=15, actor=cast.handyman.user
            ),
        ]
    expected = serial_outcomes(cast, start, actions)
    # Each action wins in one of the serial orders: a race of two refusals would prove nothing.
    for transition in ("assign", "reject") if scenario == "assign_vs_reject" else ("set_off",):
        assert any(transition in steps for _, _, steps in expected), expected
    for _ in range(3):
        inst = cast.installation(start)
        race(2, lambda i, pk=inst.pk: actions[i](pk))
        got = outcome(inst)
        # The handyman is the same object in every run, so outcomes compare directly.
        assert got in expected, (got, expected)


def test_two_taps_at_once_on_book_follow_up_book_one_visit(cast):
    parent = cast.installation(Status.INSTALLATION_IN_PROGRESS, handyman=cast.handyman)
    results = race(
        8,
        lambda i: services.installation_ensure_follow_up(
            installation=parent.pk, actor=cast.handyman.user
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(booked for _, booked in results) == [False] * 7 + [True]
    assert len({child.pk for child, _ in results}) == 1
    assert parent.follow_ups.count() == 1


# --- One record per form token (issue 11, 21.7) --------------------------------------------------


def _one_record(results: list[object]) -> Installation:
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.pk for r in results}) == 1, results
    assert sorted(r.replayed for r in results) == [False] + [True] * (len(results) - 1)
    return results[0]


def test_racing_rebooks_of_one_form_create_one_copy(cast):
    old = cast.installation(Status.CANCELLED)
    token = uuid.uuid4()
    day = timezone.localdate() + timedelta(days=2)
    results = race(
        8,
        lambda i: services.installation_rebook(
            installation=old.pk, actor=cast.partner_user, scheduled_date=day, token=token
        ),
    )
    _one_record(results)
    assert old.rebookings.count() == 1


def test_racing_follow_ups_of_one_form_book_one_visit(cast):
    parent = cast.installation(Status.INSTALLATION_COMPLETED)
    token = uuid.uuid4()
    day = timezone.localdate() + timedelta(days=2)
    results = race(
        8,
        lambda i: services.installation_book_follow_up(
            installation=parent.pk, actor=cast.partner_user, scheduled_date=day, token=token
        ),
    )
    _one_record(results)
    assert parent.follow_ups.count() == 1


def test_racing_new_installation_forms_create_one_record_and_one_customer(cast):
    from installations.models import Customer

    token = uuid.uuid4()
    day = timezone.localdate() + timedelta(days=2)
    results = race(
        8,
        lambda i: services.installation_schedule(
            partner=cast.partner,
            customer=None,
            new_customer={"name": "Jo Race", "phone": "", "email": ""},
            site_address="1 Race Road",
            scheduled_date=day,
            window_start=time(8),
            window_end=time(10),
            actor=cast.partner_user,
            token=token,
        ),
    )
    created = _one_record(results)
    assert Installation.objects.filter(creation_token=token).get().pk == created.pk
    assert Customer.objects.filter(name="Jo Race").count() == 1


def test_twenty_sequential_replays_create_one_record(cast):
    old = cast.installation(Status.REJECTED)
    token = uuid.uuid4()
    day = timezone.localdate() + timedelta(days=2)
    results = [
        services.installation_rebook(
            installation=old.pk, actor=cast.partner_user, scheduled_date=day, token=token
        )
        for _ in range(20)
    ]
    _one_record(results)


@pytest.mark.parametrize("before", ["nothing", "a send refused for its errors"])
def test_racing_sends_of_one_admin_add_form_add_one_row_and_answer_each_as_saved(
    cast, monkeypatch, before
):
    """A double click on a slow admin page: both sends arrive before either is saved, so the
    person's session cannot tell them apart; the token's claim in the database does, also when
    the page was sent before and refused (its claim is there already, with nothing added)."""
    import time

    from django.contrib.admin.models import LogEntry
    from django.test import Client

    from installations.admin.people import CustomerAdmin
    from installations.models import Customer

    save = CustomerAdmin.save_model

    def slow_save(self, *args):  # a slow page: the other sends arrive while this one saves
        time.sleep(0.3)
        save(self, *args)

    monkeypatch.setattr(CustomerAdmin, "save_model", slow_save)

    staff = Client()
    staff.force_login(cast.superuser)
    url = "/admin/installations/customer/add/"
    page = staff.get(url).content.decode()
    data = {
        "once": re.search(r'name="once" value="([0-9a-f-]{36})"', page).group(1),
        "partner": cast.partner.pk,
        "name": "Rita Race",
        "phone": "+44 7700 900771",
        "address": "3 Race Road",
        "_save": "Save",
    }

    if before != "nothing":
        assert staff.post(url, {**data, "name": ""}).status_code == 422

    def send(i: int):
        tab = Client()
        tab.cookies = staff.cookies  # the same person, the same session
        return tab.post(url, data)

    answers = race(4, send)
    assert [getattr(a, "status_code", a) for a in answers] == [302] * 4, answers
    customer = Customer.objects.get(name="Rita Race")
    # The first send goes where "Save" goes; the others to the row it added, as saved.
    assert sorted(a.url for a in answers) == [
        "/admin/installations/customer/",
        *[f"/admin/installations/customer/{customer.pk}/change/"] * 3,
    ]
    assert LogEntry.objects.filter(object_id=str(customer.pk), action_flag=1).count() == 1
