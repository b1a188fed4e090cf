"""Hostile input over every URL of the project, as every role, on both databases (issue 21, item 8).

Nothing here lists pages. The URL patterns come from the resolver; path parameters are filled with
real objects of one partner (and with what the pages themselves link to); the fields come from the
forms the pages render. Each field then gets a deterministic sample of a hostile corpus. Every
answer must be below 500, and a refused answer (4xx) must have changed no row and queued no
message. Forms that take `next` must, for `foo`, `//evil.example` and `\\r\\nX:1`, redirect to the
page's default and do their action at most once.

Each request runs in a savepoint that is rolled back afterwards, with the client's cookies put
back, so every request meets the same data: a request that happens to succeed does not hide the
next one behind a 409.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import transaction
from django.db.models import Count, Max
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.regex_helper import normalize

from installations.customer_links import make_token
from installations.models import (
    Customer,
    Installation,
    InstallationPhoto,
    Message,
    Partner,
    StatusChange,
)
from installations.sms import InMemoryBackend
from installations.statuses import Status

# --- The corpus ---------------------------------------------------------------------------------

LONG = "x" * 10_000
NEXT_VALUES = ["foo", "partner:list", "//evil.example", "\r\nX:1"]
CORPUS = [
    "abc",
    "-1",
    "9" * 30,
    "1.5e308",
    "",
    *NEXT_VALUES,
    LONG,
    "\x00",
    "a\x01\x08\x1b\x7f",
    "1' OR '1'='1",
    "2) AND 7409=7409-- x",
    "'; DROP TABLE installations_installation;--",
    "9999-99-99",
    "2026-02-30",
    "2026-01-01" * 50,
    "99999-01-01T25:61",
    "é漢🙂\u202e",
]
# Sent on every URL even when no page shows them: the names scanners try first.
COMMON_GET = ["next", "page", "q", "id", "o"]
COMMON_POST = ["next", "version", "action", "_selected_action"]
PER_FIELD = 3  # corpus values per field, chosen deterministically from the field's name
BUDGET = 10  # about this many single-field requests per URL and method
INVALID_UTF8 = "%ff%fe%c0%af%ed%a0%80"
ROLES = ["anonymous", "partner", "other_partner", "handyman", "staff", "customer"]


def plan(key: str, names: set[str]) -> list[tuple[str, str]]:
    """(field, value) pairs for one URL: PER_FIELD values a field, fewer when a form has many
    fields, so that a big admin form costs about BUDGET requests; `next` always gets its four."""
    per_field = max(1, min(PER_FIELD, BUDGET // max(1, len(names))))
    pairs = []
    for name in sorted(names):
        values = NEXT_VALUES if name == "next" else sample(f"{key}|{name}", per_field)
        pairs.extend((name, value) for value in values)
    return pairs


def sample(key: str, k: int = PER_FIELD) -> list[str]:
    """k corpus values for this field, the same on every run (no randomness to chase)."""
    start = zlib.crc32(key.encode()) % len(CORPUS)
    return [CORPUS[(start + i * 7) % len(CORPUS)] for i in range(k)]


# --- Every URL pattern, from the resolver --------------------------------------------------------


@dataclass
class Route:
    regex: str  # the whole path as one regex (without the leading slash)
    template: str  # e.g. "installations/%(pk)s/assign/"
    params: list[str]
    name: str


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        rx = pattern.pattern.regex.pattern.removeprefix("^")
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + rx)
        else:
            yield prefix + rx, pattern


def routes() -> list[Route]:
    found = []
    for regex, pattern in _walk(get_resolver().url_patterns):
        body = regex.removesuffix(r"\Z").removesuffix("$")
        template, params = normalize(body)[0]
        found.append(Route(body, template, list(params), pattern.name or ""))
    return found


# --- What a page offers: forms and links --------------------------------------------------------


@dataclass
class Form:
    method: str
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            action = a.get("action") or a.get("hx-post") or self.page
            self.forms.append(Form(a.get("method", "get").lower(), action))
        elif self.forms and tag in {"input", "textarea", "select", "button"} and a.get("name"):
            current = self.forms[-1].fields
            if tag == "input" and a.get("type") == "radio" and "checked" not in a:
                current.setdefault(a["name"], a.get("value", ""))  # as if the first were chosen
            elif tag == "input" and a.get("type") == "checkbox" and "checked" not in a:
                current.setdefault(a["name"], "")
            elif tag == "button":
                current.setdefault(a["name"], a.get("value", ""))
            else:
                current[a["name"]] = a.get("value", "")
            self._select = a["name"] if tag == "select" else None
        elif tag == "option" and self._select and self.forms:
            current = self.forms[-1].fields
            if not current.get(self._select) or "selected" in a:
                current[self._select] = a.get("value", "")


def parse(page: str, html: str) -> _Forms:
    parser = _Forms(page)
    parser.feed(html)
    return parser


def path_of(url: str) -> str:
    return urlsplit(url).path


# --- The data and the cast ----------------------------------------------------------------------


def snapshot() -> tuple:
    """Cheap: counts and the newest change of the rows a request could touch."""
    return (
        tuple(
            Installation.objects.aggregate(
                n=Count("pk"), v=Max("version"), u=Max("updated_at")
            ).values()
        ),
        tuple(Installation.objects.order_by("pk").values_list("status", "version", "link_nonce")),
        StatusChange.objects.count(),
        tuple(Message.objects.aggregate(n=Count("pk"), c=Max("created_at")).values()),
        Customer.objects.count(),
        InstallationPhoto.objects.count(),
        Partner.objects.count(),
        get_user_model().objects.count(),
        len(mail.outbox),
        len(InMemoryBackend.outbox),
    )


@dataclass
class World:
    installations: list[Installation]
    token: str
    objects: dict[str, list[str]]  # param name -> real values to try, best first


def build_world(cast) -> World:
    statuses = [
        Status.SCHEDULED,
        Status.INSTALLER_ASSIGNED,
        Status.EN_ROUTE,
        Status.INSTALLATION_IN_PROGRESS,
        Status.CONTRACT_SENT,
    ]
    installations = [cast.installation(status) for status in statuses]
    waiting = installations[-1]
    photo = waiting.photos.first()
    message = waiting.messages.first()
    hook = webhook_for(waiting)
    return World(
        installations=installations,
        token=make_token(waiting),
        objects={
            "pk": [str(i.pk) for i in installations],
            "message_id": [str(message.pk)],
            "photo_id": [str(photo.pk)] if photo else ["1"],
            "content_type_id": [str(ContentType.objects.get_for_model(Installation).pk)],
            "app_label": ["installations", "auth", "axes", "django_tasks_database"],
            "transition_name": ["cancel", "assign", "reject"],
            "path": ["x.jpg"],
            **hook,
        },
    )


def webhook_for(installation: Installation) -> dict[str, list[str]]:
    """The partner's webhook endpoint with one failed delivery (a Redeliver button to press)."""
    from installations.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

    endpoint = WebhookEndpoint.objects.create(
        partner=installation.partner,
        url="https://8.8.8.8/hooks",
        event_types=["installation.status_changed"],
        secret="whsec_" + "A" * 43,
    )
    event = WebhookEvent.objects.create(
        partner=installation.partner, installation=installation, type="x", body="{}"
    )
    delivery = WebhookDelivery.objects.create(
        event=event, endpoint=endpoint, installation=installation, status="failed"
    )
    return {"endpoint_id": [str(endpoint.pk)], "delivery_id": [str(delivery.pk)]}


