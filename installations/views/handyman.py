"""The handyman's page: his jobs, one big button for the next step, and the close checklist.

Built for a phone on a weak signal: every step is a plain form that htmx enhances, and every step
is safe to repeat. A second tap or a retry after a lost response finds the job already moved on and
answers with the job as it now is, never with an error.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from .. import selectors, services
from ..checklist import (
    ChecklistForm,
    PhotoLimitHandler,
    SetOffForm,
    heic_sentence,
    limits_sentence,
    too_many_sentence,
)
from ..formatting import duration_text
from ..forms import OneTimeForm
from ..live.selectors import handyman_page_feed
from ..models import Handyman, Installation, StatusChange, handyman_of
from ..notifications import on_the_way_channel, reachable
from ..redirects import post_only
from ..refusals import SITUATIONS, details_mark, given_away_sentence, stale_step_sentence
from ..scheduling.text import long_day_text
from ..scheduling.views import days_off_context
from ..statuses import HAPPY_PATH, Status
from .common import WrongRole

JOBS_TEMPLATE = "handyman/jobs.html"
CHECKLIST_TEMPLATE = "handyman/complete.html"

# The statuses in which the handyman has a step to take: his active jobs.
ACTIVE_STATUSES = (
    Status.INSTALLER_ASSIGNED,
    Status.EN_ROUTE,
    Status.INSTALLATION_IN_PROGRESS,
    Status.INSTALLATION_COMPLETED,
)
FINISHED_DAYS = 7
# What the page shows in full, whatever the backlog: a real day is 5–10 jobs, so the today list
# holds those and a few under way or overdue; the next three calendar days (handymen work
# weekends too: Friday's page shows Monday) get their own cap. The rest is behind "Later": 20
# compact rows a page, counted up to a bound.
TODAY_CARDS = 15
NEXT_DAYS = 3
NEXT_CARDS = 15
LATER_PAGE = 20
LATER_COUNT_CAP = 100
MAX_LATER_PAGE = 1000  # past the end is an empty page, never a huge OFFSET
FINISHED_SHOWN = 20

# The handyman's transitions and the URL of each step: an explicit map, never getattr on input.
STEP_URLS = {
    "set_off": "handyman:set_off",
    "arrive": "handyman:arrive",
    "complete": "handyman:complete",
    "send_contract": "handyman:send_contract",
}
# Where each step takes the job, read from the state machine itself: reaching (or passing) it
# means a repeated tap has nothing left to do.
STEP_TARGETS = {
    t.name: t.target
    for t in Installation._meta.get_field("status").get_all_transitions(Installation)
    if t.name in STEP_URLS
}
# What the page says after each step, and after a repeated tap that found it already done.
STEP_DONE = {
    "set_off": "On your way: the customer is told you will arrive in about {eta} minutes.",
    # A customer with neither phone nor email gets no message (notifications.on_the_way_channel).
    "set_off_untold": (
        "On your way: you will arrive in about {eta} minutes. The customer was not told: there "
        "is no phone number or email for them."
    ),
    "arrive": "Arrived: the on-site clock is running.",
    "complete": "Job marked done. Send the contract when the customer is ready.",
    "send_contract": "Contract sent to the customer.",
    "send_contract_unsent": (
        "The contract is ready, but nothing was sent: there is no phone number or email for the "
        "customer. Ask the office to add one and send the link again."
    ),
}
STEP_ALREADY = {
    "set_off": "You had already set off for this job, so nothing changed.",
    "arrive": "You were already marked as arrived, so nothing changed.",
    "complete": "This job was already marked done, so nothing changed.",
    "send_contract": "The contract was already sent, so nothing changed.",
}
CHECKLIST_CLOSED = "This job is marked done: its checklist is closed."
# Jobs under way belong to today, whatever day they were booked for: once he has set off, the
# job is his to finish (a job done a day early still waits for its contract).
UNDER_WAY_STATUSES = (
    Status.EN_ROUTE,
    Status.INSTALLATION_IN_PROGRESS,
    Status.INSTALLATION_COMPLETED,
)
# "Arrived" this soon after "On my way" is far more likely the second half of a double tap than
# an arrival: it is asked about ("Are you at the site already?"), never taken at once.
ARRIVE_QUESTION_WITHIN = timedelta(seconds=60)
# The words of the button that answers each question with yes.
CONFIRM_LABELS = {
    "set_off": "Yes, set off for this one too",
    "arrive": "Yes, I am at the site",
}
# Steps that show the on-site tools (follow-up booking).
ON_SITE_STATUSES = (Status.INSTALLATION_IN_PROGRESS, Status.INSTALLATION_COMPLETED)


# --- Access -----------------------------------------------------------------------------------


def _handyman(request: HttpRequest) -> Handyman:
    """The signed-in handyman; anyone else gets 404, as if the page did not exist."""
    handyman = handyman_of(request.user)
    if handyman is None:
        raise WrongRole("No handyman here.")  # on the jobs page: sent to their own page
    return handyman


class GivenAway(Http404):
    """A job he had, that the office has since given to someone else (or taken off his list).
    Still a 404 (the job is not his to open), but answered by `_given_away_answered` with a
    sentence and the way back to his jobs, not the site's "Page not found"."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


