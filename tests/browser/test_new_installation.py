"""Scheduling an installation for an existing customer: found by typing, never by scrolling a
list of every customer the partner has."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from installations.models import Installation
from tests.factories import CustomerFactory

from .conftest import log_in


def test_type_a_customers_name_choose_them_and_schedule(page, cast):
    CustomerFactory(partner=cast.partner, name="Ada Okafor", address="3 Mill Lane, Leeds")
    wanted = CustomerFactory(partner=cast.partner, name="Obi Okafor", address="9 Quay, Hull")
    CustomerFactory(partner=cast.other_partner, name="Eve Okafor")
    log_in(page, "acme")
    page.goto("/installations/new/")
    expect(page.get_by_text("Obi Okafor")).to_have_count(0)

    page.get_by_label("Find an existing customer").fill("okaf")
    choices = page.locator("#customer-choices")
    found = page.get_by_role("status").filter(has_text="match")
    expect(found).to_have_text("2 customers match “okaf”.")
    # The same live region answers the next search (a new one would not be read out).
    found.evaluate("el => el.dataset.kept = 'yes'")
    page.get_by_label("Find an existing customer").fill("obi ok")
    expect(page.locator("#customer-found")).to_have_text("1 customer matches “obi ok”.")
    expect(page.locator("#customer-found")).to_have_attribute("data-kept", "yes")
    page.get_by_label("Find an existing customer").fill("okaf")
    expect(page.locator("#customer-found")).to_have_text("2 customers match “okaf”.")
    expect(choices).not_to_contain_text("Eve Okafor")
    assert page.url.endswith("/installations/new/")  # found in place, nothing reloaded
    new_name = page.get_by_label("New customer's name")
    expect(new_name).to_be_visible()
    page.get_by_role("radio", name=re.compile(r"^Obi Okafor · ")).check()
    # One customer at a time: the new customer's fields step aside while one is chosen.
    expect(new_name).to_be_hidden()
    page.get_by_role("radio", name="A new customer (enter below)").check()
    expect(new_name).to_be_visible()
    page.get_by_role("radio", name=re.compile(r"^Obi Okafor · ")).check()

    page.get_by_label("Date", exact=True).fill("2099-01-15")
    page.get_by_role("button", name="Schedule installation").click()
    page.wait_for_url(re.compile(r"/installations/\d+/#who-\d+$"))
    inst = Installation.objects.get()
    assert inst.customer == wanted and inst.site_address == wanted.address


def test_enter_in_the_customer_search_finds_and_schedules_nothing(page, cast):
    CustomerFactory(partner=cast.partner, name="Obi Okafor")
    CustomerFactory(partner=cast.partner, name="Ada Okafor")
    log_in(page, "acme")
    page.goto("/installations/new/")
    # What is typed in the rest of the form first stays: the search answers in place (it was a
    # page load, which wiped it).
    page.get_by_label("Date", exact=True).fill("2099-01-15")
    page.get_by_label("Notes").fill("Ring twice")
    page.evaluate("window.__samePage = 'yes'")
    search = page.get_by_label("Find an existing customer")
    search.fill("Obi")
    search.press("Enter")
    expect(page.get_by_role("radio", name=re.compile(r"^Obi Okafor"))).to_be_visible()
    expect(page.locator(".error-summary")).to_have_count(0)
    expect(search).to_be_focused()
    # "Find" too.
    search.fill("okafor")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.get_by_role("radio", name=re.compile(r"^Ada Okafor"))).to_be_visible()
    expect(page.locator("#customer-found")).to_have_text("2 customers match “okafor”.")
    assert page.evaluate("window.__samePage") == "yes"
    assert page.url.endswith("/installations/new/")
    expect(page.get_by_label("Date", exact=True)).to_have_value("2099-01-15")
    expect(page.get_by_label("Notes")).to_have_value("Ring twice")
    assert Installation.objects.count() == 0
    # Enter anywhere else schedules, as in any form.
    page.get_by_role("radio", name=re.compile(r"^Obi Okafor")).check()
    page.get_by_label("Site address").press("Enter")
    page.wait_for_url(re.compile(r"/installations/\d+/#who-\d+$"))
    assert Installation.objects.get().customer.name == "Obi Okafor"


def test_without_javascript_find_keeps_what_was_typed_and_enter_never_schedules(browser, cast):
    CustomerFactory(partner=cast.partner, name="Obi Okafor")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, "acme")
        page.goto("/installations/new/")
        page.get_by_label("Date", exact=True).fill("2099-01-15")
        page.get_by_label("Notes").fill("Ring twice")
        search = page.get_by_label("Find an existing customer")
        search.fill("okafor")
        search.press("Enter")  # "Find": the page again, what was typed kept
        expect(page.get_by_role("radio", name=re.compile(r"^Obi Okafor"))).to_be_visible()
        expect(page.get_by_label("Find an existing customer")).to_be_focused()
        expect(page.get_by_label("Date", exact=True)).to_have_value("2099-01-15")
        expect(page.get_by_label("Notes")).to_have_value("Ring twice")
        assert page.url.endswith("/installations/new/")  # nothing typed in the address bar
        page.get_by_role("radio", name=re.compile(r"^Obi Okafor")).check()
        # Enter in another field finds too (the form's first button): nothing half-filled is
        # scheduled, nothing is lost.
        page.get_by_label("Site address").fill("9 Quay, Hull")
        page.get_by_label("Site address").press("Enter")
        expect(page.get_by_label("Site address")).to_have_value("9 Quay, Hull")
        expect(page.get_by_role("radio", name=re.compile(r"^Obi Okafor"))).to_be_checked()
        assert Installation.objects.count() == 0
        page.get_by_role("button", name="Schedule installation").click()
        page.wait_for_url(re.compile(r"/installations/\d+/#who-\d+$"))
        made = Installation.objects.get()
        assert (made.customer.name, made.notes, made.site_address) == (
            "Obi Okafor",
            "Ring twice",
            "9 Quay, Hull",
        )
    finally:
        context.close()


@pytest.mark.allow_page_errors("422")
def test_a_refused_schedule_opens_with_the_focus_on_what_went_wrong(phone, cast):
    log_in(phone, "acme")
    phone.goto("/installations/new/")
    assert phone.evaluate("document.activeElement === document.body")  # nothing moved it
    phone.get_by_role("button", name="Schedule installation").click()
    summary = phone.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please correct the highlighted fields.")
