"""Every form sent from a page that is no longer true: a second tab, a colleague, a phone left
open. The page is drawn, then another person changes the installation the form acts on, then
the form is sent.

For each audience the test gathers every `<form method="post">` that acts on an installation
(as test_every_form_twice does: the same parser, filler and digest), fills it as a user would,
and before sending it makes a real change to that installation through the service layer as
someone else would: cancelled by staff, moved on a step by whoever takes that step, given to
another handyman, moved to another day, its notes edited by a colleague, rebooked, a follow-up
visit booked, the customer's link re-sent. Then it sends the form. The answer must be:

- never a 500, and never a 2xx/3xx that changed anything on top of another person's change to
  the record (one that moved its version) unless the form may still do it (ON_TOP_BY_DESIGN);
  a change that left the record's version alone (a follow-up visit, a re-sent link) leaves the
  page true;
- a refusal is 409 (403/404 where the job is no longer that person's) with a sentence, changes
  nothing, and keeps what the person typed (a reason, a note) in the page it answers with;
- the other person's change is intact afterwards.

Each form and interference runs in a savepoint that is rolled back. Findings over all forms end
in one readable list; forms no interference applied to, and forms that act on no installation,
are printed as such; each audience must exercise a minimum number of sends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import Resolver404, resolve

from installations import notifications, services
from installations.customer_links import carries_replaced_link, read_token
from installations.demo import photo_upload, png_bytes
from installations.errors import TransitionRefused
from installations.models import CustomerActor, Installation, Message
from installations.scheduling.rules import ScheduleConflict
from installations.scheduling.services import installation_reschedule
from installations.statuses import CUSTOMER_LINK_STATUSES, Status

from .factories import PartnerUserFactory, UserFactory
from .test_every_form_twice import (
    BOOKKEEPING,
    ERRORS,
    SENTENCE,
    Audience,
    FormShape,
    build,
    differences,
    fill,
    gather,
    next_weekday,
    said,
    shapes_of,
    state,
    text,
    url_name,
    variants,
    why,
)
from .test_hostile_input import _Forms, path_of

# At least this many stale sends each audience must have made (form × interference).
MINIMUM_EXERCISED = {"partner": 130, "handyman": 90, "customer": 8, "staff": 80}
# At least this many kinds of interference each audience's forms must have met.
MINIMUM_KINDS = 2

# A form that may still do its change after another person's, keyed by (URL name of the form's
# action, interference); each reason is the product's rule. Anything else that changes the
# installation again after the interference is a finding.
ON_TOP_BY_DESIGN: dict[tuple[str, str], str] = {
    # The notes are the office's words to the handyman (access, parking): the customer's page
    # does not show them, so the contract and the work the customer approves are as they saw.
    ("customer:sign", "notes edited by a colleague"): "the customer never saw the notes",
    ("customer:approve", "notes edited by a colleague"): "the customer never saw the notes",
    # A follow-up visit is a record of its own, booked because of the visit made: the job
    # moving on a step (it stays visited) or its notes changing leaves that true. Cancelled,
    # it is refused (rebook instead).
    **{
        (name, kind): "a return visit is about the visit made"
        for name in ("partner:follow_up", "handyman:follow_up")
        for kind in ("moved on a step", "notes edited by a colleague")
    },
    # A re-sent link is the link of the step the job is at now (notifications.LINK_STATUSES):
    # the customer signed meanwhile, so they are sent the approval link, as the answer says.
    ("notify:resend-link", "moved on a step"): "it sends the link of the step it is at now",
    ("notify:resend-link", "notes edited by a colleague"): "the customer never saw the notes",
}

# DEFECT, not fixed: findings this test knows of, keyed by the URL name of the form's action and
# a fragment of the finding; printed on every run, not failed. Each one is a defect to fix.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}

# Refusals that answer with a redirect and an error message, by design, keyed by URL name:
# none (the admin's transition page whose action is gone answers 409 too, the input kept).
REDIRECTED_BY_DESIGN: dict[str, str] = {}

# Refusals answer with these codes: 409 for a page no longer true, 403/404 for a job that is no
# longer that person's, 410 for a customer link replaced by a newer one; 422 for a form whose
# input the new state makes invalid (the field's own error, drawn again).
REFUSAL_CODES = {403, 404, 409, 410, 422}
TRACEBACK = re.compile(r"Traceback|Exception Value|Internal Server Error", re.I)


# --- The other people and what they do -----------------------------------------------------------


@dataclass
class Others:
    """The people who change a record behind the page: a colleague of the partner user, a
    member of staff who is not the staff audience's own superuser, and the handymen."""

    colleague: Any
    ops: Any
    handymen: list[Any]

    def other_handyman(self, inst: Installation) -> Any:
        return next(h for h in self.handymen if h.pk != inst.handyman_id)


