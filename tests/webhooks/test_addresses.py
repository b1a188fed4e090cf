"""Where webhooks may go: public https addresses only in production, checked after DNS at save and
at every attempt, and the connection made to the address that was checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from installations import services
from installations.webhooks import delivery
from installations.webhooks.delivery import AddressRefused, check_url
from installations.webhooks.forms import EndpointForm
from installations.webhooks.models import WebhookAttempt, WebhookDelivery

from .conftest import add_endpoint

REFUSED = [
    ("https://127.0.0.1/hooks", "loopback"),
    ("https://127.8.9.10/hooks", "loopback"),
    ("https://[::1]/hooks", "loopback"),
    ("https://[::ffff:127.0.0.1]/hooks", "loopback"),
    ("https://10.1.2.3/hooks", "private"),
    ("https://172.16.0.9/hooks", "private"),
    ("https://192.168.1.20/hooks", "private"),
    ("https://[fd12:3456::1]/hooks", "private"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://169.254.10.10/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://100.64.0.1/", "carrier-grade NAT"),
    ("https://224.0.0.251/", "multicast"),
    ("https://[ff02::1]/", "multicast"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://240.0.0.1/", "reserved"),
    ("https://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 of 127.0.0.1
    ("https://[2002:a9fe:a9fe::]/", "metadata"),  # 6to4 of 169.254.169.254
    ("https://[2002:c0a8:101::1]/", "private"),  # 6to4 of 192.168.1.1
    # Teredo whose client is 10.0.0.1 (stored inverted: 0xf5ffff fe).
    ("https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/", "private"),
]


@pytest.fixture
def production(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False


@pytest.mark.parametrize(("url", "why"), REFUSED)
def test_it_refuses_addresses_that_are_not_public_in_production(production, url, why):
    with pytest.raises(AddressRefused, match=why):
        check_url(url)


def test_it_accepts_a_public_https_address_and_names_the_address_to_connect_to(production):
    target = check_url("https://hooks.example.com:8443/in?x=1", resolver=lambda h, p: ["8.8.8.8"])
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https",
        "hooks.example.com",
        8443,
        "/in?x=1",
        "8.8.8.8",
    )


def test_it_refuses_plain_http_in_production_even_to_a_public_address(production):
    with pytest.raises(AddressRefused, match="https"):
        check_url("http://8.8.8.8/hooks")


def test_a_name_with_one_private_address_among_public_ones_is_refused(production):
    with pytest.raises(AddressRefused, match="private"):
        check_url("https://mixed.example.com/", resolver=lambda h, p: ["8.8.8.8", "10.0.0.5"])


def test_a_name_that_resolves_to_loopback_is_refused_at_save(production):
    # `localhost` really resolves to 127.0.0.1 (or ::1): no stub, the system resolver.
    with pytest.raises(AddressRefused, match="loopback"):
        check_url("https://localhost/hooks")
    form = EndpointForm({"url": "https://localhost/hooks", "event_types": ["message.failed"]})
    assert not form.is_valid()
    assert "loopback" in form.errors["url"][0]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "https://", "https://user:pw@example.com/", "example.com"]
)
def test_it_refuses_what_is_not_a_plain_web_address(url):
    with pytest.raises(AddressRefused):
        check_url(url)


def test_development_allows_http_to_loopback_only(settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    assert check_url("http://127.0.0.1:9/hooks").address == "127.0.0.1"
    with pytest.raises(AddressRefused, match="private"):
        check_url("http://10.0.0.1/hooks")
    with pytest.raises(AddressRefused, match="metadata"):
        check_url("http://169.254.169.254/")


@pytest.mark.django_db
def test_a_name_that_resolves_to_loopback_at_delivery_time_gets_nothing(cast, receiver, settings):
    # Saved while allowed (or while it resolved elsewhere); production refuses it when sending.
    add_endpoint(cast.partner, f"https://localhost:{receiver.port}/hooks")
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    [pk] = WebhookDelivery.objects.values_list("pk", flat=True)
    assert delivery.deliver(pk) == "retry"
    assert receiver.requests == []
    assert "loopback" in WebhookAttempt.objects.get().error


@pytest.mark.django_db
def test_dns_that_changes_between_save_and_delivery_is_checked_again(
    cast, receiver, settings, monkeypatch
):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # public at save, loopback when sending
    monkeypatch.setattr(delivery, "resolve", lambda host, port: next(answers))
    form = EndpointForm(
        {
            "url": f"https://rebind.example.com:{receiver.port}/hooks",
            "event_types": ["message.failed"],
        }
    )
    assert form.is_valid(), form.errors
    add_endpoint(cast.partner, form.cleaned_data["url"])
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert delivery.deliver(WebhookDelivery.objects.get().pk) == "retry"
    assert receiver.requests == []
    assert "127.0.0.1" in WebhookAttempt.objects.get().error


@pytest.mark.django_db
def test_the_request_goes_to_the_checked_address_with_the_name_in_the_host_header(
    cast, receiver, monkeypatch
):
    # A name no real DNS knows: only the pinned connection can reach the receiver.
    calls = []

    def resolve(host, port):
        calls.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(delivery, "resolve", resolve)
    add_endpoint(cast.partner, f"http://hooks.partner.invalid:{receiver.port}/hooks")
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert delivery.deliver(WebhookDelivery.objects.get().pk, now=timezone.now()) == "delivered"
    assert receiver.requests[0].headers["host"] == f"hooks.partner.invalid:{receiver.port}"
    assert calls == ["hooks.partner.invalid"]  # resolved once for the attempt, then connected


@pytest.mark.django_db
def test_a_path_with_letters_beyond_ascii_is_sent_percent_encoded_as_a_browser_would(
    cast, receiver
):
    # http.client writes the request line in ASCII: sent as typed, the attempt raised, was never
    # recorded, and the delivery stayed "Pending" for ever.
    add_endpoint(cast.partner, f"{receiver.url}/café?shop=Müller")
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert delivery.deliver(WebhookDelivery.objects.get().pk, now=timezone.now()) == "delivered"
    assert [r.path for r in receiver.requests] == ["/hooks/caf%C3%A9?shop=M%C3%BCller"]


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/hooks portal",
        "https://8.8.8.8/hooks\r\nX-Injected: 1",
        "https://8.8.8.8/ho\toks",
        "https://8.8.8.8/hooks\u00a0/in",
    ],
)
def test_an_address_with_a_space_or_a_line_break_is_refused_with_a_sentence(production, url):
    form = EndpointForm({"url": url, "event_types": ["message.failed"]})
    assert not form.is_valid()
    assert "a space, a tab or a line break" in form.errors["url"][0]


@pytest.mark.django_db
def test_an_address_saved_with_a_space_before_the_check_fails_each_attempt_in_words(cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    type(endpoint).objects.filter(pk=endpoint.pk).update(url=f"{receiver.url}/my hooks")
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    assert delivery.deliver(WebhookDelivery.objects.get().pk, now=timezone.now()) == "retry"
    assert receiver.requests == []
    assert "Not sent: The address has a space" in WebhookAttempt.objects.get().error


def test_a_request_http_client_cannot_write_is_a_failure_not_an_exception(receiver):
    target = delivery.Target("http", "127.0.0.1", receiver.port, "/hooks/é", "127.0.0.1")
    outcome = delivery.post(target, {"content-type": "application/json"}, b"{}")
    assert not outcome.ok and outcome.error.startswith("Connection failed: UnicodeEncodeError")
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DJANGO_DEBUG": "0"}, "False"),
        ({"DJANGO_DEBUG": "1"}, "True"),
        ({"DJANGO_DEBUG": "0", "WEBHOOKS_ALLOW_LOOPBACK": "1"}, "True"),
        ({"DJANGO_DEBUG": "1", "WEBHOOKS_ALLOW_LOOPBACK": "0"}, "False"),
    ],
)
def test_loopback_is_allowed_only_in_development_unless_the_environment_says(env, expected):
    import os
    import subprocess
    import sys

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WEBHOOKS_"))}
    clean.update(env, DJANGO_SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="portal.settings")
    code = "from django.conf import settings; print(settings.WEBHOOKS_ALLOW_LOOPBACK)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == expected, result.stderr
