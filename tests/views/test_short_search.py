"""A search of one or two characters, which no index can find (a trigram needs three), looks
at the partner's newest jobs only, says so, and offers to look at all of them (issue 20: a rare
two letters read every job of a big partner, 0.6 s at 300,000 and seconds at three million)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from installations import filters
from installations.models import Installation
from installations.views import partner as partner_views

from ..factories import CustomerFactory, make_installation

LIST = reverse("partner:list")
WINDOW = 4
ROW = re.compile(r'id="row-(\d+)"')


@pytest.fixture
def small_window(monkeypatch):
    """The window, made small enough to pass with a few rows."""
    monkeypatch.setattr(filters, "SHORT_WINDOW", WINDOW)
    monkeypatch.setattr(partner_views, "SHORT_WINDOW", WINDOW)
    return WINDOW


def _jobs(cast, n: int) -> list[Installation]:
    """n jobs of customers called Li, oldest first."""
    return [
        make_installation(
            partner=cast.partner,
            actor=cast.partner_user,
            customer=CustomerFactory(partner=cast.partner, name=f"Mei Li {i}"),
        )
        for i in range(n)
    ]


def _rows(response) -> set[int]:
    return {int(pk) for pk in ROW.findall(response.content.decode())}


def _said(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def test_a_short_search_looks_at_the_newest_jobs_only_and_says_so(client, cast, small_window):
    jobs = _jobs(cast, WINDOW + 2)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": " Li "})

    assert _rows(response) == {job.pk for job in jobs[-WINDOW:]}
    said = _said(response)
    assert (
        "“Li” is shorter than three characters, so only your 4 newest installations were "
        "searched. Type more of it, or search all your installations (slower)."
    ) in said
    assert "Counting the matches among your 4 newest installations." in said
    assert "4 installations." in said
    assert f'href="{LIST}?q=+Li+&amp;everywhere=Li"' in response.content.decode()


def test_searching_everywhere_finds_a_short_term_in_every_job(client, cast, small_window):
    jobs = _jobs(cast, WINDOW + 2)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": "Li", "everywhere": "Li"})

    assert _rows(response) == {job.pk for job in jobs}
    assert "short-search" not in response.content.decode()
    assert "6 installations." in _said(response)


def test_a_short_search_of_no_more_jobs_than_the_window_searches_them_all_and_says_nothing_more(
    client, cast, small_window
):
    jobs = _jobs(cast, WINDOW)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": "Li"})

    assert _rows(response) == {job.pk for job in jobs}
    assert "short-search" not in response.content.decode()
    assert "newest installations" not in _said(response)


def test_three_characters_search_every_job(client, cast, small_window):
    jobs = _jobs(cast, WINDOW + 2)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": "Li "})  # "Li" and a space: stripped, still short
    assert len(_rows(response)) == WINDOW
    response = client.get(LIST, {"q": "Mei"})

    assert _rows(response) == {job.pk for job in jobs}
    assert "short-search" not in response.content.decode()


def test_a_short_search_under_other_filters_keeps_to_the_window(client, cast, small_window):
    jobs = _jobs(cast, WINDOW + 2)
    client.force_login(cast.partner_user)
    response = client.get(LIST, {"q": "Li", "group": "scheduled"})

    assert _rows(response) == {job.pk for job in jobs[-WINDOW:]}
    assert "only your 4 newest installations were searched" in _said(response)


def test_the_filter_form_keeps_searching_everywhere_for_the_same_term_only(
    client, cast, small_window
):
    jobs = _jobs(cast, WINDOW + 2)
    client.force_login(cast.partner_user)
    page = client.get(LIST, {"q": "Li", "everywhere": "Li"}).content.decode()
    # The form sends it on with any other filter changed (a group, a sort, a page size).
    assert '<input type="hidden" name="everywhere" value="Li">' in page
    grouped = client.get(LIST, {"q": "Li", "everywhere": "Li", "group": "scheduled"})
    assert _rows(grouped) == {job.pk for job in jobs}

    # Another short term is searched in the window again, and says so.
    other = client.get(LIST, {"q": "Me", "everywhere": "Li"})
    assert len(_rows(other)) == WINDOW
    assert "“Me” is shorter than three characters" in _said(other)
