"""Migration 0028: a saved 'Installer assigned' threshold equal to the old default (336 hours,
counted from the assignment) takes the new one (24 hours, counted from the window's start)."""

from __future__ import annotations

import pytest

from installations.dashboard import selectors
from installations.dashboard.models import DashboardThresholds
from tests.factories import PartnerFactory
from tests.migrating import latest, migrate

BEFORE = [("installations", "0027_dashboard_unassigned_jobs_count_from_a_week_before")]


@pytest.mark.django_db(transaction=True)
def test_a_saved_old_default_for_installer_assigned_becomes_the_new_one(cast):
    """336 hours was the default when the clock counted from the assignment; saving the form
    unchanged stored it. It now means 14 days past the day, so it becomes 24; any other saved
    value is the partner's own choice and stays."""
    third = PartnerFactory()
    unchanged = {str(s): h for s, h in selectors.DEFAULT_THRESHOLDS.items()}
    saved = {
        cast.partner.pk: {**unchanged, "INSTALLER_ASSIGNED": 336},
        cast.other_partner.pk: {**unchanged, "SCHEDULED": 48, "INSTALLER_ASSIGNED": 100},
        third.pk: {"SCHEDULED": 336},
    }
    try:
        migrate(BEFORE)
        for partner_id, hours in saved.items():
            DashboardThresholds.objects.create(partner_id=partner_id, hours=hours)
    finally:
        migrate(latest())
    now = dict(DashboardThresholds.objects.values_list("partner_id", "hours"))
    assert now[cast.partner.pk] == {**unchanged, "INSTALLER_ASSIGNED": 24}
    assert now[cast.other_partner.pk] == saved[cast.other_partner.pk]
    assert now[third.pk] == {"SCHEDULED": 336}
    assert selectors.thresholds_for(cast.partner)["INSTALLER_ASSIGNED"] == 24
    # Back again changes nothing: a moved 24 cannot be told from a chosen one.
    try:
        migrate(BEFORE)
        assert dict(DashboardThresholds.objects.values_list("partner_id", "hours")) == now
    finally:
        migrate(latest())
