"""Every form sent twice: people repeat themselves (a double click, a double tap, a resent form,
a second tab), and the same action by the same person is answered as done.

For each audience the test opens that person's pages (and the pages they link to one step
away: an action's confirmation form), parses every `<form method="post">` in them, fills it as a
user would, sends it once, then sends the identical body again. The second answer must be 2xx or
3xx (never 409, 422 or 500) and must change nothing: no row in any table, no status or version,
no message queued. Each form runs in a savepoint that is rolled back, so every form meets the
same data. Findings over all forms end in one readable list, as test_hostile_input does; forms
the filler could not get accepted are printed as "not exercised", and each audience must
exercise at least a minimum number of forms so that the test cannot silently test nothing.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib import messages as django_messages
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from installations.customer_links import make_token
from installations.demo import png_bytes
from installations.models import Customer, Installation, Message
from installations.scheduling.models import TimeOff
from installations.sms import InMemoryBackend
from installations.spreadsheets.models import Import
from installations.statuses import Status

from .factories import PASSWORD
from .test_hostile_input import Form, _Forms, path_of, webhook_for

# The customer tests' signature: a drawn PNG, as the signature pad sends it.
SIGNATURE = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
SENTENCE = "Second floor, ring twice."
NEW_PASSWORD = "Blue-kettle-on-the-stove-42"

# Forms that may do their action again when sent again, by design, keyed by the URL name of the
# form's action; each reason is the rule. What they do is still printed on every run.
NOT_IDEMPOTENT_BY_DESIGN: dict[str, str] = {
    # Each answer shows the secret it made, once (never stored to be shown again); rotating
    # again within the overlap replaces only the new secret, and the one the receiver uses
    # today keeps signing (webhooks.services.endpoint_rotate_secret). Answering "done" would
    # have to show no secret, or the first one again from storage: both worse.
    "webhooks:endpoint_rotate": "a second rotation makes a second new secret, by design",
}

# At least this many forms each audience must have sent twice (seen accepted the first time).
MINIMUM_EXERCISED = {"partner": 45, "handyman": 25, "customer": 2, "staff": 70}

FIELD_TAGS = {"input", "textarea", "select", "button"}
SKIP_EXTENSIONS = (".pdf", ".csv")


# --- Parsing: the hostile-input parser, knowing which form a field belongs to and its type ------


@dataclass
class FormShape:
    """What a user sees of one form: the hostile parser's Form plus what the filler needs."""

    form: Form
    page: str
    hx: bool = False
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type (or tag)
    accepts: dict[str, str] = field(default_factory=dict)  # file input name -> accept
    required: set[str] = field(default_factory=set)
    lowest: dict[str, str] = field(default_factory=dict)  # a number input's min
    # Checkboxes: (value, checked, the actions a row's box says apply to it: data-actions).
    boxes: dict[str, list[tuple[str, bool, list[str]]]] = field(default_factory=dict)
    # A multiple select: every option drawn selected stays selected.
    chosen: dict[str, list[str]] = field(default_factory=dict)
    # The admin's action menu: each of its actions is a form of its own.
    menu: list[str] = field(default_factory=list)
    # Submit buttons: (name, value, formaction): a button may send the form elsewhere.
    buttons: list[tuple[str, str, str]] = field(default_factory=list)