def admin_object_ids(route: Route) -> list[str]:
    """Real keys for an admin URL: the model named in the path."""
    for model in admin.site._registry:
        prefix = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if route.template.startswith(prefix):
            keys = model._default_manager.order_by("-pk").values_list("pk", flat=True)[:1]
            return [str(k) for k in keys] or ["1"]
    return [str(Installation.objects.order_by("pk").values_list("pk", flat=True).first())]


def fills(route: Route, world: World) -> list[dict[str, str]]:
    """Ways to fill a route's path parameters with real objects (the first is the default)."""
    options: list[dict[str, str]] = [{}]
    for param in route.params:
        if param == "token":
            values = [world.token]
        elif param in {"object_id", "id"}:
            values = admin_object_ids(route)
        else:
            values = world.objects.get(param, ["1"])
        options = [{**o, param: v} for o in options for v in values]
    rx = re.compile(route.regex + r"\Z")
    good = [o for o in options if rx.match(route.template % o)]
    return good or options[:1]


# --- One role's session -------------------------------------------------------------------------


@dataclass
class Finding:
    role: str
    method: str
    url: str
    where: str
    problem: str

    def __str__(self) -> str:
        return (
            f"{self.role:13} {self.method:4} /{self.url[:90]} [{self.where[:60]}]: {self.problem}"
        )


