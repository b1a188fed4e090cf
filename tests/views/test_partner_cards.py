"""The status cards never contradict the list, contradictory filters say so, and a number in the
search box goes to that record (only the partner's own)."""

from __future__ import annotations

import re

import pytest

from tests.factories import CustomerFactory

LIST = "/installations/"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def acme(client, cast):
    client.force_login(cast.partner_user)
    return client


def cards(html: str) -> dict[str, int]:
    return {
        label: int(n)
        for n, label in re.findall(
            r'<span class="card-count">(\d+)</span>\s*<span class="card-label">([^<]+)</span>', html
        )
    }


def shown(html: str) -> int:
    match = re.search(r'id="result-count">(\d+) installation', html)
    return int(match.group(1)) if match else 0


@pytest.mark.parametrize("htmx", [False, True])
def test_the_cards_count_within_the_other_active_filters(acme, cast, htmx):
    jo = CustomerFactory(partner=cast.partner, name="Jo Findme")
    cast.installation("SCHEDULED", customer=jo)
    cast.installation("EN_ROUTE", customer=jo)
    for _ in range(5):
        cast.installation("SCHEDULED")
    html = acme.get(LIST, {"q": "Findme", "group": "scheduled"}, **(HX if htmx else {}))
    html = html.content.decode()
    assert cards(html)["Scheduled"] == 1 == shown(html)
    assert cards(html)["En Route"] == 1
    assert "matching your search and filters" in html


def test_the_cards_alone_refresh_within_the_same_filters(acme, cast):
    jo = CustomerFactory(partner=cast.partner, name="Jo Findme")
    cast.installation("SCHEDULED", customer=jo)
    cast.installation("SCHEDULED")
    html = acme.get(LIST, {"q": "Findme"}, HTTP_HX_TARGET="cards", **HX).content.decode()
    assert cards(html)["Scheduled"] == 1


def test_an_exact_status_narrower_than_the_card_says_how_many_it_shows(acme, cast):
    cast.installation("SCHEDULED")
    cast.installation("INSTALLER_ASSIGNED")
    html = acme.get(LIST, {"group": "scheduled", "status": "SCHEDULED"}).content.decode()
    assert cards(html)["Scheduled"] == 2 and shown(html) == 1
    assert "Showing 1 (Scheduled)" in html


def test_a_status_outside_the_chosen_group_says_the_filters_contradict(acme, cast):
    cast.installation("SCHEDULED")
    response = acme.get(LIST, {"group": "approved", "status": "SCHEDULED"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "“Scheduled” is not in the “Approved” group" in html


def _no_digits(cast):
    return CustomerFactory(partner=cast.partner, address="Elm Street", phone="", email="")


@pytest.mark.parametrize("query", ["{pk}", "#{pk}", " #{pk} "])
def test_searching_for_a_number_goes_to_that_record(acme, cast, query):
    inst = cast.installation(customer=_no_digits(cast), site_address="Elm Street")
    cast.installation(customer=_no_digits(cast), site_address="Elm Street")
    response = acme.get(LIST, {"q": query.format(pk=inst.pk)})
    assert response.status_code == 302 and response["Location"] == f"/installations/{inst.pk}/"
    response = acme.get(LIST, {"q": query.format(pk=inst.pk)}, **HX)
    assert response["HX-Redirect"] == f"/installations/{inst.pk}/"


def test_a_bare_number_that_other_installations_contain_lists_them_with_a_link_to_the_record(
    acme, cast
):
    """Digits of a phone or a house number are also some record's number at a large partner:
    the search still finds what contains them, and offers the record. `#31` goes straight."""
    inst = cast.installation(customer=_no_digits(cast), site_address="Elm Street")
    phone = cast.installation(
        customer=CustomerFactory(partner=cast.partner, phone=f"+44 7700 9{inst.pk:05d}")
    )
    response = acme.get(LIST, {"q": str(inst.pk)})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Installation #{inst.pk} has this number" in html
    assert f'href="/installations/{inst.pk}/">open #{inst.pk}</a>' in html
    assert f'id="row-{phone.pk}"' in html and f'id="row-{inst.pk}"' in html
    assert acme.get(LIST, {"q": f"#{inst.pk}"}).status_code == 302


def test_another_partners_number_finds_nothing(acme, cast):
    theirs = cast.installation(partner=cast.other_partner)
    cast.installation()
    response = acme.get(LIST, {"q": f"#{theirs.pk}"})
    assert response.status_code == 200
    assert "No installations match" in response.content.decode()
    assert f"/installations/{theirs.pk}/" not in response.content.decode()
