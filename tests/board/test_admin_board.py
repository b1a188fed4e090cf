"""The staff's board in the admin: one partner at a time, read-only, linked from the list."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from installations.statuses import Status

BOARD = reverse("admin:installations_installation_board")


def week() -> str:
    return (timezone.localdate() + timedelta(days=1)).strftime("%G-W%V")


def test_staff_choose_a_partner_before_any_job_is_shown(client, cast):
    job = cast.installation(Status.SCHEDULED)
    client.force_login(cast.superuser)
    response = client.get(BOARD)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose a partner to see their week" in html
    assert f'id="card-{job.pk}"' not in html and cast.partner.name in html


def test_the_chosen_partners_board_shows_their_jobs_only_linking_to_the_admin_page(client, cast):
    ours = cast.installation(Status.INSTALLER_ASSIGNED)
    theirs = cast.installation(Status.INSTALLER_ASSIGNED, partner=cast.other_partner)
    client.force_login(cast.superuser)
    response = client.get(BOARD, {"partner": cast.partner.pk, "week": week()})
    html = response.content.decode()
    assert f'id="card-{ours.pk}"' in html and f'id="card-{theirs.pk}"' not in html
    change = reverse("admin:installations_installation_change", args=[ours.pk])
    assert f'href="{change}"' in html
    # Read-only: no action forms, nothing to drag.
    card = html[html.index(f'id="card-{ours.pk}"') :]
    assert "<form" not in card[: card.index("</li>")] and "data-acting" not in html
    # Filters and periods keep the partner.
    assert f'name="partner" value="{cast.partner.pk}"' in html
    assert f"partner={cast.partner.pk}" in html.split("Next week")[0].rsplit("href=", 1)[1]


def test_a_partner_that_does_not_exist_is_said(client, cast):
    client.force_login(cast.staff)
    cast.staff.user_permissions.add(*Permission.objects.filter(codename="view_installation"))
    response = client.get(BOARD, {"partner": "999999"})
    assert response.status_code == 200
    assert "Choose a partner from the list." in response.content.decode()


def test_the_installation_list_links_to_the_board(client, cast):
    client.force_login(cast.superuser)
    html = client.get(reverse("admin:installations_installation_changelist")).content.decode()
    assert f'href="{BOARD}"' in html


def test_the_board_takes_no_post(client, cast):
    client.force_login(cast.superuser)
    assert client.post(BOARD).status_code == 405