class Probe:
    def __init__(self, client: Client, role: str) -> None:
        self.client = client
        self.role = role
        self.findings: list[Finding] = []
        self.seen: set[tuple[str, str, str]] = set()
        self.requests = 0

    def send(
        self,
        method: str,
        url: str,
        *,
        data: dict[str, str] | None = None,
        raw_query: str | None = None,
        raw_body: str | None = None,
        where: str = "",
        headers: dict[str, str] | None = None,
        keep: bool = False,
    ) -> Any:
        """One request in a savepoint that is rolled back (unless keep), checking the rules."""
        self.requests += 1
        cookies = self.client.cookies.copy()
        extra: dict[str, Any] = {"headers": headers or {}}
        if raw_query is not None:
            extra["QUERY_STRING"] = raw_query
        response = None
        with transaction.atomic():
            before = snapshot()
            try:
                if method == "get":
                    response = self.client.get("/" + url, data or {}, **extra)
                elif raw_body is not None:
                    response = self.client.post(
                        "/" + url,
                        raw_body.encode("latin-1"),
                        content_type="application/x-www-form-urlencoded",
                        **extra,
                    )
                else:
                    response = self.client.post("/" + url, data or {}, **extra)
            except Exception as exc:  # a 500: the test client re-raises the view's exception
                self.found(method, url, where, f"500 {type(exc).__name__}: {str(exc)[:120]}")
            else:
                if response.status_code >= 500:
                    self.found(method, url, where, f"{response.status_code}")
                elif 400 <= response.status_code < 500 and snapshot() != before:
                    self.found(method, url, where, f"{response.status_code} but rows changed")
            if not keep:
                transaction.set_rollback(True)
        if not keep:
            self.client.cookies = cookies
        return response

    def found(self, method: str, url: str, where: str, problem: str) -> None:
        key = (url.split("?")[0], problem[:40])  # one line per URL and kind of failure
        if key not in self.seen:
            self.seen.add(key)
            self.findings.append(Finding(self.role, method.upper(), url, where, problem))


def login(client: Client, role: str, cast) -> None:
    users = {
        "partner": cast.partner_user,
        "other_partner": cast.other_partner_user,
        "handyman": cast.handyman.user,
        "staff": cast.superuser,  # staff with every permission: the admin's whole surface
    }
    if role in users:
        client.force_login(users[role])
    elif role == "customer":
        # The link holder: has opened the page their link leads to.
        client.get("/c/" + make_token(Installation.objects.get(status=Status.CONTRACT_SENT)) + "/")


REFUSED_ACCESS = {302, 403, 404, 405}


def is_redirect_to_login(response: Any) -> bool:
    return response.status_code == 302 and "login" in response.get("Location", "")


# --- The test ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_hostile_input_on_every_url_answers_below_500_and_refusals_change_nothing(
    cast, settings, role
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    world = build_world(cast)
    client = Client()
    login(client, role, cast)
    probe = Probe(client, role)
    all_routes = routes()

    # 1. Crawl: every route with every real fill, as this role; collect forms and links.
    forms: dict[str, list[Form]] = {}
    links: set[str] = set()
    reachable: dict[str, str] = {}  # route regex -> the filled URL this role can open
    for route in all_routes:
        for fill in fills(route, world):
            url = route.template % fill
            response = probe.send("get", url, where="crawl")
            if response is None or response.status_code != 200:
                continue
            reachable.setdefault(route.regex, url)
            if "html" not in response.get("Content-Type", ""):
                continue
            parsed = parse("/" + url, response.content.decode(errors="replace"))
            for form in parsed.forms:
                forms.setdefault(path_of(form.action).lstrip("/"), []).append(form)
            links.update(path_of(link).lstrip("/") for link in parsed.links)

    # 2. Fuzz: each route once, with the fill a page pointed at (a form's action, a link) if any.
    for route in all_routes:
        rx = re.compile(route.regex + r"\Z")
        offered = [u for u in [*forms, *links] if rx.match(u)]
        url = (
            offered[0]
            if offered
            else reachable.get(route.regex) or (route.template % fills(route, world)[0])
        )
        fuzz_route(probe, route, url, forms.get(url, []))

    # 3. `next` on every POST form that takes it.
    for url, url_forms in forms.items():
        for form in url_forms:
            if form.method == "post" and "next" in form.fields:
                check_next(probe, url, form)

    report = "\n".join(str(f) for f in probe.findings)
    assert not probe.findings, (
        f"{len(probe.findings)} problems ({probe.requests} requests):\n{report}"
    )


