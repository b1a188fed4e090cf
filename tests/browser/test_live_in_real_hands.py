"""The live pipeline in real hands (QA pass of 2026-12-04): what the page cannot show in place
stays in view and is said; a page that cannot follow its feed (offline, the portal unreachable,
signed out) says it may be out of date, and says so again when it is back; a burst of changes is
said in one sentence, not a column of them that pushes the list off a phone's screen; a new job
that keeps changing is counted once."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import expect

from installations import services
from installations.live.selectors import partner_stamp
from installations.statuses import Status

from .conftest import log_in

WITHIN_5_S = 5_000
FEED = "**/installations/live/**"


def caught_up(page, cast) -> None:
    """Wait until the page has asked about (and applied) every change made so far."""
    expect(page.locator("#live-feed")).to_have_attribute(
        "data-live-stamp", str(partner_stamp(cast.partner.pk)), timeout=WITHIN_5_S
    )


def assign(cast, job) -> None:
    services.installation_assign(
        installation=job, handyman=cast.handyman, actor=cast.partner_user, confirm_conflict=True
    )


def test_the_more_now_match_notice_stays_in_view_under_a_long_list_and_is_announced(page, cast):
    for _ in range(15):
        cast.installation(Status.SCHEDULED)
    log_in(page, "acme")
    page.goto("/installations/")
    assert page.evaluate("document.documentElement.scrollHeight") > 2 * 900  # a long list
    cast.installation(Status.SCHEDULED)  # a colleague schedules one
    notice = page.locator(".live-notice")
    expect(notice).to_have_text(
        "1 more installation now matches this view. Show them", timeout=WITHIN_5_S
    )
    # Seen where the office is (the top of the list), not a screen and a half below it...
    expect(notice).to_be_in_viewport(ratio=1)
    assert page.evaluate("window.scrollY") == 0
    # ...and heard.
    expect(page.locator("#flash")).to_contain_text("1 more installation now matches this view.")


def test_a_new_job_is_counted_once_however_often_it_changes_and_not_once_it_leaves_the_view(
    page, cast
):
    cast.installation(Status.SCHEDULED)
    log_in(page, "acme")
    page.goto("/installations/?group=scheduled")
    notice = page.locator(".live-notice")
    new = cast.installation(Status.SCHEDULED, scheduled_date=timezone.localdate())
    expect(notice).to_have_text(
        "1 more installation now matches this view. Show them", timeout=WITHIN_5_S
    )
    assign(cast, new)  # still "Scheduled": still the one new job
    caught_up(page, cast)
    expect(notice).to_have_text("1 more installation now matches this view. Show them")
    # The handyman sets off: it is "En route" now, and no longer matches this view.
    services.installation_set_off(installation=new, eta_minutes=30, actor=cast.handyman.user)
    caught_up(page, cast)
    expect(notice).to_be_hidden()