class _Shapes(_Forms):
    """Fields belong to the form they sit in (or name with form="id"), not to the last form
    seen; submit buttons and checkboxes are kept apart, as a user chooses among them."""

    def __init__(self, page: str) -> None:
        super().__init__(page)
        self.shapes: list[FormShape] = []
        self.ids: dict[str, FormShape] = {}
        self.inside = False
        self.owned: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            super().handle_starttag(tag, attrs)
            shape = FormShape(self.forms[-1], self.page, hx="hx-post" in a)
            self.shapes.append(shape)
            self.ids[a.get("id", "")] = shape
            self.inside = True
            return
        if tag in {"input", "button"} and a.get("type", "submit" if tag == "button" else "") == (
            "submit"
        ):
            a.setdefault("name", "")
            if a.get("form"):
                self.owned.append((a["form"], tag, a))
            elif self.inside:
                self._note(self.shapes[-1], tag, a)
            return
        if tag in FIELD_TAGS and a.get("name"):
            if a.get("form"):
                self.owned.append((a["form"], tag, a))
                return
            if not self.inside:
                return
            if self._note(self.shapes[-1], tag, a):
                return
        elif tag in FIELD_TAGS:
            return
        if tag == "option" and not self.inside:
            return
        if tag == "option" and self._select == "action" and a.get("value"):
            self.shapes[-1].menu.append(a["value"])
        if tag == "option" and self._select in self.shapes[-1].chosen and "selected" in a:
            self.shapes[-1].chosen[self._select].append(a.get("value", ""))
        super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None

    @staticmethod
    def _note(shape: FormShape, tag: str, a: dict[str, str]) -> bool:
        """Record a field's kind; True when it is kept apart from the drawn fields."""
        name = a["name"]
        kind = a.get("type", "text" if tag == "input" else "submit") if tag != "textarea" else tag
        kind = tag if tag == "select" else kind
        # The admin's text inputs that are a date, a time, or a row picked in a pop-up list.
        for css, admin_kind in ADMIN_KINDS.items():
            if css in a.get("class", "").split():
                kind = admin_kind
        if kind == "submit":
            shape.buttons.append((name, a.get("value", ""), a.get("formaction", "")))
            return True
        if tag == "button":
            return True
        shape.kinds[name] = kind
        if kind == "number" and a.get("min"):
            shape.lowest[name] = a["min"]
        if tag == "select" and "multiple" in a:
            shape.chosen[name] = []
        if "required" in a:
            shape.required.add(name)
        if kind == "checkbox":
            box = (a.get("value", "on"), "checked" in a, a.get("data-actions", "").split())
            shape.boxes.setdefault(name, []).append(box)
            return True
        if kind == "file":
            shape.accepts[name] = a.get("accept", "")
            return True
        return False

    def close(self) -> None:
        super().close()
        for form_id, tag, a in self.owned:
            shape = self.ids.get(form_id)
            if shape is not None and not self._note(shape, tag, a):
                shape.form.fields[a["name"]] = a.get("value", "")


def shapes_of(page: str, html: str) -> tuple[list[FormShape], list[str]]:
    parser = _Shapes(page)
    parser.feed(html)
    parser.close()
    # A form sent by GET (an action's button opening its confirmation page) is a link.
    opens = [s.form.action for s in parser.shapes if s.form.method == "get"]
    posts = [s for s in parser.shapes if s.form.method == "post"]
    return posts, parser.links + opens


# --- Filling: as a user would -------------------------------------------------------------------


def next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


ADMIN_KINDS = {"vDateField": "date", "vTimeField": "time", "vForeignKeyRawIdAdminField": "row"}

TYPED = {
    "email": "sam@example.com",
    "url": "https://8.8.8.8/hooks",
    "tel": "+44 7700 900123",
    "number": "1",
    "time": "09:00",
}


