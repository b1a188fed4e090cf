"""What staff may not make a record say in the admin (found in a QA pass as platform staff: it
saved a cancelled job with its reason cleared, a cancelled job never visited with completion
notes and a contract signer, and a handyman moved onto another login with his jobs)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from installations import services
from installations.models import StatusChange
from installations.statuses import Status

from .test_admin import change_form_data, change_url


@pytest.mark.parametrize(
    ("status", "field"),
    [(Status.CANCELLED, "cancellation_reason"), (Status.REJECTED, "rejection_reason")],
)
def test_an_override_cannot_clear_the_reason_a_job_ended_for(cast, status, field):
    inst = cast.installation(status)
    before = getattr(inst, field)
    with pytest.raises(ValidationError) as refused:
        services.installation_override(
            installation=inst, actor=cast.superuser, reason="Tidy.", changes={field: "  "}
        )
    assert field in refused.value.message_dict
    inst.refresh_from_db()
    assert getattr(inst, field) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("completion_notes", "Fitted and tested."), ("contract_signer_name", "Somebody")],
)
def test_an_override_cannot_give_a_job_never_done_an_outcome_it_did_not_have(
    client, cast, field, value
):
    inst = cast.installation(Status.CANCELLED)  # cancelled while scheduled: never visited
    client.force_login(cast.superuser)
    response = client.post(
        change_url(inst), change_form_data(inst, **{field: value, "override_reason": "Why not"})
    )
    assert response.status_code == 422  # the page again: refused input, what was typed kept
    assert response.context["adminform"].form.errors[field] == [
        "Only a job the handyman completed has completion notes."
        if field == "completion_notes"
        else "Only a signed contract has a signer's name."
    ]
    assert value in response.content.decode()
    inst.refresh_from_db()
    assert getattr(inst, field) == ""
    assert not inst.history.filter(kind=StatusChange.Kind.OVERRIDE).exists()


def test_an_override_still_corrects_the_outcome_of_a_job_that_had_it(cast):
    inst = cast.installation(Status.CUSTOMER_APPROVED)
    services.installation_override(
        installation=inst,
        actor=cast.superuser,
        reason="Typo.",
        changes={"completion_notes": "All fitted and tested.", "contract_signer_name": "Dev Patel"},
    )
    inst.refresh_from_db()
    assert inst.completion_notes == "All fitted and tested."
    assert inst.contract_signer_name == "Dev Patel"


def test_a_handymans_jobs_cannot_be_handed_to_another_login(client, cast):
    # The handyman's login is who he is: changing it gave his jobs, their customers' names,
    # phones and addresses to another account (here a partner user of another partner).
    cast.installation("INSTALLER_ASSIGNED")
    handyman = cast.handyman
    client.force_login(cast.superuser)
    url = f"/admin/installations/handyman/{handyman.pk}/change/"
    assert 'name="user"' not in client.get(url).content.decode()  # shown, not editable
    data = {
        "user": cast.other_partner_user.pk,
        "partners": [p.pk for p in handyman.partners.all()],
        "phone": handyman.phone,
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
    }
    assert client.post(url, data).status_code == 302
    handyman.refresh_from_db()
    assert handyman.user.username == "hank"


def test_a_customer_keeps_a_phone_number_or_an_email_address(client, cast):
    # The contract link reaches the customer through one of them (the new-installation form
    # and the import ask for one); the admin saved a customer with neither.
    customer = cast.installation().customer
    client.force_login(cast.superuser)
    url = f"/admin/installations/customer/{customer.pk}/change/"
    data = {"name": customer.name, "phone": "", "email": "", "address": customer.address}
    response = client.post(url, data)
    assert "Enter a phone number or an email address" in response.content.decode()
    customer.refresh_from_db()
    assert customer.phone or customer.email
    assert client.post(url, data | {"email": "bram@example.com"}).status_code == 302
