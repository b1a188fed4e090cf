"""The authorisation matrix: every URL pattern the project defines, taken from the URL resolver
(so a new page cannot escape), for every role and method.

Rules: anonymous users are sent to log in (or told 405 for a method the URL never takes; a form's
address that takes POST only sends a GET back to the form's page, redirects.post_only); the
owning role gets its page; everyone else gets 404 (a record of another partner is never a page
with its data hidden); GET never changes anything; nothing leaks the customer's name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from installations.customer_links import make_token
from installations.models import Installation, Message, PartnerStatusCount, StatusChange
from installations.statuses import Status
from tests.factories import MessageFactory

ROLES = [
    "anonymous",
    "owner_partner",
    "other_partner",
    "assigned_handyman",
    "other_handyman",
    "staff",
    "superuser",
]


@dataclass(frozen=True)
class Route:
    owners: frozenset[str]  # roles whose page it is; others get 404
    status: str | None = None  # the record's status the URL is exercised on
    get: bool = True  # does the URL take GET?
    post: bool = False  # does it take POST?
    public: bool = False  # reached without logging in (customer links)
    get_code: int = 200  # what the owner's plain GET answers
    # A role's home page: a signed-in user of another role who opens it is sent to their own.
    home: bool = False


PARTNER = frozenset({"owner_partner"})
ANY_PARTNER = frozenset({"owner_partner", "other_partner"})
HANDYMAN = frozenset({"assigned_handyman"})
ANY_HANDYMAN = frozenset({"assigned_handyman", "other_handyman"})
STAFF = frozenset({"staff", "superuser"})
EVERYONE = frozenset(ROLES)

ROUTES: dict[str, Route] = {
    "partner:list": Route(ANY_PARTNER, home=True),
    "partner:new": Route(ANY_PARTNER, post=True),
    "partner:detail": Route(PARTNER, Status.SCHEDULED),
    "partner:assign": Route(PARTNER, Status.SCHEDULED, post=True),
    "partner:reassign": Route(PARTNER, Status.INSTALLER_ASSIGNED, post=True),
    "partner:reject": Route(PARTNER, Status.SCHEDULED, post=True),
    "partner:follow_up": Route(PARTNER, Status.INSTALLATION_COMPLETED, get=False, post=True),
    "partner:rebook": Route(PARTNER, Status.CANCELLED, get=False, post=True),
    "board:week": Route(ANY_PARTNER),
    "dashboard:page": Route(ANY_PARTNER),
    "dashboard:thresholds": Route(ANY_PARTNER, get=False, post=True),
    # Each partner's own list: another partner's ids in it are simply not found (tests/bulk).
    "bulk:apply": Route(ANY_PARTNER, get=False, post=True),
    "notify:resend-link": Route(PARTNER, Status.CONTRACT_SENT, get=False, post=True),
    "notify:retry-message": Route(STAFF, Status.CONTRACT_SENT, get=False, post=True),
    "handyman:jobs": Route(ANY_HANDYMAN, home=True),
    # A plain GET of one job goes back to the list at that job; htmx gets the card.
    "handyman:job": Route(HANDYMAN, Status.INSTALLER_ASSIGNED, get_code=302),
    "handyman:set_off": Route(HANDYMAN, Status.INSTALLER_ASSIGNED, get=False, post=True),
    "handyman:arrive": Route(HANDYMAN, Status.EN_ROUTE, get=False, post=True),
    "handyman:complete": Route(HANDYMAN, Status.INSTALLATION_IN_PROGRESS, post=True),
    "handyman:send_contract": Route(HANDYMAN, Status.INSTALLATION_COMPLETED, get=False, post=True),
    "handyman:follow_up": Route(HANDYMAN, Status.EN_ROUTE, get=False, post=True),
    "scheduling:reschedule": Route(PARTNER, Status.SCHEDULED, post=True),
    "scheduling:days_off": Route(ANY_HANDYMAN, post=True),
    "scheduling:day_off_remove": Route(ANY_HANDYMAN, get=False, post=True),
    # The live change feeds (issue 13): without `since` they answer the stamp (200).
    "live:partner": Route(ANY_PARTNER),
    "live:handyman": Route(ANY_HANDYMAN),
    "customer:page": Route(EVERYONE, Status.CONTRACT_SENT, public=True),
    "customer:sign": Route(EVERYONE, Status.CONTRACT_SENT, get=False, post=True, public=True),
    "customer:approve": Route(EVERYONE, Status.CONTRACT_SIGNED, get=False, post=True, public=True),
    "customer:photo": Route(EVERYONE, Status.CONTRACT_SENT, public=True),
    "evidence:pack": Route(PARTNER | STAFF, Status.CUSTOMER_APPROVED),
    "evidence:customer-pack": Route(EVERYONE, Status.CUSTOMER_APPROVED, public=True),
    # A kept customer's copy (the very file they got): GET only, the record's partner and staff.
    "evidence:customer-copy": Route(PARTNER | STAFF, Status.CUSTOMER_APPROVED),
    "webhooks:settings": Route(ANY_PARTNER),
    "webhooks:endpoint_new": Route(ANY_PARTNER, post=True),
    "webhooks:endpoint_edit": Route(PARTNER, Status.SCHEDULED, post=True),
    "webhooks:endpoint_pause": Route(PARTNER, Status.SCHEDULED, get=False, post=True),
    "webhooks:endpoint_resume": Route(PARTNER, Status.SCHEDULED, get=False, post=True),
    "webhooks:endpoint_rotate": Route(PARTNER, Status.SCHEDULED, get=False, post=True),
    "webhooks:endpoint_test": Route(PARTNER, Status.SCHEDULED, get=False, post=True),
    "webhooks:endpoint_delete": Route(PARTNER, Status.SCHEDULED, post=True),
    "webhooks:redeliver": Route(PARTNER, Status.SCHEDULED, get=False, post=True),
    "spreadsheets:export": Route(ANY_PARTNER),
    "spreadsheets:import": Route(ANY_PARTNER, post=True),
    "spreadsheets:template": Route(ANY_PARTNER),
    "spreadsheets:commit": Route(ANY_PARTNER, get=False, post=True),
}
# Pages outside the installation areas, checked by their own tests (below; media: test_media.py;
# a person's own password: test_passwords.py).
SPECIAL = {
    "home",
    "login",
    "logout",
    "media",
    "accounts:password_change",
    "accounts:password_change_done",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    "accounts:password_reset_complete",
}


def project_patterns(resolvers=None, prefix="", namespace=""):
    """Every (full name, route, pattern) the resolver knows, admin excluded."""
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from project_patterns(
                entry.url_patterns,
                prefix + str(entry.pattern),
                f"{ns}" if entry.namespace else namespace,
            )
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield name, prefix + str(entry.pattern), entry


def test_every_url_pattern_is_in_the_matrix():
    names = {name for name, _, _ in project_patterns() if not (name or "").startswith("admin:")}
    names.discard(None)
    assert names == set(ROUTES) | SPECIAL, (
        "A URL pattern is missing from the authorisation matrix (or the matrix names one that "
        f"no longer exists): {sorted(names ^ (set(ROUTES) | SPECIAL))}"
    )


def fingerprint() -> tuple:
    return (
        tuple(
            Installation.objects.order_by("pk").values_list("pk", "status", "version", "link_nonce")
        ),
        StatusChange.objects.count(),
        Message.objects.count(),
        webhook_fingerprint(),
        tuple(PartnerStatusCount.objects.order_by("pk").values_list("count", flat=True)),
    )


def webhook_fingerprint() -> tuple:
    from installations.webhooks.models import WebhookDelivery, WebhookEndpoint

    return (
        tuple(
            WebhookEndpoint.objects.order_by("pk").values_list("pk", "url", "is_active", "secret")
        ),
        WebhookDelivery.objects.count(),
    )


def clients(cast) -> dict[str, Client]:
    users = {
        "owner_partner": cast.partner_user,
        "other_partner": cast.other_partner_user,
        "assigned_handyman": cast.handyman.user,
        "other_handyman": cast.other_handyman.user,
        "staff": cast.staff,
        "superuser": cast.superuser,
    }
    result = {"anonymous": Client()}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        result[role] = client
    return result


def url_for(cast, name: str, route: Route) -> tuple[str, Installation | None]:
    from django.urls import reverse

    if route.status is None:
        return reverse(name), None
    inst = cast.installation(route.status)
    kwargs: dict = {}
    _, pattern, _ = next(p for p in project_patterns() if p[0] == name)
    if "<str:token>" in pattern:
        kwargs["token"] = make_token(inst)
    elif "<int:pk>" in pattern:
        kwargs["pk"] = inst.pk
    if "<int:endpoint_id>" in pattern:
        # The installation's partner's webhook endpoint, with one delivery of its event.
        ids = webhook_ids(inst)
        kwargs["endpoint_id"] = ids["endpoint_id"]
        if "<int:delivery_id>" in pattern:
            kwargs["delivery_id"] = ids["delivery_id"]
    if "<int:photo_id>" in pattern:
        kwargs["photo_id"] = inst.photos.first().pk
    if "<int:pack_id>" in pattern:
        kwargs["pack_id"] = customer_copy(inst).pk
    if "<int:message_id>" in pattern:
        message = MessageFactory(
            installation=inst,
            status=Message.State.FAILED,
            attempts=5,
            last_error="SMTP down",
        )
        kwargs["message_id"] = message.pk
    return reverse(name, kwargs=kwargs), inst


def customer_copy(inst: Installation):
    """A customer's copy of the record with its kept file, as the customer's download leaves."""
    from installations.evidence.models import EvidencePack

    pdf = b"%PDF-1.7 a customer's copy"
    pack = EvidencePack(
        installation=inst,
        sha256="a" * 64,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        made_by_name="Customer",
        copy=EvidencePack.Copy.CUSTOMER,
        size=len(pdf),
    )
    pack.file.save("record.pdf", ContentFile(pdf))
    return pack


def webhook_ids(inst: Installation) -> dict[str, int]:
    from installations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

    endpoint = WebhookEndpoint.objects.create(
        partner=inst.partner,
        url="https://8.8.8.8/hooks",
        event_types=["installation.status_changed"],
        secret="whsec_" + "A" * 43,
    )
    event = WebhookEvent.objects.create(
        partner=inst.partner, installation=inst, type="installation.status_changed", body="{}"
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, installation=inst, status=WebhookDelivery.State.FAILED
    )
    return {"endpoint_id": endpoint.pk, "delivery_id": delivery.pk}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_each_role_gets_the_expected_answer(cast, name):
    route = ROUTES[name]
    url, inst = url_for(cast, name, route)
    secret = inst.customer.name if inst is not None and not route.public else None
    for role, client in clients(cast).items():
        for method in ("get", "post"):
            takes = route.get if method == "get" else route.post
            before = fingerprint()
            response = getattr(client, method)(url)
            code = response.status_code
            where = f"{method.upper()} {name} as {role}: {code}"
            if not takes and method == "get":
                # A form's address reopened: back to its page, before anything is looked up
                # (the page itself then asks for a login or answers 404); nothing else is said.
                assert code == 302, where
                assert response["Location"] != url and not response.content, where
                assert client.put(url).status_code == 405, where
            elif not takes:
                # A method the URL never takes is refused before anything is looked up.
                assert code == 405, where
            elif role == "anonymous" and not route.public:
                assert code == 302, where
                assert response["Location"].startswith("/accounts/login/"), where
            elif role in route.owners:
                if method == "get":
                    assert code == route.get_code, where
                else:
                    assert code not in (403, 404, 405, 500), where
            elif route.home and method == "get":
                assert code == 302, where
                assert response["Location"] in ("/installations/", "/handyman/", "/admin/"), where
            else:
                assert code == 404, where
                if secret:
                    assert secret not in response.content.decode(errors="ignore"), where
            if method == "get" or code in (302, 404, 405) and role not in route.owners:
                assert fingerprint() == before, f"{where} changed something"


@pytest.mark.parametrize("name", sorted(n for n, r in ROUTES.items() if r.public))
def test_a_forged_customer_link_is_refused_for_everyone(cast, name):
    from django.urls import reverse

    route = ROUTES[name]
    url, inst = url_for(cast, name, route)
    token = url.split("/")[2]
    forged = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert reverse("customer:page", args=[token]).split("/")[2] == token
    for role, client in clients(cast).items():
        before = fingerprint()
        for method in ("get", "post"):
            # A GET of sign/approve goes back to the link's page, which refuses the forgery.
            code = getattr(client, method)(forged, follow=method == "get").status_code
            assert code in (404, 405, 410), f"{method} {name} as {role}: {code}"
        assert fingerprint() == before


@pytest.mark.parametrize("status", [Status.CONTRACT_SENT, Status.CONTRACT_SIGNED])
def test_the_evidence_pack_link_before_approval_is_refused_for_everyone(cast, status):
    from django.urls import reverse

    url = reverse("evidence:customer-pack", args=[make_token(cast.installation(status))])
    for role, client in clients(cast).items():
        before = fingerprint()
        assert client.get(url).status_code == 404, role
        assert fingerprint() == before


def test_home_sends_each_role_to_its_page(cast):
    expected = {
        "anonymous": "/accounts/login/",
        "owner_partner": "/installations/",
        "other_partner": "/installations/",
        "assigned_handyman": "/handyman/",
        "other_handyman": "/handyman/",
        "staff": "/admin/",
        "superuser": "/admin/",
    }
    for role, client in clients(cast).items():
        response = client.get("/")
        assert response.status_code == 302, role
        assert response["Location"].startswith(expected[role]), role
        assert client.post("/").status_code == 405


def test_login_and_logout(cast):
    for role, client in clients(cast).items():
        login = client.get("/accounts/login/")
        assert login.status_code == (200 if role == "anonymous" else 302), role
        assert client.get("/accounts/logout/").status_code == 405
        assert client.post("/accounts/logout/").status_code == 302


ADMIN_USERS = ["anonymous", "owner_partner", "assigned_handyman"]


def test_the_admin_is_closed_to_everyone_but_staff(cast):
    from django.urls import reverse

    inst = cast.installation(Status.SCHEDULED)
    checked = 0
    for entry in get_resolver().url_patterns:
        if not (isinstance(entry, URLResolver) and entry.namespace == "admin"):
            continue
    from django.contrib import admin

    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    urls.append(reverse("admin:installations_installation_change", args=[inst.pk]))
    urls.append(reverse("admin:installations_installation_transition", args=[inst.pk, "cancel"]))
    board = reverse("admin:installations_installation_board")
    urls += [board, f"{board}?partner={cast.partner.pk}"]
    all_clients = clients(cast)
    for role in ADMIN_USERS:
        for url in urls:
            before = fingerprint()
            for method in ("get", "post"):
                response = getattr(all_clients[role], method)(url)
                assert response.status_code == 302, (role, method, url)
                assert response["Location"].startswith("/admin/login/"), (role, url)
                checked += 1
            assert fingerprint() == before
    for url in urls:
        assert all_clients["superuser"].get(url).status_code == 200, url
    assert checked > 10


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, r in ROUTES.items() if r.post))
@pytest.mark.parametrize("htmx", [False, True])
def test_every_state_changing_request_needs_a_csrf_token(cast, name, htmx):
    route = ROUTES[name]
    url, _ = url_for(cast, name, route)
    owner = sorted(route.owners - {"anonymous"})[0]
    user = {
        "owner_partner": cast.partner_user,
        "assigned_handyman": cast.handyman.user,
        "staff": cast.staff,
        "other_partner": cast.other_partner_user,
    }[owner]
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    before = fingerprint()
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(url, headers=headers)
    assert response.status_code == 403
    assert fingerprint() == before


def test_the_change_feeds_carry_a_record_only_to_its_own_partner_and_handyman(cast):
    """A change to one partner's job, asked for from every role with the record's own page and
    row claimed: only its partner's users and its handyman ever see it (issue 13)."""
    from django.urls import reverse

    inst = cast.installation(Status.EN_ROUTE)
    secret = inst.customer.name
    see_it = {"live:partner": {"owner_partner"}, "live:handyman": {"assigned_handyman"}}
    pages = {
        "live:partner": reverse("partner:detail", args=[inst.pk]),
        "live:handyman": reverse("handyman:jobs"),
    }
    for name, page in pages.items():
        for role, client in clients(cast).items():
            query = {"since": 0, "from": page, "rows": f"{inst.pk},{inst.pk}:today"}
            response = client.get(reverse(name), query)
            body = response.content.decode(errors="ignore")
            where = f"{name} as {role}: {response.status_code}"
            if role in see_it[name]:
                assert response.status_code == 200 and secret in body, where
            else:
                assert secret not in body, where
                assert response.status_code in (302, 304, 404) or (
                    response.status_code == 200 and response.json()["changed"] == []
                ), where