def fill(shape: FormShape, csv_body: bytes, pressed: str = "") -> Callable[[], dict[str, Any]]:
    """The body a user would send to do `pressed` (the action button's value); a function, as
    each send needs fresh file objects."""
    data: dict[str, Any] = dict(shape.form.fields)
    hours = iter(["08:00", "10:00", "12:00"])  # a window: its end after its start
    for name, kind in shape.kinds.items():
        if name not in data or data[name]:
            continue
        if kind == "date":
            data[name] = next_weekday(timezone.localdate()).isoformat()
        elif kind == "time":
            data[name] = next(hours)
        elif kind == "number":
            data[name] = shape.lowest.get(name, "1")
        elif kind == "row":
            if "-" not in name:  # not an inline's row (nor its empty template row)
                data[name] = str(picked(name, data.get("partner")))
        elif name == "signature":
            data[name] = SIGNATURE
        elif kind == "password":
            # The password they have (the factories'), else the new one they chose.
            data[name] = PASSWORD if name.startswith("old") else NEW_PASSWORD
        elif name == "username":  # letters, digits and @.+-_ only
            data[name] = "sam.newcomer"
        elif kind not in {"hidden", "search", "radio"}:
            data[name] = TYPED.get(kind, SENTENCE)  # a user fills in the form's boxes
    for name, values in shape.chosen.items():
        data[name] = values
    for name, boxes in shape.boxes.items():
        ticked = [value for value, checked, _ in boxes if checked]
        if not ticked and (name in shape.required or len(boxes) > 1):
            # A required box, or a list of rows: tick the first (that the action applies to).
            fitting = [value for value, _, actions in boxes if pressed in actions]
            ticked = fitting[:1] or [boxes[0][0]]
        if ticked:
            data[name] = ticked if len(ticked) > 1 else ticked[0]

    def body() -> dict[str, Any]:
        sent = dict(data)
        for name, accept in shape.accepts.items():
            if "image" in accept:
                sent[name] = SimpleUploadedFile("photo.png", png_bytes((64, 48)), "image/png")
            elif name in shape.required:
                sent[name] = SimpleUploadedFile("jobs.csv", csv_body, "text/csv")
        return sent

    return body


def picked(name: str, partner: str | None) -> int:
    """The row a person picks in the admin's pop-up list for the field `name` (the model of
    that name): the first one, of the partner the form names if it names one."""
    if name == "user":  # one with no role yet, whom a partner user or a handyman can become
        free = User.objects.filter(partner_profile=None, handyman=None, is_staff=False)
        return free.order_by("pk").values_list("pk", flat=True)[0]
    rows = apps.get_model("installations", name)._default_manager.order_by("pk")
    if partner:
        rows = rows.filter(partner_id=partner)
    return rows.values_list("pk", flat=True)[0]


# --- The state a second send must not change ----------------------------------------------------


# Bookkeeping every request may write: the session (a page's remembered selection) and the
# rate limiter's counters (they count requests, repeated ones too). Their row counts still count.
BOOKKEEPING = {"sessions.Session", "installations.RateCount"}


def digest(model: Any) -> int:
    if model._meta.label in BOOKKEEPING:
        return 0
    return hash(repr(list(model._default_manager.order_by("pk").values_list())))


def state() -> tuple:
    """Row counts of every model (and a digest of its rows: a second change that adds no row,
    a secret rotated again, shows there), each installation's (status, version), the outboxes."""
    return (
        tuple(
            (model._meta.label, model._default_manager.count(), digest(model))
            for model in apps.get_models()
            if model._meta.managed
        ),
        tuple(Installation.objects.order_by("pk").values_list("pk", "status", "version")),
        len(mail.outbox),
        len(InMemoryBackend.outbox),
    )


def differences(before: tuple, after: tuple) -> str:
    changed = [
        f"{a[0]} {a[1]}→{b[1]}" if a[1] != b[1] else f"{a[0]} rows edited"
        for a, b in zip(before[0], after[0], strict=True)
        if a != b
    ]
    moved = [
        f"#{a[0]} {a[1]} v{a[2]}→{b[1]} v{b[2]}"
        for a, b in zip(before[1], after[1], strict=False)
        if a != b
    ]
    if len(before[1]) != len(after[1]):
        moved.append(f"{len(before[1])}→{len(after[1])} installations")
    for i, label in ((2, "e-mails"), (3, "texts")):
        if before[i] != after[i]:
            changed.append(f"{label} {before[i]}→{after[i]}")
    return ", ".join(changed + moved)


# How the pages say "not yours": another person's change, or a duplicate. ("Give them to someone
# else" is advice, not a conflict.)
CONFLICT_WORDS = re.compile(
    r"someone else (?:changed|saved)|were booked by someone else|changed meanwhile|"
    r"already exists|conflicts? with",
    re.I,
)


def text(response: Any) -> str:
    """The page an answer draws ("" for a download: the CSV export is a stream)."""
    if getattr(response, "streaming", False):
        return ""
    return response.content.decode(errors="replace")


ERRORS = re.compile(r'class="(?:errornote|errorlist)')


