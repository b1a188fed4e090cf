"""The customer's link is rate-limited: links that do not work per client address, a valid link's
own POSTs and record downloads per link; a real customer never meets either (customer_links)."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.db import connections
from django.test import Client
from django.urls import reverse

from installations import notifications
from installations.customer_links import MAX_AGE, make_token
from installations.demo import png_bytes
from installations.evidence.models import EvidencePack
from installations.models import Installation, StatusChange
from installations.ratelimit import services as ratelimit
from installations.ratelimit.models import RateCount
from installations.statuses import Status

SIGNATURE = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
# Five minutes into a fifteen-minute window (windows are aligned on midnight UTC).
START = datetime(2026, 12, 4, 9, 5, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimit, "_now", lambda: clock.now)
    return clock


@pytest.fixture
def sent(cast) -> Installation:
    return cast.installation(Status.CONTRACT_SENT)


def _client(address: str = "198.51.100.7") -> Client:
    return Client(REMOTE_ADDR=address)


def _url(name: str, token: str, *args) -> str:
    return reverse(name, args=[token, *args])


def _forged(installation: Installation) -> str:
    token = make_token(installation)
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


def _state(installation: Installation) -> tuple:
    row = Installation.objects.get(pk=installation.pk)
    return (
        row.status,
        row.version,
        row.link_nonce,
        row.contract_signer_name,
        StatusChange.objects.filter(installation=installation).count(),
        EvidencePack.objects.filter(installation=installation).count(),
    )


def _assert_too_many(response, *, sentence: str, retry_after: int) -> None:
    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == str(retry_after)
    assert "no-cache" in response["Cache-Control"]
    assert "<h1" in html and "Please wait a moment" in html
    assert sentence in html


def test_too_many_links_that_do_not_work_from_one_address_answer_429_with_a_sentence(
    cast, sent, clock, settings
):
    assert settings.CUSTOMER_LINK_BAD_LIMIT == 20
    prober, forged = _client(), _forged(sent)
    # Forged, expired and replaced links all count, on every address behind the link.
    replaced = make_token(sent)
    notifications.contract_link_resend(installation=sent, actor=cast.partner_user)
    sent.refresh_from_db()
    with pytest.MonkeyPatch.context() as earlier:
        long_ago = time.time() - MAX_AGE.total_seconds() - 60
        earlier.setattr(signing.time, "time", lambda: long_ago)
        expired = make_token(sent)
    urls = [
        _url("customer:page", forged),
        _url("customer:sign", forged),
        _url("customer:photo", forged, 1),
        _url("evidence:customer-pack", forged),
        _url("customer:page", replaced),
    ]
    for n in range(20):
        url = urls[n % len(urls)]
        response = prober.post(url) if "/sign/" in url else prober.get(url)
        assert response.status_code in (404, 410), (n, url)
    assert _client("203.0.113.9").get(_url("customer:page", expired)).status_code == 410
    refused = prober.get(_url("customer:page", expired))
    _assert_too_many(
        refused,
        sentence="Too many links that do not work were opened from your connection in a short "
        "time. Please wait 10 minutes and try again.",
        retry_after=600,
    )
    for url in urls:
        response = prober.post(url) if "/sign/" in url else prober.get(url)
        assert response.status_code == 429, url
    # Another address is not slowed, and a valid link works from the prober's address too.
    assert _client("203.0.113.9").get(_url("customer:page", forged)).status_code == 404
    assert prober.get(_url("customer:page", make_token(sent))).status_code == 200


def test_a_refused_request_changes_nothing_and_writes_nothing(sent, clock, settings):
    settings.CUSTOMER_LINK_BAD_LIMIT = 2
    settings.CUSTOMER_LINK_POST_LIMIT = 2
    prober, forged, token = _client(), _forged(sent), make_token(sent)
    for _ in range(2):
        assert prober.get(_url("customer:page", forged)).status_code == 404
        assert prober.post(_url("customer:sign", token), {"name": ""}).status_code == 422
    counts = list(RateCount.objects.order_by("key").values_list("key", "count"))
    before = _state(sent)
    assert prober.get(_url("customer:page", forged)).status_code == 429
    signed = prober.post(_url("customer:sign", token), {"name": "Carol", "signature": SIGNATURE})
    assert signed.status_code == 429
    assert "nothing was changed" in signed.content.decode()
    assert _state(sent) == before
    assert list(RateCount.objects.order_by("key").values_list("key", "count")) == counts


def test_the_window_passes_and_the_link_works_again(sent, clock, settings):
    settings.CUSTOMER_LINK_BAD_LIMIT = 3
    settings.CUSTOMER_LINK_POST_LIMIT = 3
    browser, forged, token = _client(), _forged(sent), make_token(sent)
    for _ in range(3):
        browser.get(_url("customer:page", forged))
        browser.post(_url("customer:approve", token))  # 409: not signed yet
    assert browser.get(_url("customer:page", forged)).status_code == 429
    sign = {"name": "Carol Customer", "signature": SIGNATURE}
    assert browser.post(_url("customer:sign", token), sign).status_code == 429
    clock.advance(minutes=9, seconds=59)  # one second before the window ends
    assert browser.get(_url("customer:page", forged)).status_code == 429
    clock.advance(seconds=1)
    assert browser.get(_url("customer:page", forged)).status_code == 404
    assert browser.post(_url("customer:sign", token), sign).status_code == 302
    assert Installation.objects.get(pk=sent.pk).status == Status.CONTRACT_SIGNED
    # The ended windows' rows were swept when the new ones were written.
    assert not RateCount.objects.filter(ends_at__lte=clock.now).exists()


def test_a_script_flooding_one_link_is_refused_and_other_links_are_not(cast, sent, clock):
    token, script = make_token(sent), _client()
    for _ in range(30):
        assert script.post(_url("customer:sign", token), {"name": ""}).status_code == 422
    refused = script.post(_url("customer:sign", token), {"name": "Carol", "signature": SIGNATURE})
    _assert_too_many(
        refused,
        sentence="This page received too many requests in a short time, so this one was not "
        "carried out and nothing was changed. Please wait 10 minutes and try again, or contact "
        "Acme Appliances.",
        retry_after=600,
    )
    # Per link, whatever the address: another address posting to it is refused as well.
    assert _client("203.0.113.9").post(_url("customer:approve", token)).status_code == 429
    # The customer can still read their page, and another customer's link is untouched.
    assert script.get(_url("customer:page", token)).status_code == 200
    other = cast.installation(Status.CONTRACT_SENT)
    signed = script.post(
        _url("customer:sign", make_token(other)), {"name": "Dan", "signature": SIGNATURE}
    )
    assert signed.status_code == 302


def test_a_real_customer_never_meets_a_limit(cast, sent, clock):
    """Reloads, a dead link opened a few times, mistakes in the form, a double tap, a second
    tab, a form sent again from Back, the record downloaded on two devices."""
    phone, laptop = _client("198.51.100.7"), _client("198.51.100.7")
    old_token = make_token(sent)
    notifications.contract_link_resend(installation=sent, actor=cast.partner_user)
    sent.refresh_from_db()
    token = make_token(sent)
    answers = []
    for _ in range(5):
        answers.append(phone.get(_url("customer:page", old_token)).status_code)  # 410
    for _ in range(15):
        answers.append(phone.get(_url("customer:page", token)).status_code)
        answers.append(phone.get(_url("customer:photo", token, sent.photos.get().pk)).status_code)
    for bad in ({"name": ""}, {"name": "Carol"}, {"name": "", "signature": SIGNATURE}) * 2:
        answers.append(phone.post(_url("customer:sign", token), bad).status_code)
    sign = {"name": "Carol Customer", "signature": SIGNATURE}
    for client in (phone, phone, laptop, phone):  # a double tap, a second tab, Back and resend
        answers.append(client.post(_url("customer:sign", token), sign).status_code)
        answers.append(client.get(_url("customer:page", token)).status_code)
    for client in (phone, phone, laptop, laptop, phone):
        answers.append(client.post(_url("customer:approve", token)).status_code)
    for client in (phone, laptop, phone):
        answers.append(client.get(_url("evidence:customer-pack", token)).status_code)
    assert 429 not in answers, str(answers)
    assert set(answers) == {200, 302, 409, 410, 422}
    assert Installation.objects.get(pk=sent.pk).status == Status.CUSTOMER_APPROVED


def test_the_customers_record_is_limited_per_link_per_day(cast, clock, settings):
    settings.CUSTOMER_RECORD_DAILY_LIMIT = 1
    approved = cast.installation(Status.CUSTOMER_APPROVED)
    token, browser = make_token(approved), _client()
    assert browser.get(_url("evidence:customer-pack", token)).status_code == 200
    before = _state(approved)
    clock.advance(hours=14, minutes=45)  # 23:50 UTC: the next day is 10 minutes away
    _assert_too_many(
        browser.get(_url("evidence:customer-pack", token)),
        sentence="Your installation record has been downloaded many times today. Nothing was "
        "changed. Please try again in 10 minutes",
        retry_after=600,
    )
    assert _state(approved) == before  # no pack made, no row kept
    clock.advance(minutes=10)
    assert browser.get(_url("evidence:customer-pack", token)).status_code == 200


@pytest.mark.parametrize(
    ("remote_addr", "counted_as"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("", "unknown"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64_as_one_home(rf, remote_addr, counted_as):
    assert ratelimit.client_address(rf.get("/", REMOTE_ADDR=remote_addr)) == counted_as


@pytest.mark.django_db(transaction=True)
def test_racing_requests_count_one_after_the_other():
    limit = ratelimit.Limit("race", 10, timedelta(minutes=15))
    barrier, allowed = threading.Barrier(8), []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                allowed.append(ratelimit.ratelimit_hit(limit=limit, subject="one") is None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert allowed.count(True) == 10 and len(allowed) == 40
