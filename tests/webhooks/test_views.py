"""The partner's webhook settings pages."""

from __future__ import annotations

import base64
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from standardwebhooks import Webhook

from installations import services
from installations.webhooks import delivery, tasks
from installations.webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import add_endpoint, answer

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture
def acme(cast) -> Client:
    client = Client()
    client.force_login(cast.partner_user)
    return client


@pytest.fixture
def beta(cast) -> Client:
    client = Client()
    client.force_login(cast.other_partner_user)
    return client


def form(url: str, **extra) -> dict:
    data = {"url": url, "description": "Shop", "event_types": ["installation.status_changed"]}
    data.update(extra)
    return data


def test_adding_an_endpoint_shows_its_secret_once(acme, cast, receiver):
    token = str(uuid.uuid4())
    response = acme.post("/installations/settings/endpoints/new/", form(receiver.url, token=token))
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    [shown] = SECRET.findall(response.content.decode())
    endpoint = WebhookEndpoint.objects.get()
    assert shown == endpoint.secret and endpoint.partner == cast.partner
    assert len(base64.b64decode(shown.removeprefix("whsec_"))) == 32
    # The settings page and the edit page never show it again.
    for url in (
        "/installations/settings/",
        f"/installations/settings/endpoints/{endpoint.pk}/edit/",
    ):
        page = acme.get(url).content.decode()
        assert receiver.url in page and shown not in page and not SECRET.search(page)


def test_a_resent_create_form_makes_one_endpoint_and_does_not_show_the_secret_again(acme, receiver):
    data = form(receiver.url, token=str(uuid.uuid4()))
    first = acme.post("/installations/settings/endpoints/new/", data)
    again = acme.post("/installations/settings/endpoints/new/", data, follow=True)
    assert first.status_code == 201
    assert WebhookEndpoint.objects.count() == 1
    assert again.redirect_chain[0][1] == 302
    assert not SECRET.search(again.content.decode())
    assert "already added" in again.content.decode()


