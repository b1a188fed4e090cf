"""The installation change form's own checks passed, then the service refused the save under its
row lock (another window's save landing between the two, or a rule only the service knows): the
page again, 409 or 422, with what was typed kept and the refusal's sentence; nothing saved."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from installations import services
from installations.admin.forms import InstallationAddForm, InstallationAdminForm
from installations.models import Installation
from installations.statuses import Status

from .factories import CustomerFactory
from .test_admin import (
    ADD_URL,
    _add_data,
    change_form_data,
    change_url,
    flash,
)


@pytest.fixture
def landing_first(monkeypatch):
    """`landing_first(change)`: `change()` commits just after the change form's check of the
    page's version, before the service locks the row, as another window's save does when it
    lands between the two. Once: the next post is checked as usual."""

    def arrange(change: Callable[[], object]) -> None:
        real = InstallationAdminForm._check_page_version

        def overtaken(form, cleaned):
            real(form, cleaned)
            monkeypatch.setattr(InstallationAdminForm, "_check_page_version", real)
            change()

        monkeypatch.setattr(InstallationAdminForm, "_check_page_version", overtaken)

    return arrange


def errors_of(response) -> str:
    return " ".join(response.context["adminform"].form.non_field_errors())


def test_an_edit_overtaken_after_the_forms_check_is_refused_on_the_page_with_the_input_kept(
    staff_client, cast, landing_first
):
    inst = cast.installation(Status.SCHEDULED)
    landing_first(
        lambda: services.installation_update(
            installation=inst.pk, actor=cast.partner_user, notes="Their edit"
        ),
    )

    response = staff_client.post(change_url(inst), change_form_data(inst, notes="My edit"))

    assert response.status_code == 409  # the page again, not a redirect with a message
    assert "Someone else changed this installation" in errors_of(response)
    assert "My edit</textarea>" in response.content.decode()
    assert not flash(response)
    inst.refresh_from_db()
    assert (inst.notes, inst.version) == ("Their edit", 2)
    assert not LogEntry.objects.filter(object_id=str(inst.pk)).exists()


def test_saving_again_after_an_overtaken_edit_replaces_the_other_change(
    staff_client, cast, landing_first
):
    inst = cast.installation(Status.SCHEDULED)
    data = change_form_data(inst, notes="My edit")
    landing_first(
        lambda: services.installation_update(
            installation=inst.pk, actor=cast.partner_user, notes="Their edit"
        ),
    )
    refused = staff_client.post(change_url(inst), data)
    version = refused.context["adminform"].form["expected_version"].value()

    again = staff_client.post(change_url(inst), {**data, "expected_version": version})

    assert again.status_code == 302
    inst.refresh_from_db()
    assert inst.notes == "My edit"


def test_a_resent_edit_overtaken_by_its_own_first_send_is_answered_as_saved(
    staff_client, cast, landing_first
):
    inst = cast.installation(Status.SCHEDULED)
    # The first send of the same form commits while the second is between its check and the lock.
    landing_first(
        lambda: services.installation_update(
            installation=inst.pk,
            actor=cast.staff,
            expected_version=inst.version,
            notes="Dog in garden",
        ),
    )

    response = staff_client.post(change_url(inst), change_form_data(inst, notes="Dog in garden"))

    assert response.status_code == 302
    said = " ".join(flash(response))
    assert "Someone else" not in said and "was changed successfully" in said
    inst.refresh_from_db()
    assert (inst.notes, inst.version) == ("Dog in garden", 2)


def test_an_override_overtaken_after_the_forms_check_keeps_the_reason(
    root_client, cast, landing_first
):
    inst = cast.installation(Status.CANCELLED)
    landing_first(
        lambda: services.installation_override(
            installation=inst.pk, actor=cast.superuser, reason="Typo.", changes={"notes": "Theirs"}
        ),
    )
    data = change_form_data(inst, notes="Mine", override_reason="Customer phoned twice.")

    response = root_client.post(change_url(inst), data)

    assert response.status_code == 409
    assert "Someone else changed this installation" in errors_of(response)
    assert "Customer phoned twice.</textarea>" in response.content.decode()
    assert Installation.objects.get(pk=inst.pk).notes == "Theirs"


def test_a_move_onto_another_job_of_the_handyman_is_refused_on_the_page(root_client, cast):
    day = timezone.localdate() + timedelta(days=3)
    other = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=day)
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    data = change_form_data(inst, scheduled_date=day.isoformat(), notes="Ring twice")

    response = root_client.post(change_url(inst), data)

    assert response.status_code == 409  # the handyman's day as it is now: a conflict
    said = errors_of(response)
    assert f"already has #{other.pk}" in said
    assert said.endswith("that day. Nothing was saved: your changes are still below.")
    assert "Ring twice</textarea>" in response.content.decode()
    assert 'name="scheduled_date" value="' + day.isoformat() in response.content.decode()
    assert Installation.objects.get(pk=inst.pk).version == inst.version  # nothing saved


def test_a_new_installation_for_today_sent_as_the_day_ends_is_refused_on_the_page(
    root_client, cast, monkeypatch
):
    today = timezone.localdate()
    customer = CustomerFactory(partner=cast.partner)
    real = InstallationAddForm.clean_scheduled_date

    def checked_at_midnight(form):
        day = real(form)
        # Midnight passes between the form's check of the date and the service's.
        tomorrow = timezone.now() + timedelta(days=1)
        monkeypatch.setattr(timezone, "now", lambda: tomorrow)
        return day

    monkeypatch.setattr(InstallationAddForm, "clean_scheduled_date", checked_at_midnight)
    data = _add_data(cast, customer, scheduled_date=today.isoformat(), notes="Side gate")

    response = root_client.post(ADD_URL, data)

    assert response.status_code == 422  # not a 500: the page again, the date refused
    assert response.context["adminform"].form.errors["scheduled_date"] == [
        "Choose today or a later date."
    ]
    assert "Side gate</textarea>" in response.content.decode()
    assert not Installation.objects.filter(customer=customer).exists()
