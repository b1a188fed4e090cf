"""Staff: a new date or window in the installation admin is a reschedule; days off inline."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from installations import services
from installations.models import Message, StatusChange, TimeOff
from installations.statuses import Status
from tests.test_admin import change_form_data, change_url, flash

from .test_services import slot


def in_days(n: int) -> date:
    return timezone.localdate() + timedelta(days=n)


def test_a_new_date_in_the_admin_is_a_reschedule_with_its_entry_and_messages(root_client, cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    data = change_form_data(inst, scheduled_date=in_days(4).isoformat(), notes="Gate code 12")
    response = root_client.post(change_url(inst), data)
    assert response.status_code == 302
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(4) and inst.notes == "Gate code 12"
    entry = inst.history.get(kind=StatusChange.Kind.RESCHEDULED)
    assert entry.changes == {"scheduled_date": [in_days(1).isoformat(), in_days(4).isoformat()]}
    assert Message.objects.filter(installation=inst, template="rescheduled").count() == 2
    page = root_client.get(change_url(inst)).content.decode()
    d1, d4 = in_days(1), in_days(4)
    assert f"Rescheduled from {slot(d1, '09:00', '11:00')} to {d4:%a} {d4.day}" in page


def test_an_admin_move_onto_a_day_off_changes_nothing(root_client, cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    TimeOff.objects.create(handyman=cast.handyman, day=in_days(4))
    data = change_form_data(inst, scheduled_date=in_days(4).isoformat(), notes="Other")
    response = root_client.post(change_url(inst), data)
    assert response.status_code == 422  # the page again, the day refused beside its field
    [said] = response.context["adminform"].form.errors["scheduled_date"]
    assert "is off on" in said
    assert "Other</textarea>" in response.content.decode()
    inst.refresh_from_db()
    assert inst.scheduled_date == in_days(1) and inst.notes == ""  # both or none


def test_staff_add_a_day_off_on_the_handyman_admin(root_client, cast):
    url = reverse("admin:installations_handyman_change", args=[cast.handyman.pk])
    page = root_client.get(url)
    assert page.status_code == 200 and "Days off" in page.content.decode()
    data = {
        "user": cast.handyman.user_id,
        "phone": cast.handyman.phone,
        "partners": [p.pk for p in cast.handyman.partners.all()],
        "time_off-TOTAL_FORMS": "1",
        "time_off-INITIAL_FORMS": "0",
        "time_off-MIN_NUM_FORMS": "0",
        "time_off-MAX_NUM_FORMS": "1000",
        "time_off-0-day": in_days(6).isoformat(),
    }
    response = root_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    row = TimeOff.objects.get(handyman=cast.handyman)
    assert row.day == in_days(6) and row.created_by == cast.superuser


def test_staff_cannot_add_a_past_day_off(root_client, cast):
    url = reverse("admin:installations_handyman_change", args=[cast.handyman.pk])
    data = {
        "user": cast.handyman.user_id,
        "phone": cast.handyman.phone,
        "partners": [p.pk for p in cast.handyman.partners.all()],
        "time_off-TOTAL_FORMS": "1",
        "time_off-INITIAL_FORMS": "0",
        "time_off-MIN_NUM_FORMS": "0",
        "time_off-MAX_NUM_FORMS": "1000",
        "time_off-0-day": in_days(-1).isoformat(),
    }
    response = root_client.post(url, data)
    assert response.status_code == 422
    assert "past days stay as they were" in response.content.decode()
    assert not TimeOff.objects.exists()


def _days_off_post(cast, *days: date, existing: TimeOff | None = None) -> dict:
    data = {
        "user": cast.handyman.user_id,
        "phone": cast.handyman.phone,
        "partners": [p.pk for p in cast.handyman.partners.all()],
        "time_off-TOTAL_FORMS": str(len(days) + (existing is not None)),
        "time_off-INITIAL_FORMS": str(int(existing is not None)),
        "time_off-MIN_NUM_FORMS": "0",
        "time_off-MAX_NUM_FORMS": "1000",
    }
    offset = 0
    if existing is not None:
        data["time_off-0-id"] = existing.pk
        data["time_off-0-handyman"] = cast.handyman.pk
        data["time_off-0-day"] = existing.day.isoformat()
        offset = 1
    for n, day in enumerate(days, start=offset):
        data[f"time_off-{n}-day"] = day.isoformat()
    return data


def test_a_day_off_already_listed_is_refused_with_a_sentence_not_a_500(root_client, cast):
    url = reverse("admin:installations_handyman_change", args=[cast.handyman.pk])
    existing = TimeOff.objects.create(handyman=cast.handyman, day=in_days(6))
    response = root_client.post(url, _days_off_post(cast, in_days(6), existing=existing))
    assert response.status_code == 422
    assert "is already marked off" in response.content.decode()
    response = root_client.post(url, _days_off_post(cast, in_days(7), in_days(7)))
    assert response.status_code == 422
    assert "Please correct the duplicate data for day." in response.content.decode()
    assert list(TimeOff.objects.values_list("day", flat=True)) == [in_days(6)]


def test_a_day_off_over_his_jobs_says_which_are_left_to_move(root_client, cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED)  # tomorrow, Hank's
    url = reverse("admin:installations_handyman_change", args=[cast.handyman.pk])
    response = root_client.post(url, _days_off_post(cast, in_days(1)), follow=True)
    assert response.status_code == 200
    said = " ".join(flash(response))
    assert "still has 1 job on" in said and f"#{job.pk} 09:00–11:00" in said


def test_a_partner_is_not_taken_from_a_handyman_who_still_has_its_open_jobs(root_client, cast):
    job = cast.installation(Status.INSTALLER_ASSIGNED)  # Acme's, Hank's
    url = reverse("admin:installations_handyman_change", args=[cast.handyman.pk])
    data = {**_days_off_post(cast), "partners": [cast.other_partner.pk]}
    response = root_client.post(url, data)
    assert response.status_code == 422
    assert f"still has open jobs for a partner you removed (Acme Appliances: #{job.pk})" in (
        response.content.decode()
    )
    assert cast.partner in cast.handyman.partners.all()
    # Once the job is someone else's, the partner can go.
    services.installation_reassign(
        installation=job, handyman=cast.other_handyman, actor=cast.partner_user
    )
    assert root_client.post(url, data).status_code == 302
    assert list(cast.handyman.partners.all()) == [cast.other_partner]