def fuzz_route(probe: Probe, route: Route, url: str, url_forms: list[Form]) -> None:
    get_fields = {n: v for f in url_forms if f.method == "get" for n, v in f.fields.items()}
    post_fields = {n: v for f in url_forms if f.method == "post" for n, v in f.fields.items()}
    bare_get = probe.send("get", url, where="bare")
    bare_post = probe.send("post", url, data=dict(post_fields), where="bare")

    # None: the request raised (a 500), so it got past the access checks: keep going.
    deep_get = bare_get is None or bare_get.status_code not in REFUSED_ACCESS | {400}
    deep_post = bare_post is None or not (
        bare_post.status_code in {403, 404, 405} or is_redirect_to_login(bare_post)
    )
    # A role the URL turns away gets a few probes (the refusal must come first, and cleanly).
    methods = ["get", "post"] if deep_get or deep_post or post_fields else ["get"]

    # Hostile path values where the path takes free text (tokens, admin keys).
    for param in route.params:
        values = ["abc", "1' OR '1'='1", "\x00" + "9" * 30] if len(methods) == 2 else ["1' OR 1=1"]
        for value in values:
            filled = dict(zip(route.params, ["1"] * len(route.params), strict=True))
            filled[param] = quote(value, safe="")
            hostile_url = route.template % filled
            if re.match(route.regex + r"\Z", hostile_url):
                for method in methods:
                    probe.send(method, hostile_url, where=f"path {param}={value[:20]!r}")

    # Invalid UTF-8 and control characters in the raw query string and body.
    probe.send("get", url, raw_query=f"q={INVALID_UTF8}&next={INVALID_UTF8}", where="bad utf-8")
    if "post" in methods:
        probe.send("post", url, raw_body=f"next={INVALID_UTF8}&version=%00", where="bad utf-8")

    if deep_get or get_fields:
        for name, value in plan(route.template + "|get", set(get_fields) | set(COMMON_GET)):
            probe.send("get", url, data={**get_fields, name: value}, where=f"{name}={value[:20]!r}")
        every = dict.fromkeys(set(get_fields) | set(COMMON_GET), LONG)
        probe.send("get", url, data=every, where="every field 10,000 characters")
    if deep_post:
        for i, (name, value) in enumerate(
            plan(route.template + "|post", set(post_fields) | set(COMMON_POST))
        ):
            data = {**post_fields, name: value}
            # Every third one as htmx: the fragment paths answer errors on their own.
            headers = {"HX-Request": "true"} if i % 3 == 2 else None
            probe.send("post", url, data=data, where=f"{name}={value[:20]!r}", headers=headers)
        everything = set(post_fields) | set(COMMON_POST)
        for value in ["\x00", LONG]:
            probe.send(
                "post",
                url,
                data=dict.fromkeys(everything, value),
                where=f"every field {value[:20]!r}",
            )


def _safe_location(location: str) -> bool:
    return (
        location.startswith("/")
        and not location.startswith("//")
        and not any(c in location for c in "\r\n\\")
    )


def check_next(probe: Probe, url: str, form: Form) -> None:
    """next=foo, //evil.example, CR LF: a redirect to the default, the action at most once."""
    without = {k: v for k, v in form.fields.items() if k != "next"}
    default = probe.send("post", url, data=without, where="next omitted")
    default_location = default.get("Location") if default is not None else None
    for value in ["foo", "//evil.example", "\r\nX:1"]:
        where = f"next={value!r}"
        with transaction.atomic():
            cookies = probe.client.cookies.copy()
            first = probe.send(
                "post", url, data={**form.fields, "next": value}, where=where, keep=True
            )
            after_first = snapshot()
            again = probe.send(
                "post", url, data={**form.fields, "next": value}, where=where + " again", keep=True
            )
            if first is not None and 300 <= first.status_code < 400:
                location = first["Location"]
                if not _safe_location(location):
                    probe.found("post", url, where, f"redirected to {location!r}")
                elif default_location and location != default_location:
                    probe.found(
                        "post", url, where, f"redirected to {location!r}, not {default_location!r}"
                    )
            if again is not None and snapshot()[2:4] != after_first[2:4]:
                probe.found("post", url, where, "the action happened twice")
            transaction.set_rollback(True)
        probe.client.cookies = cookies