def why(response: Any) -> str:
    """The first error a refused page shows, for the "not exercised" line."""
    found = re.search(
        r'(?:role="alert"|class="[^"]*error[^"]*")[^>]*>(.*?)</(?:p|div|ul)', text(response), re.S
    )
    return (
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))).strip()[:120] if found else ""
    )


def said(response: Any) -> list[str]:
    """What the request queued as messages (shown on the next page)."""
    storage = getattr(response.wsgi_request, "_messages", None)
    return [
        f"{django_messages.DEFAULT_TAGS.get(m.level, m.level)}: {m.message}"
        for m in getattr(storage, "_queued_messages", [])
    ]


# --- The world and the audiences ----------------------------------------------------------------


@dataclass
class Audience:
    name: str
    client: Client
    pages: list[str]
    follow_under: tuple[str, ...]  # links one step away are followed under these paths
    exercised: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # pages a form led to without a change
    shapes: set[tuple] = field(default_factory=set)  # forms already gathered (the log-out form…)
    answers: list[FormShape] = field(default_factory=list)  # forms a POST answered with

    def first_sight(self, shape: FormShape) -> bool:
        fields = tuple(sorted(shape.form.fields))
        key = (path_of(shape.form.action), fields, str(shape.buttons), str(shape.menu))
        if key in self.shapes:
            return False
        self.shapes.add(key)
        return True

    skipped: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


def url_name(path: str) -> str:
    try:
        match = resolve(path)
    except Resolver404:
        return path
    return f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name or path


def build(cast) -> tuple[dict[str, Audience], bytes]:
    today = timezone.localdate()
    partner_jobs = {status: cast.installation(status) for status in Status}
    # The handyman's jobs, on their own day: "On my way" opens on the job's own day.
    his = [
        cast.installation(status, scheduled_date=today)
        for status in (
            Status.INSTALLER_ASSIGNED,
            Status.EN_ROUTE,
            Status.INSTALLATION_IN_PROGRESS,
            Status.INSTALLATION_COMPLETED,
        )
    ]
    webhook_for(partner_jobs[Status.CONTRACT_SENT])
    # Each customer their own address: the per-address daily limit would otherwise hold every
    # re-sent link, and the test would see only the held path.
    for n, job in enumerate([*partner_jobs.values(), *his]):
        Customer.objects.filter(pk=job.customer_id).update(
            phone=f"+44 7700 900{n:03d}", email=f"customer{n}@example.com"
        )
    # Someone staff can make a partner user or a handyman.
    User.objects.create_user("newcomer", password=PASSWORD)
    # A day off to take back, and a failed message for staff to retry.
    TimeOff.objects.create(handyman=cast.handyman, day=next_weekday(today + timedelta(days=7)))
    Message.objects.filter(installation=partner_jobs[Status.CONTRACT_SENT]).update(
        status=Message.State.FAILED
    )

    partner = Client()
    partner.force_login(cast.partner_user)
    template = partner.get("/installations/import/template.csv").content
    partner.post(
        "/installations/import/",
        {"file": SimpleUploadedFile("jobs.csv", template, "text/csv")},
    )
    upload = Import.objects.filter(partner=cast.partner).latest("pk")

    handyman = Client()
    handyman.force_login(cast.handyman.user)
    staff = Client()
    staff.force_login(cast.superuser)
    customer = Client()
    customer_pages = [
        f"/c/{make_token(partner_jobs[s])}/" for s in (Status.CONTRACT_SENT, Status.CONTRACT_SIGNED)
    ]
    admin = "/admin/installations/installation/"
    staff_pages = [
        f"{admin}{partner_jobs[s].pk}/change/"
        for s in (Status.SCHEDULED, Status.INSTALLER_ASSIGNED, Status.CONTRACT_SENT)
    ]
    # The lists' action menus: cancel the selected installations, retry failed messages; and
    # the add and change pages of the people the portal keeps.
    lists = [
        admin,
        "/admin/installations/message/?status__exact=failed",
        *admin_add_pages(),
        *admin_lists(),
        f"/admin/installations/customer/{partner_jobs[Status.SCHEDULED].customer_id}/change/",
        f"/admin/installations/partner/{cast.partner.pk}/change/",
        f"/admin/installations/handyman/{cast.handyman.pk}/change/",
        f"/admin/auth/user/{cast.partner_user.pk}/change/",
        f"/admin/auth/group/{Group.objects.create(name='Office').pk}/change/",
    ]
    return {
        "partner": Audience(
            "partner",
            partner,
            [
                "/installations/",
                *(f"/installations/{i.pk}/" for i in partner_jobs.values()),
                "/installations/new/",
                "/installations/board/",
                "/installations/dashboard/",
                "/installations/settings/",
                "/installations/import/",
                f"/installations/import/?upload={upload.public_id}",
                "/accounts/password/",
            ],
            ("/installations/",),
        ),
        "handyman": Audience(
            "handyman",
            handyman,
            ["/handyman/", *(f"/handyman/{j.pk}/" for j in his), "/handyman/time-off/"],
            ("/handyman/",),
        ),
        "customer": Audience("customer", customer, customer_pages, ()),
        "staff": Audience(
            "staff",
            staff,
            [*staff_pages, *lists],
            tuple(page.removesuffix("change/") for page in staff_pages),
        ),
    }, template


