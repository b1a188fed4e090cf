"""Behind a reverse proxy every request comes from the proxy's address: the limits must count the
client it was forwarded for, or one bad client pauses everyone (TRUSTED_PROXY_COUNT). Login
throttling (axes), the customer's link and password resets all read the same one function."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django.urls import reverse

from installations.customer_links import make_token
from installations.demo import png_bytes
from installations.models import Installation
from installations.ratelimit.services import client_address, client_ip
from installations.statuses import Status

from .factories import PASSWORD

PROXY = "10.0.0.2"  # the balancer in front of the portal, as REMOTE_ADDR shows it
ALICE, BOB = "203.0.113.7", "198.51.100.20"  # two clients behind it
SIGNATURE = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


def behind_the_proxy(client: str, forged: str = "") -> Client:
    """A browser at `client`, reaching the portal through one proxy that appends the address
    it was reached from to whatever X-Forwarded-For the browser sent (`forged`)."""
    header = f"{forged}, {client}" if forged else client
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=header)


@pytest.mark.parametrize(
    ("count", "forwarded_for", "seen"),
    [
        (0, "", PROXY),
        (0, "198.51.100.99", PROXY),  # no proxy trusted: the header is the client's own say
        (1, ALICE, ALICE),
        (1, f"198.51.100.99, {ALICE}", ALICE),  # the forged left part is ignored
        (1, f" 198.51.100.99 ,{ALICE} ", ALICE),
        (2, f"198.51.100.99, {ALICE}, 10.0.0.9", ALICE),  # two proxies: the second from the right
        (2, ALICE, PROXY),  # fewer addresses than proxies: not through them all
        (1, "", PROXY),
        (1, "not-an-address", PROXY),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_is_the_nth_address_from_the_right_of_the_trusted_proxies(
    rf, settings, count, forwarded_for, seen
):
    settings.TRUSTED_PROXY_COUNT = count
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    assert client_ip(rf.get("/", REMOTE_ADDR=PROXY, **extra)) == seen


def test_login_throttling_reads_the_same_function(settings):
    assert settings.AXES_CLIENT_IP_CALLABLE == "installations.ratelimit.services.client_ip"
    assert client_address.__module__ == client_ip.__module__


# --- Login throttling (axes) --------------------------------------------------------------------


def _fail_logins(browser: Client, times: int) -> list[int]:
    return [
        browser.post("/accounts/login/", {"username": f"guess{n}", "password": "no"}).status_code
        for n in range(times)
    ]


@pytest.fixture
def _axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_ADDRESS_FAILURE_LIMIT = 5


@pytest.mark.usefixtures("_axes_on")
def test_login_behind_one_proxy_pauses_the_client_who_guesses_not_the_others(cast, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert _fail_logins(behind_the_proxy(ALICE), 5)[-1] == 429
    bob = behind_the_proxy(BOB)
    answer = bob.post("/accounts/login/", {"username": "acme", "password": PASSWORD})
    assert answer.status_code == 302
    # Alice cannot step around her pause by sending a header of her own.
    forging = behind_the_proxy(ALICE, forged=BOB)
    answer = forging.post("/accounts/login/", {"username": "acme", "password": PASSWORD})
    assert answer.status_code == 429


@pytest.mark.usefixtures("_axes_on")
def test_login_without_a_trusted_proxy_ignores_a_forged_forwarded_for(cast, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for n in range(5):  # a new made-up address every time: still one address
        Client(REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").post(
            "/accounts/login/", {"username": f"guess{n}", "password": "no"}
        )
    answer = Client(REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR=BOB).post(
        "/accounts/login/", {"username": "acme", "password": PASSWORD}
    )
    assert answer.status_code == 429


# --- The customer's link ------------------------------------------------------------------------


def _dead_links(browser: Client, url: str, times: int) -> list[int]:
    return [browser.get(url).status_code for _ in range(times)]


@pytest.fixture
def dead_link(cast) -> str:
    token = make_token(cast.installation(Status.CONTRACT_SENT))
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    return reverse("customer:page", args=[forged])


def test_the_customer_link_behind_one_proxy_counts_each_client_apart(cast, settings, dead_link):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.CUSTOMER_LINK_BAD_LIMIT = 3
    assert _dead_links(behind_the_proxy(ALICE), dead_link, 4) == [404, 404, 404, 429]
    assert behind_the_proxy(BOB).get(dead_link).status_code == 404  # not paused by Alice
    assert behind_the_proxy(ALICE, forged=BOB).get(dead_link).status_code == 429


def test_the_customer_link_without_a_trusted_proxy_ignores_a_forged_forwarded_for(
    cast, settings, dead_link
):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.CUSTOMER_LINK_BAD_LIMIT = 3
    answers = [
        Client(REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").get(dead_link)
        for n in range(4)
    ]
    assert [a.status_code for a in answers] == [404, 404, 404, 429]


# --- Password resets ----------------------------------------------------------------------------


def _ask(browser: Client, email: str) -> int:
    return browser.post("/accounts/password/forgotten/", {"email": email}).status_code


def test_password_resets_behind_one_proxy_count_each_client_apart(cast, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 2
    alice = behind_the_proxy(ALICE)
    assert [_ask(alice, f"someone{n}@example.com") for n in range(3)] == [302, 302, 429]
    assert _ask(behind_the_proxy(BOB), cast.partner_user.email) == 302
    assert _ask(behind_the_proxy(ALICE, forged=BOB), "more@example.com") == 429


def test_password_resets_without_a_trusted_proxy_ignore_a_forged_forwarded_for(cast, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 2
    answers = [
        _ask(Client(REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}"), f"s{n}@example.com")
        for n in range(3)
    ]
    assert answers == [302, 302, 429]


# --- The address kept with a signature ----------------------------------------------------------


@pytest.mark.parametrize(("count", "kept"), [(0, PROXY), (1, ALICE)])
def test_the_signature_keeps_the_clients_address_as_the_limits_see_it(cast, settings, count, kept):
    settings.TRUSTED_PROXY_COUNT = count
    sent = cast.installation(Status.CONTRACT_SENT)
    answer = behind_the_proxy(ALICE, forged=BOB).post(
        reverse("customer:sign", args=[make_token(sent)]),
        {"name": "Carol Customer", "signature": SIGNATURE},
    )
    assert answer.status_code == 302
    assert Installation.objects.get(pk=sent.pk).contract_signed_ip == kept
