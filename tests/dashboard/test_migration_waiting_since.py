"""Migration 0025: the stored stuck-job clocks of open jobs waiting for their booked day."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from installations.dashboard.models import DashboardJob
from installations.statuses import Status
from tests.migrating import latest, migrate

BEFORE = [("installations", "0024_evidence_pack_customer_copy_file")]
THIS = [("installations", "0025_dashboard_waiting_for_the_booked_day")]


@pytest.mark.django_db(transaction=True)
def test_jobs_booked_ahead_before_the_migration_count_from_their_day_after_it(cast):
    day = timezone.localdate() + timedelta(days=21)
    assigned = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=day)
    unassigned = cast.installation(Status.SCHEDULED, scheduled_date=day)
    soon = cast.installation(Status.SCHEDULED)  # tomorrow: counts from its creation
    en_route = cast.installation(Status.EN_ROUTE, scheduled_date=day)
    opens = timezone.make_aware(datetime.combine(day, time(9)))

    def clocks() -> dict[int, datetime]:
        return dict(DashboardJob.objects.values_list("pk", "since"))

    now_stored = clocks()
    try:
        migrate(BEFORE)  # the clocks as the old rule stored them: the entry into the status
        old = clocks()
        assert old[assigned.pk] == assigned.assigned_at
        assert old[unassigned.pk] == unassigned.created_at
        migrate(THIS)  # 0025 recomputes them
        after = clocks()
    finally:
        migrate(latest())  # and the later ones come back (0027 moves `soon`'s)
    assert clocks() == now_stored
    assert after[assigned.pk] == opens
    assert after[unassigned.pk] == opens - timedelta(days=7)
    assert after[soon.pk] == soon.created_at
    assert after[en_route.pk] == en_route.departed_at
    assert {pk: after[pk] for pk in (assigned.pk, unassigned.pk, en_route.pk)} == {
        pk: now_stored[pk] for pk in (assigned.pk, unassigned.pk, en_route.pk)
    }
