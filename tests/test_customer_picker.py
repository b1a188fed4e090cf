"""The new-installation form's customer search: the partner's own matching customers, at most a
few, found the same way on both databases whether the text is common, rare or short."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from installations import search
from installations.customer_picker import SHOWN, pick
from installations.models import Customer
from tests.factories import CustomerFactory, PartnerFactory


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


# --- Which matches: the oldest, whatever the text's length -------------------------------------


@pytest.fixture
def okafors(db):
    """More Okafors than are shown, named so that the oldest sort last by name, of a partner
    of their own (no other customer matches one letter of theirs)."""
    partner = PartnerFactory()
    made = [
        CustomerFactory(partner=partner, name=f"Okafor {n:02d}", email="", address="1 High Street")
        for n in range(SHOWN + 3, 0, -1)
    ]
    return partner, [c.pk for c in made]


@pytest.mark.parametrize("text", ["o", "ok", "oka", "okafor"])
def test_every_text_finds_the_oldest_matching_customers_oldest_first(okafors, text):
    # On SQLite one or two characters took the first matches by name (the customers' own
    # order), the FTS table and PostgreSQL the oldest: "ok" and "okafor" found other customers.
    partner, oldest_first = okafors
    found = search.first_customers(partner, text, SHOWN + 1)
    assert [c.pk for c in found] == oldest_first[: SHOWN + 1]


def test_a_short_and_a_longer_text_offer_the_same_customers(okafors):
    partner, oldest_first = okafors
    for text in ("ok", "okafor"):
        picker = pick(partner, text, None)
        assert {c.pk for c in picker.matches} == set(oldest_first[:SHOWN]), text
        assert picker.more, text
        names = [c.name for c in picker.matches]  # listed by name, to be found by eye
        assert names == sorted(names), text


def test_a_short_text_tests_the_partners_customers_in_id_order_and_stops_at_the_limit(okafors):
    """Taking the oldest must not read and sort every match of a big partner: the partner's
    index gives its customers in id order, and the scan stops at the limit."""
    partner, _ = okafors
    Customer.objects.bulk_create(
        Customer(partner=partner, name=f"Other {n}", address="2 Low Road") for n in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as run:
        search.first_customers(partner, "ok", SHOWN + 1)
    (query,) = (q["sql"] for q in run.captured_queries if "installations_customer" in q["sql"])
    assert f"LIMIT {SHOWN + 1}" in query, query
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {'QUERY PLAN ' if connection.vendor == 'sqlite' else ''}{query}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order
        assert "installations_customer_partner_id" in plan, plan
    else:
        assert "Limit" in plan, plan