def cancelled(o: Others, inst: Installation) -> Installation:
    return services.installation_cancel(
        installation=inst.pk, reason="The customer phoned to cancel.", actor=o.ops
    )


def moved_on(o: Others, inst: Installation) -> Installation:
    """One step along the happy path, taken by whoever takes it."""
    pk, status = inst.pk, inst.status
    customer = CustomerActor(inst.pk, inst.customer.name)
    hand = inst.handyman.user if inst.handyman_id else None
    if status == Status.SCHEDULED:
        return services.installation_assign(
            installation=pk, handyman=o.other_handyman(inst), actor=o.colleague,
            confirm_conflict=True,
        )  # fmt: skip
    if status == Status.INSTALLER_ASSIGNED:
        return services.installation_set_off(installation=pk, eta_minutes=20, actor=hand)
    if status == Status.EN_ROUTE:
        return services.installation_arrive(installation=pk, actor=hand)
    if status == Status.INSTALLATION_IN_PROGRESS:
        return services.installation_complete(
            installation=pk, photos=[photo_upload()], signature_png=png_bytes(),
            notes="Fitted by the other visit.", actor=hand,
        )  # fmt: skip
    if status == Status.INSTALLATION_COMPLETED:
        return services.installation_send_contract(installation=pk, actor=hand)
    if status == Status.CONTRACT_SENT:
        return services.installation_sign(
            installation=pk, name=inst.customer.name, signature_png=png_bytes(),
            ip="127.0.0.1", actor=customer,
        )  # fmt: skip
    if status == Status.CONTRACT_SIGNED:
        return services.installation_approve(installation=pk, actor=customer)
    raise TransitionRefused("no step after " + status)


def reassigned(o: Others, inst: Installation) -> Installation:
    if not inst.handyman_id:
        raise TransitionRefused("nobody to take it from")
    return services.installation_reassign(
        installation=inst.pk, handyman=o.other_handyman(inst), actor=o.colleague,
        confirm_conflict=True,
    )  # fmt: skip


def rescheduled(o: Others, inst: Installation) -> Installation:
    return installation_reschedule(
        installation=inst.pk, actor=o.colleague,
        scheduled_date=next_weekday(inst.scheduled_date + timedelta(days=2)),
        window_start=inst.window_start, window_end=inst.window_end,
        reason="The customer asked for a later day.", confirm_conflict=True,
    )  # fmt: skip


def edited(o: Others, inst: Installation) -> Installation:
    return services.installation_update(
        installation=inst.pk, actor=o.colleague, notes="Gate code 4711, from the colleague."
    )


def rebooked(o: Others, inst: Installation) -> Installation:
    return services.installation_rebook(
        installation=inst.pk, actor=o.colleague,
        scheduled_date=next_weekday(inst.scheduled_date + timedelta(days=3)),
    )  # fmt: skip


def link_resent(o: Others, inst: Installation) -> Any:
    """The customer asked for their link again: links sent before stop working (staff, who
    are not held to the partner's pause between re-sends)."""
    if inst.status not in CUSTOMER_LINK_STATUSES:
        raise TransitionRefused("no customer link")
    return notifications.contract_link_resend(installation=inst.pk, actor=o.ops)


def followed_up(o: Others, inst: Installation) -> Installation:
    return services.installation_book_follow_up(installation=inst.pk, actor=o.colleague)


