"""The installation change form sent twice (a double click, a resent form) or from a page older
than another window's change: the first is answered as done, the second refused on the page
with the person's input kept."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry

from installations import services
from installations.models import Installation, StatusChange
from installations.statuses import Status

from .test_admin import STAFF_PERMS, change_form_data, change_url, flash, grant


@pytest.fixture
def staff_client(client, cast):
    grant(cast.staff, *STAFF_PERMS)
    client.force_login(cast.staff)
    return client


@pytest.fixture
def root_client(client, cast):
    client.force_login(cast.superuser)
    return client


def errors_of(response) -> str:
    return " ".join(response.context["adminform"].form.non_field_errors())


def test_a_resent_edit_is_answered_as_saved_and_changes_nothing_twice(staff_client, cast):
    inst = cast.installation(Status.SCHEDULED)
    data = change_form_data(inst, notes="Dog in garden")
    first = staff_client.post(change_url(inst), data)
    again = staff_client.post(change_url(inst), data)

    assert first.status_code == again.status_code == 302
    assert not any("Someone else" in m for m in flash(again)), flash(again)
    inst.refresh_from_db()
    assert (inst.notes, inst.version) == ("Dog in garden", 2)
    assert LogEntry.objects.filter(object_id=str(inst.pk)).count() == 1


def test_a_resent_override_writes_one_history_entry(root_client, cast):
    inst = cast.installation(Status.CANCELLED)
    data = change_form_data(inst, notes="Key under the mat", override_reason="Partner asked.")
    first = root_client.post(change_url(inst), data)
    again = root_client.post(change_url(inst), data)

    assert first.status_code == again.status_code == 302
    assert not any("Someone else" in m for m in flash(again)), flash(again)
    overrides = StatusChange.objects.filter(installation=inst, kind=StatusChange.Kind.OVERRIDE)
    assert overrides.count() == 1


def test_an_edit_over_another_windows_change_keeps_the_input_and_says_so(staff_client, cast):
    inst = cast.installation(Status.SCHEDULED)
    data = change_form_data(inst, notes="My edit")
    services.installation_update(installation=inst, actor=cast.partner_user, notes="Their edit")

    response = staff_client.post(change_url(inst), data)

    assert response.status_code == 409  # the page again, with what was typed: a conflict
    assert "Someone else changed this installation while you had this page open" in errors_of(
        response
    )
    assert "My edit</textarea>" in response.content.decode()
    inst.refresh_from_db()
    assert inst.notes == "Their edit"


def test_saving_again_after_the_warning_replaces_the_other_change(staff_client, cast):
    inst = cast.installation(Status.SCHEDULED)
    data = change_form_data(inst, notes="My edit")
    services.installation_update(installation=inst, actor=cast.partner_user, notes="Their edit")
    refused = staff_client.post(change_url(inst), data)
    version = refused.context["adminform"].form["expected_version"].value()

    again = staff_client.post(change_url(inst), {**data, "expected_version": version})

    assert again.status_code == 302
    inst.refresh_from_db()
    assert inst.notes == "My edit"


def test_an_override_over_another_windows_change_keeps_the_reason(root_client, cast):
    inst = cast.installation(Status.CANCELLED)
    data = change_form_data(inst, notes="Mine", override_reason="Customer phoned twice.")
    services.installation_override(
        installation=inst.pk, actor=cast.superuser, reason="Typo.", changes={"notes": "Theirs"}
    )

    response = root_client.post(change_url(inst), data)

    assert response.status_code == 409
    assert "Someone else changed this installation" in errors_of(response)
    assert "Customer phoned twice.</textarea>" in response.content.decode()
    assert Installation.objects.get(pk=inst.pk).notes == "Theirs"


def test_a_resent_bulk_cancel_is_answered_as_done_and_changes_nothing_twice(staff_client, cast):
    jobs = [cast.installation(Status.SCHEDULED), cast.installation(Status.INSTALLER_ASSIGNED)]
    form = {
        "action": "cancel_selected",
        "_selected_action": [job.pk for job in jobs],
        "post": "yes",
        "reason": "Supplier recall.",
    }
    first = staff_client.post("/admin/installations/installation/", form)
    staff_client.get(first.url)  # its page shown, its messages read
    again = staff_client.post("/admin/installations/installation/", form)

    assert first.status_code == again.status_code == 302
    said = " ".join(flash(again))
    assert "could not be cancelled" not in said, said
    assert f"Already cancelled, so nothing was changed: #{jobs[0].pk}, #{jobs[1].pk}." in said
    for job in jobs:
        entries = StatusChange.objects.filter(installation=job, to_status=Status.CANCELLED)
        assert entries.count() == 1
    assert LogEntry.objects.filter(object_id__in=[str(j.pk) for j in jobs]).count() == 2
