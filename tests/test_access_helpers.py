"""Each audience's access helper returns exactly the record asked for, and nothing of anyone
else's. Written to kill a mutant mutmut left alive (docs/testing.md)."""

from __future__ import annotations

from django.urls import reverse

from installations.statuses import Status

HX = {"HX-Request": "true"}


def test_a_handyman_with_several_jobs_gets_the_card_of_the_job_asked_for(client, cast):
    first = cast.installation(Status.INSTALLER_ASSIGNED)
    second = cast.installation(Status.EN_ROUTE)
    theirs = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.other_handyman)
    client.force_login(cast.handyman.user)
    for job in (first, second):
        card = client.get(reverse("handyman:job", args=[job.pk]), headers=HX)
        assert card.status_code == 200
        assert f'id="job-{job.pk}"' in card.content.decode()
    assert client.get(reverse("handyman:job", args=[theirs.pk]), headers=HX).status_code == 404


def test_a_partner_with_several_installations_gets_the_page_of_the_one_asked_for(client, cast):
    first, second = cast.installation(), cast.installation(Status.INSTALLER_ASSIGNED)
    theirs = cast.installation(partner=cast.other_partner)
    client.force_login(cast.partner_user)
    for inst in (first, second):
        page = client.get(reverse("partner:detail", args=[inst.pk]))
        assert page.status_code == 200
        assert page.context["installation"].pk == inst.pk
    assert client.get(reverse("partner:detail", args=[theirs.pk])).status_code == 404