def test_bad_input_re_renders_with_errors_and_creates_nothing(acme, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    cases = [
        form("http://127.0.0.1:9/x"),
        form("https://10.0.0.1/x"),
        form("not a url"),
        form("https://8.8.8.8/x", event_types=[]),
        form("https://8.8.8.8/x", event_types=["installation.deleted"]),
        form("https://8.8.8.8/x", event_types=["message.failed"], statuses=["EN_ROUTE"]),
    ]
    for data in cases:
        response = acme.post("/installations/settings/endpoints/new/", data)
        assert response.status_code == 422, data
        assert 'role="alert"' in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_a_name_server_that_does_not_answer_is_said_in_seconds_and_creates_nothing(
    acme, settings, monkeypatch
):
    """The system resolver has no timeout of its own: a silent name server held the form's
    request for as long as the resolver waited. The form stops waiting and says why."""
    import threading

    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    answered = threading.Event()
    looked_up = []

    def silent_name_server(host, *args, **kwargs):
        looked_up.append(host)
        answered.wait(30)  # released below: the thread ends, as with the resolver's own timeout
        raise OSError("timed out")

    monkeypatch.setattr(delivery.socket, "getaddrinfo", silent_name_server)
    monkeypatch.setattr(delivery, "LOOKUP_SECONDS", 0.2)
    try:
        response = acme.post(
            "/installations/settings/endpoints/new/", form("https://hooks.slow-dns.example/in")
        )
    finally:
        answered.set()
    assert looked_up == ["hooks.slow-dns.example"]
    assert response.status_code == 422
    page = response.content.decode()
    assert "The name hooks.slow-dns.example could not be looked up within 0.2 seconds" in page
    assert "Check the address and try again." in page
    assert WebhookEndpoint.objects.count() == 0


def test_editing_checks_the_new_url_and_saves_the_choices(acme, cast, receiver, settings):
    endpoint = add_endpoint(cast.partner, receiver.url)
    url = f"/installations/settings/endpoints/{endpoint.pk}/edit/"
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    assert acme.post(url, form("https://192.168.0.1/x")).status_code == 422
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    response = acme.post(url, form(receiver.url + "/v2", statuses=["EN_ROUTE"], description="CRM"))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == receiver.url + "/v2"
    assert endpoint.statuses == ["EN_ROUTE"] and endpoint.description == "CRM"
    assert endpoint.event_types == ["installation.status_changed"]


def test_the_same_edit_sent_twice_saves_once(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    url = f"/installations/settings/endpoints/{endpoint.pk}/edit/"
    data = form(receiver.url + "/v2", description="CRM")
    assert acme.post(url, data).status_code == 302
    saved = WebhookEndpoint.objects.values().get(pk=endpoint.pk)

    again = acme.post(url, data, follow=True)  # a double click, a resent form

    assert again.redirect_chain == [("/installations/settings/", 302)]
    assert f"Saved: {receiver.url}/v2." in again.content.decode()
    # Nothing to change: its "last changed" stays at the first save.
    assert WebhookEndpoint.objects.values().get(pk=endpoint.pk) == saved


def test_pause_resume_and_delete(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    base = f"/installations/settings/endpoints/{endpoint.pk}"
    assert acme.post(f"{base}/pause/").status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "Paused" in acme.get("/installations/settings/").content.decode()
    assert acme.post(f"{base}/pause/").status_code == 302  # again: answered as done
    assert acme.post(f"{base}/resume/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert acme.get(f"{base}/delete/").status_code == 200
    assert acme.post(f"{base}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_a_second_delete_by_the_same_person_is_answered_as_done(acme, beta, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    keep = add_endpoint(cast.partner, "https://8.8.8.8/other")
    delete = f"/installations/settings/endpoints/{endpoint.pk}/delete/"
    assert acme.post(delete).status_code == 302

    again = acme.post(delete, follow=True)  # a double click, a resent form, a second tab

    assert again.redirect_chain == [("/installations/settings/", 302)]
    assert f"Already deleted: {receiver.url}." in again.content.decode()
    assert list(WebhookEndpoint.objects.values_list("pk", flat=True)) == [keep.pk]
    # Someone else sending it learns nothing: the same 404 as for an endpoint never made.
    assert beta.post(delete).status_code == 404
    assert Client().post(delete).status_code == 302  # signed out: to the login page


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_signing(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    old = endpoint.secret
    response = acme.post(f"/installations/settings/endpoints/{endpoint.pk}/rotate/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    endpoint.refresh_from_db()
    assert SECRET.findall(response.content.decode()) == [endpoint.secret]
    assert endpoint.secret != old and endpoint.previous_secret == old
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    delivery.deliver(WebhookDelivery.objects.get().pk)
    got = receiver.requests[0]
    Webhook(old).verify(got.body, got.headers)
    Webhook(endpoint.secret).verify(got.body, got.headers)


def test_the_settings_page_shows_each_attempt_and_redeliver_sends_the_event_again(
    acme, cast, receiver
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(500))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    first = WebhookDelivery.objects.get()
    delivery.deliver(first.pk)
    page = acme.get("/installations/settings/").content.decode()
    assert "installation.status_changed" in page and f"installation #{inst.pk}" in page
    assert '<td data-label="Answer">500</td>' in page and "Pending" in page
    assert "Redeliver" not in page  # still being retried
    WebhookDelivery.objects.filter(pk=first.pk).update(status=WebhookDelivery.State.FAILED)
    page = acme.get("/installations/settings/").content.decode()
    redeliver = f"/installations/settings/endpoints/{endpoint.pk}/deliveries/{first.pk}/redeliver/"
    assert redeliver in page
    assert acme.post(redeliver).status_code == 302
    assert acme.post(redeliver).status_code == 302  # a double click: one redelivery
    again = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert again.redelivery_of_id == first.pk
    assert delivery.deliver(again.pk) == "delivered"
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    page = acme.get("/installations/settings/").content.decode()
    assert '<td data-label="Answer">200 (OK)</td>' in page


def test_redeliver_clicked_twice_says_the_second_time_that_it_is_already_on_its_way(
    acme, cast, receiver
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    first = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=first.pk).update(status=WebhookDelivery.State.FAILED)
    redeliver = f"/installations/settings/endpoints/{endpoint.pk}/deliveries/{first.pk}/redeliver/"
    page = acme.post(redeliver, follow=True).content.decode()
    assert "installation.status_changed will be sent again in a moment." in page
    page = acme.post(redeliver, follow=True).content.decode()
    assert "installation.status_changed is already on its way again." in page
    assert "will be sent again in a moment" not in page
    assert WebhookDelivery.objects.count() == 2


def test_redeliver_queues_the_new_delivery_at_once(
    acme, cast, receiver, django_capture_on_commit_callbacks
):
    endpoint = add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    first = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=first.pk).update(status=WebhookDelivery.State.FAILED)
    backend = tasks.deliver_webhook.get_backend()
    backend.results.clear()
    redeliver = f"/installations/settings/endpoints/{endpoint.pk}/deliveries/{first.pk}/redeliver/"
    with django_capture_on_commit_callbacks(execute=True):
        assert acme.post(redeliver).status_code == 302
    again = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert [list(queued.args) for queued in backend.results] == [[again.pk]]


def test_a_refusing_receivers_own_words_show_beside_its_answer_escaped(acme, cast, receiver):
    # A 500 showed "500" and "—": why it refused was stored, and shown only to our staff.
    add_endpoint(cast.partner, receiver.url)
    receiver.then(answer(500, b'<b>Bad signature</b> for "whsec_..."'), answer(204, b""))
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    pk = WebhookDelivery.objects.get().pk
    delivery.deliver(pk)
    page = acme.get("/installations/settings/").content.decode()
    words = "It answered: “&lt;b&gt;Bad signature&lt;/b&gt; for &quot;whsec_...&quot;”"
    assert f'<td data-label="Error" class="long-words">{words}</td>' in page
    WebhookDelivery.objects.filter(pk=pk).update(next_attempt_at=None)
    assert delivery.deliver(pk) == "delivered"
    page = acme.get("/installations/settings/").content.decode()
    assert '<td data-label="Error" class="long-words">—</td>' in page  # a success says nothing


def test_redeliver_on_a_paused_endpoint_is_refused_with_a_sentence(acme, cast, receiver):
    endpoint = add_endpoint(cast.partner, receiver.url)
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    first = WebhookDelivery.objects.get()
    delivery.deliver(first.pk)
    endpoint.is_active = False
    endpoint.save()
    response = acme.post(
        f"/installations/settings/endpoints/{endpoint.pk}/deliveries/{first.pk}/redeliver/"
    )
    assert response.status_code == 409
    assert "resume it first" in response.content.decode()
    assert WebhookDelivery.objects.count() == 1


def test_another_partners_endpoints_and_deliveries_are_404_and_never_shown(
    acme, beta, cast, receiver
):
    endpoint = add_endpoint(cast.partner, receiver.url, description="Acme's CRM")
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    mine = WebhookDelivery.objects.get()
    delivery.deliver(mine.pk)
    before = list(WebhookEndpoint.objects.values_list("url", "is_active", "secret"))
    base = f"/installations/settings/endpoints/{endpoint.pk}"
    for method, url in [
        ("get", f"{base}/edit/"),
        ("post", f"{base}/edit/"),
        ("post", f"{base}/pause/"),
        ("post", f"{base}/resume/"),
        ("post", f"{base}/rotate/"),
        ("get", f"{base}/delete/"),
        ("post", f"{base}/delete/"),
        ("post", f"{base}/deliveries/{mine.pk}/redeliver/"),
    ]:
        assert getattr(beta, method)(url, form("https://8.8.8.8/")).status_code == 404, url
    page = beta.get("/installations/settings/").content.decode()
    assert receiver.url not in page and "Acme's CRM" not in page and "Nothing sent yet" in page
    assert list(WebhookEndpoint.objects.values_list("url", "is_active", "secret")) == before
    assert WebhookDelivery.objects.count() == 1


def test_a_delivery_is_reached_only_through_its_own_endpoint(acme, cast, receiver):
    one = add_endpoint(cast.partner, receiver.url)
    two = add_endpoint(cast.partner, receiver.url + "/2")
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    of_one = one.deliveries.get()
    WebhookDelivery.objects.update(status=WebhookDelivery.State.FAILED)
    url = f"/installations/settings/endpoints/{two.pk}/deliveries/{of_one.pk}/redeliver/"
    assert acme.post(url).status_code == 404


@pytest.mark.parametrize("who", ["handyman", "staff"])
def test_people_who_act_for_no_partner_get_404(cast, who):
    client = Client()
    client.force_login(cast.handyman.user if who == "handyman" else cast.staff)
    assert client.get("/installations/settings/").status_code == 404
    assert (
        client.post("/installations/settings/endpoints/new/", form("https://8.8.8.8/")).status_code
        == 404
    )
    assert not WebhookEndpoint.objects.exists()


def test_the_header_links_to_the_settings_for_partners(acme):
    page = acme.get(reverse("partner:list")).content.decode()
    assert 'href="/installations/settings/"' in page
