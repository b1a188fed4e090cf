"""The dispatch board: a partner's week (or day) by handyman, with the Unassigned lane.

The board only reads. Every change it offers is the list's own Assign / Reassign dialog or the
Reschedule page (scheduling room), opened from a card as a plain link-like form (no JavaScript
needed) or posted by board.js after a drop, with the card's version: the same views, the same
services, the same refusals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import cached_property
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET

from .. import selectors as core_selectors
from ..filters import InstallationFilter
from ..forms import WINDOWS
from ..live.selectors import partner_page_feed
from ..models import Handyman, Installation, Partner
from ..scheduling import rules as scheduling_rules
from ..scheduling.rules import BUSY_STATUSES, may_reschedule
from ..scheduling.selectors import days_off
from ..statuses import TERMINAL_STATUSES, Status
from ..views.common import WrongRole
from . import selectors
from .cards import render_cards

TEMPLATE = "installations/board/board.html"
# The actions a card offers: the partner portal's dialogs (and the scheduling room's page).
CARD_ACTIONS = {
    "assign": "partner:assign",
    "reassign": "partner:reassign",
}
RESCHEDULE_URL = "scheduling:reschedule"


# --- The period --------------------------------------------------------------------------------

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
FIRST_YEAR, LAST_YEAR = 2000, 2999  # far enough for anyone; keeps prev/next inside date's range


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    day: date | None = None  # the day view's day

    @classmethod
    def week_of(cls, day: date) -> Period:
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=6))

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def week(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    def shifted(self, days: int) -> dict[str, str | None]:
        """The query parameters of the period `days` later (earlier when negative)."""
        if self.day is not None:
            return {"day": (self.day + timedelta(days=days)).isoformat(), "week": None}
        return {"week": Period.week_of(self.start + timedelta(days=days)).week, "day": None}


def week_start(text: str) -> date:
    """The Monday of an ISO week written `2026-W49`; ValueError when there is no such week."""
    match = WEEK.match(text)
    if not match:
        raise ValueError(text)
    year, week = int(match.group(1)), int(match.group(2))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(text)
    return date.fromisocalendar(year, week, 1)


class BoardForm(forms.Form):
    """The board's own parameters (the list's FilterSet reads the search and group)."""

    week = forms.CharField(required=False, max_length=8)
    day = forms.DateField(
        required=False, input_formats=["%Y-%m-%d"], error_messages={"invalid": "Enter a day."}
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)
    hide_finished = forms.BooleanField(label="Hide finished jobs", required=False)
    # The week's rows after the first FIRST_ROWS of the page (asked when they scroll into view),
    # or every row of the page at once (the link that stands for them without JavaScript).
    after = forms.IntegerField(required=False, min_value=1, max_value=selectors.HANDYMEN_PER_PAGE)
    rows = forms.ChoiceField(required=False, choices=[("all", "all")])

    def clean_week(self) -> date | None:
        text = self.cleaned_data["week"]
        if not text:
            return None
        try:
            return week_start(text)
        except ValueError:
            raise forms.ValidationError(
                "Choose a week written like 2026-W49 (a year, W and the week number)."
            ) from None

    def clean_day(self) -> date | None:
        day = self.cleaned_data["day"]
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise forms.ValidationError(f"Choose a day between {FIRST_YEAR} and {LAST_YEAR}.")
        return day


def _param(form: BoardForm, name: str) -> Any:
    return form.cleaned_data.get(name) if name not in form.errors else None


def period_of(form: BoardForm, today: date) -> Period:
    day, week = _param(form, "day"), _param(form, "week")
    if day is not None:
        return Period(day, day, day=day)
    return Period.week_of(week or today)


# --- The cards ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardAction:
    """An action the cards of one status offer: its URL is `head`, the job's id, `tail`. One
    tuple of these is shared by every card of that status (cards.py writes its forms once)."""

    name: str
    label: str
    head: str
    tail: str

    def url(self, pk: int) -> str:
        return f"{self.head}{pk}{self.tail}"


CardActions = tuple[CardAction, ...]


@dataclass(frozen=True)
class Card:
    job: selectors.Job
    actions: CardActions
    link: str  # the job's own page: the partner's detail page, or the admin's change page
    day_off: bool = False

    @property
    def finished(self) -> bool:
        return self.job.status in TERMINAL_STATUSES

    @property
    def town(self) -> str:
        # Addresses are written "12 High Street, Townsville": the town is the last part.
        return self.job.site_address.rsplit(",", 1)[-1].strip()

    @property
    def draggable(self) -> bool:
        return bool(self.actions) and not self.finished


def url_parts(name: str) -> tuple[str, str] | None:
    """A record URL's text before and after its id: reverse() once, not once per card (a week
    holds hundreds of cards). None when the URL does not exist (yet)."""
    marker = 987654321
    try:
        pattern = reverse(name, args=[marker])
    except NoReverseMatch:
        return None
    head, tail = pattern.split(str(marker), 1)
    return head, tail


def _url_maker(name: str) -> Callable[[int], str] | None:
    parts = url_parts(name)
    if parts is None:
        return None
    head, tail = parts
    return lambda pk: f"{head}{pk}{tail}"


def card_actions_for(user: Any) -> Callable[[selectors.Job], CardActions]:
    """The actions a card offers, from the state machine (as the list's buttons are) and the
    scheduling room's rule. All cards of one status have the same ones for one user (the board
    is one partner's), so they are asked once per status, of an unsaved stand-in record."""
    parts = {name: url_parts(url) for name, url in CARD_ACTIONS.items()}
    reschedule = url_parts(RESCHEDULE_URL)
    cache: dict[str, CardActions] = {}

    def actions(job: selectors.Job) -> CardActions:
        found = cache.get(job.status)
        if found is None:
            installation = Installation(partner_id=job.partner_id, status=job.status)
            found = tuple(
                CardAction(a.name, a.label, *parts[a.name])  # type: ignore[misc]
                for a in core_selectors.available_actions(installation, user)
                if parts.get(a.name) is not None
            )
            if reschedule is not None and may_reschedule(installation, user):
                found += (CardAction("reschedule", "Reschedule", *reschedule),)
            cache[job.status] = found
        return found

    return actions


def build_cards(
    jobs: Iterable[selectors.Job],
    *,
    actions: Callable[[selectors.Job], CardActions] | None,
    link: Callable[[int], str],
    days_off: set[tuple[int, date]] | frozenset = frozenset(),
) -> list[Card]:
    """The one step from installations to cards, for the board and for anything that redraws
    cards later (a live feed): both draw them with cards.render_cards."""
    return [
        Card(
            job,
            actions(job) if actions is not None else (),
            link(job.pk),
            # A job still to do on a day its handyman has since marked off (the scheduling
            # room's rule: jobs that hold his time).
            day_off=job.status in BUSY_STATUSES
            and (job.handyman_id, job.scheduled_date) in days_off,
        )
        for job in jobs
    ]


def partner_link() -> Callable[[int], str]:
    maker = _url_maker("partner:detail")
    assert maker is not None
    return maker


# --- The grid ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A day (week view) or an arrival window (day view). Its words are written once here, not
    by template filters in each of the 26 rows' cells."""

    key: Any
    day: date
    window: tuple[time, time] | None = None

    @property
    def is_today(self) -> bool:
        return self.day == timezone.localdate()

    @cached_property
    def iso(self) -> str:
        return self.day.isoformat()

    @cached_property
    def start(self) -> str:
        return self.window[0].strftime("%H:%M") if self.window else ""

    @cached_property
    def end(self) -> str:
        return self.window[1].strftime("%H:%M") if self.window else ""

    @cached_property
    def code(self) -> str:
        """The column in a cell's id: the day (20261203) or the window (09001100)."""
        if self.window:
            return f"{self.window[0]:%H%M}{self.window[1]:%H%M}"
        return f"{self.day:%Y%m%d}"

    @cached_property
    def label(self) -> str:
        """What a cell's list is called: "Wednesday 2 December" or "08:00–10:00"."""
        if self.window:
            return f"{self.start}–{self.end}"
        return dateformat.format(self.day, "l j F")


@dataclass
class Cell:
    column: Column
    cards: list[Card] = field(default_factory=list)
    day_off: bool = False
    more: int = 0
    more_url: str = ""
    html: str = ""  # the cards, drawn by cards.render_cards
    where: str = ""  # "<handyman id or u>-<column code>": its id, and its cards' place for live.js


def cell_where(handyman_id: int | None, column: Column) -> str:
    return f"{handyman_id or 'u'}-{column.code}"


@dataclass(frozen=True)
class Row:
    handyman: Handyman
    booked: selectors.Booked | None
    cells: list[Cell]


# The standard two-hour windows: always columns of the day view, so an empty day has targets.
STANDARD_WINDOWS = sorted(
    (start, end) for start, end in WINDOWS.values() if (end.hour - start.hour) == 2
)


def columns_for(period: Period, jobs: Iterable[selectors.Job]) -> list[Column]:
    """Days for a week; for a day, its arrival windows: the standard two-hour windows and any
    other window a job of that day has, in time order."""
    if period.day is None:
        return [Column(day, day) for day in period.days]
    windows = set(STANDARD_WINDOWS) | {(j.window_start, j.window_end) for j in jobs}
    return [Column(window, period.day, window) for window in sorted(windows)]


def _key(period: Period, job: selectors.Job) -> Any:
    return job.scheduled_date if period.day is None else (job.window_start, job.window_end)


def _cells(period: Period, columns: list[Column], cards: Iterable[Card]) -> list[Cell]:
    cells = {column.key: Cell(column) for column in columns}
    for card in cards:
        cell = cells.get(_key(period, card.job))
        if cell is not None:
            cell.cards.append(card)
    return list(cells.values())


def _list_url(**params: str) -> str:
    query = QueryDict(mutable=True)
    query.update(params)
    return f"{reverse('partner:list')}?{query.urlencode()}"


def _is_fragment(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


# The week view draws the first rows of a page at once and the page's other handymen when
# their row scrolls into view: a screen or two holds about eight rows, and each row of a big
# partner's week is a dozen cards (docs/decisions.md, "the board's rows arrive as they are seen").
FIRST_ROWS = 6


def board_context(
    request: HttpRequest,
    partner: Partner,
    *,
    actions: Callable[[selectors.Job], CardActions] | None,
    link: Callable[[int], str],
    overdue: int | None = None,
    first_rows: int | None = None,
) -> dict[str, Any]:
    """Everything the board draws, for the partner's page and the admin's: a constant number of
    queries (handymen page, their jobs, booked hours, the lane, the overdue count, days off).

    `first_rows`: the week view draws that many rows of the page, and a row that asks for the
    others (`?after=`: those rows alone, no lane, no count; `?rows=all`: the whole page)."""
    today = timezone.localdate()
    form = BoardForm(request.GET)
    form.is_valid()
    period = period_of(form, today)
    page = _param(form, "page") or 1
    hide_finished = bool(_param(form, "hide_finished"))
    week_view = period.day is None
    # Only the page's own request for its other rows (htmx) gets rows alone; a full page
    # always starts at the page's first row.
    fetching_rows = bool(first_rows) and week_view and _is_fragment(request)
    after = (_param(form, "after") or 0) if fetching_rows else 0
    lazy = bool(first_rows) and week_view and not after and _param(form, "rows") != "all"

    # The list's own filters, search and status group only (the board is its own date filter).
    wanted = QueryDict(mutable=True)
    for name in ("q", "group"):
        if name in request.GET:
            wanted[name] = request.GET[name]
    # A short search tests each job of the board's days: no window of the newest (filters).
    filterset = InstallationFilter(
        wanted,
        queryset=core_selectors.installations_for_partner(partner),
        partner=partner,
        window=False,
    )
    filters_valid = filterset.is_valid()
    jobs = filterset.qs if filters_valid else filterset.queryset.none()
    if hide_finished:
        jobs = jobs.exclude(status__in=TERMINAL_STATUSES)
    # Nothing narrows the board: its handymen's jobs are all their jobs of the period.
    every_job = filters_valid and not hide_finished and not any(wanted.values())

    handymen = selectors.board_handymen(partner, page=page)
    shown = handymen.handymen[after:]
    if lazy:
        shown = shown[:first_rows]
    more_rows = len(handymen.handymen) - len(shown) - after
    ids = [h.pk for h in shown]
    assigned = selectors.handymen_jobs(jobs, handyman_ids=ids, start=period.start, end=period.end)
    per_day = selectors.LANE_PER_DAY if period.day is None else selectors.LANE_PER_DAY_DAY_VIEW
    if after:  # rows only: the lane and the overdue count are on the page already
        lane, overdue = selectors.Lane([], {}), 0
    else:
        lane = selectors.unassigned_lane(jobs, start=period.start, end=period.end, per_day=per_day)
    if every_job:
        booked = selectors.booked_from(assigned)
    else:
        booked = selectors.booked(partner, handyman_ids=ids, start=period.start, end=period.end)
    if overdue is None:
        overdue = selectors.overdue_unassigned(partner, today=today)
    blocked = days_off(ids, period.start, period.end)

    columns = columns_for(period, [*assigned, *lane.jobs])
    # Today's day view: its first window not yet over, where a phone opens (board.js).
    now_column = ""
    if period.day is not None:
        now = scheduling_rules.local_now()
        if period.day == now.date():
            open_ = (c.code for c in columns if c.window and now.time() < c.window[1])
            now_column = next(open_, "")
    by_handyman: dict[int, list[selectors.Job]] = {}
    for job in assigned:
        by_handyman.setdefault(job.handyman_id, []).append(job)  # type: ignore[arg-type]
    rows = []
    for handyman in shown:
        cells = _cells(
            period,
            columns,
            build_cards(
                by_handyman.get(handyman.pk, []), actions=actions, link=link, days_off=blocked
            ),
        )
        for cell in cells:
            cell.day_off = (handyman.pk, cell.column.day) in blocked
            cell.where = cell_where(handyman.pk, cell.column)
        rows.append(Row(handyman, booked.get(handyman.pk), cells))
    lane_cells = _cells(period, columns, build_cards(lane.jobs, actions=actions, link=link))
    for cell in lane_cells:
        cell.where = cell_where(None, cell.column)
        if period.day is None:
            cell.more = lane.totals.get(cell.column.day, 0) - len(cell.cards)
            day = cell.column.day.isoformat()
            cell.more_url = _list_url(status=Status.SCHEDULED, date_from=day, date_to=day)
    lane_more = 0
    if period.day is not None:
        lane_more = lane.totals.get(period.day, 0) - len(lane.jobs)

    next_url = request.get_full_path()
    for cell in [*lane_cells, *(cell for row in rows for cell in row.cells)]:
        cell.html = render_cards(cell.cards, next_url, where=cell.where)

    yesterday = (today - timedelta(days=1)).isoformat()
    return {
        "form": form,
        "filter": filterset,
        "filter_form": filterset.form,
        "filters_valid": filters_valid,
        "period": period,
        "today": today,
        "prev_query": period.shifted(-1 if period.day else -7),
        "next_query": period.shifted(1 if period.day else 7),
        "columns": columns,
        "now_column": now_column,
        "rows": rows,
        "lane_cells": lane_cells,
        "lane_more": lane_more,
        "lane_more_url": period.day
        and _list_url(
            status=Status.SCHEDULED,
            date_from=period.day.isoformat(),
            date_to=period.day.isoformat(),
        ),
        "handymen": handymen,
        "after": after,
        "more_rows": more_rows,
        "more_from": after + len(rows),
        "overdue": overdue,
        "overdue_url": _list_url(status=Status.SCHEDULED, date_to=yesterday, sort="date"),
        "hide_finished": hide_finished,
        "next_url": next_url,
        "acting": actions is not None,
    }


# --- The page ----------------------------------------------------------------------------------


def _partner_for(request: HttpRequest) -> Partner:
    profile = getattr(request.user, "partner_profile", None)
    if profile is None:
        raise WrongRole("No partner for this user.")
    return profile.partner


@require_GET
@login_required
def board_week(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    full_page = not _is_fragment(request)
    # The live feed's stamp is read before the board's rows (see live.selectors), with the
    # overdue count in one query; a redraw after a drop (htmx) keeps the page's feed and stamp.
    live, overdue = None, None
    if full_page:
        seq, overdue = selectors.stamp_and_overdue(partner.pk, today=timezone.localdate())
        live = partner_page_feed(request.user, locate=True, seq=seq)
    ctx = board_context(
        request,
        partner,
        actions=card_actions_for(request.user),
        link=partner_link(),
        overdue=overdue,
        first_rows=FIRST_ROWS,
    )
    ctx["board_url"] = reverse("board:week")
    ctx["live"] = live
    if not full_page:
        return render(request, f"{TEMPLATE}#{'rows' if ctx['after'] else 'board'}", ctx)
    return render(request, TEMPLATE, ctx)
