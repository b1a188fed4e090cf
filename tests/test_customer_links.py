"""The customer's signed link, read directly: what each kind of bad token is called, and what it
reveals. Written to kill the mutants mutmut left alive (docs/testing.md)."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from installations import notifications
from installations.customer_links import (
    MAX_AGE,
    SALT,
    LinkError,
    customer_url,
    make_token,
    read_token,
)
from installations.models import Installation
from installations.statuses import Status


@pytest.fixture
def sent(cast) -> Installation:
    return cast.installation(Status.CONTRACT_SENT)


def _reason(token: str) -> tuple[str, Installation | None]:
    with pytest.raises(LinkError) as error:
        read_token(token)
    return error.value.reason, error.value.installation


def test_an_installation_without_a_link_yet_has_no_token(cast):
    scheduled = cast.installation()
    with pytest.raises(ValueError, match=r"^This installation has no customer link yet \("):
        make_token(scheduled)


def test_the_link_is_the_site_address_and_the_customer_page(sent, settings):
    settings.SITE_URL = "https://portal.example.com"
    assert customer_url(sent) == f"https://portal.example.com/c/{make_token(sent)}/"


def test_a_current_token_reads_its_installation_with_what_the_page_shows_in_one_query(
    sent, django_assert_num_queries
):
    token = make_token(sent)
    with django_assert_num_queries(1):  # partner, customer and the handyman's name come joined
        installation = read_token(token)
        shown = (
            installation.partner.name,
            installation.customer.name,
            installation.handyman.first_name,
        )
    assert installation.pk == sent.pk
    assert shown == ("Acme Appliances", sent.customer.name, "Hank")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda inst: [inst.pk, inst.link_nonce], id="not-a-dict"),
        pytest.param(lambda inst: {"i": str(inst.pk), "n": inst.link_nonce}, id="id-as-text"),
        pytest.param(lambda inst: {"i": inst.pk, "n": ""}, id="empty-nonce"),
        pytest.param(lambda inst: {"i": inst.pk, "n": 5}, id="nonce-not-text"),
        pytest.param(lambda inst: {"i": inst.pk}, id="no-nonce"),
        pytest.param(lambda inst: {"n": inst.link_nonce}, id="no-id"),
        pytest.param(lambda inst: {"i": inst.pk + 1000, "n": inst.link_nonce}, id="no-such-id"),
    ],
)
def test_a_genuinely_signed_but_malformed_payload_is_invalid_and_names_nobody(sent, payload):
    # Only someone holding the secret key could make these; they still open nothing.
    token = signing.dumps(payload(sent), salt=SALT)
    assert _reason(token) == ("invalid", None)


def test_a_forged_token_is_invalid_and_names_nobody(sent):
    assert _reason(make_token(sent)[:-2] + "xx") == ("invalid", None)


def test_a_replaced_token_says_so_and_names_its_installation(cast, sent):
    old = make_token(sent)
    notifications.contract_link_resend(installation=sent, actor=cast.partner_user)
    assert _reason(old) == ("replaced", sent)


def test_an_expired_token_says_so_and_names_its_installation(sent, monkeypatch):
    token = make_token(sent)
    later = time.time() + MAX_AGE.total_seconds() + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    assert _reason(token) == ("expired", sent)