def _job_for_handyman(request: HttpRequest, pk: int) -> Installation:
    """A job assigned to the signed-in handyman, or 404: on every URL, GET or POST."""
    handyman = _handyman(request)
    job = _jobs(handyman).filter(pk=pk).first()
    if job is not None:
        return job
    gone = _had(handyman, pk)
    if gone is not None:
        raise GivenAway(given_away_sentence(gone, handyman.pk))
    raise Http404("No such job for this handyman.")


def _had(handyman: Handyman, pk: int) -> Installation | None:
    """The job, if its history shows it was his (he knows its number and its customer, and
    nothing more is said); None for any other job, whose existence stays unconfirmed."""
    was_his = StatusChange.objects.filter(installation_id=pk).filter(
        Q(to_handyman=handyman) | Q(from_handyman=handyman)
    )
    if not was_his.exists():
        return None
    return Installation.objects.select_related("customer").filter(pk=pk).first()


def _given_away_answered(view: Callable) -> Callable:
    """A tap (or a page) on a job given away meanwhile: a 404 that says so in his words and
    leads back to his jobs; with htmx, handyman.js shows the same sentence (data-said)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except GivenAway as gone:
            ctx = {"sentence": gone.sentence}
            return render(request, "handyman/given_away.html", ctx, status=404)

    return wrapped


def _mine(handyman: Handyman) -> QuerySet[Installation]:
    return Installation.objects.filter(handyman=handyman)


def _for_cards(jobs: QuerySet[Installation]) -> QuerySet[Installation]:
    """What a card shows, in the same query: the customer, the partner, and the open follow-up
    visit's number (a subquery on the partial index inst_parent, not one more query)."""
    open_follow_up = (
        Installation.objects.filter(parent=OuterRef("pk"), status=Status.SCHEDULED)
        .order_by("created_at", "id")
        .values("pk")[:1]
    )
    return jobs.select_related("customer", "partner").annotate(
        open_follow_up_id=Subquery(open_follow_up)
    )


def _jobs(handyman: Handyman) -> QuerySet[Installation]:
    return _for_cards(_mine(handyman))


# The columns the page's lists draw (the job-card partial, `_card`, the step's permission; the
# finished list): the page reads no others (issue 20: the signatures, free texts, links and
# timestamps no card shows were ~1 ms of a real day on SQLite). A field not named here would be
# read by one more query per card, which the page's pinned query counts catch.
CARD_FIELDS = (
    "partner__name",
    "customer__name",
    "customer__phone",
    "handyman_id",
    "site_address",
    "scheduled_date",
    "window_start",
    "window_end",
    "status",
    "kind",
    "parent_id",
    "notes",
    "eta_minutes",
    "expected_arrival_at",
    "arrived_at",
    "completed_at",
    "version",
)
FINISHED_FIELDS = (
    "customer__name",
    "site_address",
    "status",
    "arrived_at",
    "completed_at",
    "version",
)


# --- The job card -----------------------------------------------------------------------------