# What each interference leaves on the installation, to be found intact after the form's send.
def _fields(*names: str) -> Callable[[int], tuple]:
    def read(pk: int) -> tuple:
        return tuple(Installation.objects.filter(pk=pk).values_list(*names).get())

    return read


def _children(pk: int) -> tuple:
    inst = Installation.objects.get(pk=pk)
    return (
        tuple(inst.rebookings.values_list("pk", "scheduled_date")),
        # Which follow-ups exist (cancelling a job takes its unstarted ones with it, by design).
        tuple(inst.follow_ups.values_list("pk", flat=True)),
    )


def _links(pk: int) -> tuple:
    """The customer's current link, and how many messages waiting or sent carry a link it has
    replaced: a send after the re-send must not put a dead link on its way again."""
    inst = Installation.objects.get(pk=pk)
    live = inst.messages.filter(status__in=[Message.State.PENDING, Message.State.SENT])
    return inst.link_nonce, sum(carries_replaced_link(m.body, inst) for m in live)


INTERFERENCES: dict[str, tuple[Callable[[Others, Installation], Any], Callable[[int], tuple]]] = {
    "cancelled by staff": (cancelled, _fields("status", "cancellation_reason")),
    "moved on a step": (moved_on, _fields("status", "handyman_id")),
    "given to another handyman": (reassigned, _fields("status", "handyman_id")),
    "moved to another day": (
        rescheduled,
        _fields("status", "scheduled_date", "window_start", "window_end"),
    ),
    "notes edited by a colleague": (edited, _fields("notes", "site_address")),
    "rebooked by a colleague": (rebooked, _children),
    "follow-up booked by a colleague": (followed_up, _children),
    "link re-sent by the office": (link_resent, _links),
}


# The admin change form's other save buttons save the same way; only where they lead differs.
SAME_AS_SAVE = ("_continue=", "_addanother=")


# --- Which installation a form acts on -----------------------------------------------------------


# The forms that act on the installations they tick: the list's bulk bar, the admin's list.
TICKING = {"bulk:apply", "admin:installations_installation_changelist"}


def target_of(action: str, body: dict[str, Any], tokens: dict[str, int]) -> int | None:
    """The installation the form acts on: the one its URL names (the admin's object, the
    customer's link), else the row it ticks (the bulk bar, the admin's action menu)."""
    try:
        match = resolve(path_of(action))
    except Resolver404:
        return None
    kwargs = match.kwargs
    pk: Any = None
    if "token" in kwargs:
        pk = tokens.get(kwargs["token"])
    elif "object_id" in kwargs:
        if "/admin/installations/installation/" in action:
            pk = kwargs["object_id"]
    elif "pk" in kwargs and "/evidence" not in action:
        pk = kwargs["pk"]
    elif match.view_name in TICKING:
        ticked = body.get("id") or body.get("_selected_action")
        if isinstance(ticked, list):
            ticked = ticked[0] if ticked else None
        pk = ticked
    if pk is None or not str(pk).isdigit():
        return None
    return int(pk) if Installation.objects.filter(pk=int(pk)).exists() else None


# --- Sending a form from a page no longer true ---------------------------------------------------


def changes(before: tuple, after: tuple) -> str:
    """What a send changed, less the bookkeeping every request may write (the session, the rate
    limiter's counters: a refused request is counted too)."""
    keep = [i for i, row in enumerate(before[0]) if row[0] not in BOOKKEEPING]
    return differences(
        ([before[0][i] for i in keep], *before[1:]), ([after[0][i] for i in keep], *after[1:])
    )


def sentence_of(response: Any) -> str:
    """What the answer tells the person: an error drawn in the page, a message queued, else the
    page's main text (the customer's "There is nothing to sign" page)."""
    shown = " ".join(said(response)) or why(response)
    if not shown:
        page = text(response)
        main = re.search(r"<main\b.*?</main>", page, re.S)
        shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main.group(0) if main else "")).strip()
    return shown


