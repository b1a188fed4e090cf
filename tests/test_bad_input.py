"""Bad input everywhere answers a clear message and changes nothing; never a 500."""

from __future__ import annotations

import pytest

from installations.models import Customer, Installation, StatusChange
from installations.statuses import Status

HUGE_ID = "9" * 30


def fingerprint() -> tuple:
    return (
        tuple(Installation.objects.order_by("pk").values_list("pk", "status", "version")),
        StatusChange.objects.count(),
        Customer.objects.count(),
    )


@pytest.fixture
def partner_client(client, cast):
    client.force_login(cast.partner_user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/installations/abc/",
        f"/installations/{HUGE_ID}/",
        f"/installations/{2**63 - 1}/",  # the largest id a row can have: no such row
        f"/installations/{2**63}/",  # one more: no database can be asked about it
        f"/installations/{HUGE_ID}/assign/",
        f"/installations/{HUGE_ID}/follow-up/",
        f"/installations/{HUGE_ID}/rebook/",
        "/installations/-1/",
        "/installations/0/reject/",
        f"/handyman/{HUGE_ID}/arrive/",
        f"/c/{'x' * 5000}/",
        "/c/not-a-token/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_malformed_ids_are_not_found(partner_client, cast, url, method):
    before = fingerprint()
    # A GET of a form's address goes back to its page (redirects.post_only): that one is gone.
    response = getattr(partner_client, method)(url, follow=method == "get")
    assert response.status_code in (404, 405, 410), (url, response.status_code)
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("group=nope", "Choose a status group from the list."),
        ("group=SCHEDULED", "Choose a status group from the list."),
        ("status=FINISHED", "Choose a status from the list."),
        ("status=", None),
        ("handyman=abc", "Choose a handyman from the list."),
        (f"handyman={HUGE_ID}", "Choose a handyman from the list."),
        ("handyman=-4", "Choose a handyman from the list."),
        ("sort=evil", "Choose a sort order from the list."),
        ("sort=id;drop table", "Choose a sort order from the list."),
        ("date_from=2026-13-45", "Enter a date like"),
        ("date_from=tomorrow", "Enter a date like"),
        ("date_to=2026-02-30", "Enter a date like"),
        ("date_from=2026-05-02&date_to=2026-05-01", "on or after"),
        ("q=" + "x" * 5000, "at most"),
        ("q=%00%01", None),
        ("unassigned=maybe", None),
        ("page=abc", None),
        ("page=-3", None),
        (f"page={HUGE_ID}", None),
    ],
)
def test_unknown_filter_values_give_a_message_not_an_error(partner_client, cast, query, message):
    cast.installation(Status.SCHEDULED)
    before = fingerprint()
    for headers in ({}, {"HX-Request": "true"}):
        response = partner_client.get(f"/installations/?{query}", headers=headers)
        assert response.status_code in (200, 400, 404), (query, response.status_code)
        if message:
            assert message in response.content.decode(), query
    assert fingerprint() == before


def test_oversized_fields_are_refused_with_a_message(partner_client, cast):
    before = fingerprint()
    response = partner_client.post(
        "/installations/new/",
        {
            "customer_choice": "new",
            "new_customer_name": "N" * 5000,
            "new_customer_address": "A" * 5000,
            "site_address": "S" * 5000,
            "scheduled_date": "2999-01-01",
            "window": "08:00-10:00",
            "notes": "n" * 100_000,
        },
    )
    assert response.status_code in (200, 400, 422)
    assert "at most" in response.content.decode() or "Ensure this value" in (
        response.content.decode()
    )
    assert fingerprint() == before


def test_a_reject_reason_that_is_too_long_is_refused(partner_client, cast):
    inst = cast.installation(Status.SCHEDULED)
    before = fingerprint()
    response = partner_client.post(
        f"/installations/{inst.pk}/reject/", {"reason": "r" * 50_000, "version": inst.version}
    )
    assert response.status_code in (200, 400, 422)
    assert fingerprint() == before


def test_a_version_that_is_not_a_number_is_treated_as_stale_or_refused(partner_client, cast):
    inst = cast.installation(Status.SCHEDULED)
    before = fingerprint()
    response = partner_client.post(
        f"/installations/{inst.pk}/reject/", {"reason": "No stock", "version": "banana"}
    )
    assert response.status_code in (400, 409, 422)
    assert fingerprint() == before
