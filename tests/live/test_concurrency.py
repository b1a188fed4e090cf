"""Several app servers writing at once: the numbers stay gap-free and commit-ordered, so a reader
never sees number N+1 before number N (PostgreSQL: the counter's row lock; SQLite: the write
lock taken at BEGIN IMMEDIATE)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connections, transaction

from installations import services
from installations.live.models import LiveChange
from installations.live.selectors import partner_changes
from installations.statuses import Status

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_writers_get_gap_free_numbers(cast):
    jobs = [cast.installation(Status.SCHEDULED) for _ in range(8)]
    start = max(LiveChange.objects.filter(partner=cast.partner).values_list("seq", flat=True))
    barrier = threading.Barrier(len(jobs))
    errors: list[Exception] = []

    def assign(job) -> None:
        try:
            barrier.wait()
            services.installation_assign(
                installation=job.pk,
                handyman=cast.handyman,
                actor=cast.partner_user,
                confirm_conflict=True,  # one slot on purpose: the stamps are what is tested
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=assign, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    seqs = list(
        LiveChange.objects.filter(partner=cast.partner, seq__gt=start)
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert seqs == list(range(start + 1, start + 1 + len(jobs)))


def test_a_later_number_waits_for_the_earlier_one_to_commit(cast):
    first, second = cast.installation(), cast.installation()
    since = max(LiveChange.objects.filter(partner=cast.partner).values_list("seq", flat=True))
    numbered = threading.Event()
    seen: list[list[int]] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                services.installation_update(
                    installation=first.pk, actor=cast.partner_user, notes="a"
                )
                numbered.set()
                time.sleep(1.0)  # still uncommitted: the second writer must wait for us
        finally:
            connections.close_all()

    def reader() -> None:
        try:
            # While the first change is uncommitted, a reader sees neither number.
            numbered.wait(10)
            time.sleep(0.3)
            seen.append(partner_changes(partner_id=cast.partner.pk, since=since).installation_ids)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    looker = threading.Thread(target=reader)
    writer.start()
    looker.start()
    numbered.wait(10)
    started = time.monotonic()
    services.installation_update(installation=second.pk, actor=cast.partner_user, notes="b")
    waited = time.monotonic() - started
    writer.join(10)
    looker.join(10)
    assert waited >= 0.5  # blocked on the counter's row until the first writer committed
    assert seen == [[]]
    numbers = dict(
        LiveChange.objects.filter(partner=cast.partner, seq__gt=since).values_list(
            "installation_id", "seq"
        )
    )
    assert numbers == {first.pk: since + 1, second.pk: since + 2}