@dataclass
class Card:
    """One job's card. The strings a card repeats are made once here (measured on the bench:
    each `{{ int }}` is localised, each `{% url %}` and date filter costs per card)."""

    job: Installation
    step: str | None  # the next step's transition name, if the handyman has one
    label: str  # the button's words
    url: str
    eta_default: int
    eta_choices: tuple[int, ...]
    time_on_site: str
    is_today: bool
    day: str
    follow_up_pk: int | None  # the open follow-up visit booked from this job
    can_book_follow_up: bool
    opens_on: str = ""  # a later day's job: the day its first step opens
    overdue: bool = False  # not started and its day has passed: listed with today, flagged
    question: str = ""  # asked before the step runs (answered by a confirming POST)
    confirm_label: str = ""
    eta_chosen: int | None = None  # carried by the confirming POST of "On my way"
    # The follow-up button's one-time token: a replayed tap books at most one visit.
    follow_up_token: str = field(default_factory=lambda: str(uuid.uuid4()))
    pk: str = ""  # the job's number as text (not localised per use)
    version: str = ""
    details: str = ""  # refusals.details_mark: which details a stale tap finds changed
    iso_day: str = ""
    window: str = ""  # "08:00–10:00"
    eta_options: tuple[tuple[str, bool], ...] = ()  # (minutes, preselected), "On my way" only
    follow_up_url: str = ""
    refresh_url: str = ""


@lru_cache(maxsize=64)  # a page's cards share a handful of days: format each once
def _day(day: date, today: date) -> str:
    if day == today:
        return "Today"
    if day == today + timedelta(days=1):
        return "Tomorrow"
    return dateformat.format(day, "D j M")


def _is_today(job: Installation, today: date) -> bool:
    """Today's jobs, late ones not yet started, and every job under way."""
    return job.scheduled_date <= today or job.status in UNDER_WAY_STATUSES


def eta_default(job: Installation, now: datetime | None = None) -> int:
    """Minutes until the arrival window opens, rounded up to a choice, within 15..60."""
    now = now or timezone.now()
    start = timezone.make_aware(datetime.combine(job.scheduled_date, job.window_start))
    minutes = math.ceil((start - now).total_seconds() / 60)
    for choice in services.ETA_CHOICES:
        if minutes <= choice:
            return choice
    return services.ETA_CHOICES[-1]


@lru_cache(maxsize=16)
def _url_pattern(name: str) -> str:
    """A job URL with `{}` for its number: reversed once, not once per card."""
    return reverse(name, args=[0]).replace("/0/", "/{}/", 1)


def _job_url(name: str, pk: int | str) -> str:
    return _url_pattern(name).format(pk)


def _card(job: Installation, user: Any, today: date | None = None) -> Card:
    today = today or timezone.localdate()
    is_today = _is_today(job, today)
    # A later day's job has no step button until its day: the state machine does not offer
    # "On my way" before it (models.its_day_has_come), and the card says when it opens.
    step = next((a for a in selectors.available_actions(job, user) if a.name in STEP_URLS), None)
    pk = str(job.pk)
    default = eta_default(job) if step and step.name == "set_off" else services.ETA_CHOICES[0]
    return Card(
        job=job,
        step=step.name if step else None,
        label=step.label if step else "",
        url=_job_url(STEP_URLS[step.name], pk) if step else "",
        eta_default=default,
        eta_choices=services.ETA_CHOICES,
        time_on_site=duration_text(job.time_on_site),
        is_today=is_today,
        day=_day(job.scheduled_date, today),
        follow_up_pk=getattr(job, "open_follow_up_id", None),
        can_book_follow_up=job.status in ON_SITE_STATUSES,
        opens_on="" if is_today else long_day_text(job.scheduled_date),
        overdue=job.status == Status.INSTALLER_ASSIGNED and job.scheduled_date < today,
        pk=pk,
        version=str(job.version),
        details=details_mark(job),
        iso_day=job.scheduled_date.isoformat(),
        window=f"{job.window_start:%H:%M}–{job.window_end:%H:%M}",
        eta_options=tuple((str(m), m == default) for m in services.ETA_CHOICES)
        if step and step.name == "set_off"
        else (),
        follow_up_url=_job_url("handyman:follow_up", pk),
        refresh_url=_job_url("handyman:job", pk),
    )


@dataclass
class Question:
    """A step that must be confirmed before it runs, and what the confirming POST carries."""

    step: str
    text: str
    eta: int | None = None


def _question(job: Installation, step: str, handyman: Handyman) -> Question | None:
    """What to ask before `step` runs, or None. A real form field (`confirm=<step>`) answers it,
    so the question works without JavaScript, and a tap on the step's button never answers it."""
    if step == "set_off":
        other = (
            Installation.objects.filter(handyman=handyman, status=Status.EN_ROUTE)
            .exclude(pk=job.pk)
            .select_related("customer")
            .order_by("departed_at", "id")
            .first()
        )
        if other is not None:
            return Question(
                step,
                f"You are already on your way to #{other.pk} ({other.customer.name}, "
                f"{other.site_address}). Set off for this one too?",
            )
    just_set_off = (
        job.departed_at is not None and timezone.now() - job.departed_at < ARRIVE_QUESTION_WITHIN
    )
    if step == "arrive" and just_set_off:
        return Question(step, "You set off less than a minute ago. Are you at the site already?")
    return None


