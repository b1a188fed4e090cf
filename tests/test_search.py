"""The list's text search answers the same on both databases, and SQLite's FTS5 index never
drifts from the rows it indexes (installations/search.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.http import QueryDict
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from installations import search, selectors, services
from installations.filters import SORTS, InstallationFilter, row_matches
from installations.models import Customer, Installation

from .factories import CustomerFactory, HandymanFactory, PartnerFactory, PartnerUserFactory


def searched(partner, text: str) -> list[int]:
    filterset = InstallationFilter(
        QueryDict(mutable=True) | {"q": text},
        queryset=selectors.installations_for_partner(partner),
        partner=partner,
    )
    assert filterset.is_valid(), filterset.errors
    return list(filterset.qs.values_list("pk", flat=True))


def expected(partner, text: str) -> list[int]:
    """The rule in Python: any searched field contains the text, case-folded; list order."""
    needle = text.strip().casefold()
    rows = Installation.objects.filter(partner=partner).select_related("customer")
    return [
        row.pk
        for row in rows.order_by("scheduled_date", "window_start", "id")
        if any(
            needle in (value or "").casefold()
            for value in (
                row.customer.name,
                row.customer.phone,
                row.customer.email,
                row.customer.address,
                row.site_address,
            )
        )
    ]


@pytest.fixture
def people(cast):
    day = timezone.localdate() + timedelta(days=2)
    rows = [
        ("Élodie Dupré", "+33 6 12 34 56 78", "elodie@example.fr", "3 Rue de la Paix, Paris"),
        ("ALICE MOREAU", "+44 7700 900123", "alice@example.com", "1 High Street, Leeds"),
        ("alice moreau", "+44 7700 900456", "a.moreau@example.com", "2 Low Road, York"),
        ('Bob "The Builder" 100%_sure', "", "bob@example.com", "NEAR OR * column:name"),
        ("Zoë Ångström", "0700 111 222", "zoe@example.se", "Storgatan 5, Malmö"),
    ]
    for offset, (name, phone, email, address) in enumerate(rows):
        customer = CustomerFactory(
            partner=cast.partner, name=name, phone=phone, email=email, address=address
        )
        services.installation_create(
            partner=cast.partner,
            customer=customer,
            actor=cast.partner_user,
            site_address=f"Site {offset} {address}",
            scheduled_date=day + timedelta(days=offset % 2),
            window_start=timezone.datetime(2026, 1, 1, 8 + offset).time(),
            window_end=timezone.datetime(2026, 1, 1, 12 + offset).time(),
        )
    # Another partner's Alice never shows.
    stranger = CustomerFactory(partner=cast.other_partner, name="Alice Moreau")
    services.installation_create(
        partner=cast.other_partner,
        customer=stranger,
        actor=cast.other_partner_user,
        site_address="1 High Street, Leeds",
        scheduled_date=day,
        window_start=timezone.datetime(2026, 1, 1, 8).time(),
        window_end=timezone.datetime(2026, 1, 1, 10).time(),
    )
    return cast


TEXTS = [
    "alice",
    "ALICE MOR",
    "moreau",
    "élodie",
    "ÉLODIE",
    "dupré",
    "zoë",
    "ÅNGSTRÖM",
    "malmö",
    "7700 900",
    "example.com",
    '"The Builder"',
    "100%_",
    "%_s",
    "NEAR OR",
    "column:name",
    "*",
    "al",
    "AL",
    "z",
    "high street",
    "nobody here",
]


@pytest.mark.parametrize("text", TEXTS)
def test_search_finds_the_same_installations_on_both_databases(people, text):
    """Run by both legs: the answer is the rule itself, computed in Python, in list order."""
    assert searched(people.partner, text) == expected(people.partner, text)


@pytest.mark.parametrize("text", TEXTS)
def test_a_common_terms_walk_tests_each_row_as_the_indexes_match_them(people, text):
    """Past the bound, a common term is found by testing the list's first rows one by one
    (`filters.row_matches`) instead of asking the indexes: each row must match exactly when the
    rule says so. Where it could not (SQLite folds only ASCII letters in LIKE), the walk is
    never taken and the indexes answer."""
    filterset = InstallationFilter(
        QueryDict(mutable=True) | {"q": text},
        queryset=selectors.installations_for_partner(people.partner),
        partner=people.partner,
    )
    assert filterset.is_valid(), filterset.errors
    rows = selectors.installations_for_partner(people.partner).order_by(*SORTS["date"])
    want = expected(people.partner, text)
    value = text.strip()
    if connection.vendor == "sqlite" and not value.isascii():
        filterset.rows_wanted = 1  # what the walk finds cannot be enough: the indexes answer
        assert list(filterset.search_beyond_bound(rows, value).values_list("pk", flat=True)) == (
            want
        )
    else:
        assert list(rows.filter(row_matches(value)).values_list("pk", flat=True)) == want


def test_search_uses_the_fts_index_on_sqlite_from_three_characters(people):
    """The trigram index needs three characters; shorter text is an ordinary scan."""
    assert search.uses_fts("ali") is (connection.vendor == "sqlite")
    assert search.uses_fts("al") is False


def _book(cast, site: str) -> Installation:
    customer = CustomerFactory(partner=cast.partner, name="Zed Quill", address="1 Lane")
    return services.installation_create(
        partner=cast.partner,
        customer=customer,
        actor=cast.partner_user,
        site_address=site,
        scheduled_date=timezone.localdate() + timedelta(days=1),
        window_start=timezone.datetime(2026, 1, 1, 9).time(),
        window_end=timezone.datetime(2026, 1, 1, 11).time(),
    )


def test_a_job_is_found_by_its_site_address_when_booked_and_after_an_edit(cast):
    # Migration 0019 rebuilt the installations table on SQLite and its search triggers went
    # with it: a new or edited site address was never found (the random test below caught it
    # only once in a while).
    job = _book(cast, "Maple Court")
    assert searched(cast.partner, "Maple") == [job.pk]
    services.installation_update(
        installation=job, actor=cast.partner_user, site_address="Birch Row"
    )
    assert searched(cast.partner, "Birch") == [job.pk]
    assert searched(cast.partner, "Maple") == []


def test_a_migration_that_drops_the_search_triggers_gets_them_back(cast):
    """What SQLite does to a table a migration adds a column to: the triggers are gone. The
    next `migrate` puts them back and rebuilds the index."""
    from django.core.management import call_command

    job = _book(cast, "Maple Court")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            search.drop_triggers(cursor, "search_site_fts")
    call_command("migrate", verbosity=0)
    services.installation_update(
        installation=job, actor=cast.partner_user, site_address="Birch Row"
    )
    assert searched(cast.partner, "Birch") == [job.pk]


# --- The index follows every write -----------------------------------------------------------

WORDS = st.text(alphabet="abcdeABCDE xyz-", min_size=0, max_size=12)
NEEDLES = st.text(alphabet="abcdeABCDE xyz-", min_size=3, max_size=5)


class FtsNeverDrifts(TestCase):
    """Random inserts, edits and deletes, by the ORM, by bulk updates and by raw SQL (what a
    migration or a bulk load might do): afterwards every search still equals the rule. On SQLite
    that compares the FTS5 index with the rows; on PostgreSQL the trigram path with the rule."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.partner = PartnerFactory(name="Acme Appliances")
        cls.user = PartnerUserFactory(partner=cls.partner).user
        HandymanFactory().partners.add(cls.partner)

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        st.lists(
            st.tuples(st.sampled_from(["add", "rename", "resite", "bulk", "raw", "drop"]), WORDS),
            min_size=1,
            max_size=12,
        ),
        st.lists(NEEDLES, min_size=1, max_size=4),
    )
    def test_the_fts_index_never_drifts_from_the_rows(self, operations, needles) -> None:
        day = timezone.localdate() + timedelta(days=1)
        for operation, word in operations:
            latest = Installation.objects.filter(partner=self.partner).order_by("-id").first()
            if operation == "add" or latest is None:
                customer = Customer.objects.create(
                    partner=self.partner, name=word or "x", address=f"{word} road"
                )
                services.installation_create(
                    partner=self.partner,
                    customer=customer,
                    actor=self.user,
                    site_address=f"{word} site",
                    scheduled_date=day,
                    window_start=timezone.datetime(2026, 1, 1, 9).time(),
                    window_end=timezone.datetime(2026, 1, 1, 11).time(),
                )
            elif operation == "rename":
                Customer.objects.filter(pk=latest.customer_id).update(name=word, email=word)
            elif operation == "resite":
                services.installation_update(
                    installation=latest, actor=self.user, site_address=word or "somewhere"
                )
            elif operation == "bulk":
                Customer.objects.filter(partner=self.partner).update(phone=word)
            elif operation == "raw":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE installations_customer SET address = %s WHERE id = %s",
                        [word, latest.customer_id],
                    )
            elif operation == "drop":
                customer_id = latest.customer_id
                latest.history.all().delete()
                Installation.objects.filter(pk=latest.pk).delete()
                Customer.objects.filter(pk=customer_id, installations__isnull=True).delete()
        for needle in needles:
            assert searched(self.partner, needle) == expected(self.partner, needle), needle
