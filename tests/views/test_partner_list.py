"""The partner's installation list: visibility, cards, filters, buttons, fragments, query counts."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from installations import selectors
from installations.filters import InstallationFilter
from installations.models import Installation
from tests.factories import CustomerFactory

LIST = "/installations/"


def rows(response) -> list[str]:
    html = response.content.decode()
    # One <tbody> per installation (its row, and a line for a note under it).
    return re.findall(r'<tbody id="row-(\d+)"', html)


def row_html(response, pk: int) -> str:
    html = response.content.decode()
    start = html.index(f'<tbody id="row-{pk}"')
    return html[start : html.index("</tbody>", start)]


def buttons(response, pk: int) -> list[str]:
    return re.findall(r'<button type="submit"[^>]*>([^<]+)</button>', row_html(response, pk))


@pytest.fixture
def acme(client, cast):
    client.force_login(cast.partner_user)
    return client


def test_it_sends_anonymous_users_to_the_login_page(client, cast):
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("who", "home"), [("handyman", "/handyman/"), ("staff", "/admin/")])
def test_it_sends_users_who_act_for_no_partner_to_their_own_page(client, cast, who, home):
    user = cast.handyman.user if who == "handyman" else cast.staff
    client.force_login(user)
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"] == home


def test_it_lists_only_the_partners_own_installations(acme, cast):
    mine = cast.installation()
    theirs = cast.installation(partner=cast.other_partner)
    response = acme.get(LIST)
    assert response.status_code == 200
    assert rows(response) == [str(mine.pk)]
    assert f"row-{theirs.pk}" not in response.content.decode()


def test_it_refuses_post_with_405(acme, cast):
    assert acme.post(LIST).status_code == 405


def test_each_row_shows_the_status_label_the_group_colour_and_unassigned(acme, cast):
    inst = cast.installation()
    row = row_html(acme.get(LIST), inst.pk)
    assert "badge-blue" in row and "Scheduled" in row
    assert "Unassigned" in row
    assert inst.customer.name in row


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("SCHEDULED", ["Assign", "Reject", "Reschedule"]),
        ("INSTALLER_ASSIGNED", ["Reassign", "Reschedule"]),
        ("EN_ROUTE", ["Reassign"]),
        ("INSTALLATION_IN_PROGRESS", []),
        ("INSTALLATION_COMPLETED", []),
        ("CONTRACT_SENT", []),
        ("CONTRACT_SIGNED", []),
        ("CUSTOMER_APPROVED", []),
        ("CANCELLED", []),
        ("REJECTED", []),
    ],
)
def test_each_row_shows_exactly_the_actions_the_status_allows(acme, cast, status, expected):
    inst = cast.installation(status)
    assert buttons(acme.get(LIST), inst.pk) == expected


def test_buttons_carry_the_version_and_their_own_url(acme, cast):
    inst = cast.installation()
    row = row_html(acme.get(LIST), inst.pk)
    assert f'action="/installations/{inst.pk}/assign/"' in row
    assert f'action="/installations/{inst.pk}/reject/"' in row
    assert f'name="version" value="{inst.version}"' in row


@pytest.mark.parametrize("htmx", [{}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "cards"}])
def test_the_page_and_its_fragments_at_the_same_url_say_they_vary_on_htmx(acme, cast, htmx):
    # The cards refresh themselves from the list's own URL: without the header the browser
    # keeps that fragment as /installations/ and shows it alone when the user goes Back.
    cast.installation("SCHEDULED")
    response = acme.get(LIST, **htmx)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]


def test_the_cards_count_each_group_of_this_partner_only(acme, cast):
    cast.installation("SCHEDULED")
    cast.installation("INSTALLER_ASSIGNED")
    cast.installation("EN_ROUTE")
    cast.installation("CONTRACT_SENT")
    cast.installation("REJECTED")
    cast.installation("CANCELLED")
    cast.installation("SCHEDULED", partner=cast.other_partner)
    html = acme.get(LIST).content.decode()
    counts = {
        label: int(n)
        for n, label in re.findall(
            r'<span class="card-count">(\d+)</span>\s*<span class="card-label">([^<]+)</span>', html
        )
    }
    assert counts == {
        "Scheduled": 2,
        "En Route": 1,
        "In Progress": 1,
        "Approved": 0,
        "Rejected": 2,
    }


def test_a_card_filters_to_its_group_and_is_marked_active(acme, cast):
    scheduled = cast.installation("SCHEDULED")
    progress = cast.installation("INSTALLATION_IN_PROGRESS")
    completed = cast.installation("INSTALLATION_COMPLETED")
    response = acme.get(LIST, {"group": "in_progress"})
    assert sorted(rows(response)) == sorted([str(progress.pk), str(completed.pk)])
    assert str(scheduled.pk) not in rows(response)
    html = response.content.decode()
    active = re.findall(r'class="card card-(\w+) is-active"', html)
    assert active == ["purple"]
    assert 'aria-current="true"' in html and "Showing" in html


def test_exact_status_filter(acme, cast):
    cast.installation("SCHEDULED")
    assigned = cast.installation("INSTALLER_ASSIGNED")
    assert rows(acme.get(LIST, {"status": "INSTALLER_ASSIGNED"})) == [str(assigned.pk)]


def test_unassigned_only(acme, cast):
    free = cast.installation("SCHEDULED")
    cast.installation("INSTALLER_ASSIGNED")
    assert rows(acme.get(LIST, {"unassigned": "on"})) == [str(free.pk)]


def test_handyman_filter_offers_only_handymen_serving_this_partner(client, cast):
    mine = cast.installation("INSTALLER_ASSIGNED", handyman=cast.other_handyman)
    cast.installation("INSTALLER_ASSIGNED", handyman=cast.handyman)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"handyman": cast.other_handyman.pk})
    assert rows(response) == [str(mine.pk)]
    # Beta is served by hank only: hana is not offered, and choosing her is a form error.
    client.force_login(cast.other_partner_user)
    response = client.get(LIST, {"handyman": cast.other_handyman.pk})
    html = response.content.decode()
    assert "Choose a handyman from the list." in html
    assert f'<option value="{cast.other_handyman.pk}"' not in html


def test_date_range(acme, cast):
    today = timezone.localdate()
    soon = cast.installation(scheduled_date=today + timedelta(days=1))
    later = cast.installation(scheduled_date=today + timedelta(days=10))
    response = acme.get(LIST, {"date_from": str(today + timedelta(days=5))})
    assert rows(response) == [str(later.pk)]
    response = acme.get(LIST, {"date_to": str(today + timedelta(days=5))})
    assert rows(response) == [str(soon.pk)]


@pytest.mark.parametrize("field", ["name", "phone", "email", "address"])
def test_search_finds_customers_by_name_phone_email_and_address(acme, cast, field):
    customer = CustomerFactory(
        partner=cast.partner,
        name="Zebedee Quill",
        phone="+44 1234 999888",
        email="zq@example.org",
        address="7 Lighthouse Lane",
    )
    found = cast.installation(customer=customer, site_address=customer.address)
    cast.installation()
    term = {
        "name": "zebedee",
        "phone": "999888",
        "email": "zq@example",
        "address": "lighthouse",
    }[field]
    assert rows(acme.get(LIST, {"q": term})) == [str(found.pk)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"group": "nonsense"}, "Choose a status group from the list."),
        ({"status": "DONE"}, "Choose a status from the list."),
        ({"handyman": "abc"}, "Choose a handyman from the list."),
        ({"date_from": "31/31/2026"}, "Enter a date like 2026-05-31."),
        ({"q": "x" * 101}, "Search for at most 100 characters."),
        ({"sort": "-id"}, "Choose a sort order from the list."),
    ],
)
def test_bad_filter_values_show_the_error_and_no_rows_never_a_500(acme, cast, params, message):
    cast.installation()
    response = acme.get(LIST, params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "Some filters could not be used." in html
    assert rows(response) == []
    assert "No installations match these filters." in html
    assert "Clear filters" in html


def test_a_date_range_backwards_is_a_form_error(acme, cast):
    response = acme.get(LIST, {"date_from": "2030-01-10", "date_to": "2030-01-01"})
    assert "must be on or after" in response.content.decode()


def test_the_empty_state_offers_to_clear_filters(acme, cast):
    cast.installation()
    html = acme.get(LIST, {"q": "nobody-at-all"}).content.decode()
    assert "No installations match these filters." in html
    assert 'href="/installations/"' in html and "Clear filters" in html


def test_sort_by_date_both_ways_and_by_last_change(acme, cast):
    today = timezone.localdate()
    early = cast.installation(scheduled_date=today + timedelta(days=1))
    late = cast.installation(scheduled_date=today + timedelta(days=3))
    middle = cast.installation(scheduled_date=today + timedelta(days=2))
    assert rows(acme.get(LIST)) == [str(early.pk), str(middle.pk), str(late.pk)]
    assert rows(acme.get(LIST, {"sort": "-date"})) == [str(late.pk), str(middle.pk), str(early.pk)]
    Installation.objects.filter(pk=early.pk).update(updated_at=timezone.now() + timedelta(hours=1))
    assert rows(acme.get(LIST, {"sort": "-changed"}))[0] == str(early.pk)
    assert rows(acme.get(LIST, {"sort": "changed"}))[-1] == str(early.pk)


def test_pagination_is_25_a_page_and_keeps_the_filters(acme, cast):
    customer = CustomerFactory(partner=cast.partner)
    for _ in range(27):
        cast.installation(customer=customer)
    first = acme.get(LIST, {"group": "scheduled"})
    assert len(rows(first)) == 25
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert "group=scheduled&amp;page=2" in html
    second = acme.get(LIST, {"group": "scheduled", "page": 2})
    assert len(rows(second)) == 2
    # A page number out of range shows the last page rather than an error.
    assert acme.get(LIST, {"page": "999"}).status_code == 200
    assert acme.get(LIST, {"page": "abc"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "to", "label"),
    [
        (
            "group=scheduled&page=2",
            "group=scheduled&sort=-changed",
            "Show them, newest changes first",
        ),
        ("q=Souza&sort=date&page=3", "q=Souza&sort=-changed", "Show them, newest changes first"),
        ("sort=-changed&per_page=50&page=2", "sort=-changed&per_page=50", "Show them"),
    ],
)
def test_the_live_show_them_link_goes_to_the_first_page_last_change_first_with_the_filters(
    acme, cast, query, to, label
):
    """Jobs that changed after the page was drawn sort where they sort: on a later page, or on
    page 1 sorted by date, reloading the page did not show them. Last change first, they are on
    top. A plain link (no JavaScript), and the same for htmx, in the full page and the results."""
    cast.installation()
    for answer in (
        acme.get(f"{LIST}?{query}"),
        acme.get(f"{LIST}?{query}", HTTP_HX_REQUEST="true"),
    ):
        html = answer.content.decode()
        link = re.search(
            r'<template id="live-show"><a href="([^"]+)" hx-get="([^"]+)"[^>]*>([^<]+)</a>', html
        )
        url = f"{LIST}?{to}".replace("&", "&amp;")
        assert link.groups() == (url, url, label)
        assert 'hx-target="#results"' in html[link.start() : link.end()]


def test_full_page_vs_htmx_fragment(acme, cast):
    cast.installation()
    full = acme.get(LIST).content.decode()
    assert "<html" in full and 'id="results"' in full and "<h1>" in full
    fragment = acme.get(LIST, {"group": "scheduled"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "<h1>" not in fragment
    assert 'id="cards"' in fragment and "<tbody id=" in fragment and 'class="filters"' in fragment
    cards = acme.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="cards").content.decode()
    assert 'id="cards"' in cards and "<tbody" not in cards
    # A history restore needs the whole page.
    restore = acme.get(
        LIST, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    ).content.decode()
    assert "<html" in restore


def test_the_filter_form_and_cards_push_the_url(acme, cast):
    html = acme.get(LIST).content.decode()
    assert html.count('hx-push-url="true"') >= 6
    assert 'method="get" action="/installations/"' in html


def _make(cast, n: int) -> None:
    customer = CustomerFactory(partner=cast.partner)
    statuses = ["SCHEDULED", "INSTALLER_ASSIGNED", "EN_ROUTE"]
    for i in range(n):
        cast.installation(statuses[i % 3], customer=customer)


@pytest.mark.parametrize("n", [5, 50])
def test_the_list_runs_the_same_queries_whatever_the_number_of_rows(
    client, cast, django_assert_num_queries, n
):
    _make(cast, n)
    client.force_login(cast.partner_user)
    # session, user (with partner and handyman profile), the live feed's stamp (full page
    # only), counters (cards and, for status-only filters, the page count), rows, the handymen
    # (one read for the filter's options and the bulk bar's).
    with django_assert_num_queries(6):
        response = client.get(LIST)
    assert len(rows(response)) == min(n, 25)
    with django_assert_num_queries(5):
        client.get(LIST, {"group": "scheduled", "sort": "-date"}, HTTP_HX_REQUEST="true")
    # Any other filter: one grouped count of the matching rows instead of the counters, which
    # gives the cards and the page count at once.
    with django_assert_num_queries(5):
        client.get(LIST, {"group": "scheduled", "q": "example"}, HTTP_HX_REQUEST="true")
    # A later page finds its ids first, then reads those rows: one more.
    with django_assert_num_queries(6 if n > 25 else 5):
        client.get(LIST, {"page": 2}, HTTP_HX_REQUEST="true")


# Columns of the three joined tables that no row draws: a signature image, free text, secrets.
UNDRAWN = ("completion_signature", "contract_signature", '"notes"', '"password"', '"email"')


@pytest.mark.parametrize("params", [{}, {"q": "Lane"}, {"page": 2}, {"handyman": "mine"}])
def test_the_rows_are_read_without_the_columns_no_row_draws(acme, cast, params):
    customer = CustomerFactory(partner=cast.partner, address="1 Lane End")
    for i in range(30):
        status = ("SCHEDULED", "INSTALLER_ASSIGNED")[i % 2]
        cast.installation(status, customer=customer)
    if params.get("handyman") == "mine":
        params = {"handyman": cast.handyman.pk}
    with CaptureQueriesContext(connection) as ctx:
        response = acme.get(LIST, params)
    assert response.status_code == 200
    assert rows(response)
    # What the queries that read whole rows (with their customer's name) select; a search's
    # conditions may name other columns.
    selected = [q["sql"].split(" FROM ")[0] for q in ctx.captured_queries]
    row_reads = [columns for columns in selected if '"installations_customer"."name"' in columns]
    assert row_reads
    for columns in row_reads:
        assert not [column for column in UNDRAWN if column in columns], columns
    assert cast.handyman.display_name in response.content.decode()


@pytest.mark.parametrize("params", [{}, {"group": "scheduled", "sort": "-date"}, {"q": "Lane"}])
def test_every_page_shows_the_rows_of_the_full_ordering_in_order(acme, cast, params):
    customer = CustomerFactory(partner=cast.partner, address="1 Long Lane")
    for i in range(60):
        cast.installation(
            customer=customer,
            scheduled_date=date.today() + timedelta(days=i % 7),
            site_address=f"{i} Long Lane",
        )
    whole = [
        str(pk)
        for pk in InstallationFilter(
            params, queryset=selectors.installations_for_partner(cast.partner), partner=cast.partner
        ).qs.values_list("pk", flat=True)
    ]
    assert len(whole) == 60
    pages = [rows(acme.get(LIST, {**params, "page": n})) for n in (1, 2, 3)]
    assert pages[0] + pages[1] + pages[2] == whole


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"group": "scheduled"},
        {"status": "EN_ROUTE"},
        {"group": "scheduled", "status": "EN_ROUTE"},
        {"group": "scheduled", "status": "SCHEDULED", "q": "a"},
        {"unassigned": "on"},
    ],
)
def test_the_page_count_from_the_counters_is_the_real_count(client, cast, params):
    _make(cast, 30)
    client.force_login(cast.partner_user)
    response = client.get(LIST, params)
    filterset = InstallationFilter(
        params, queryset=Installation.objects.filter(partner=cast.partner), partner=cast.partner
    )
    # A status outside the chosen group contradicts it: an error, and no rows.
    real = len(list(filterset.qs)) if filterset.is_valid() else 0
    assert response.context["page"].paginator.count == real


@pytest.mark.parametrize(
    "params",
    [
        {"handyman": "9" * 30},
        {"handyman": "\x00"},
        {"q": "a\x00b"},
        {"date_from": "0000-00-00"},
        {"date_to": "99999-01-01"},
        {"page": "9" * 30},
        {"group": ["scheduled", "rejected"]},
        {"unassigned": "maybe"},
    ],
)
def test_hostile_filter_values_never_500(acme, cast, params):
    cast.installation()
    assert acme.get(LIST, params).status_code == 200
    assert acme.get(LIST, params, HTTP_HX_REQUEST="true").status_code == 200


def test_the_cards_alone_are_one_query_after_the_user(client, cast, django_assert_num_queries):
    _make(cast, 3)
    client.force_login(cast.partner_user)
    # session, user (with its partner), counters.
    with django_assert_num_queries(3):
        response = client.get(LIST, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="cards")
    assert 'id="cards"' in response.content.decode()


def _fold(response) -> str:
    html = response.content.decode()
    start = html.index('<details class="more-filters"')
    return html[start : html.index("</summary>", start) + len("</summary>")]


@pytest.mark.parametrize(
    ("query", "opened", "said"),
    [
        ("", False, "More filters</summary>"),
        ("?q=Smith", False, "More filters</summary>"),
        ("?group=scheduled", True, "(1 in use)"),
        ("?group=scheduled&unassigned=on&date_from=2026-01-01", True, "(3 in use)"),
        ("?sort=-date", True, "More filters</summary>"),
        ("?date_from=yesterday", True, "(1 in use)"),
    ],
)
def test_the_folded_filters_open_while_one_is_in_use_or_wrong(acme, cast, query, opened, said):
    # On a phone the filters other than the search fold under "More filters": a filter in use
    # that the user cannot see is a list that looks wrong, so the fold then starts open.
    fold = _fold(acme.get(LIST + query))
    assert (" open>" in fold) is opened
    assert said in fold