def _offered(job: Installation, step: str, user: Any) -> bool:
    """Whether the job allows `step` now. A question is asked only about a step that can run:
    for one that cannot ("On my way" before the job's day) the service's refusal is the answer,
    not "Set off for this one too?" followed by a refusal."""
    return step in {a.name for a in selectors.available_actions(job, user)}


def _confirmed(request: HttpRequest, step: str) -> bool:
    return request.POST.get("confirm", "") == step


def _reload(request: HttpRequest, pk: int) -> Installation:
    # Re-read through the access helper: a job reassigned away a moment ago is now a 404.
    return _job_for_handyman(request, pk)


def _render_card(
    request: HttpRequest,
    job: Installation,
    *,
    note: str = "",
    kind: str = "info",
    status: int = 200,
    question: Question | None = None,
    follow_up_note: str = "",
) -> HttpResponse:
    card = _card(job, request.user)
    if question is not None:
        _ask(card, question)
    ctx = {"card": card, "note": note, "note_kind": kind, "follow_up_note": follow_up_note}
    return render(request, f"{JOBS_TEMPLATE}#job-card", ctx, status=status)


def _ask(card: Card, question: Question) -> None:
    card.question = question.text
    card.confirm_label = CONFIRM_LABELS[question.step]
    card.eta_chosen = question.eta


def _back_to_jobs(job: Installation) -> HttpResponse:
    return redirect(f"{reverse('handyman:jobs')}#job-{job.pk}")


def _passed(job: Installation, step: str) -> bool:
    """Has the job already reached (or gone beyond) where `step` takes it?"""
    if job.status not in HAPPY_PATH:
        return False
    return HAPPY_PATH.index(job.status) >= HAPPY_PATH.index(STEP_TARGETS[step])