def typed_in(shape: FormShape, body: dict[str, Any]) -> set[str]:
    """The boxes the person typed a sentence into (a reason, a note)."""
    return {
        name
        for name, kind in shape.kinds.items()
        if kind in {"text", "textarea"} and body.get(name) == SENTENCE
    }


def loses_typing(response: Any, action: str, typed: set[str]) -> bool:
    """Whether the answer draws the form again (a form posting to the same place) with a box
    the person typed into, but without what they typed. An answer that does not draw it (an
    htmx answer that swaps only the errors in, leaving the form as it is on screen; a page
    saying the action is no longer possible; a bar that no longer offers that action) has
    nothing to lose, and its sentence says why."""
    parser = _Forms(action)
    parser.feed(text(response))
    drawn = {
        name
        for form in parser.forms
        if form.method == "post" and path_of(form.action) == path_of(action)
        for name in form.fields
    }
    return bool(typed & drawn) and SENTENCE not in text(response)


def drawn_versions(response: Any, action: str, pk: int) -> set[str]:
    """The record's version as the form drawn again in the answer carries it (`version`, the
    admin's `_fsm_version`, the bulk bar's `v<pk>`)."""
    parser = _Forms(action)
    parser.feed(text(response))
    return {
        value
        for form in parser.forms
        if form.method == "post" and path_of(form.action) == path_of(action)
        for name, value in form.fields.items()
        if name in {"version", "_fsm_version", f"v{pk}"} and value
    }


@dataclass
class Outcome:
    where: str
    kind: str
    status: int
    changed: str
    said: str


@dataclass
class Run:
    """One audience's sends: what each answered, the interferences met, and the pages one step
    away that a form led to (the admin's transition page, the arrival check, a reason asked)."""

    log: list[Outcome] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    steps: list[str] = field(default_factory=list)
    answers: list[FormShape] = field(default_factory=list)
    probed: set[tuple] = field(default_factory=set)
    unaimed: set[str] = field(default_factory=set)  # forms that act on no installation


def probe(audience: Audience, run: Run, shape: FormShape, action: str, body: dict, headers: dict):
    """Send the form once on the true page, rolled back: a form that only leads to another page
    or asks a question (changing nothing) is a step; that page's forms are the action, drawn
    before the other person's change."""
    key = (action, tuple(sorted((k, str(v)) for k, v in body.items())))
    if key in run.probed:
        return
    run.probed.add(key)
    cookies = audience.client.cookies.copy()
    with transaction.atomic():
        before = state()
        answer = audience.client.post(action, body, headers=headers)
        if not changes(before, state()):
            location = answer.get("Location", "") if 300 <= answer.status_code < 400 else ""
            if "/transition/" in location:
                run.steps.append(location)
            elif answer.status_code == 200 and not headers:
                found, _ = shapes_of(action, text(answer))
                for drawn in found:
                    drawn.page = f"the answer to {url_name(path_of(action))}"
                run.answers += [s for s in found if audience.first_sight(s)]
        transaction.set_rollback(True)
    audience.client.cookies = cookies


