"""Migration 0027: the stored clocks of open jobs without a handyman, counted from a week before
their window even when they were created later."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from installations.dashboard import selectors
from installations.dashboard.models import DashboardJob
from installations.statuses import Status
from tests.dashboard.helpers import made_in_the_past
from tests.migrating import latest, migrate

BEFORE_CLOCKS = [("installations", "0026_live_change_status_changed")]


def _clocks() -> dict[int, datetime]:
    return dict(DashboardJob.objects.values_list("pk", "since"))


@pytest.mark.django_db(transaction=True)
def test_the_migration_recounts_jobs_without_a_handyman_from_a_week_before_their_window(cast):
    today = timezone.localdate()
    tomorrow, far = today + timedelta(days=1), today + timedelta(days=21)
    soon = made_in_the_past(cast, Status.SCHEDULED, days_ago=1, booked_for=tomorrow)
    ahead = made_in_the_past(cast, Status.SCHEDULED, days_ago=1, booked_for=far)
    assigned = made_in_the_past(cast, Status.INSTALLER_ASSIGNED, days_ago=1, booked_for=tomorrow)
    now_stored = _clocks()

    def opens(day) -> datetime:
        return timezone.make_aware(datetime.combine(day, time(9)))

    def stuck_now() -> list[int]:
        found = selectors.stuck_jobs(cast.partner, selectors.thresholds_for(cast.partner))
        (scheduled,) = [s for s in found if s.status == Status.SCHEDULED]
        return [job.pk for job in scheduled.jobs]

    try:
        migrate(BEFORE_CLOCKS)  # back: the clocks as 0025's rule stored them
        old = _clocks()
        assert old[soon.pk] == soon.created_at  # the later of its creation and a week before
        assert old[ahead.pk] == opens(far) - timedelta(days=7)
        assert old[assigned.pk] == opens(tomorrow)
        assert stuck_now() == []  # made a day ago: not listed before 72 hours, after its day
    finally:
        migrate(latest())
    assert _clocks() == now_stored
    assert now_stored[soon.pk] == opens(tomorrow) - timedelta(days=7)
    assert now_stored[ahead.pk] == opens(far) - timedelta(days=7)
    assert now_stored[assigned.pk] == opens(tomorrow)
    assert stuck_now() == [soon.pk]
