"""The installation change form sent twice (a double click, a resent form) or from a page older
than another window's change: the first is answered as done, the second refused on the page
with the person's input kept."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from installations import services
from installations.models import (
    Customer,
    Handyman,
    Installation,
    Partner,
    PartnerUser,
    StatusChange,
)
from installations.statuses import Status

from .test_admin import change_form_data, change_url, flash
from .test_every_form_twice import admin_add_pages


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


def _add_form(client, url: str) -> dict:
    """The add page's form as drawn: its one-time token, if it has one."""
    html = client.get(url).content.decode()
    match = re.search(r'name="once" value="([0-9a-f-]{36})"', html)
    return {"once": match.group(1)} if match else {}


@pytest.mark.parametrize("button", ["_save", "_continue", "_addanother"])
def test_a_resent_customer_add_adds_one_customer_and_is_answered_as_saved(
    root_client, cast, button
):
    url = "/admin/installations/customer/add/"
    data = {
        **_add_form(root_client, url),
        "partner": cast.partner.pk,
        "name": "Carla Double",
        "phone": "+44 7700 900777",
        "email": "carla@example.com",
        "address": "1 Click Lane",
        button: "Save",
    }
    first = root_client.post(url, data)
    again = root_client.post(url, data, follow=True)  # a double click, a resent form

    assert first.status_code == 302
    customer = Customer.objects.get(name="Carla Double")
    # "Save and add another" goes on to a fresh add page, as its first send did.
    where = (
        url if button == "_addanother" else f"/admin/installations/customer/{customer.pk}/change/"
    )
    assert again.redirect_chain[0] == (where, 302)
    assert "Already saved: Carla Double" in " ".join(flash(again))
    assert LogEntry.objects.filter(object_id=str(customer.pk)).count() == 1


def test_a_resent_partner_add_is_answered_as_saved_not_already_exists(root_client):
    url = "/admin/installations/partner/add/"
    data = {
        **_add_form(root_client, url),
        "name": "Gamma Ovens",
        "email": "office@gamma.example",
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        "_save": "Save",
    }
    assert root_client.post(url, data).status_code == 302
    again = root_client.post(url, data, follow=True)

    assert again.status_code == 200
    assert "already exists" not in again.content.decode()
    assert Partner.objects.filter(name="Gamma Ovens").count() == 1


def test_every_admin_add_page_carries_a_one_time_token(root_client):
    pages = admin_add_pages()
    assert len(pages) >= 7  # users, groups, partners and their users, handymen, customers, jobs
    # The installation's add keeps its token on the row it adds (services.installation_create).
    token = re.compile(r'name="(?:once|token)" value="[0-9a-f-]{36}"')
    assert [
        page for page in pages if not token.search(root_client.get(page).content.decode())
    ] == []


def _newcomer() -> User:
    """A login with no role yet: staff can make it a partner's user or a handyman."""
    return User.objects.create_user("newcomer", password="Blue-kettle-on-the-stove-42")


RESENT_ADDS = {
    "user": (
        "/admin/auth/user/add/",
        lambda cast: {
            "username": "sam.double",
            "usable_password": "true",
            "password1": "Blue-kettle-on-the-stove-42",
            "password2": "Blue-kettle-on-the-stove-42",
        },
        lambda: User.objects.filter(username="sam.double"),
    ),
    "group": (
        "/admin/auth/group/add/",
        lambda cast: {"name": "Dispatchers"},
        lambda: Group.objects.filter(name="Dispatchers"),
    ),
    "partner user": (
        "/admin/installations/partneruser/add/",
        lambda cast: {"user": _newcomer().pk, "partner": cast.partner.pk},
        lambda: PartnerUser.objects.filter(user__username="newcomer"),
    ),
    "handyman": (
        "/admin/installations/handyman/add/",
        lambda cast: {
            "user": _newcomer().pk,
            "phone": "+44 7700 900779",
            "partners": [cast.partner.pk],
            "time_off-TOTAL_FORMS": "0",
            "time_off-INITIAL_FORMS": "0",
        },
        lambda: Handyman.objects.filter(user__username="newcomer"),
    ),
}


@pytest.mark.parametrize("what", RESENT_ADDS)
def test_a_resent_add_of_a_login_group_or_role_adds_one_and_is_answered_as_saved(
    root_client, cast, what
):
    url, data_for, added = RESENT_ADDS[what]
    data = {**_add_form(root_client, url), **data_for(cast), "_save": "Save"}
    first = root_client.post(url, data)
    assert first.status_code == 302, first.content.decode()[:2000]
    again = root_client.post(url, data, follow=True)  # a double click, a resent form

    row = added().get()
    change = reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_change", args=[row.pk])
    assert again.redirect_chain[0] == (change, 302)
    assert "Already saved" in " ".join(flash(again))
    assert "already exists" not in again.content.decode()
    assert LogEntry.objects.filter(object_id=str(row.pk), action_flag=1).count() == 1


