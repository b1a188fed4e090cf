"""The list and record pages draw their rows without per-row work that grows with the page:
no URL reversed per row, no number localised per id, the timeline's dates and labels written
once each (issue 20, "Rendering"; docs/profile.md). Each test fails on the old templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django import forms
from django.template import engines
from django.test import override_settings
from django.urls import clear_script_prefix, reverse, set_script_prefix

from installations import selectors
from installations.models import Installation, StatusChange
from installations.statuses import Status
from installations.templatetags import row_urls
from installations.templatetags.portal_format import iso_datetime
from installations.templatetags.timeline import status_label, time_tag
from installations.widgets import handyman_choices, handyman_select

LIST = "/installations/"


@pytest.fixture
def acme(client, cast):
    client.force_login(cast.partner_user)
    return client


def count_reverses(monkeypatch) -> list[str]:
    """Every reverse() the templates make: `{% url %}` and the row URL filters."""
    calls: list[str] = []

    def counting(name, *args, **kwargs):
        calls.append(name)
        return reverse(name, *args, **kwargs)

    monkeypatch.setattr("django.urls.reverse", counting)  # {% url %} imports it when it runs
    monkeypatch.setattr(row_urls, "reverse", counting)
    row_urls._halves.cache_clear()
    return calls


@pytest.mark.parametrize("group", ["", "scheduled"])
def test_the_list_reverses_no_url_per_row(acme, cast, monkeypatch, group):
    for _ in range(2):
        cast.installation()
    calls = count_reverses(monkeypatch)
    acme.get(f"{LIST}?group={group}")  # the first page remembers the row routes
    calls.clear()
    acme.get(f"{LIST}?group={group}")
    with_two = list(calls)
    for _ in range(18):
        cast.installation()
    calls.clear()
    acme.get(f"{LIST}?group={group}")
    assert calls == with_two


@pytest.mark.parametrize("action", ["assign", "reassign", "reject", "reschedule"])
def test_a_row_url_is_what_reverse_gives(cast, action):
    inst = cast.installation()
    route = "scheduling:reschedule" if action == "reschedule" else f"partner:{action}"
    assert row_urls.record_url(row_urls.action_route(action), inst.pk) == reverse(
        route, args=[inst.pk]
    )
    set_script_prefix("/portal/")
    try:
        assert row_urls.record_url("partner:detail", inst.pk) == reverse(
            "partner:detail", args=[inst.pk]
        )
        assert row_urls.record_url("partner:detail", inst.pk).startswith("/portal/")
    finally:
        clear_script_prefix()


@override_settings(USE_THOUSAND_SEPARATOR=True)
def test_row_ids_and_versions_are_never_written_as_localised_numbers(acme, cast):
    inst = cast.installation()
    Installation.objects.filter(pk=inst.pk).update(version=12345)
    html = acme.get(LIST).content.decode()
    assert 'data-version="12345"' in html and 'value="12345"' in html
    assert "12,345" not in html


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 5, 7, 3, 9, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # the hour before British Summer Time
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 23, 30, tzinfo=UTC),
    ],
)
def test_a_timeline_time_is_what_the_date_filters_write(moment):
    django = engines["django"].from_string(
        '{% load portal_format %}<time datetime="{{ t|iso_datetime }}">'
        '{{ t|date:"j M Y H:i" }}</time>'
    )
    assert time_tag(moment) == django.render({"t": moment})
    assert iso_datetime(moment) in time_tag(moment)


@pytest.mark.parametrize("value", [*Status.values, ""])
def test_a_timeline_status_label_is_the_models_display(value):
    change = StatusChange(from_status=value, to_status=value or Status.SCHEDULED)
    assert status_label(change.from_status) == change.get_from_status_display()
    assert status_label(change.to_status) == change.get_to_status_display()


def test_the_bulk_bars_handyman_list_is_djangos_select(cast):
    handymen = list(handyman_choices(cast.partner.handymen.all()))
    choices = [("", "Choose a handyman")] + [
        (h.pk, h.display_name) for h in cast.partner.handymen.all()
    ]
    django = forms.Select(attrs={"id": "bulk-handyman"}, choices=choices)
    chosen = str(cast.other_handyman.pk)
    assert handyman_select(handymen, chosen, id="bulk-handyman") == django.render(
        "handyman", chosen
    ).replace("\n", "").replace("  ", "")
    nothing = handyman_select(handymen, "", id="bulk-handyman")
    assert " selected" not in nothing and cast.handyman.display_name in nothing


def test_the_list_rows_still_carry_what_the_live_feed_and_bulk_bar_use(acme, cast):
    inst = cast.installation()
    html = acme.get(LIST).content.decode()
    for needle in (
        f'<tbody id="row-{inst.pk}" tabindex="-1" class="installation" data-live-pk="{inst.pk}"',
        f'id="select-{inst.pk}" form="bulk-form" data-bulk-row data-live-keep '
        'data-actions="assign reject',
        f'<input type="hidden" name="v{inst.pk}" value="{inst.version}" form="bulk-form">',
        f'<a id="who-{inst.pk}" href="/installations/{inst.pk}/">',
        f'action="/installations/{inst.pk}/assign/" hx-get="/installations/{inst.pk}/assign/"',
        f'aria-describedby="who-{inst.pk}">Assign</button>',
    ):
        assert needle in html
    assert selectors.available_actions(inst, cast.partner_user)


def test_the_section_links_are_rendered_once_and_written_in_both_navigations(acme, monkeypatch):
    calls = count_reverses(monkeypatch)
    page = acme.get(LIST).content.decode()
    # Reversed once (the list links to neither elsewhere): the wide screen's line and the
    # phone's menu write the same render.
    assert calls.count("dashboard:page") == 1
    assert calls.count("webhooks:settings") == 1
    navs = page.split('aria-label="Sections"')[1:]
    assert len(navs) == 2
    for nav in navs:
        links = nav.split("</nav>")[0]
        assert '<a href="/installations/" aria-current="page">Installations</a>' in links
        assert ">Webhooks</a>" in links and ">Import</a>" in links
