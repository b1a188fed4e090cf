"""The new-installation form's customer search: the partner's own matching customers, at most a
few, found the same way on both databases whether the text is common, rare or short."""

from __future__ import annotations

import pytest

from installations import search
from installations.customer_picker import SHOWN, pick
from tests.factories import CustomerFactory


def _matching(customers, text: str) -> set[int]:
    """The ids of `customers` whose name, phone, email or address contain `text`, case-folded."""
    fields = ("name", "phone", "email", "address")
    return {
        c.pk for c in customers if any(text.casefold() in getattr(c, f).casefold() for f in fields)
    }


@pytest.fixture
def customers(cast):
    mine = [
        *(CustomerFactory(partner=cast.partner, name=f"Ada Okafor {i}") for i in range(3)),
        *(CustomerFactory(partner=cast.partner, address=f"{i} Mill Road") for i in range(14)),
        CustomerFactory(partner=cast.partner, name="Zoë Quist", email="zq@example.com"),
    ]
    theirs = [CustomerFactory(partner=cast.other_partner, name="Ada Okafor Theirs")]
    return mine, theirs


@pytest.mark.parametrize("text", ["Okafor", "okaf", "mill road", "Zoë", "zq", "ok", "nobody"])
def test_it_finds_the_partners_matching_customers_and_no_others(cast, customers, text):
    mine, theirs = customers
    expected = _matching(mine, text)
    found = search.first_customers(cast.partner, text, SHOWN + 1)
    assert {c.pk for c in found} <= expected
    assert len(found) == min(len(expected), SHOWN + 1)
    assert theirs[0].pk not in {c.pk for c in found}


def test_a_common_text_shows_the_first_ten_and_knows_there_are_more(cast, customers):
    picker = pick(cast.partner, "Mill Road", None)
    assert len(picker.matches) == SHOWN and picker.more
    assert pick(cast.partner, "Okafor", None).more is False


def test_a_customer_of_another_partner_is_never_the_chosen_one(cast, customers):
    _, theirs = customers
    assert pick(cast.partner, "", str(theirs[0].pk)).chosen is None
    assert pick(cast.partner, "", "not a number").chosen is None


@pytest.mark.parametrize("text", ["Okafor", "mill road", "zq", "ok"])
def test_what_the_first_customers_do_not_hold_is_found_through_the_index(
    cast, customers, monkeypatch, text
):
    # The walk of the partner's first customers answers a common text; a rarer one, beyond
    # the walk, must still be found (here the walk holds only the first two customers).
    monkeypatch.setattr(search, "PICKER_WALK", 2)
    mine, _ = customers
    expected = _matching(mine, text)
    found = search.first_customers(cast.partner, text, SHOWN + 1)
    assert len(found) == len({c.pk for c in found}) == min(len(expected), SHOWN + 1)
    assert {c.pk for c in found} <= expected