def admin_add_pages() -> list[str]:
    """The add page of every model the admin lets staff add: a new one is covered by this test
    without being named here."""
    return _admin_pages("add", "has_add_permission")


def admin_lists() -> list[str]:
    """The list of every model the admin shows, with its actions."""
    return _admin_pages("changelist", "has_view_permission")


def _admin_pages(page: str, permission: str) -> list[str]:
    request = RequestFactory().get("/admin/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}")
        for model, model_admin in admin.site._registry.items()
        if getattr(model_admin, permission)(request)
    ]


def gather(
    audience: Audience, pages: list[str], seen: set[str], follow: bool = True
) -> list[FormShape]:
    """Every post form on these pages and on the pages they link to, one step away."""
    shapes: list[FormShape] = []
    queue = [(page, follow) for page in pages]
    while queue:
        page, first = queue.pop(0)
        if page in seen:
            continue
        seen.add(page)
        response = audience.client.get(page)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        found, links = shapes_of(page, response.content.decode())
        shapes += [shape for shape in found if audience.first_sight(shape)]
        if first:
            for link in links:
                path = path_of(link)
                if path.endswith(SKIP_EXTENSIONS) or path in seen:
                    continue
                if any(path.startswith(p) for p in audience.follow_under):
                    queue.append((path, False))
    return shapes


def variants(shape: FormShape) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """One send per submit button (a form may carry several actions, and a button may send it
    elsewhere with formaction), plain and as htmx: (label, action, extra data, headers)."""
    presses: dict[str, tuple[str, str, dict[str, str]]] = {}
    for name, value, formaction in shape.buttons or [("", "", "")]:
        label = f"{name}={value}" if name else ""
        action = formaction or shape.form.action
        pressed = {name: value} if name else {}
        for chosen in shape.menu or [""]:
            also = {"action": chosen} if chosen else {}
            shown = " ".join(x for x in (f"action={chosen}" if chosen else "", label) if x)
            presses.setdefault(shown + action, (shown, action, {**also, **pressed}))
    out = [(label, action, extra, {}) for label, action, extra in presses.values()]
    # A date drawn filled in (a reschedule) is also moved, as a person moving the job would.
    moved = {
        name: next_weekday(date.fromisoformat(shape.form.fields[name])).isoformat()
        for name, kind in shape.kinds.items()
        if kind == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", shape.form.fields.get(name, ""))
    }
    if moved:
        out += [
            (f"{label} (date moved)".strip(), action, {**extra, **moved}, {})
            for label, action, extra in presses.values()
        ]
    if shape.hx:
        htmx = {"HX-Request": "true"}
        out += [
            (label + " (htmx)", action, extra, htmx) for label, action, extra in presses.values()
        ]
    return out