def test_two_add_pages_still_add_two_customers(root_client, cast):
    url = "/admin/installations/customer/add/"
    for name in ("First Tab", "Second Tab"):
        data = {**_add_form(root_client, url), "partner": cast.partner.pk, "name": name}
        data.update(phone="+44 7700 900778", address="2 Tab Road", _save="Save")
        assert root_client.post(url, data).status_code == 302
    assert Customer.objects.filter(name__endswith=" Tab").count() == 2


def test_a_customer_save_that_changes_nothing_logs_nothing_even_sent_twice(root_client, cast):
    customer = cast.installation().customer
    url = f"/admin/installations/customer/{customer.pk}/change/"
    page = root_client.get(url).content.decode()
    loaded = re.search(r'name="loaded_values" value="([^"]*)"', page).group(1)
    data = {
        "name": customer.name,
        "phone": customer.phone,
        "email": customer.email,
        "address": customer.address,
        "loaded_values": loaded.replace("&quot;", '"'),
        "_save": "Save",
    }
    assert root_client.post(url, data).status_code == root_client.post(url, data).status_code == 302
    # Nothing changed: no "Changed loaded_values" (the page's own hidden field) in its history.
    assert not LogEntry.objects.filter(object_id=str(customer.pk)).exists()

    assert root_client.post(url, {**data, "name": "Renamed Customer"}).status_code == 302
    (entry,) = LogEntry.objects.filter(object_id=str(customer.pk))
    assert entry.get_change_message() == "Changed Name."


def test_an_add_refused_for_its_errors_then_corrected_adds_once(root_client, cast):
    url = "/admin/installations/customer/add/"
    data = {**_add_form(root_client, url), "partner": cast.partner.pk, "name": ""}
    data.update(phone="+44 7700 900776", address="4 Typo Road", _save="Save")
    refused = root_client.post(url, data)
    assert refused.status_code == 422 and "This field is required" in refused.content.decode()

    data["name"] = "Ursula Second-Go"  # the same page, its token, now corrected
    assert root_client.post(url, data).status_code == 302
    again = root_client.post(url, data, follow=True)
    assert "Already saved: Ursula Second-Go" in " ".join(flash(again))
    assert Customer.objects.filter(name="Ursula Second-Go").count() == 1


def test_an_add_form_sent_from_another_account_adds_nothing_and_says_so(root_client, client, cast):
    url = "/admin/installations/customer/add/"
    data = {**_add_form(root_client, url), "partner": cast.partner.pk, "name": "Vera Once"}
    data.update(phone="+44 7700 900775", address="5 Copy Street", _save="Save")
    assert root_client.post(url, data).status_code == 302

    other = Client()
    other.force_login(User.objects.create_superuser("other.admin", password="x-Long-enough-42"))
    answer = other.post(url, {**data, "name": "Vera Copied"}, follow=True)
    assert answer.redirect_chain == [(url, 302)]
    assert "already used from another account" in " ".join(flash(answer))
    assert not Customer.objects.filter(name="Vera Copied").exists()


def test_a_resent_add_whose_row_was_deleted_since_adds_it_again(root_client, cast):
    url = "/admin/installations/customer/add/"
    data = {**_add_form(root_client, url), "partner": cast.partner.pk, "name": "Wendy Twice"}
    data.update(phone="+44 7700 900774", address="6 Gone Lane", _save="Save")
    assert root_client.post(url, data).status_code == 302
    Customer.objects.filter(name="Wendy Twice").delete()

    assert root_client.post(url, data).status_code == 302
    assert Customer.objects.filter(name="Wendy Twice").count() == 1


def test_a_resent_add_in_a_popup_hands_its_row_to_the_page_that_opened_it(root_client, cast):
    """The "+" beside a customer field opens the add page in a popup; its answer fills the
    field. A double click there must give the same answer, not a change page in the popup."""
    url = "/admin/installations/customer/add/?_to_field=id&_popup=1"
    data = {**_add_form(root_client, url), "partner": cast.partner.pk, "name": "Pia Popup"}
    data.update(phone="+44 7700 900773", address="7 Window Way", _popup="1", _to_field="id")
    data["_save"] = "Save"
    first = root_client.post(url, data)
    again = root_client.post(url, data)

    customer = Customer.objects.get(name="Pia Popup")
    for answer in (first, again):
        assert answer.status_code == 200
        assert "admin/popup_response.html" in [t.name for t in answer.templates]
        assert f"&quot;value&quot;: &quot;{customer.pk}&quot;" in answer.content.decode()


def test_a_logins_delete_page_does_not_list_the_add_forms_it_sent(root_client, cast):
    other = User.objects.create_superuser("leaving.admin", password="x-Long-enough-42")
    tab = Client()
    tab.force_login(other)
    url = "/admin/installations/customer/add/"
    data = {**_add_form(tab, url), "partner": cast.partner.pk, "name": "Rosa Stays"}
    data.update(phone="+44 7700 900772", address="8 Kept Road", _save="Save")
    assert tab.post(url, data).status_code == 302

    page = root_client.get(f"/admin/auth/user/{other.pk}/delete/").content.decode()
    assert "leaving.admin" in page and "add form" not in page