def stale(
    audience: Audience,
    shape: FormShape,
    csv_body: bytes,
    others: Others,
    tokens: dict[str, int],
    run: Run,
) -> None:
    for label, target, extra, headers in variants(shape):
        body = fill(shape, csv_body, pressed=extra.get("action", ""))
        query = urlsplit(target).query
        action = path_of(target) + ("?" + query if query else "")
        sent = {**body(), **extra}
        pk = target_of(action, sent, tokens)
        name = url_name(path_of(target))
        where = f"{audience.name:9} {name} {label} on {shape.page} -> {action}"
        if pk is None:
            run.unaimed.add(f"{audience.name:9} {name}")
            continue
        if label.startswith(SAME_AS_SAVE) or (shape.page.endswith("(row, htmx)") and not headers):
            continue  # the admin's other saves; a list row's dialog is sent with htmx
        if not headers:  # an htmx answer swaps a fragment: no page one step away
            probe(audience, run, shape, action, {**body(), **extra}, headers)
        met = len(audience.exercised)
        for kind, (interfere, mark) in INTERFERENCES.items():
            if "(date moved)" in label and kind != "moved to another day":
                continue  # a date the person moved meets another move; the rest as sent plain
            cookies = audience.client.cookies.copy()
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        drawn = version_of(pk)
                        interfere(others, Installation.objects.get(pk=pk))
                except (TransitionRefused, ValidationError, ScheduleConflict):
                    transaction.set_rollback(True)
                    continue
                before, left = state(), mark(pk)
                untouched = drawn == row_of(before, pk)
                try:
                    answer = audience.client.post(action, {**body(), **extra}, headers=headers)
                except Exception as error:  # noqa: BLE001 - a 500 is a finding, not a stop
                    audience.findings.append(f"{where} after «{kind}»: 500 {error!r}")
                    transaction.set_rollback(True)
                    audience.client.cookies = cookies
                    continue
                after = state()
                problems = check(shape, sent, action, kind, pk, answer, before, after, untouched)
                if mark(pk) != left:
                    problems.append(f"«{kind}» undone: {left} → {mark(pk)}")
                if problems:
                    audience.findings.append(f"{where} after «{kind}»: {'; '.join(problems)}")
                run.log.append(
                    Outcome(where, kind, answer.status_code, changes(before, after),
                            sentence_of(answer))
                )  # fmt: skip
                run.kinds.add(kind)
                audience.exercised.append(f"{where} after «{kind}»")
                transaction.set_rollback(True)
            audience.client.cookies = cookies
        if len(audience.exercised) == met:
            status = Installation.objects.get(pk=pk).status
            audience.skipped.append(f"{where}: no interference applies to #{pk} ({status})")


def version_of(pk: int) -> tuple:
    """The installation's (status, version) now, as state() has it."""
    return Installation.objects.filter(pk=pk).values_list("status", "version").get()


def row_of(snapshot: tuple, pk: int) -> tuple | None:
    """The installation's (status, version) in a state() snapshot."""
    return next((row[1:] for row in snapshot[1] if row[0] == pk), None)


def check(
    shape: FormShape,
    sent: dict[str, Any],
    action: str,
    kind: str,
    pk: int,
    answer: Any,
    before: tuple,
    after: tuple,
    untouched: bool,
) -> list[str]:
    problems: list[str] = []
    code = answer.status_code
    changed = changes(before, after)
    sentence = sentence_of(answer)
    if code >= 500:
        problems.append(f"answered {code}")
    elif code >= 400:
        if code not in REFUSAL_CODES:
            problems.append(f"refused with {code}")
        if changed:
            problems.append(f"refused but changed {changed}")
        if not sentence or TRACEBACK.search(text(answer)):
            problems.append(f"{code} without a sentence saying what changed")
        if loses_typing(answer, action, typed_in(shape, sent)):
            problems.append("the form is drawn again without what was typed")
        # Drawn again, the form is at the record's version now: sending it again is a choice
        # made knowing the other person's change, not refused as stale over and over.
        now = str(version_of(pk)[1])
        if code == 409 and drawn_versions(answer, action, pk) - {now}:
            problems.append(f"409 draws the form again at the old version, not v{now}")
    else:
        # Refused in place, or with a redirect to the page that says so: the form it draws again
        # keeps what was typed (the rows left selected are to be acted on again).
        typed = typed_in(shape, sent)
        if (
            not changed
            and typed
            and said_refused(answer)
            and loses_typing(follow(answer), action, typed)
        ):
            problems.append(f"{code}: the form is drawn again without what was typed")
        name = url_name(path_of(action))
        # An interference that left the record's own version as it was (a follow-up visit is a
        # record of its own, a re-sent link) leaves the page true: the form may do what it does.
        # After one that moved it, any change the form makes must be one it may still make.
        if changed and not untouched and (name, kind) not in ON_TOP_BY_DESIGN:
            problems.append(f"{code}: applied on top of «{kind}»: {changed}")
        refused = not changed and (
            ERRORS.search(text(answer)) or any(m.startswith("error") for m in said(answer))
        )
        if refused and code != 200 and name not in REDIRECTED_BY_DESIGN:
            problems.append(f"refused with {code}, not 409: {sentence[:100]}")
    return problems


