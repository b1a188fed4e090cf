"""Who may download the evidence pack, from where, and what everyone else is told."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from installations import services
from installations.customer_links import SALT, make_token
from installations.evidence.models import EvidencePack
from installations.models import CustomerActor, Installation
from installations.statuses import Status
from tests.factories import UserFactory

from .conftest import pdf_text


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _pack_url(installation: Installation) -> str:
    return reverse("evidence:pack", args=[installation.pk])


def _customer_url(token: str) -> str:
    return reverse("evidence:customer-pack", args=[token])


def _is_pdf(response, installation: Installation, name: str = "evidence-installation") -> bool:
    return (
        response.status_code == 200
        and response["Content-Type"] == "application/pdf"
        and response.content.startswith(b"%PDF-")
        and f'filename="{name}-{installation.pk}.pdf"' in response["Content-Disposition"]
        and response["Content-Disposition"].startswith("attachment")
    )


def test_the_paths_are_the_ones_the_issue_asks_for(approved):
    assert _pack_url(approved) == f"/installations/{approved.pk}/evidence.pdf"
    assert _customer_url("abc") == "/c/abc/evidence.pdf"


def test_the_partner_user_downloads_the_pack_and_it_is_kept(cast, approved):
    response = _client(cast.partner_user).get(_pack_url(approved))
    assert _is_pdf(response, approved)
    pack = EvidencePack.objects.get(installation=approved)
    assert pack.copy == EvidencePack.Copy.FULL
    assert "Evidence pack" in pdf_text(response.content)
    assert pack.made_by_name == services.actor_name(cast.partner_user)
    assert pack.pdf_sha256 == hashlib.sha256(response.content).hexdigest()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("who", ["staff", "superuser"])
def test_staff_download_any_partners_pack(cast, approved, who):
    response = _client(getattr(cast, who)).get(_pack_url(approved))
    assert _is_pdf(response, approved)
    assert EvidencePack.objects.get().made_by_name.endswith("(staff)")


def test_a_staff_account_without_the_right_to_view_installations_gets_no_pack(cast, approved):
    # The admin answers 403 to such an account; the pack says as little.
    bare = UserFactory(username="no-rights", is_staff=True)
    response = _client(bare).get(_pack_url(approved))
    assert response.status_code == 404
    assert not EvidencePack.objects.exists()


@pytest.mark.parametrize("who", ["other_partner_user", "handyman", "other_handyman"])
def test_it_is_404_for_another_partner_and_for_handymen(cast, approved, who):
    user = getattr(cast, who)
    response = _client(getattr(user, "user", user)).get(_pack_url(approved))
    assert response.status_code == 404
    assert approved.customer.name not in response.content.decode()
    assert not EvidencePack.objects.exists()


def test_it_is_404_for_a_record_that_does_not_exist(cast):
    assert _client(cast.partner_user).get("/installations/999999/evidence.pdf").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(approved):
    response = _client().get(_pack_url(approved))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_takes_only_get(cast, approved):
    assert _client(cast.partner_user).post(_pack_url(approved)).status_code == 405
    assert _client().post(_customer_url(make_token(approved))).status_code == 405


def test_the_customer_downloads_their_copy_from_their_link_once_approved(approved):
    response = _client().get(_customer_url(make_token(approved)))
    assert _is_pdf(response, approved, "installation-record")
    pack = EvidencePack.objects.get()
    assert pack.made_by_name == "Jane Customer (customer)"
    assert pack.copy == EvidencePack.Copy.CUSTOMER
    assert pack.pdf_sha256 == hashlib.sha256(response.content).hexdigest()
    text = pdf_text(response.content)
    assert "Your installation record" in text
    assert "Jane Customer" in text
    assert "Evidence pack" not in text


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (Status.CONTRACT_SENT, "Sign and approve it on your installation page"),
        (Status.CONTRACT_SIGNED, "Approve it on your installation page"),
    ],
)
def test_before_approval_the_customer_gets_a_404_page_saying_why(cast, status, step):
    # In the customer's words, as their page and their PDF are: an "evidence pack" is the
    # partner's; the customer downloads "your installation record".
    inst = cast.installation(status)
    token = make_token(inst)
    response = _client().get(_customer_url(token))
    assert response.status_code == 404
    page = response.content.decode()
    assert "Your installation record is not ready yet" in page
    assert "evidence pack" not in page.lower()
    back = reverse("customer:page", args=[token])
    assert f'<a class="button button-primary" href="{back}">{step}</a>' in page
    assert not EvidencePack.objects.exists()


def test_a_job_that_moved_on_another_way_is_410(cast):
    inst = cast.installation(Status.CONTRACT_SENT)
    token = make_token(inst)
    services.installation_cancel(
        installation=inst, reason="Customer moved house.", actor=cast.staff
    )
    response = _client().get(_customer_url(token))
    assert response.status_code == 410
    page = response.content.decode()
    assert "There is no installation record to download from this link." in page
    assert "evidence pack" not in page.lower()


def test_another_jobs_link_only_ever_gives_that_jobs_pack(cast, approved):
    other = cast.installation(Status.CONTRACT_SIGNED)
    # The other job's customer is not approved yet: their link gives nothing, not this pack.
    response = _client().get(_customer_url(make_token(other)))
    assert response.status_code == 404
    assert approved.customer.name not in response.content.decode()
    services.installation_approve(
        installation=other, actor=CustomerActor(other.pk, other.customer.name)
    )
    other.refresh_from_db()
    text = pdf_text(_client().get(_customer_url(make_token(other))).content)
    assert other.customer.name in text
    assert approved.customer.name not in text
    assert "Acacia" not in text


def test_a_forged_link_is_404_and_names_nobody(approved):
    token = make_token(approved)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = _client().get(_customer_url(forged))
    assert response.status_code == 404
    assert "Acme" not in response.content.decode()
    assert "This link does not work" in response.content.decode()


def test_an_expired_link_is_410_as_on_the_customer_pages(approved, monkeypatch):
    token = make_token(approved)
    real_loads = signing.loads

    def later(value, *args, **kwargs):
        # Thirty-one days on: the token's age is past MAX_AGE.
        if kwargs.get("max_age") is not None:
            kwargs["max_age"] = timedelta(seconds=-1)
        return real_loads(value, *args, **kwargs)

    monkeypatch.setattr(signing, "loads", later)
    response = _client().get(_customer_url(token))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert signing.loads(token, salt=SALT)  # genuine all along


def test_a_replaced_link_is_410_as_on_the_customer_pages(approved):
    token = make_token(approved)
    Installation.objects.filter(pk=approved.pk).update(link_nonce="f" * 32)
    response = _client().get(_customer_url(token))
    assert response.status_code == 410
    assert "This link has been replaced" in response.content.decode()


def test_the_detail_page_links_the_pack_and_lists_earlier_fingerprints(cast, approved):
    client = _client(cast.partner_user)
    before = client.get(reverse("partner:detail", args=[approved.pk])).content.decode()
    assert f'href="{_pack_url(approved)}"' in before
    assert "No pack has been made yet." in before
    client.get(_pack_url(approved))
    _client(cast.staff).get(_pack_url(approved))
    page = client.get(reverse("partner:detail", args=[approved.pk])).content.decode()
    packs = list(EvidencePack.objects.filter(installation=approved))
    assert len(packs) == 2
    for pack in packs:
        assert pack.sha256 in page
        assert pack.pdf_sha256 in page
        assert pack.made_by_name in page


def test_the_detail_page_lists_the_customers_copy_with_its_own_fingerprint(cast, approved):
    client = _client(cast.partner_user)
    client.get(_pack_url(approved))
    _client().get(_customer_url(make_token(approved)))
    full, mine = (
        EvidencePack.objects.get(installation=approved, copy=copy)
        for copy in (EvidencePack.Copy.FULL, EvidencePack.Copy.CUSTOMER)
    )
    assert full.sha256 != mine.sha256
    page = client.get(reverse("partner:detail", args=[approved.pk])).content.decode()
    assert page.count("Customer’s copy:") == 1
    assert mine.sha256 in page and mine.pdf_sha256 in page
    assert full.sha256 in page


def test_the_admin_change_page_links_the_pack(cast, approved):
    client = _client(cast.superuser)
    page = client.get(reverse("admin:installations_installation_change", args=[approved.pk]))
    assert f'href="{_pack_url(approved)}"' in page.content.decode()


def test_staff_find_a_pack_in_the_admin_by_its_fingerprint(cast, approved):
    _client(cast.partner_user).get(_pack_url(approved))
    pack = EvidencePack.objects.get()
    client = _client(cast.superuser)
    url = reverse("admin:installations_evidencepack_changelist")
    found = client.get(url, {"q": pack.sha256}).content.decode()
    assert pack.pdf_sha256 in found
    assert client.get(url, {"q": "0" * 64}).content.decode().count(pack.pdf_sha256) == 0


def test_staff_tell_a_customers_copy_from_a_full_pack_in_the_admin(cast, approved):
    _client(cast.partner_user).get(_pack_url(approved))
    _client().get(_customer_url(make_token(approved)))
    mine = EvidencePack.objects.get(copy=EvidencePack.Copy.CUSTOMER)
    full = EvidencePack.objects.get(copy=EvidencePack.Copy.FULL)
    client = _client(cast.superuser)
    url = reverse("admin:installations_evidencepack_changelist")
    assert 'href="?copy__exact=customer"' in client.get(url).content.decode()  # the filter
    found = client.get(url, {"copy__exact": "customer"}).content.decode()
    assert mine.pdf_sha256 in found and full.pdf_sha256 not in found
    assert "Customer’s copy" in client.get(url, {"q": mine.sha256}).content.decode()


def test_the_approved_customer_page_links_the_pack(approved):
    token = make_token(approved)
    page = _client().get(reverse("customer:page", args=[token])).content.decode()
    assert f'href="{_customer_url(token)}"' in page