def _version(request: HttpRequest) -> int | None:
    """The version the page was drawn from; a missing one skips the check, a garbled one can
    never match (so it is answered as a stale page, and nothing changes)."""
    raw = request.POST.get("version", "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1


# --- The page ---------------------------------------------------------------------------------


@require_GET
@login_required
def jobs(request: HttpRequest) -> HttpResponse:
    return _jobs_page(request)


def _jobs_page(
    request: HttpRequest,
    *,
    status: int = 200,
    question: tuple[int, Question] | None = None,
) -> HttpResponse:
    handyman = _handyman(request)
    paged = _later_request(request) if request.method == "GET" else None
    if request.htmx and paged is not None:
        # "Later" (or the overdue list) loaded in place: its own partial, two queries.
        ctx = {"later": later_list(handyman, *paged)}
        return render(request, f"{JOBS_TEMPLATE}#later-list", ctx, status=status)
    if request.htmx:
        ctx = jobs_context(handyman, request.user, question=question)
        return render(request, f"{JOBS_TEMPLATE}#job-lists", ctx, status=status)
    live = handyman_page_feed(handyman)  # before the jobs: see live.selectors
    ctx = {**jobs_context(handyman, request.user, question=question), "live": live}
    if paged is not None:  # the plain link: the same page, with the list open where it sits
        # The page has just read the next days' cards: the list starts after them without
        # counting them again (the htmx list, drawn alone, counts them).
        shown = sum(len(day_cards) for _day, _label, day_cards in ctx["later_days"])
        ctx["later"] = later_list(handyman, *paged, shown=shown)
    ctx.update(days_off_context(handyman))
    return render(request, JOBS_TEMPLATE, ctx, status=status)


def jobs_context(
    handyman: Handyman, user: Any, *, question: tuple[int, Question] | None = None
) -> dict[str, Any]:
    """The job lists' context (the page, and the live feed's re-render of them). Every list is
    read through a LIMIT: the page costs the same with 5 active jobs or 5,000."""
    now = timezone.now()
    today = timezone.localdate()
    horizon = today + timedelta(days=NEXT_DAYS)
    # Under way first, then the newest: a backlog of old overdue jobs never pushes today's (or
    # the one he is driving to) off the page. The sort reads only his own active index entries.
    now_jobs = list(
        _jobs(handyman)
        .filter(status__in=ACTIVE_STATUSES)
        .filter(Q(status__in=UNDER_WAY_STATUSES) | Q(scheduled_date__lte=today))
        .only(*CARD_FIELDS)
        .order_by(
            Case(When(status=Status.INSTALLER_ASSIGNED, then=1), default=0),
            "-scheduled_date",
            "window_start",
            "id",
        )[: TODAY_CARDS + 1]
    )
    more_overdue = len(now_jobs) > TODAY_CARDS
    now_jobs = sorted(now_jobs[:TODAY_CARDS], key=lambda j: _today_order(j, today))
    next_jobs = list(
        _for_cards(_not_started(handyman))
        .filter(scheduled_date__gt=today, scheduled_date__lte=horizon)
        .only(*CARD_FIELDS)
        .order_by("scheduled_date", "window_start", "id")[: NEXT_CARDS + 1]
    )
    next_cut = len(next_jobs) > NEXT_CARDS
    next_jobs = next_jobs[:NEXT_CARDS]
    # "Later" is every job not started after the cards above, counted up to a bound: an
    # index-only count of his own rows that stops at LATER_COUNT_CAP, whatever the backlog.
    upcoming = (
        _not_started(handyman)
        .filter(scheduled_date__gt=today)
        .order_by()
        .values("pk")[: len(next_jobs) + LATER_COUNT_CAP + 1]
        .count()
    )
    later_count = upcoming - len(next_jobs)
    finished = list(
        Installation.objects.filter(
            handyman=handyman, completed_at__gte=now - timedelta(days=FINISHED_DAYS)
        )
        .exclude(status__in=ACTIVE_STATUSES)
        .select_related("customer")
        .only(*FINISHED_FIELDS)
        .order_by("-completed_at", "-id")[: FINISHED_SHOWN + 1]
    )
    today_cards = [_card(job, user, today) for job in now_jobs]
    next_cards = [_card(job, user, today) for job in next_jobs]
    if question is not None:
        for card in (*today_cards, *next_cards):
            if card.job.pk == question[0]:
                _ask(card, question[1])
    later_days: dict[date, list[Card]] = {}
    for card in next_cards:
        later_days.setdefault(card.job.scheduled_date, []).append(card)
    return {
        "handyman": handyman,
        "today_cards": today_cards,
        "more_overdue": more_overdue,
        # Each of the next days under its own heading, in date order (the query's order).
        "later_days": [(day, _day(day, today), day_cards) for day, day_cards in later_days.items()],
        "next_days": NEXT_DAYS,
        "next_cut": next_cut,
        "horizon": horizon,
        "later_count": min(later_count, LATER_COUNT_CAP),
        "later_more": later_count > LATER_COUNT_CAP,
        "finished": [(job, duration_text(job.time_on_site)) for job in finished[:FINISHED_SHOWN]],
        "finished_more": len(finished) > FINISHED_SHOWN,
        "finished_days": FINISHED_DAYS,
    }


def _today_order(job: Installation, today: date) -> tuple:
    """Under way first (what he is doing now), then today's by window, then overdue ones,
    the most recent first."""
    if job.status in UNDER_WAY_STATUSES:
        return (0, job.scheduled_date, job.window_start, job.pk)
    if job.scheduled_date >= today:
        return (1, job.scheduled_date, job.window_start, job.pk)
    return (2, -job.scheduled_date.toordinal(), job.window_start, job.pk)


def _not_started(handyman: Handyman) -> QuerySet[Installation]:
    # `status = …` with the date after it: a range of inst_handyman_status, read in date order.
    return _mine(handyman).filter(status=Status.INSTALLER_ASSIGNED)


@dataclass
class LaterList:
    """One page of the compact list behind "Later" (or of the overdue jobs behind "All
    overdue jobs"): `which` is the query parameter that pages it."""

    which: str
    heading: str
    page: int
    rows: list[tuple[Installation, str]]
    has_next: bool


def later_list(handyman: Handyman, which: str, page: int, *, shown: int | None = None) -> LaterList:
    """A page of LATER_PAGE compact rows. "later": the jobs not started after the next days'
    cards (`shown` of them, counted here when the caller has not read them), in date order;
    "overdue": every job not started whose day has passed, the most recent first. Two queries
    at most, whatever the page."""
    today = timezone.localdate()
    start = (page - 1) * LATER_PAGE
    if which == "overdue":
        qs = (
            _not_started(handyman)
            .filter(scheduled_date__lt=today)
            .order_by("-scheduled_date", "window_start", "id")
        )
        heading = "Overdue jobs, not started"
    else:
        if shown is None:
            horizon = today + timedelta(days=NEXT_DAYS)
            shown = (
                _not_started(handyman)
                .filter(scheduled_date__gt=today, scheduled_date__lte=horizon)
                .order_by()
                .values("pk")[:NEXT_CARDS]
                .count()
            )
        start += shown  # after the cards the page shows
        qs = (
            _not_started(handyman)
            .filter(scheduled_date__gt=today)
            .order_by("scheduled_date", "window_start", "id")
        )
        heading = "Later jobs"
    rows = list(qs.select_related("customer")[start : start + LATER_PAGE + 1])
    return LaterList(
        which=which,
        heading=heading,
        page=page,
        rows=[(job, _day(job.scheduled_date, today)) for job in rows[:LATER_PAGE]],
        has_next=len(rows) > LATER_PAGE,
    )


def _later_request(request: HttpRequest) -> tuple[str, int] | None:
    """`?later=N` or `?overdue=N`: which paged list is asked for, and its page (a garbled or
    absurd page number is the first page, never an error)."""
    for which in ("later", "overdue"):
        raw = request.GET.get(which)
        if raw is not None:
            try:
                page = int(raw)
            except ValueError:
                page = 1
            return which, min(max(page, 1), MAX_LATER_PAGE)
    return None


@require_GET
@login_required
@_given_away_answered
def job(request: HttpRequest, pk: int) -> HttpResponse:
    """One job's card as it now is (what a retry or a refresh asks for)."""
    job = _job_for_handyman(request, pk)
    if request.htmx:
        return _render_card(request, job)
    return _back_to_jobs(job)


# --- The steps --------------------------------------------------------------------------------


def _step_response(
    request: HttpRequest,
    job: Installation,
    step: str,
    run: Callable[[Installation], Installation],
    *,
    done_note: str,
    eta: int | None = None,
) -> HttpResponse:
    """Run one step's service and answer; a repeat of a step already done is not an error."""
    pk = job.pk
    confirmed = _confirmed(request, step)
    # A repeated answer to the question (a double tap without JavaScript: nothing disables the
    # button) goes on to the service, which recognises his own change and answers it as done.
    if _passed(job, step) and not confirmed:
        return _repeat(request, job, step)
    if not confirmed and _offered(job, step, request.user):
        question = _question(job, step, _handyman(request))
        if question is not None:
            question.eta = eta
            return _asking(request, job, question)
    try:
        job = run(job)
    except services.TransitionRefused as refused:
        job = _reload(request, pk)
        if _passed(job, step):
            return _repeat(request, job, step)
        return _conflict(request, job, _refused_sentence(request, job, step, refused))
    replayed = job.replayed  # the service found this very tap's change already made
    job = _reload(request, pk)
    if replayed and not confirmed:
        return _repeat(request, job, step)
    # His "yes" said twice is the same answer: the same sentence, once.
    if request.htmx:
        return _render_card(request, job, note=done_note, kind="success")
    _say_once(request, messages.SUCCESS, done_note)
    return _back_to_jobs(job)


def _refused_sentence(
    request: HttpRequest, job: Installation, step: str, refused: services.TransitionRefused
) -> str:
    """The refusal in his words: a page drawn before the office changed the job is told as what
    the office did (cancelled it, moved it, edited it), not as the services' office sentence."""
    drawn_from = _version(request)
    # A garbled version (negative: see _version) says nothing of what the office did.
    if drawn_from is not None and drawn_from >= 0 and drawn_from != job.version:
        return stale_step_sentence(job, step, drawn_from, request.POST.get("details", ""))
    return refused.message


def _say_once(request: HttpRequest, level: int, text: str) -> None:
    """A flash message, unless the same one is already waiting to be shown (the first tap's,
    when the page of its redirect was never drawn)."""
    waiting = messages.get_messages(request)
    said = any(m.level == level and m.message == text for m in waiting)
    waiting.used = False  # looking at them is not showing them
    if not said:
        messages.add_message(request, level, text)


def _asking(request: HttpRequest, job: Installation, question: Question) -> HttpResponse:
    """Nothing changed: the card asks its question, with a button that confirms."""
    if request.htmx:
        return _render_card(request, job, question=question)
    return _jobs_page(request, question=(job.pk, question))


def _repeat(request: HttpRequest, job: Installation, step: str) -> HttpResponse:
    if request.htmx:
        return _render_card(request, job, note=STEP_ALREADY[step])
    messages.info(request, STEP_ALREADY[step])
    return _back_to_jobs(job)


def _conflict(request: HttpRequest, job: Installation, message: str) -> HttpResponse:
    if request.htmx:
        return _render_card(request, job, note=message, kind="error", status=409)
    messages.error(request, message)
    return _jobs_page(request, status=409)


@post_only("handyman:job", "pk")
@login_required
@_given_away_answered
def set_off(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for_handyman(request, pk)
    if _passed(job, "set_off") and not _confirmed(request, "set_off"):
        return _repeat(request, job, "set_off")
    form = SetOffForm(request.POST)
    if not form.is_valid():
        message = " ".join(form.errors["eta_minutes"])
        if request.htmx:
            return _render_card(request, job, note=message, kind="error", status=422)
        messages.error(request, message)
        return _jobs_page(request, status=422)
    eta = form.cleaned_data["eta_minutes"]
    return _step_response(
        request,
        job,
        "set_off",
        lambda j: services.installation_set_off(
            installation=j, eta_minutes=eta, actor=request.user, expected_version=_version(request)
        ),
        done_note=STEP_DONE[
            "set_off" if on_the_way_channel(job.customer) else "set_off_untold"
        ].format(eta=eta),
        eta=eta,
    )


def _plain_step(request: HttpRequest, pk: int, step: str, service: Callable) -> HttpResponse:
    """A step that needs nothing but the tap."""
    return _step_response(
        request,
        _job_for_handyman(request, pk),
        step,
        lambda j: service(installation=j, actor=request.user, expected_version=_version(request)),
        done_note=STEP_DONE[step],
    )


@post_only("handyman:job", "pk")
@login_required
@_given_away_answered
def arrive(request: HttpRequest, pk: int) -> HttpResponse:
    return _plain_step(request, pk, "arrive", services.installation_arrive)


@post_only("handyman:job", "pk")
@login_required
@_given_away_answered
def send_contract(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for_handyman(request, pk)
    sent = "send_contract" if reachable(job.customer) else "send_contract_unsent"
    return _step_response(
        request,
        job,
        "send_contract",
        lambda j: services.installation_send_contract(
            installation=j, actor=request.user, expected_version=_version(request)
        ),
        done_note=STEP_DONE[sent],
    )


# --- The close checklist ----------------------------------------------------------------------


def _checklist_done(request: HttpRequest, job: Installation, note: str, level: int) -> HttpResponse:
    messages.add_message(request, level, note)
    if request.htmx:
        # The checklist is its own page: after it, go back to the list (htmx follows this).
        response = HttpResponse(status=200)
        response["HX-Redirect"] = f"{reverse('handyman:jobs')}#job-{job.pk}"
        return response
    return _back_to_jobs(job)


def _checklist_page(
    request: HttpRequest, job: Installation, form: ChecklistForm, *, status: int = 200, error=""
) -> HttpResponse:
    ctx = {
        "job": job,
        "details": details_mark(job),
        "form": form,
        "error": error,
        "max_photo_bytes": settings.MAX_PHOTO_BYTES,
        "max_photo_mb": settings.MAX_PHOTO_BYTES // (1024 * 1024),
        "max_photo_megapixels": settings.MAX_PHOTO_PIXELS // 1_000_000,
        "limits": limits_sentence(),
        "max_photos": settings.MAX_PHOTOS_PER_JOB,
        "max_photo_total_bytes": settings.MAX_PHOTO_TOTAL_BYTES,
        "too_many": too_many_sentence(),
        "heic": heic_sentence("{name}"),
    }
    if request.htmx and request.method == "POST":
        # Only the error messages travel (out of band): the photos and the signature already on
        # the page stay where they are, so the handyman fixes only what is missing.
        return render(request, f"{CHECKLIST_TEMPLATE}#checklist-errors", ctx, status=status)
    if request.method == "POST":
        _say_photos_not_kept(request, form)
    return render(request, CHECKLIST_TEMPLATE, ctx, status=status)


def _say_photos_not_kept(request: HttpRequest, form: ChecklistForm) -> None:
    """A page drawn again without JavaScript cannot put chosen files back in their input: good
    photos refused only for another reason (a missing tick) were gone without a word, and the
    next "Mark done" was refused for them. Said as one more thing still needed."""
    chosen = len(request.FILES.getlist("photos"))
    if chosen and not form.errors.get("photos"):
        what = "the photo" if chosen == 1 else f"the {chosen} photos"
        form.add_error(
            "photos", f"Choose {what} again: this page cannot keep them after a refusal."
        )


@csrf_exempt  # checked below, once the photo counter is in place (see _complete)
@require_http_methods(["GET", "POST"])
@login_required
@_given_away_answered
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    # The counter must be first in the upload chain before anything reads the body, and the CSRF
    # middleware would read it (request.POST) before the view: so CSRF is checked by _complete.
    limit = PhotoLimitHandler(request)
    request.upload_handlers.insert(0, limit)
    return _complete(request, pk, limit)


@csrf_protect
def _complete(request: HttpRequest, pk: int, limit: PhotoLimitHandler) -> HttpResponse:
    job = _job_for_handyman(request, pk)
    if _passed(job, "complete"):
        # Opened again (Back after "Mark done", a bookmark): nothing was tried, so nothing to
        # call a repeat.
        said = STEP_ALREADY["complete"] if request.method == "POST" else CHECKLIST_CLOSED
        return _checklist_done(request, job, said, messages.INFO)
    if request.method == "GET":
        if "complete" not in {a.name for a in selectors.available_actions(job, request.user)}:
            messages.info(
                request,
                f"This job is “{job.get_status_display()}”: the checklist opens once you have "
                "arrived on site.",
            )
            return _back_to_jobs(job)
        return _checklist_page(request, job, ChecklistForm())

    form = ChecklistForm(request.POST, request.FILES, limit=limit)
    if not form.is_valid():
        return _checklist_page(request, job, form, status=422)
    data = form.cleaned_data
    try:
        services.installation_complete(
            installation=job,
            photos=data["photos"],
            signature_png=data["signature"],
            signer_name=data["signer_name"],
            typed=data["typed_signature"],
            notes=data["notes"],
            actor=request.user,
            expected_version=_version(request),
        )
    except services.TransitionRefused as refused:
        job = _reload(request, pk)
        if _passed(job, "complete"):
            return _checklist_done(request, job, STEP_ALREADY["complete"], messages.INFO)
        error = _refused_sentence(request, job, "complete", refused)
        return _checklist_page(request, job, form, status=409, error=error)
    except ValidationError as invalid:
        # The service's own per-job limits, checked under the row lock.
        for field, errors in invalid.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _checklist_page(request, job, form, status=422)
    return _checklist_done(request, job, STEP_DONE["complete"], messages.SUCCESS)


# --- Follow-up visit --------------------------------------------------------------------------


@post_only("handyman:job", "pk")
@login_required
@_given_away_answered
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for_handyman(request, pk)
    form = OneTimeForm(request.POST)
    if not form.is_valid():  # a garbled token: refused before anything is booked
        message = " ".join(form.non_field_errors())
        if request.htmx:
            return _render_card(request, job, note=message, kind="error", status=422)
        messages.error(request, message)
        return _jobs_page(request, status=422)
    try:
        # A double tap (or a second visit asked for before the first is scheduled) books nothing
        # new: one open follow-up visit is what the partner needs to schedule.
        child, booked = services.installation_ensure_follow_up(
            installation=job, actor=request.user, token=form.cleaned_data["token"]
        )
    except services.TransitionRefused as refused:
        job = _reload(request, pk)
        return _conflict(request, job, _follow_up_refused(job, refused))
    if booked:
        note = f"Follow-up visit booked (#{child.pk}). The office will schedule it."
        level = messages.SUCCESS
    else:
        note = f"A follow-up visit is already booked (#{child.pk}); the office will schedule it."
        level = messages.INFO
    job = _reload(request, pk)
    if request.htmx:
        # The card's own follow-up line is the confirmation (announced), not a second note.
        return _render_card(request, job, follow_up_note=note)
    messages.add_message(request, level, note)
    return _back_to_jobs(job)


def _follow_up_refused(job: Installation, refused: services.TransitionRefused) -> str:
    """A follow-up asked for on a job that fell through while his page was open, in his words:
    the services' sentence ("rebook it instead") names the office's step, which he cannot take."""
    if job.status in (Status.CANCELLED, Status.REJECTED):
        return (
            f"#{job.pk} {SITUATIONS[job.status]}, so no follow-up visit can be booked for it: "
            "the office decides whether it goes ahead. Nothing was booked."
        )
    return refused.message


__all__ = [
    "arrive",
    "complete",
    "follow_up",
    "job",
    "jobs",
    "send_contract",
    "set_off",
]