def said_refused(answer: Any) -> bool:
    """Whether an answer that changed nothing says so as a warning or an error."""
    return (
        bool(ERRORS.search(text(answer)))
        or any(m.startswith(("error", "warning")) for m in said(answer))
        or "not changed" in text(answer)
    )


def follow(answer: Any) -> Any:
    """The page a redirect leads to, as the browser shows it next (the same client)."""
    if not 300 <= answer.status_code < 400:
        return answer
    client = answer.client
    return client.get(answer["Location"], headers={})


def gather_htmx(audience: Audience, pages: list[str]) -> list[FormShape]:
    """The action dialogs as the list's rows open them (htmx): their forms post with htmx and
    answer with the row (target=row). The same fields as the record page's dialogs, so not
    left out as already seen."""
    shapes: list[FormShape] = []
    for page in pages:
        response = audience.client.get(page, headers={"HX-Request": "true"})
        if response.status_code == 200:
            found, _ = shapes_of(page, text(response))
            for shape in found:
                shape.page = f"{path_of(page)} (row, htmx)"
            shapes += found
    return shapes


def row_dialogs(audience: Audience, page: str) -> list[str]:
    """The list rows' action buttons: GET forms opening the action's dialog, with their fields
    (the row's version, target=row)."""
    parser = _Forms(page)
    parser.feed(text(audience.client.get(page)))
    return [
        f"{form.action}?{urlencode(form.fields)}"
        for form in parser.forms
        if form.method == "get" and "version" in form.fields
    ]


@pytest.mark.django_db
def test_every_form_sent_from_a_page_no_longer_true_is_refused_with_a_sentence_or_still_right(
    cast,
):
    audiences, csv_body = build(cast)
    others = Others(
        colleague=PartnerUserFactory(partner=cast.partner, user__username="colleague").user,
        ops=UserFactory(username="ops", is_staff=True, is_superuser=True),
        handymen=[cast.handyman, cast.other_handyman],
    )
    tokens = {}
    for page in audiences["customer"].pages:  # the link holder has opened their link
        audiences["customer"].client.get(page)
        tokens[page.strip("/").split("/")[1]] = read_token(page.strip("/").split("/")[1]).pk
    findings: list[str] = []
    too_few: list[str] = []
    for audience in audiences.values():
        seen: set[str] = set()
        run = Run()
        shapes = gather(audience, audience.pages, seen)
        if audience.name == "partner":
            shapes += gather_htmx(audience, row_dialogs(audience, "/installations/"))
        for shape in shapes:
            stale(audience, shape, csv_body, others, tokens, run)
        steps = [page for page in dict.fromkeys(run.steps) if path_of(page) not in seen]
        for shape in gather(audience, steps, seen, follow=False) + run.answers:
            stale(audience, shape, csv_body, others, tokens, run)
        print(f"\n{audience.name}: {len(audience.exercised)} sent stale, met {sorted(run.kinds)}")
        for o in run.log:
            print(f"  {o.status} {o.where} after «{o.kind}»: {o.changed or '-'} | {o.said[:90]}")
        for line in audience.skipped:
            print(f"  not exercised: {line}")
        for line in sorted(run.unaimed):
            print(f"  not about an installation: {line}")
        for finding in audience.findings:
            known = [why for (name, part), why in KNOWN_DEFECTS.items() if f" {name} " in finding
                     and part in finding]  # fmt: skip
            if known:
                print(f"  DEFECT, not fixed ({known[0]}): {finding}")
            else:
                findings.append(finding)
        if len(audience.exercised) < MINIMUM_EXERCISED[audience.name]:
            too_few.append(
                f"{audience.name}: only {len(audience.exercised)} stale sends, "
                f"at least {MINIMUM_EXERCISED[audience.name]} expected"
            )
        if len(run.kinds) < MINIMUM_KINDS:
            too_few.append(f"{audience.name}: met only {sorted(run.kinds)}")
    report = "\n".join(findings + too_few)
    assert not findings and not too_few, f"{len(findings)} stale sends misbehave:\n{report}"
