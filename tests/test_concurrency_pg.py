"""Two people acting at once on PostgreSQL: real threads, separate connections, one winner."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from installations import services
from installations.models import Installation, StatusChange
from installations.statuses import Status

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(n: int, action) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = action(i)
        except Exception as exc:  # the outcome is what we check
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


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


def test_concurrent_reassigns_without_a_version_serialise(cast):
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
    assert sum(isinstance(r, Installation) for r in results) == 1, results
    assert StatusChange.objects.filter(installation=inst, transition="reassign").count() == 1
