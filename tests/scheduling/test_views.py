"""The Reschedule page and dialog, the conflict question on Assign/Reassign, and days off."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from installations import services
from installations.models import StatusChange, TimeOff
from installations.scheduling import services as scheduling
from installations.statuses import Status

from .test_services import slot

S = Status
HX = {"HTTP_HX_REQUEST": "true"}


def in_days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def acme(client, cast):
    client.force_login(cast.partner_user)
    return client


def url(inst) -> str:
    return f"/installations/{inst.pk}/reschedule/"


def post(inst, day: date, window="14:00-16:00", **extra):
    return {
        "scheduled_date": day.isoformat(),
        "window": window,
        "version": inst.version,
        "next": f"/installations/{inst.pk}/",
        **extra,
    }


# --- Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_partners_job_is_404(acme, cast, method):
    theirs = cast.installation(partner=cast.other_partner)
    response = getattr(acme, method)(url(theirs), post(theirs, in_days(3)))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.scheduled_date == in_days(1)


def test_a_handyman_gets_404(client, cast):
    inst = cast.installation()
    client.force_login(cast.handyman.user)
    assert client.post(url(inst), post(inst, in_days(3))).status_code == 404


def test_anonymous_is_sent_to_login(client, cast):
    inst = cast.installation()
    response = client.post(url(inst), post(inst, in_days(3)))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_wrong_method_is_405(acme, cast):
    inst = cast.installation()
    assert acme.put(url(inst)).status_code == 405


# --- The form -----------------------------------------------------------------------------------


def test_get_renders_a_plain_page_with_the_current_slot_chosen(acme, cast):
    inst = cast.installation()
    response = acme.get(url(inst), {"version": inst.version})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert f'value="{in_days(1).isoformat()}"' in html
    assert '<option value="09:00-11:00" selected>09:00–11:00</option>' in html
    assert "hx-post" not in html


def test_get_with_htmx_returns_the_dialog_fragment(acme, cast):
    inst = cast.installation()
    response = acme.get(url(inst), {"version": inst.version}, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="action-dialog-title"' in html and "hx-post" in html
    assert response["HX-Retarget"] == "#action-dialog-body"


def test_a_plain_post_moves_the_job_and_returns_to_the_page(acme, cast):
    inst = cast.installation()
    response = acme.post(url(inst), post(inst, in_days(3), reason="Customer asked"))
    assert response.status_code == 302
    assert response["Location"] == f"/installations/{inst.pk}/#who-{inst.pk}"
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.window_start) == (in_days(3), time(14))
    page = acme.get(f"/installations/{inst.pk}/").content.decode()
    d1, d3 = in_days(1), in_days(3)
    assert f"Rescheduled from {slot(d1, '09:00', '11:00')} to {slot(d3, '14:00', '16:00')}" in page
    assert "Reason: Customer asked" in page
    assert f"Moved #{inst.pk}" in page  # the confirmation


def test_an_htmx_post_from_the_list_answers_with_the_row(acme, cast):
    inst = cast.installation()
    response = acme.post(url(inst), post(inst, in_days(3), target="row"), **HX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#row-{inst.pk}"
    assert f"Moved #{inst.pk}" in response.content.decode()


def test_a_past_date_is_422_with_the_sentence_and_changes_nothing(acme, cast):
    inst = cast.installation()
    response = acme.post(url(inst), post(inst, in_days(-2)))
    assert response.status_code == 422
    assert "is in the past: choose today or a later date." in response.content.decode()
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1) and inst.version == 1


def test_a_refused_move_without_javascript_opens_with_the_focus_on_what_went_wrong(acme, cast):
    inst = cast.installation()
    page = acme.post(url(inst), post(inst, in_days(-2))).content.decode()
    assert re.search(r'<div class="error-summary" role="alert"[^>]*tabindex="-1" autofocus>', page)
    # In the dialog (htmx) portal.js focuses the field in error; the summary takes no focus there.
    dialog = acme.post(url(inst), post(inst, in_days(-2)), **HX).content.decode()
    assert "autofocus" not in dialog
    assert "autofocus" not in acme.get(url(inst)).content.decode()


def test_a_window_already_over_today_is_422_on_the_window_and_changes_nothing(acme, cast):
    inst = cast.installation()
    evening = timezone.localtime().replace(hour=18, minute=0)
    with mock.patch("installations.scheduling.rules.local_now", return_value=evening):
        response = acme.post(url(inst), post(inst, in_days(0), window="14:00-16:00"))
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["window"] == [
        "The 14:00–16:00 window has already ended today: choose a later window or another day."
    ]
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1) and inst.version == 1


def test_an_unreadable_form_is_422(acme, cast):
    inst = cast.installation()
    response = acme.post(url(inst), post(inst, in_days(3), window="25:00-26:00", version="x"))
    assert response.status_code == 422
    assert "Choose an arrival window from the list." in response.content.decode()
    inst.refresh_from_db()
    assert inst.version == 1


def test_a_stale_page_is_409_with_the_sentence(acme, cast):
    inst = cast.installation()
    data = post(inst, in_days(3))
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.staff)
    response = acme.post(url(inst), data)
    assert response.status_code == 409
    assert "changed this installation a moment ago" in response.content.decode()
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_stale_form_that_may_still_move_the_job_comes_back_with_what_was_typed(acme, cast, htmx):
    # Two tabs: the first moved the job; the second's move is not made, but its date, window
    # and reason are given back at the version now shown, as Assign's dialog does.
    inst = cast.installation()
    data = post(inst, in_days(5), window="10:00-12:00", reason="Customer asked", target="row")
    services_reschedule(inst, cast, in_days(3))
    response = acme.post(url(inst), data, **(HX if htmx else {}))
    assert response.status_code == 409
    html = response.content.decode()
    form = response.context["form"]
    assert form.data["scheduled_date"] == in_days(5).isoformat()
    assert form.data["window"] == "10:00-12:00" and form.data["reason"] == "Customer asked"
    assert response.context["version"] == 2
    assert "it is now on" in html and "(what you entered is kept)" in html
    assert f'value="{in_days(5).isoformat()}"' in html and 'value="Customer asked"' in html
    if htmx:
        assert response["HX-Retarget"] == "#action-dialog-body"
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(3) and inst.version == 2
    # Sent again from the form given back, it moves the job.
    again = {**data, "version": response.context["version"]}
    assert acme.post(url(inst), again).status_code == 302
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(5) and inst.window_start == time(10)


def services_reschedule(inst, cast, day: date) -> None:
    scheduling.installation_reschedule(
        installation=inst,
        actor=cast.partner_user,
        scheduled_date=day,
        window_start=time(8),
        window_end=time(10),
    )


def test_a_job_under_way_is_409_on_get_and_post(acme, cast):
    inst = cast.installation(S.EN_ROUTE)
    said = (
        f"#{inst.pk} has a handyman on the way, so it can no longer be rescheduled. "
        "Nothing was changed."
    )
    response = acme.get(url(inst))
    assert response.status_code == 409 and said in response.content.decode()
    response = acme.post(url(inst), post(inst, in_days(3)))
    assert response.status_code == 409
    assert said in response.content.decode()


@pytest.mark.parametrize("method", ["get", "post"])
def test_moving_a_job_already_visited_suggests_a_follow_up_visit(acme, cast, method):
    inst = cast.installation(S.INSTALLATION_COMPLETED)
    before = (inst.scheduled_date, inst.version)
    response = getattr(acme, method)(url(inst), post(inst, in_days(3)))
    assert response.status_code == 409
    said = f"#{inst.pk} is installed, so book a follow-up visit if someone must go back."
    assert said in response.content.decode()
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.version) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_moving_a_cancelled_job_suggests_rebooking_it(acme, cast, method):
    inst = cast.installation(S.CANCELLED)
    response = getattr(acme, method)(url(inst), post(inst, in_days(3)))
    assert response.status_code == 409
    said = f"#{inst.pk} was cancelled, so rebook it if it should still go ahead."
    assert said in response.content.decode()


def test_a_double_submit_is_answered_as_done(acme, cast):
    inst = cast.installation()
    data = post(inst, in_days(3))
    assert acme.post(url(inst), data).status_code == 302
    assert acme.post(url(inst), data).status_code == 302
    assert inst.history.filter(kind=StatusChange.Kind.RESCHEDULED).count() == 1


# --- Conflicts ----------------------------------------------------------------------------------


def test_a_conflict_asks_to_confirm_then_moves_without_javascript(acme, cast):
    other = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=in_days(3))  # 09–11
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    first = acme.post(url(inst), post(inst, in_days(3), window="10:00-12:00"))
    html = first.content.decode()
    assert first.status_code == 409
    assert f"already has #{other.pk} {other.customer.name} 09:00–11:00 that day" in html
    assert 'name="confirm_conflict" value="1"' in html and "Move anyway" in html
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1)
    again = acme.post(url(inst), post(inst, in_days(3), window="10:00-12:00", confirm_conflict="1"))
    assert again.status_code == 302
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.window_start) == (in_days(3), time(10))


def test_a_day_off_is_422_naming_the_day(acme, cast):
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    TimeOff.objects.create(handyman=cast.handyman, day=in_days(4))
    response = acme.post(url(inst), post(inst, in_days(4), confirm_conflict="1"))
    assert response.status_code == 422
    assert "is off on" in response.content.decode()


@pytest.mark.parametrize("action", ["assign", "reassign"])
@pytest.mark.parametrize("htmx", [False, True])
def test_assign_warns_about_a_conflict_and_needs_assign_anyway(acme, cast, action, htmx):
    other = cast.installation(S.INSTALLER_ASSIGNED)  # Hank, tomorrow 09–11
    if action == "assign":
        inst = cast.installation(window_start=time(10), window_end=time(12))
    else:
        inst = cast.installation(
            S.INSTALLER_ASSIGNED,
            window_start=time(10),
            window_end=time(12),
            handyman=cast.other_handyman,
        )
    data = {"handyman": cast.handyman.pk, "version": inst.version, "target": "row"}
    headers = HX if htmx else {}
    first = acme.post(f"/installations/{inst.pk}/{action}/", data, **headers)
    html = first.content.decode()
    assert first.status_code == 409
    assert f"already has #{other.pk} {other.customer.name} 09:00–11:00 that day" in html
    assert "anyway</button>" in html and 'name="confirm_conflict" value="1"' in html
    assert f'name="handyman" value="{cast.handyman.pk}"' in html
    if htmx:  # the question stays in the dialog, not in the row
        assert first["HX-Retarget"] == "#action-dialog-body"
    inst.refresh_from_db()
    assert inst.handyman_id != cast.handyman.pk
    again = acme.post(
        f"/installations/{inst.pk}/{action}/", {**data, "confirm_conflict": "1"}, **headers
    )
    assert again.status_code in (200, 302)
    inst.refresh_from_db()
    assert inst.handyman_id == cast.handyman.pk


def test_assign_on_a_day_off_is_422_in_the_dialog(acme, cast):
    inst = cast.installation()
    TimeOff.objects.create(handyman=cast.handyman, day=inst.scheduled_date)
    response = acme.post(
        f"/installations/{inst.pk}/assign/", {"handyman": cast.handyman.pk, "version": 1}
    )
    assert response.status_code == 422
    assert "is off on" in response.content.decode()


# --- Where the Reschedule button appears --------------------------------------------------------


def test_the_detail_page_and_list_rows_offer_reschedule_only_when_allowed(acme, cast):
    open_job = cast.installation(S.INSTALLER_ASSIGNED)
    under_way = cast.installation(S.EN_ROUTE)
    assert url(open_job) in acme.get(f"/installations/{open_job.pk}/").content.decode()
    assert url(under_way) not in acme.get(f"/installations/{under_way.pk}/").content.decode()
    listing = acme.get("/installations/").content.decode()
    assert url(open_job) in listing and url(under_way) not in listing


# --- Days off -----------------------------------------------------------------------------------


@pytest.fixture
def hank(client, cast):
    client.force_login(cast.handyman.user)
    return client


def test_the_handymans_page_shows_his_days_off(hank, cast):
    TimeOff.objects.create(handyman=cast.handyman, day=in_days(5))
    TimeOff.objects.create(handyman=cast.other_handyman, day=in_days(6))
    html = hank.get("/handyman/").content.decode()
    assert "Days off" in html
    assert f'datetime="{in_days(5).isoformat()}"' in html
    assert f'datetime="{in_days(6).isoformat()}"' not in html


def test_a_handyman_adds_a_day_off_without_javascript(hank, cast):
    response = hank.post("/handyman/time-off/", {"day": in_days(5).isoformat()})
    assert response.status_code == 302 and response["Location"].startswith("/handyman/")
    assert TimeOff.objects.filter(handyman=cast.handyman, day=in_days(5)).count() == 1


def test_a_day_off_on_a_day_with_jobs_says_which_jobs_he_still_has(hank, cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=in_days(5))  # 09–11
    cast.installation(Status.CANCELLED, scheduled_date=in_days(5))  # not his time any more
    response = hank.post("/handyman/time-off/", {"day": in_days(5).isoformat()}, **HX)
    html = response.content.decode()
    assert f"You still have 1 job that day (#{job.pk} 09:00–11:00)" in html
    assert "the office sees them flagged" in html
    quiet = hank.post("/handyman/time-off/", {"day": in_days(6).isoformat()}, **HX)
    assert "You still have" not in quiet.content.decode()


def test_adding_the_same_day_twice_is_one_row(hank, cast):
    hank.post("/handyman/time-off/", {"day": in_days(5).isoformat()}, **HX)
    response = hank.post("/handyman/time-off/", {"day": in_days(5).isoformat()}, **HX)
    assert response.status_code == 200
    assert "was already marked off" in response.content.decode()
    assert TimeOff.objects.filter(handyman=cast.handyman).count() == 1


def test_a_past_day_off_is_422_with_a_sentence(hank, cast):
    response = hank.post("/handyman/time-off/", {"day": in_days(-1).isoformat()})
    assert response.status_code == 422
    assert "is not in the future" in response.content.decode()
    assert not TimeOff.objects.exists()


def test_a_handyman_removes_a_day_off_with_htmx(hank, cast):
    TimeOff.objects.create(handyman=cast.handyman, day=in_days(5))
    response = hank.post("/handyman/time-off/remove/", {"day": in_days(5).isoformat()}, **HX)
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "is a working day again" in response.content.decode()
    assert not TimeOff.objects.exists()


def test_a_partner_user_has_no_days_off_page(acme, cast):
    assert acme.get("/handyman/time-off/").status_code in (302, 404)
    assert acme.post("/handyman/time-off/", {"day": in_days(5).isoformat()}).status_code in (
        302,
        404,
    )
    assert not TimeOff.objects.exists()


@pytest.mark.parametrize("handyman", ["stranger", "12abc", "999999"])
def test_a_move_with_a_handyman_not_of_this_partner_is_refused_and_changes_nothing(
    acme, cast, handyman
):
    from tests.factories import HandymanFactory

    if handyman == "stranger":
        stranger = HandymanFactory()
        stranger.partners.add(cast.other_partner)
        handyman = str(stranger.pk)
    inst = cast.installation(Status.SCHEDULED)
    response = acme.post(url(inst), post(inst, in_days(3), handyman=handyman))
    assert response.status_code == 409
    assert "Choose one of your handymen." in response.content.decode()
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1) and inst.version == 1


def test_a_move_with_one_of_the_partners_handymen_moves_and_assigns(acme, cast):
    inst = cast.installation(Status.SCHEDULED)
    data = post(inst, in_days(3), handyman=str(cast.other_handyman.pk))
    response = acme.post(url(inst), data)
    assert response.status_code == 302
    inst.refresh_from_db()
    assert (inst.scheduled_date, inst.handyman, inst.status, inst.version) == (
        in_days(3),
        cast.other_handyman,
        Status.INSTALLER_ASSIGNED,
        3,
    )
