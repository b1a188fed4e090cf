"""The partner list's FilterSet on its own: each filter over the selector's queryset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from installations import selectors
from installations.filters import SEARCH_MAX_LENGTH, InstallationFilter
from tests.factories import CustomerFactory


def run(cast, **params) -> tuple[bool, list[int], InstallationFilter]:
    data = QueryDict(mutable=True)
    data.update(params)
    f = InstallationFilter(
        data, queryset=selectors.installations_for_partner(cast.partner), partner=cast.partner
    )
    valid = f.is_valid()
    return valid, [i.pk for i in f.qs] if valid else [], f


def test_no_filters_lists_everything_of_the_partner_in_date_order(cast):
    today = timezone.localdate()
    b = cast.installation(scheduled_date=today + timedelta(days=2))
    a = cast.installation(scheduled_date=today + timedelta(days=1))
    cast.installation(partner=cast.other_partner)
    assert run(cast)[:2] == (True, [a.pk, b.pk])


@pytest.mark.parametrize(
    ("group", "statuses"),
    [
        ("scheduled", ["SCHEDULED", "INSTALLER_ASSIGNED"]),
        ("en_route", ["EN_ROUTE"]),
        ("in_progress", ["INSTALLATION_IN_PROGRESS", "CONTRACT_SENT"]),
        ("approved", ["CUSTOMER_APPROVED"]),
        ("rejected", ["REJECTED", "CANCELLED"]),
    ],
)
def test_group_includes_every_status_of_the_group(cast, group, statuses):
    made = {
        s: cast.installation(s).pk
        for s in [
            "SCHEDULED",
            "INSTALLER_ASSIGNED",
            "EN_ROUTE",
            "INSTALLATION_IN_PROGRESS",
            "CONTRACT_SENT",
            "CUSTOMER_APPROVED",
            "REJECTED",
            "CANCELLED",
        ]
    }
    valid, pks, _ = run(cast, group=group)
    assert valid and sorted(pks) == sorted(made[s] for s in statuses)


def test_handyman_choices_are_the_partners_handymen(cast):
    _, _, f = run(cast)
    assert set(f.form.fields["handyman"].queryset) == {cast.handyman, cast.other_handyman}
    f = InstallationFilter(
        QueryDict(),
        queryset=selectors.installations_for_partner(cast.other_partner),
        partner=cast.other_partner,
    )
    assert list(f.form.fields["handyman"].queryset) == [cast.handyman]


def test_unchecked_unassigned_filters_nothing(cast):
    a = cast.installation()
    b = cast.installation("INSTALLER_ASSIGNED")
    assert sorted(run(cast)[1]) == sorted([a.pk, b.pk])
    assert run(cast, unassigned="on")[1] == [a.pk]


def test_search_is_capped_and_trimmed(cast):
    customer = CustomerFactory(partner=cast.partner, name="Ada Lovelace")
    inst = cast.installation(customer=customer)
    assert run(cast, q="  lovelace  ")[1] == [inst.pk]
    valid, _, f = run(cast, q="x" * (SEARCH_MAX_LENGTH + 1))
    assert not valid and "q" in f.form.errors
    assert run(cast, q="   ")[1] == [inst.pk]


def test_search_does_not_reach_another_partner(cast):
    customer = CustomerFactory(partner=cast.other_partner, name="Hidden Person")
    cast.installation(customer=customer, partner=cast.other_partner)
    assert run(cast, q="hidden")[1] == []


@pytest.mark.parametrize(
    "params",
    [
        {"group": "x"},
        {"status": "x"},
        {"handyman": "0"},
        {"date_to": "nope"},
        {"sort": "customer__name"},
        {"date_from": "2030-02-01", "date_to": "2030-01-01"},
    ],
)
def test_invalid_values_are_form_errors(cast, params):
    valid, _, f = run(cast, **params)
    assert not valid and f.form.errors


def test_a_status_outside_the_chosen_group_is_an_error_that_says_so(cast):
    cast.installation()
    valid, ids, f = run(cast, group="approved", status="SCHEDULED")
    assert not valid and ids == []
    assert "is not in the “Approved” group" in str(f.form.errors["status"])


@pytest.mark.parametrize("query", ["{pk}", "#{pk}", "# {pk}"])
def test_search_finds_a_record_by_its_number_within_the_partner_only(cast, query):
    def plain(partner):  # no digits anywhere, so only the number can match
        return CustomerFactory(partner=partner, address="Elm Street", phone="", email="")

    mine = cast.installation(customer=plain(cast.partner), site_address="Elm Street")
    cast.installation(customer=plain(cast.partner), site_address="Elm Street")
    other = cast.other_partner
    theirs = cast.installation(partner=other, customer=plain(other), site_address="Elm Street")
    assert run(cast, q=query.format(pk=mine.pk))[1] == [mine.pk]
    assert run(cast, q=query.format(pk=theirs.pk))[1] == []


def test_the_cards_count_within_the_other_filters_in_one_query(cast, django_assert_num_queries):
    jo = CustomerFactory(partner=cast.partner, name="Jo Findme")
    cast.installation("SCHEDULED", customer=jo)
    cast.installation("EN_ROUTE", customer=jo)
    cast.installation("SCHEDULED")
    valid, _, f = run(cast, q="Findme", group="scheduled")
    with django_assert_num_queries(1):
        counts = f.counts_by_status()
    assert counts == {"SCHEDULED": 1, "EN_ROUTE": 1}
    assert f.count(counts) == 1
    assert run(cast, group="scheduled")[2].counts_by_status() is None  # the counters know
