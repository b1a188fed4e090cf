"""Assign / Reassign / Reject: forms, dialogs, row swaps, 409 for stale or refused, 422, access."""

from __future__ import annotations

import pytest

from installations import services
from installations.models import Installation
from installations.statuses import Status


@pytest.fixture
def acme(client, cast):
    client.force_login(cast.partner_user)
    return client


def url(inst, action: str) -> str:
    return f"/installations/{inst.pk}/{action}/"


HX = {"HTTP_HX_REQUEST": "true"}


# --- Access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["assign", "reassign", "reject"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_partners_installation_is_404_get_and_post(acme, cast, action, method):
    theirs = cast.installation(partner=cast.other_partner)
    response = getattr(acme, method)(url(theirs, action), {"reason": "x", "version": 1})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.SCHEDULED


@pytest.mark.parametrize("action", ["assign", "reassign", "reject"])
def test_anonymous_is_sent_to_login(client, cast, action):
    inst = cast.installation()
    response = client.post(url(inst, action))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("action", ["assign", "reassign", "reject"])
def test_a_handyman_gets_404(client, cast, action):
    inst = cast.installation()
    client.force_login(cast.handyman.user)
    assert client.post(url(inst, action), {"handyman": cast.handyman.pk}).status_code == 404


@pytest.mark.parametrize("action", ["assign", "reassign", "reject"])
def test_wrong_method_is_405(acme, cast, action):
    inst = cast.installation()
    assert acme.put(url(inst, action)).status_code == 405
    assert acme.delete(url(inst, action)).status_code == 405


def test_an_unknown_installation_is_404(acme, cast):
    assert acme.get("/installations/999999/assign/").status_code == 404


# --- The form pages (no JavaScript) and the dialog (htmx) -------------------------------------


