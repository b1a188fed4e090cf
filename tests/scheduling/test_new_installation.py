"""The new-installation form's "Find" without JavaScript: the page again, with the customers found
and everything else as typed; nothing saved, nothing refused (scheduling/new_installation.py)."""

from __future__ import annotations

import re
import uuid

import pytest

from installations.models import Customer, Installation
from tests.factories import CustomerFactory

NEW = "/installations/new/"
DAY = "2099-01-15"  # far ahead: valid at any hour the tests run


@pytest.fixture
def acme(client, cast):
    client.force_login(cast.partner_user)
    return client


def typed(**more) -> dict:
    """A form half filled in: a new customer's details, the visit's date, window and notes."""
    return {
        "token": str(uuid.uuid4()),
        "customer": "",
        "new_name": "Ann Newcomer",
        "new_phone": "0700 123456",
        "new_email": "ann@example.com",
        "site_address": "1 Harbour Road",
        "scheduled_date": DAY,
        "window": "12-14",
        "notes": "Ring twice",
        **more,
    }


def main_form(html: str) -> str:
    start = html.index(f'<form method="post" action="{NEW}"')
    return html[start : html.index("</form>", start)]


def test_find_without_javascript_keeps_everything_typed_and_saves_nothing(acme, cast):
    CustomerFactory(partner=cast.partner, name="Obi Okafor")
    customers = Customer.objects.count()

    response = acme.post(NEW, typed(customer_q="okafor", find="1"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "1 customer matches “okafor”." in html
    assert re.search(r'value="\d+" id="id_customer_\d"[^>]*>\s*Obi Okafor', html)
    for value in ("Ann Newcomer", "0700 123456", "ann@example.com", "1 Harbour Road", DAY):
        assert f'value="{value}"' in html
    assert 'value="12-14" selected' in html and "Ring twice</textarea>" in html
    assert 'value="okafor"' in html  # the search box too, focused to read its answer
    assert re.search(r'<input type="search"[^>]*autofocus', html)
    assert "error-summary" not in html
    assert Installation.objects.count() == 0 and Customer.objects.count() == customers


def test_find_without_javascript_says_no_error_of_fields_not_filled_in_yet(acme, cast):
    response = acme.post(NEW, {"customer_q": "okafor", "find": "1", "scheduled_date": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose a date." not in html and "error-summary" not in html
    assert "No customer of yours matches “okafor”" in html


def test_the_schedule_after_a_find_keeps_the_forms_one_time_token(acme, cast):
    form = typed(customer_q="ann", find="1")
    html = acme.post(NEW, form).content.decode()
    assert f'name="token" value="{form["token"]}"' in html

    sent = {k: v for k, v in form.items() if k != "find"}
    first, again = acme.post(NEW, sent), acme.post(NEW, sent)  # scheduled, then resent

    assert first.status_code == again.status_code == 302
    assert Installation.objects.count() == 1


def test_find_keeps_the_customer_chosen_and_chooses_no_other_partners(acme, cast):
    mine = CustomerFactory(partner=cast.partner, name="Bea Chosen")
    theirs = CustomerFactory(partner=cast.other_partner, name="Eve Okafor")

    kept = acme.post(NEW, typed(customer=mine.pk, customer_q="zz", find="1")).content.decode()
    assert re.search(rf'value="{mine.pk}" id="id_customer_\d" checked>', kept)

    html = acme.post(NEW, typed(customer=theirs.pk, customer_q="eve", find="1")).content.decode()
    assert "Eve Okafor" not in html and f'value="{theirs.pk}"' not in html
    assert "checked" not in main_form(html)  # nobody chosen: a new customer, as typed


def test_without_javascript_enter_in_any_field_finds_and_never_schedules(acme, cast):
    # HTML's implicit submission presses a form's first submit button: "Find", whose answer
    # keeps everything and saves nothing. With JavaScript (customer_search.js) the box and
    # "Find" join the search's own form, and "Schedule installation" is the first one left.
    form = main_form(acme.get(NEW).content.decode())
    buttons = re.findall(r"<button[^>]*>[^<]*</button>", form)
    first = r'type="submit"[^>]*name="find"[^>]*data-customer-search[^>]*>Find<'
    assert re.search(first, buttons[0])
    assert "Schedule installation" in buttons[-1]
    box = re.search(r'<input type="search"[^>]*>', form).group()
    assert "data-customer-search" in box and "form=" not in box  # the form's own, until JS


def test_a_refused_schedule_opens_with_the_focus_on_what_went_wrong(acme, cast):
    response = acme.post(NEW, typed(new_name=""))
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'<div class="error-summary" role="alert"[^>]*tabindex="-1" autofocus>', html)
    assert "autofocus" not in acme.get(NEW).content.decode()  # an ordinary page: no focus moved


def test_a_refused_schedule_keeps_the_search_typed_and_its_answer(acme, cast):
    CustomerFactory(partner=cast.partner, name="Obi Okafor")

    response = acme.post(NEW, typed(new_name="", customer_q="okafor"))

    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="okafor"' in html
    assert "1 customer matches “okafor”." in html
    assert not Installation.objects.exists()
