"""Cards are written in Python for speed: the same words and markup as the shared partials."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from installations.board import selectors
from installations.board.cards import badge, render_cards
from installations.board.views import build_cards, partner_link
from installations.models import Installation
from installations.statuses import Status


@pytest.mark.parametrize("status", Status.values)
def test_the_badge_is_the_status_badge_partial(cast, status):
    inst = cast.installation(status)
    partial = render_to_string("installations/_status_badge.html", {"inst": inst})
    (job,) = selectors.jobs(Installation.objects.filter(pk=inst.pk))
    assert str(badge(job)) == partial.strip()
    (card,) = build_cards([job], actions=None, link=partner_link())
    assert partial.strip() in render_cards([card], next_url="/")


def test_a_card_escapes_what_people_typed(client, cast):
    inst = cast.installation(Status.SCHEDULED, site_address="1 Road, <b>Town</b>")
    type(inst.customer).objects.filter(pk=inst.customer_id).update(name="<script>x</script>")
    client.force_login(cast.partner_user)
    day = inst.scheduled_date.isocalendar()
    html = client.get("/installations/board/", {"week": f"{day[0]}-W{day[1]:02d}"}).content
    assert b"<script>x</script>" not in html and b"&lt;script&gt;x&lt;/script&gt;" in html
    assert b"<b>Town</b>" not in html and b"&lt;b&gt;Town&lt;/b&gt;" in html