def test_get_assign_renders_a_plain_page_listing_handymen_with_their_jobs_that_day(acme, cast):
    inst = cast.installation()
    cast.installation("INSTALLER_ASSIGNED", handyman=cast.handyman)  # same day: hank has 1 job
    response = acme.get(url(inst, "assign"), {"version": inst.version, "next": "/installations/"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "Assign a handyman" in html
    assert "Hank" in html and "(1 job that day)" in html
    assert "Hana" in html and "(0 jobs that day)" in html
    assert 'name="next" value="/installations/"' in html
    assert "hx-post" not in html  # the plain page posts normally


def test_the_assign_list_marks_a_handyman_who_is_off_that_day(acme, cast):
    from installations.models import TimeOff

    inst = cast.installation()
    TimeOff.objects.create(handyman=cast.other_handyman, day=inst.scheduled_date)
    html = acme.get(url(inst, "assign"), {"version": inst.version}).content.decode()
    assert f"{cast.other_handyman.display_name} (day off)" in html
    assert f"{cast.handyman.display_name} (0 jobs that day)" in html


def test_get_with_htmx_returns_the_dialog_fragment(acme, cast):
    inst = cast.installation()
    response = acme.get(url(inst, "reject"), {"target": "row", "version": 1}, **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="action-dialog-title"' in html and "Reason for rejecting" in html
    assert f'hx-post="/installations/{inst.pk}/reject/"' in html
    assert response["HX-Retarget"] == "#action-dialog-body"


def test_a_foreign_next_url_is_ignored(acme, cast):
    inst = cast.installation()
    response = acme.post(
        url(inst, "assign"),
        {"handyman": cast.handyman.pk, "version": inst.version, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/installations/{inst.pk}/#who-{inst.pk}"


# --- Success ----------------------------------------------------------------------------------


def test_plain_assign_redirects_to_next(acme, cast):
    inst = cast.installation()
    response = acme.post(
        url(inst, "assign"),
        {"handyman": cast.other_handyman.pk, "version": inst.version, "next": "/installations/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/installations/#row-{inst.pk}"
    inst.refresh_from_db()
    assert inst.status == Status.INSTALLER_ASSIGNED and inst.handyman == cast.other_handyman


def test_htmx_assign_returns_the_new_row_and_refreshes_the_cards(acme, cast):
    inst = cast.installation()
    response = acme.post(
        url(inst, "assign"),
        {"handyman": cast.handyman.pk, "version": inst.version, "target": "row"},
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tbody id="row-{inst.pk}"')
    assert "Installer assigned" in html and "Hank" in html
    assert ">Reassign</button>" in html and ">Assign</button>" not in html
    assert "installations-changed" in response["HX-Trigger"]
    assert response["HX-Retarget"] == f"#row-{inst.pk}"


def test_reassign_moves_to_another_handyman(acme, cast):
    inst = cast.installation("EN_ROUTE")
    response = acme.post(
        url(inst, "reassign"), {"handyman": cast.other_handyman.pk, "version": inst.version}
    )
    assert response.status_code == 302
    inst.refresh_from_db()
    assert inst.status == Status.INSTALLER_ASSIGNED and inst.handyman == cast.other_handyman


def test_reject_with_a_reason(acme, cast):
    inst = cast.installation()
    response = acme.post(
        url(inst, "reject"), {"reason": "  Outside our area ", "version": inst.version}
    )
    assert response.status_code == 302
    inst.refresh_from_db()
    assert inst.status == Status.REJECTED and inst.rejection_reason == "Outside our area"


def test_a_reason_as_long_as_the_box_allows_is_taken_whatever_its_line_breaks(acme, cast):
    # The text area stops at 2,000 characters counting a line break as one; the form sends
    # each as CR LF, so the request carries 2,031.
    typed = "\n".join(["x" * 61] * 32) + "y" * 17
    assert len(typed) == 2000
    inst = cast.installation()
    sent = typed.replace("\n", "\r\n")

    response = acme.post(url(inst, "reject"), {"reason": sent, "version": inst.version})

    assert response.status_code == 302
    inst.refresh_from_db()
    assert inst.rejection_reason == typed


# --- Validation (422) ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_reject_without_a_reason_is_422_with_the_error_inline(acme, cast, htmx):
    inst = cast.installation()
    extra = HX if htmx else {}
    response = acme.post(
        url(inst, "reject"), {"reason": "   ", "version": inst.version, "target": "row"}, **extra
    )
    assert response.status_code == 422
    assert "Please give a reason for the rejection." in response.content.decode()
    if htmx:
        assert response["HX-Retarget"] == "#action-dialog-body"
    inst.refresh_from_db()
    assert inst.status == Status.SCHEDULED


@pytest.mark.parametrize("htmx", [False, True])
def test_a_refused_action_page_opens_with_the_focus_on_what_went_wrong(acme, cast, htmx):
    # Without JavaScript the page came back with the focus at its top; in the dialog portal.js
    # focuses the field in error, and no second summary is drawn.
    inst = cast.installation()
    data = {"reason": "", "version": inst.version, "target": "row"}
    html = acme.post(url(inst, "reject"), data, **(HX if htmx else {})).content.decode()
    focused = '<div class="error-summary" role="alert" id="action-errors" tabindex="-1" autofocus>'
    assert (focused in html) is not htmx
    page = acme.get(url(inst, "reject"), {"version": inst.version}).content.decode()
    assert "autofocus" not in page  # an ordinary page: the browser's focus


def test_assign_without_a_handyman_is_422(acme, cast):
    inst = cast.installation()
    response = acme.post(url(inst, "assign"), {"version": inst.version})
    assert response.status_code == 422
    assert "Choose a handyman." in response.content.decode()


def test_assigning_a_handyman_of_another_partner_is_422(client, cast):
    inst = cast.installation(partner=cast.other_partner)
    client.force_login(cast.other_partner_user)
    response = client.post(url(inst, "assign"), {"handyman": cast.other_handyman.pk})
    assert response.status_code == 422
    inst.refresh_from_db()
    assert inst.status == Status.SCHEDULED


def test_reassigning_to_the_same_handyman_is_refused_in_words(acme, cast):
    inst = cast.installation("INSTALLER_ASSIGNED", handyman=cast.handyman)
    response = acme.post(url(inst, "reassign"), {"handyman": cast.handyman.pk})
    assert response.status_code == 422
    assert "is already assigned; choose someone else." in response.content.decode()
    assert Installation.objects.get(pk=inst.pk).version == inst.version


# --- Stale and refused (409) -------------------------------------------------------------------


def test_a_stale_version_is_409_and_nothing_changes(acme, cast):
    inst = cast.installation()
    stale = inst.version
    services.installation_reject(installation=inst, reason="Gone", actor=cast.partner_user)
    response = acme.post(url(inst, "assign"), {"handyman": cast.handyman.pk, "version": stale})
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this installation" in html and "Rejected" in html
    assert "<html" in html
    inst.refresh_from_db()
    assert inst.status == Status.REJECTED and inst.handyman is None


def test_a_stale_htmx_post_returns_the_row_as_it_now_is_with_the_sentence(acme, cast):
    inst = cast.installation()
    stale = inst.version
    services.installation_assign(
        installation=inst, handyman=cast.other_handyman, actor=cast.partner_user
    )
    response = acme.post(
        url(inst, "reject"), {"reason": "Too far", "version": stale, "target": "row"}, **HX
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert html.lstrip().startswith(f'<tbody id="row-{inst.pk}"')
    assert 'role="alert"' in html and "Someone else changed this installation" in html
    assert "Installer assigned" in html and ">Reassign</button>" in html
    inst.refresh_from_db()
    assert inst.status == Status.INSTALLER_ASSIGNED


@pytest.mark.parametrize("target", ["", "row"])
def test_a_stale_action_that_is_still_possible_offers_its_form_again_with_what_was_typed(
    acme, cast, target
):
    # The office types a reason in the dialog while a colleague adds a note to the job: the
    # live page says it changed; "Reject" is still possible, and the reason is not lost.
    inst = cast.installation()
    stale = inst.version
    services.installation_update(installation=inst, actor=cast.partner_user, notes="Gate 12")
    inst.refresh_from_db()
    data = {"reason": "Customer wants another model", "version": stale, "target": target}
    response = acme.post(url(inst, "reject"), data, **HX)
    html = response.content.decode()
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#action-dialog-body"  # the dialog stays, list or record
    assert "Someone else changed this installation a moment ago" in html
    assert "press “Reject” again (what you entered is kept)" in html
    assert ">\nCustomer wants another model</textarea>" in html
    assert f'name="version" value="{inst.version}"' in html
    inst.refresh_from_db()
    assert inst.status == Status.SCHEDULED
    # Pressed again, from the form as it came back: done.
    response = acme.post(url(inst, "reject"), {**data, "version": inst.version})
    assert response.status_code == 302
    inst.refresh_from_db()
    assert inst.status == Status.REJECTED


def test_an_action_the_status_no_longer_allows_is_409_even_without_a_version(acme, cast):
    inst = cast.installation("EN_ROUTE")
    response = acme.post(url(inst, "reject"), {"reason": "Nope"})
    assert response.status_code == 409
    assert "so it can no longer be rejected" in response.content.decode()


def test_get_of_an_action_no_longer_allowed_is_409(acme, cast):
    inst = cast.installation("REJECTED")
    response = acme.get(url(inst, "assign"))
    assert response.status_code == 409
    said = f"#{inst.pk} was rejected, so rebook it if it should still go ahead."
    assert said in response.content.decode()
    response = acme.get(url(inst, "assign"), {"target": "row"}, **HX)
    assert response.status_code == 409
    assert response["HX-Retarget"] == f"#row-{inst.pk}"


def test_reassigning_a_job_never_assigned_says_it_has_no_handyman_yet(acme, cast):
    inst = cast.installation(Status.SCHEDULED)
    said = f"#{inst.pk} has no handyman yet, so assign one instead. Nothing was changed."
    # The button's dialog (a page grown stale) and the row's answer.
    response = acme.get(url(inst, "reassign"), {"target": "row", "version": inst.version}, **HX)
    assert response.status_code == 409
    assert said in response.content.decode()
    data = {"handyman": cast.handyman.pk, "version": inst.version, "target": "row"}
    response = acme.post(url(inst, "reassign"), data, **HX)
    assert response.status_code == 409
    assert said in response.content.decode() and "no longer" not in response.content.decode()
    inst.refresh_from_db()
    assert (inst.status, inst.handyman, inst.version) == (Status.SCHEDULED, None, 1)


def test_assigning_a_job_that_has_a_handyman_says_to_reassign_it(acme, cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED, handyman=cast.handyman)
    data = {"handyman": cast.other_handyman.pk, "version": inst.version}
    response = acme.post(url(inst, "assign"), data)
    assert response.status_code == 409
    said = f"#{inst.pk} has a handyman, so reassign it to send someone else. Nothing was changed."
    assert said in response.content.decode()
    assert acme.get(url(inst, "assign")).status_code == 409
    assert said in acme.get(url(inst, "assign")).content.decode()
    inst.refresh_from_db()
    assert inst.handyman == cast.handyman


def test_a_garbage_version_is_refused_as_unreadable_input(acme, cast):
    inst = cast.installation()
    response = acme.post(url(inst, "assign"), {"handyman": cast.handyman.pk, "version": "x"})
    assert response.status_code == 422
    assert "This page could not be read" in response.content.decode()
    assert Installation.objects.get(pk=inst.pk).status == Status.SCHEDULED


def test_without_a_version_the_action_is_not_version_checked(acme, cast):
    inst = cast.installation()
    response = acme.post(url(inst, "assign"), {"handyman": cast.handyman.pk})
    assert response.status_code == 302
    assert Installation.objects.get(pk=inst.pk).status == Status.INSTALLER_ASSIGNED
