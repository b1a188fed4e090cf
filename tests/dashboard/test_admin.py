"""Staff see the dashboard per partner and for all partners, in the admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from installations.statuses import Status

S = Status
URL = reverse("admin:installations_partnerdashboard_dashboard")


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.superuser)
    return client


def test_the_admin_index_lists_partners_each_linking_to_their_dashboard(admin_client, cast):
    partners = reverse("admin:installations_partnerdashboard_changelist")
    assert partners in admin_client.get(reverse("admin:index")).content.decode()
    page = admin_client.get(partners).content.decode()
    assert f"{URL}?partner={cast.partner.pk}" in page
    assert f'href="{URL}"' in page  # everyone's


def test_staff_see_one_partners_numbers_or_everyones(admin_client, cast):
    cast.installation(S.REJECTED)
    other = cast.installation(S.CANCELLED, partner=cast.other_partner)
    one = admin_client.get(URL, {"partner": cast.partner.pk, "weeks": 4}).content.decode()
    assert "Dashboard: Acme Appliances" in one
    assert "Outside our service area." in one and "Customer moved house." not in one
    everyone = admin_client.get(URL).content.decode()
    assert "Dashboard: all partners" in everyone
    assert "Outside our service area." in everyone and "Customer moved house." in everyone
    # The period links keep the partner.
    assert f"?partner={cast.partner.pk}&amp;weeks=52" in one
    assert other.customer.name not in one


def test_stuck_jobs_link_to_the_admin_page_of_each_job(admin_client, cast):
    from datetime import timedelta

    from django.utils import timezone

    from installations.dashboard.models import DashboardJob

    inst = cast.installation(S.EN_ROUTE)
    DashboardJob.objects.filter(pk=inst.pk).update(since=timezone.now() - timedelta(hours=5))
    page = admin_client.get(URL).content.decode()
    assert reverse("admin:installations_installation_change", args=[inst.pk]) in page
    assert "Save thresholds" not in page  # partners set their own


@pytest.mark.parametrize("raw", ["abc", "999999", "-1", "1\x00"])
def test_a_partner_that_does_not_exist_shows_everyone_with_the_error(admin_client, raw):
    response = admin_client.get(URL, {"partner": raw})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dashboard: all partners" in page
    assert "Choose a partner from the list." in page or "Null characters" in page


def test_partners_and_handymen_are_sent_to_the_admin_login(client, cast):
    for user in (cast.partner_user, cast.handyman.user):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