def twice(audience: Audience, shape: FormShape, csv_body: bytes) -> None:
    for label, target, extra, headers in variants(shape):
        body = fill(shape, csv_body, pressed=extra.get("action", ""))
        query = urlsplit(target).query
        action = path_of(target) + ("?" + query if query else "")
        name = url_name(path_of(target))
        where = f"{audience.name:9} {name} {label} on {shape.page} -> {action}"
        allowed = NOT_IDEMPOTENT_BY_DESIGN.get(name)
        cookies = audience.client.cookies.copy()
        with transaction.atomic():
            before = state()
            first = audience.client.post(action, {**body(), **extra}, headers=headers)
            location = first.get("Location", "") if 300 <= first.status_code < 400 else ""
            stepped = state() == before
            if location and stepped:
                # A step, not an action: the admin's transition that asks for more opens its
                # own page. That page's form is the action, one step away.
                audience.steps.append(location)
            elif stepped and first.status_code == 200 and b"<form" in text(first).encode():
                # The same, answered in place: an admin action's page asking for a reason.
                found, _ = shapes_of(action, text(first))
                for shape in found:
                    shape.page = f"the answer to {name} {label}".strip()
                audience.answers += [shape for shape in found if audience.first_sight(shape)]
            # Django's own admin pages answer a refused form with 200 and the errors drawn.
            refused = first.status_code >= 400 or (stepped and ERRORS.search(text(first)))
            if refused:
                audience.skipped.append(f"{where}: first send {first.status_code} {why(first)}")
            else:
                after_first = state()
                again = audience.client.post(action, {**body(), **extra}, headers=headers)
                # Printed, not failed: a form may rightly do nothing (a search, an export).
                audience.exercised.append(where + (" (changed nothing)" if stepped else ""))
                changed = differences(after_first, state())
                problems = []
                if not 200 <= again.status_code < 400:
                    problems.append(f"second send answered {again.status_code}")
                if changed:
                    problems.append(f"second send changed {changed}")
                alarming = [m for m in said(again) if CONFLICT_WORDS.search(m)]
                # An answer drawn in place (htmx, a page again): words the first had not.
                alarming += sorted(
                    set(CONFLICT_WORDS.findall(text(again)))
                    - set(CONFLICT_WORDS.findall(text(first)))
                )
                if alarming:
                    problems.append(f"second send said {alarming}")
                if problems and allowed:
                    print(f"allowed ({allowed}): {where}: {'; '.join(problems)}")
                elif problems:
                    audience.findings.append(f"{where}: {'; '.join(problems)}")
            transaction.set_rollback(True)
        audience.client.cookies = cookies


@pytest.mark.django_db
def test_every_form_sent_twice_is_answered_as_done_and_changes_nothing_the_second_time(cast):
    # The settings' database queue: a task queued twice is a row counted twice.
    audiences, csv_body = build(cast)
    for page in audiences["customer"].pages:  # the link holder has opened their link
        audiences["customer"].client.get(page)
    findings: list[str] = []
    too_few: list[str] = []
    for audience in audiences.values():
        seen: set[str] = set()
        for shape in gather(audience, audience.pages, seen):
            twice(audience, shape, csv_body)
        steps = [page for page in dict.fromkeys(audience.steps) if path_of(page) not in seen]
        for shape in gather(audience, steps, seen, follow=False):
            twice(audience, shape, csv_body)
        for shape in list(audience.answers):
            twice(audience, shape, csv_body)
        print(f"\n{audience.name}: {len(audience.exercised)} sent twice")
        for line in audience.exercised:
            print(f"  twice: {line}")
        for line in audience.skipped:
            print(f"  not exercised: {line}")
        findings += audience.findings
        if len(audience.exercised) < MINIMUM_EXERCISED[audience.name]:
            too_few.append(
                f"{audience.name}: only {len(audience.exercised)} forms exercised, "
                f"at least {MINIMUM_EXERCISED[audience.name]} expected"
            )
    report = "\n".join(findings + too_few)
    assert not findings and not too_few, f"{len(findings)} forms sent twice misbehave:\n{report}"
