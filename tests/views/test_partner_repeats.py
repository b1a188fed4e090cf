"""Repeated submissions on the partner pages: a double click is answered as done, every create
form carries a one-time token, and nothing is written before every input is valid."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from installations import services
from installations.models import Customer, Installation, Message, StatusChange
from installations.statuses import Status

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme(client, cast):
    client.force_login(cast.partner_user)
    return client


def day(n: int = 2) -> str:
    return str(timezone.localdate() + timedelta(days=n))


def token_in(html: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f-]{36})"', html)
    assert match, "the form carries no one-time token"
    return match.group(1)


# --- Double click on a dialog's button (issue 11) ------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False])
def test_a_double_click_on_assign_is_answered_as_done_both_times(acme, cast, htmx):
    inst = cast.installation()
    data = {"handyman": cast.handyman.pk, "version": inst.version, "target": "row"}
    data["next"] = "/installations/"
    extra = HX if htmx else {}

    first = acme.post(f"/installations/{inst.pk}/assign/", data, **extra)
    second = acme.post(f"/installations/{inst.pk}/assign/", data, **extra)

    assert first.status_code == second.status_code == (200 if htmx else 302)
    html = second.content.decode()
    assert "Someone else changed" not in html
    if htmx:
        assert "Installer assigned" in html and ">Reassign</button>" in html
    assert StatusChange.objects.filter(installation=inst, transition="assign").count() == 1


@pytest.mark.parametrize("htmx", [True, False])
def test_a_double_click_on_reassign_is_answered_as_done_both_times(acme, cast, htmx):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    data = {"handyman": cast.other_handyman.pk, "version": inst.version, "target": "row"}
    data["next"] = "/installations/"
    extra = HX if htmx else {}

    first = acme.post(f"/installations/{inst.pk}/reassign/", data, **extra)
    second = acme.post(f"/installations/{inst.pk}/reassign/", data, **extra)

    # The second names the handyman who now has the job: the same reassign, not a bad choice.
    assert first.status_code == second.status_code == (200 if htmx else 302)
    assert "Choose a handyman" not in second.content.decode()
    assert StatusChange.objects.filter(installation=inst, transition="reassign").count() == 1


def test_the_reassign_dialog_does_not_offer_the_handyman_who_has_the_job(acme, cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    html = acme.get(f"/installations/{inst.pk}/reassign/").content.decode()
    assert f'value="{cast.other_handyman.pk}"' in html
    assert f'value="{cast.handyman.pk}"' not in html


def test_someone_elses_change_in_between_is_still_a_409(acme, cast):
    inst = cast.installation()
    seen = inst.version
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.staff)
    response = acme.post(
        f"/installations/{inst.pk}/assign/",
        {"handyman": cast.handyman.pk, "version": seen, "target": "row"},
        **HX,
    )
    assert response.status_code == 409
    assert "Someone else changed" in response.content.decode()


# --- One record per form (issue 11, 21.7) --------------------------------------------------------


def test_each_create_form_carries_a_fresh_one_time_token(acme, cast):
    rejected = cast.installation("REJECTED")
    done = cast.installation("INSTALLATION_COMPLETED")
    tokens = [
        token_in(acme.get("/installations/new/").content.decode()),
        token_in(acme.get("/installations/new/").content.decode()),
        token_in(acme.get(f"/installations/{rejected.pk}/").content.decode()),
        token_in(acme.get(f"/installations/{done.pk}/").content.decode()),
    ]
    assert len(set(tokens)) == 4


def test_twenty_replays_of_the_new_installation_form_create_one_record_and_one_customer(acme, cast):
    token = token_in(acme.get("/installations/new/").content.decode())
    data = {
        "new_name": "Jo Replay",
        "new_phone": "07700 900123",
        "site_address": "1 Loop Lane",
        "scheduled_date": day(),
        "window": "08-10",
        "token": token,
    }
    answers = [acme.post("/installations/new/", data) for _ in range(20)]

    created = Installation.objects.get(customer__name="Jo Replay")
    assert Customer.objects.filter(name="Jo Replay").count() == 1
    assert {a.status_code for a in answers} == {302}
    assert {a["Location"].split("#")[0] for a in answers} == {f"/installations/{created.pk}/"}


def test_twenty_replays_of_rebook_create_one_copy(acme, cast):
    old = cast.installation("CANCELLED")
    token = token_in(acme.get(f"/installations/{old.pk}/").content.decode())
    answers = [
        acme.post(f"/installations/{old.pk}/rebook/", {"scheduled_date": day(), "token": token})
        for _ in range(20)
    ]
    new = old.rebookings.get()
    assert {a["Location"].split("#")[0] for a in answers} == {f"/installations/{new.pk}/"}


def test_twenty_replays_of_a_follow_up_book_one_visit(acme, cast):
    parent = cast.installation("INSTALLATION_COMPLETED")
    token = token_in(acme.get(f"/installations/{parent.pk}/").content.decode())
    for _ in range(20):
        acme.post(
            f"/installations/{parent.pk}/follow-up/", {"scheduled_date": day(), "token": token}
        )
    assert parent.follow_ups.count() == 1


def test_a_second_follow_up_form_while_one_is_open_books_nothing_and_says_so(acme, cast):
    parent = cast.installation("INSTALLATION_COMPLETED")
    url = f"/installations/{parent.pk}/follow-up/"
    first = acme.post(url, {"scheduled_date": day(2), "token": str(uuid.uuid4())})
    second = acme.post(url, {"scheduled_date": day(5), "token": str(uuid.uuid4())}, follow=True)
    child = parent.follow_ups.get()
    assert first["Location"].startswith(f"/installations/{child.pk}/")
    assert second.redirect_chain[0][0].startswith(f"/installations/{child.pk}/")
    assert "already booked" in second.content.decode()


# --- Validate before you write (issue 21.2) ------------------------------------------------------


@pytest.mark.parametrize("version", ["abc", "-1", "0", "1.5", "9" * 30])
def test_it_refuses_a_version_that_is_not_a_version_before_calling_the_service(
    acme, cast, version, monkeypatch
):
    inst = cast.installation()
    calls = []
    monkeypatch.setattr(services, "installation_assign", lambda **kw: calls.append(kw))
    response = acme.post(
        f"/installations/{inst.pk}/assign/", {"handyman": cast.handyman.pk, "version": version}
    )
    assert response.status_code == 422
    assert "reload" in response.content.decode().lower()
    assert calls == []


@pytest.mark.parametrize("token", ["abc", "1' OR 1=1--", "x" * 5000])
def test_it_refuses_a_malformed_token_and_creates_nothing(acme, cast, token):
    old = cast.installation("CANCELLED")
    before = Installation.objects.count(), Message.objects.count()
    response = acme.post(
        f"/installations/{old.pk}/rebook/", {"scheduled_date": day(), "token": token}
    )
    assert response.status_code == 422
    assert (Installation.objects.count(), Message.objects.count()) == before


@pytest.mark.parametrize("next_value", ["foo", "//evil.example/", "/x\r\nX:1", "https://e.x/"])
def test_a_next_that_is_not_a_path_falls_back_and_the_action_happens_once(acme, cast, next_value):
    inst = cast.installation()
    data = {"handyman": cast.handyman.pk, "version": inst.version, "next": next_value}
    first = acme.post(f"/installations/{inst.pk}/assign/", data)
    again = acme.post(f"/installations/{inst.pk}/assign/", data)
    for response in (first, again):
        assert response.status_code == 302
        assert response["Location"].startswith(f"/installations/{inst.pk}/")
    assert StatusChange.objects.filter(installation=inst, transition="assign").count() == 1
    assert Installation.objects.get(pk=inst.pk).status == Status.INSTALLER_ASSIGNED
