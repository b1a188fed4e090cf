"""The list's filters on a phone: the search box, and the other filters folded under one line,
so that the first installation is on the first screen; on a desktop every filter shows."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from installations import services

from .conftest import PHONE, log_in
from .steps import small_targets


def test_on_a_phone_the_first_row_is_on_the_first_screen_and_the_filters_a_tap_away(phone, cast):
    scheduled = cast.installation("SCHEDULED")
    assigned = cast.installation("INSTALLER_ASSIGNED")
    log_in(phone, "acme")
    phone.goto("/installations/")
    first = phone.locator(f"#row-{scheduled.pk}")
    box = first.bounding_box()
    assert box is not None and box["y"] < PHONE["height"], box  # it was 1,500 px down
    expect(phone.get_by_label("Search", exact=True)).to_be_visible()
    group = phone.get_by_label("Status group", exact=True)
    expect(group).to_be_hidden()

    phone.get_by_text("More filters").click()
    expect(group).to_be_visible()
    group.select_option("in_progress")  # a change sends the filter, as on a desktop
    expect(phone.locator(f"#row-{assigned.pk}")).to_have_count(0)
    expect(phone.locator(f"#row-{scheduled.pk}")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_on_a_phone_a_filter_in_use_shows_unfolded_with_its_count(phone, cast):
    cast.installation("SCHEDULED")
    log_in(phone, "acme")
    phone.goto("/installations/?group=scheduled")
    group = phone.get_by_label("Status group", exact=True)
    expect(group).to_be_visible()
    expect(group).to_have_value("scheduled")
    expect(phone.locator(".more-filters > summary")).to_contain_text("(1 in use)")


def test_on_a_desktop_every_filter_shows_without_a_fold(page, cast):
    cast.installation("SCHEDULED")
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, "acme")
    page.goto("/installations/")
    for label in ("Search", "Status group", "Exact status", "Handyman", "From date", "Sort by"):
        expect(page.get_by_label(label, exact=True)).to_be_visible()
    expect(page.locator(".more-filters > summary")).to_be_hidden()
    # The folded filters sit in the search box's grid row, not on rows of their own below it.
    search = page.get_by_label("Search", exact=True).bounding_box()
    group = page.get_by_label("Status group", exact=True).bounding_box()
    assert search and group and group["x"] > search["x"]
    assert group["y"] < search["y"] + search["height"]


def test_on_a_phone_the_offices_controls_are_44_pixels_at_least(phone, cast):
    done = cast.installation("INSTALLATION_COMPLETED")
    cast.installation("SCHEDULED", customer=done.customer)
    follow_up = services.installation_book_follow_up(
        installation=done,
        actor=cast.partner_user,
        scheduled_date=timezone.localdate() + timedelta(days=1),
    )
    rejected = cast.installation("REJECTED")
    log_in(phone, "acme")
    for path in (
        "/installations/",
        f"/installations/{done.pk}/",
        f"/installations/{follow_up.pk}/",
        f"/installations/{rejected.pk}/",
        "/installations/new/",
        f"/installations/{follow_up.pk}/assign/",
        f"/installations/{follow_up.pk}/reschedule/",
    ):
        phone.goto(path)
        if path == "/installations/":
            phone.get_by_text("More filters").click()
        assert small_targets(phone) == [], path  # the header's too, "Menu" open or not
        phone.get_by_text("Menu", exact=True).click()
        assert small_targets(phone, ".site-header") == [], path


def test_on_a_phone_the_sections_are_one_menu_button_away_and_it_closes_as_a_menu_does(phone, cast):
    """Five section links of 19 px wrapped onto two lines: too small to tap, and they pushed
    the first installation down. One "Menu" button holds them, 44 px each."""
    cast.installation("SCHEDULED")
    log_in(phone, "acme")
    phone.goto("/installations/")
    sections = phone.get_by_role("navigation", name="Sections")
    expect(sections).to_be_hidden()
    menu = phone.locator(".section-menu > summary")
    menu.click()
    expect(sections).to_be_visible()
    expect(sections.get_by_role("link", name="Installations")).to_have_attribute(
        "aria-current", "page"
    )
    phone.keyboard.press("Escape")  # closes it, the focus back on its button
    expect(sections).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    search = phone.get_by_label("Search", exact=True)
    search.click()  # a tap outside it: closes it, and does what it was for
    expect(sections).to_be_hidden()
    expect(search).to_be_focused()
    menu.click()
    sections.get_by_role("link", name="Dashboard").click()
    expect(phone).to_have_url(re.compile("/dashboard/"))
    expect(phone.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


def test_on_a_desktop_the_sections_are_a_line_of_links_without_a_menu(page, cast):
    log_in(page, "acme")
    page.goto("/installations/")
    sections = page.get_by_role("navigation", name="Sections")
    expect(sections.get_by_role("link")).to_have_count(5)
    expect(sections).to_be_visible()
    expect(page.locator(".section-menu > summary")).to_be_hidden()


def test_on_a_phone_a_two_letter_search_says_it_looked_at_the_newest_and_searches_all_on_a_tap(
    phone, cast
):
    from installations.filters import SHORT_WINDOW
    from tests.factories import CustomerFactory, filler_rows

    from .steps import serious_axe_violations

    old = cast.installation(
        "SCHEDULED", customer=CustomerFactory(partner=cast.partner, name="Bo Li")
    )
    filler_rows(
        cast.partner, SHORT_WINDOW, customer=CustomerFactory(partner=cast.partner, name="Nobody")
    )
    new = cast.installation(
        "SCHEDULED", customer=CustomerFactory(partner=cast.partner, name="Al Li")
    )
    log_in(phone, "acme")
    phone.goto("/installations/")
    search = phone.get_by_label("Search", exact=True)
    search.fill("li")
    search.press("Enter")

    note = phone.locator(".short-search")
    expect(note).to_contain_text(
        "“li” is shorter than three characters, so only your 10,000 newest"
    )
    expect(phone.locator(f"#row-{new.pk}")).to_have_count(1)
    expect(phone.locator(f"#row-{old.pk}")).to_have_count(0)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert serious_axe_violations(phone) == []

    note.get_by_role("link", name="search all your installations").click()
    expect(phone.locator(f"#row-{old.pk}")).to_have_count(1)
    expect(phone.locator(f"#row-{new.pk}")).to_have_count(1)
    expect(note).to_have_count(0)
    assert "everywhere=li" in phone.url
