"""Two windows on one partner, customer, handyman or partner user: a save over a change made in
the other window meanwhile is refused with a sentence, the input kept; saving again is a choice."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse
from django.utils import timezone

from installations.models import Customer, Handyman, Partner, PartnerUser, TimeOff

from .factories import CustomerFactory


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def opened(client, obj) -> dict:
    """The change page as a window shows it: its form's values, ready to post back."""
    page = client.get(change_url(obj))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list):
            data[name] = [str(v) for v in value]
        else:
            data[name] = "" if value is None else value
    # Each inline's management form, as the page carries it.
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for inline_form in formset.formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value not in (None, False):
                    data[inline_form.add_prefix(name)] = value
    return data


def errors_of(response) -> str:
    return " ".join(response.context["adminform"].form.non_field_errors())


def test_a_customer_changed_in_another_window_is_not_overwritten(root_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith", phone="0700 000001")
    mine = opened(root_client, customer)
    Customer.objects.filter(pk=customer.pk).update(phone="0700 999999")  # the other window

    response = root_client.post(change_url(customer), {**mine, "name": "Ann Smith-Jones"})

    assert response.status_code == 409  # the page again, not a redirect: a conflict
    assert "Someone else changed this customer while you had this page open (phone)" in (
        errors_of(response)
    )
    assert 'value="Ann Smith-Jones"' in response.content.decode()  # the input is kept
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Ann Smith", "0700 999999")


def test_saving_again_after_the_warning_replaces_the_other_change(root_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith", phone="0700 000001")
    mine = opened(root_client, customer)
    Customer.objects.filter(pk=customer.pk).update(phone="0700 999999")
    refused = root_client.post(change_url(customer), {**mine, "name": "Ann Smith-Jones"})
    form = refused.context["adminform"].form

    again = root_client.post(
        change_url(customer),
        {**mine, "name": "Ann Smith-Jones", "loaded_values": form["loaded_values"].value()},
    )

    assert again.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Ann Smith-Jones", "0700 000001")


def test_an_edit_with_nothing_changed_meanwhile_is_saved(root_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith")
    response = root_client.post(
        change_url(customer), {**opened(root_client, customer), "name": "Ann"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Ann"


def test_a_handyman_given_another_partner_meanwhile_is_not_overwritten(root_client, cast):
    third = Partner.objects.create(name="Gamma Fitters")
    mine = opened(root_client, cast.handyman)
    cast.handyman.partners.add(third)  # the other window

    response = root_client.post(change_url(cast.handyman), {**mine, "phone": "0711 111111"})

    assert response.status_code == 409
    assert "Someone else changed this handyman" in errors_of(response)
    handyman = Handyman.objects.get(pk=cast.handyman.pk)
    assert third in handyman.partners.all()
    assert handyman.phone != "0711 111111"


def test_a_handyman_saved_without_a_change_meanwhile_keeps_his_partners(root_client, cast):
    mine = opened(root_client, cast.handyman)
    response = root_client.post(change_url(cast.handyman), {**mine, "phone": "0711 111111"})
    assert response.status_code == 302
    handyman = Handyman.objects.get(pk=cast.handyman.pk)
    assert handyman.phone == "0711 111111"
    assert set(handyman.partners.all()) == {cast.partner, cast.other_partner}


def test_a_partner_renamed_meanwhile_is_not_renamed_back(root_client, cast):
    mine = opened(root_client, cast.partner)
    Partner.objects.filter(pk=cast.partner.pk).update(name="Acme Kitchens")

    response = root_client.post(change_url(cast.partner), {**mine, "email": "ops@acme.test"})

    assert response.status_code == 409
    assert "Someone else changed this partner" in errors_of(response)
    partner = Partner.objects.get(pk=cast.partner.pk)
    assert (partner.name, partner.email) == ("Acme Kitchens", cast.partner.email)


def test_a_partner_user_moved_meanwhile_is_not_moved_back(root_client, cast):
    member = PartnerUser.objects.get(user=cast.partner_user)
    mine = opened(root_client, member)
    PartnerUser.objects.filter(pk=member.pk).update(partner=cast.other_partner)

    response = root_client.post(change_url(member), mine)

    assert response.status_code == 409
    assert "Someone else changed this partner user" in errors_of(response)
    assert PartnerUser.objects.get(pk=member.pk).partner == cast.other_partner


def test_a_crafted_record_of_the_page_is_refused_not_a_500(root_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith")
    mine = {**opened(root_client, customer), "name": "Ann", "loaded_values": "[1, {"}
    response = root_client.post(change_url(customer), mine)
    assert response.status_code == 409
    assert "Nothing was saved" in errors_of(response)
    customer.refresh_from_db()
    assert customer.name == "Ann Smith"


def test_an_invalid_edit_is_refused_input_not_a_conflict(root_client, cast):
    # The same pages answer a form refused for itself with 422, as every other page does.
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith", phone="0700 000001")
    mine = {**opened(root_client, customer), "name": "Ann", "phone": "", "email": ""}
    response = root_client.post(change_url(customer), mine)
    assert response.status_code == 422
    assert "Someone else" not in response.content.decode()
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Ann Smith", "0700 000001")


def test_a_view_only_staff_user_sees_a_customer_without_the_hidden_record(client, cast):
    cast.staff.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(cast.staff)
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith")
    page = client.get(change_url(customer))
    assert page.status_code == 200
    assert "loaded_values" not in page.content.decode()
    assert client.post(change_url(customer), {"name": "Ann"}).status_code == 403


# --- Inline rows: a partner's users, a handyman's days off -----------------------------------


def in_days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


def inline_errors_of(response) -> str:
    return " ".join(
        " ".join(inline.formset.non_form_errors())
        for inline in response.context["inline_admin_formsets"]
    )


def test_a_partners_user_row_changed_meanwhile_is_not_changed_back(root_client, cast):
    member = PartnerUser.objects.get(user=cast.partner_user)
    mine = opened(root_client, cast.partner)
    zed = User.objects.create_user("zed")
    PartnerUser.objects.filter(pk=member.pk).update(user=zed)  # a colleague's newer edit

    response = root_client.post(change_url(cast.partner), {**mine, "email": "ops@acme.test"})

    assert response.status_code == 409
    said = inline_errors_of(response)
    assert "Someone else changed the partner users while you had this page open" in said
    assert "row 1 (zed): user" in said
    assert 'value="ops@acme.test"' in response.content.decode()  # the input is kept
    assert PartnerUser.objects.get(pk=member.pk).user == zed
    assert Partner.objects.get(pk=cast.partner.pk).email == cast.partner.email


def test_saving_again_after_a_row_warning_replaces_the_other_change(root_client, cast):
    member = PartnerUser.objects.get(user=cast.partner_user)
    mine = opened(root_client, cast.partner)
    PartnerUser.objects.filter(pk=member.pk).update(user=User.objects.create_user("zed"))
    refused = root_client.post(change_url(cast.partner), mine)
    shown = refused.context["inline_admin_formsets"][0].formset.management_form
    carried = {shown.add_prefix("SHOWN_ROWS"): shown["SHOWN_ROWS"].value()}

    again = root_client.post(change_url(cast.partner), {**mine, **carried})

    assert again.status_code == 302
    assert PartnerUser.objects.get(pk=member.pk).user == cast.partner_user


def test_a_day_off_moved_meanwhile_is_not_moved_back(root_client, cast):
    off = TimeOff.objects.create(handyman=cast.handyman, day=in_days(5))
    mine = opened(root_client, cast.handyman)
    TimeOff.objects.filter(pk=off.pk).update(day=in_days(6))

    response = root_client.post(change_url(cast.handyman), {**mine, "phone": "0711 111111"})

    assert response.status_code == 409
    assert f"row 1 ({in_days(6).isoformat()}): day" in inline_errors_of(response)
    assert TimeOff.objects.get(pk=off.pk).day == in_days(6)
    assert Handyman.objects.get(pk=cast.handyman.pk).phone != "0711 111111"


def test_a_day_off_added_meanwhile_is_named_and_kept_by_saving_again(root_client, cast):
    mine = opened(root_client, cast.handyman)
    TimeOff.objects.create(handyman=cast.handyman, day=in_days(8))

    refused = root_client.post(change_url(cast.handyman), {**mine, "phone": "0711 111111"})

    assert refused.status_code == 409
    assert f"a row added meanwhile ({in_days(8).isoformat()})" in inline_errors_of(refused)
    shown = refused.context["inline_admin_formsets"][0].formset.management_form
    carried = {shown.add_prefix("SHOWN_ROWS"): shown["SHOWN_ROWS"].value()}
    again = root_client.post(change_url(cast.handyman), {**mine, "phone": "0711 111111", **carried})
    assert again.status_code == 302
    assert Handyman.objects.get(pk=cast.handyman.pk).phone == "0711 111111"
    assert list(TimeOff.objects.values_list("day", flat=True)) == [in_days(8)]


def test_a_day_off_deleted_meanwhile_is_said_and_its_delete_box_saves_the_rest(root_client, cast):
    off = TimeOff.objects.create(handyman=cast.handyman, day=in_days(5))
    mine = opened(root_client, cast.handyman)
    TimeOff.objects.filter(pk=off.pk).delete()

    response = root_client.post(change_url(cast.handyman), {**mine, "phone": "0711 111111"})

    assert response.status_code == 409
    assert "row 1 was deleted (tick its Delete box" in inline_errors_of(response)
    assert "row 1 was deleted" in response.content.decode()  # said on the page
    assert not TimeOff.objects.exists()
    ticked = {**mine, "phone": "0711 111111", "time_off-0-DELETE": "on"}
    assert root_client.post(change_url(cast.handyman), ticked).status_code == 302
    assert Handyman.objects.get(pk=cast.handyman.pk).phone == "0711 111111"
    assert not TimeOff.objects.exists()


def test_rows_unchanged_meanwhile_are_saved(root_client, cast):
    off = TimeOff.objects.create(handyman=cast.handyman, day=in_days(5))
    page = root_client.get(change_url(cast.handyman)).content.decode()
    assert 'type="hidden" name="time_off-SHOWN_ROWS"' in page  # what the rows held, drawn
    mine = opened(root_client, cast.handyman)
    response = root_client.post(
        change_url(cast.handyman), {**mine, "time_off-0-day": in_days(7).isoformat()}
    )
    assert response.status_code == 302
    assert TimeOff.objects.get(pk=off.pk).day == in_days(7)


def test_a_crafted_record_of_the_rows_is_refused_not_a_500(root_client, cast):
    TimeOff.objects.create(handyman=cast.handyman, day=in_days(5))
    mine = {**opened(root_client, cast.handyman), "time_off-SHOWN_ROWS": '{"1": [}'}
    response = root_client.post(change_url(cast.handyman), mine)
    assert response.status_code == 409
    assert "the page's own record of its rows" in inline_errors_of(response)


# --- The same save sent twice (a double click, a resent form) is answered as saved -----------


def logged_changes(obj) -> int:
    return LogEntry.objects.filter(object_id=str(obj.pk), action_flag=CHANGE).count()


def test_a_resent_edit_is_answered_as_saved_and_logged_once(root_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith", phone="0700 000001")
    sent = {**opened(root_client, customer), "name": "Ann Smith-Jones"}

    first = root_client.post(change_url(customer), sent)
    again = root_client.post(change_url(customer), sent)

    assert (first.status_code, again.status_code) == (302, 302)
    assert Customer.objects.get(pk=customer.pk).name == "Ann Smith-Jones"
    assert logged_changes(customer) == 1


def test_a_change_meanwhile_to_the_very_value_sent_is_no_conflict(root_client, cast):
    customer = CustomerFactory(partner=cast.partner, name="Ann Smith", phone="0700 000001")
    mine = opened(root_client, customer)
    Customer.objects.filter(pk=customer.pk).update(phone="0700 999999")  # a colleague agrees

    response = root_client.post(
        change_url(customer), {**mine, "name": "Ann Smith-Jones", "phone": "0700 999999"}
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Ann Smith-Jones", "0700 999999")


def test_a_resent_day_off_edit_is_answered_as_saved(root_client, cast):
    off = TimeOff.objects.create(handyman=cast.handyman, day=in_days(5))
    sent = {**opened(root_client, cast.handyman), "time_off-0-day": in_days(7).isoformat()}

    first = root_client.post(change_url(cast.handyman), sent)
    again = root_client.post(change_url(cast.handyman), sent)

    assert (first.status_code, again.status_code) == (302, 302)
    assert list(TimeOff.objects.values_list("pk", "day")) == [(off.pk, in_days(7))]


def test_a_resent_new_day_off_is_added_once(root_client, cast):
    new_row = {"time_off-0-day": in_days(9).isoformat(), "time_off-0-handyman": cast.handyman.pk}
    sent = {**opened(root_client, cast.handyman), **new_row}

    first = root_client.post(change_url(cast.handyman), sent)
    again = root_client.post(change_url(cast.handyman), sent)

    assert (first.status_code, again.status_code) == (302, 302)
    assert list(TimeOff.objects.values_list("day", flat=True)) == [in_days(9)]


def test_a_resent_partner_user_edit_is_answered_as_saved(root_client, cast):
    member = PartnerUser.objects.get(user=cast.partner_user)
    zed = User.objects.create_user("zed")
    mine = opened(root_client, cast.partner)
    row_user = next(name for name in mine if name.endswith("-0-user"))
    sent = {**mine, row_user: str(zed.pk)}

    first = root_client.post(change_url(cast.partner), sent)
    again = root_client.post(change_url(cast.partner), sent)

    assert (first.status_code, again.status_code) == (302, 302)
    assert PartnerUser.objects.get(pk=member.pk).user == zed


def test_a_day_off_moved_meanwhile_is_not_deleted_unseen(root_client, cast):
    off = TimeOff.objects.create(handyman=cast.handyman, day=in_days(5))
    mine = opened(root_client, cast.handyman)
    TimeOff.objects.filter(pk=off.pk).update(day=in_days(6))  # a colleague moved it

    response = root_client.post(change_url(cast.handyman), {**mine, "time_off-0-DELETE": "on"})

    assert response.status_code == 409
    assert f"row 1 ({in_days(6).isoformat()}): day" in inline_errors_of(response)
    assert TimeOff.objects.get(pk=off.pk).day == in_days(6)


def test_a_login_made_inactive_in_another_window_is_not_made_active_again(root_client, cast):
    user = cast.partner_user
    mine = opened(root_client, user)
    User.objects.filter(pk=user.pk).update(is_active=False)  # the other window: access removed

    response = root_client.post(change_url(user), {**mine, "email": "new@example.com"})

    assert response.status_code == 409
    assert "Someone else changed this user while you had this page open (active)" in (
        errors_of(response)
    )
    user.refresh_from_db()
    assert (user.is_active, user.email) == (False, cast.partner_user.email)


def test_a_login_saved_with_its_page_unchanged_elsewhere_is_saved(root_client, cast):
    user = cast.partner_user
    mine = opened(root_client, user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())  # they logged in meanwhile

    response = root_client.post(change_url(user), {**mine, "first_name": "Robin"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.first_name == "Robin"


def test_a_logins_page_does_not_carry_its_password_hash(root_client, cast):
    user = cast.partner_user
    page = root_client.get(change_url(user)).content.decode()

    assert "loaded_values" in page
    assert user.password not in page
    assert user.password.split("$")[-1] not in page  # nor the hash alone


def test_a_groups_rights_changed_in_another_window_are_not_overwritten(root_client):
    group = Group.objects.create(name="Dispatchers")
    mine = opened(root_client, group)
    right = Permission.objects.get(codename="view_installation")
    group.permissions.add(right)  # the other window

    response = root_client.post(change_url(group), {**mine, "name": "Dispatch office"})

    assert response.status_code == 409
    group.refresh_from_db()
    assert group.name == "Dispatchers"
    assert list(group.permissions.all()) == [right]
