"""What each live page re-renders when its installations change: a registry keyed by the page's
URL name. A renderer gets the changed ids (already scoped to the user's partner or handyman) and
the page as the browser shows it, and returns the swaps; it never reads another scope's rows.

Wiring another page (the dispatch board, after the merge) is one function here:

    @renders("partner:board")
    def board_parts(page: Page) -> list[Part]:
        qs = selectors.installations_for_partner(page.owner_id).filter(pk__in=page.on_page_changed)
        return [Part(f"card-{i.pk}", render_to_string("installations/board/board.html#card",
                 {"inst": i}, request=page.request), i) for i in qs]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone

from .. import history_text, selectors
from ..board.live import board_changes, where_now
from ..formatting import duration_text
from ..models import Installation
from ..refusals import no_longer_yours
from ..statuses import Status
from ..views import handyman as handyman_views
from ..views import partner as partner_views


@dataclass
class Page:
    """The page asking: who, which page (URL name, kwargs, query), what it shows."""

    request: HttpRequest
    owner_id: int  # the partner's id (partner pages) or the handyman's (his page)
    changed: list[int]  # installations changed since the page's stamp, in scope
    view_name: str
    kwargs: dict[str, Any]
    query: QueryDict
    path: str  # the page's own path and query (where its action forms come back to)
    # The rows or cards the page shows now (`data-live-pk`), with where they sit if it says.
    on_page: dict[int, str] = field(default_factory=dict)

    @property
    def on_page_changed(self) -> list[int]:
        return [pk for pk in self.changed if pk in self.on_page]


@dataclass
class Part:
    """One swap: the element `target` (an id) replaced by `html`. `installation`, when given,
    is the record it shows: the page skips a swap it already shows (same version) and
    highlights and announces the others."""

    target: str
    html: str
    installation: Installation | None = None
    # The changed records this swap shows (when not just `installation`): the page skips the
    # swap when it already shows all of them at these versions.
    pks: tuple[int, ...] = ()
    # What to announce for `installation` instead of its status, and how (a flash level).
    say: str = ""
    kind: str = "info"
    # Where the record now is, said after what changed ("now with Hank on Sat 5 Dec 09:00–11:00":
    # the board, where who and when is the news and a card may have left the screen).
    where: str = ""


# The swaps, and the changed records that now belong on the page but are not on it (the page
# offers to show them; it keeps them by id, so a record that changes twice is counted once).
Renderer = Callable[[Page], tuple[list[Part], list[int]]]
RENDERERS: dict[str, Renderer] = {}


def renders(view_name: str) -> Callable[[Renderer], Renderer]:
    def register(renderer: Renderer) -> Renderer:
        RENDERERS[view_name] = renderer
        return renderer

    return register


# --- The partner's list ----------------------------------------------------------------------

LEFT_FILTER = "Changed: it no longer matches these filters and leaves this list when you reload."


@renders("partner:list")
def list_parts(page: Page) -> tuple[list[Part], list[int]]:
    """The changed rows the page shows (a row that left the filter stays, updated and marked,
    so nothing jumps under the pointer), the status cards, and how many changed rows now match
    the filter but are not on this page (the page offers to show them; it never inserts rows
    into a sorted, paginated table by itself)."""
    partner = page.request.user.partner_profile.partner
    filterset, valid = partner_views._list_filter(page.query, partner)
    matching = (
        set(filterset.qs.filter(pk__in=page.changed).order_by().values_list("pk", flat=True))
        if valid
        else set()
    )
    shown = selectors.list_rows(
        selectors.installations_for_partner(partner).filter(pk__in=page.on_page_changed)
    )
    parts = [
        Part(
            f"row-{row.installation.pk}",
            render_to_string(
                f"{partner_views.LIST_TEMPLATE}#installation-row",
                {
                    "row": row,
                    "next_url": page.path,
                    "row_confirmation": "" if row.installation.pk in matching else LEFT_FILTER,
                },
                request=page.request,
            ),
            row.installation,
        )
        for row in partner_views._rows(shown, page.request.user)
    ]
    cards = partner_views._cards_context(partner, page.query, filterset, valid)
    parts.append(
        Part(
            "cards",
            render_to_string(f"{partner_views.LIST_TEMPLATE}#cards", cards, request=page.request),
        )
    )
    return parts, sorted(matching - set(page.on_page))


# --- The partner's detail page ---------------------------------------------------------------

DETAIL_PARTS = ("detail-status", "detail-actions", "detail-facts", "detail-timeline")


@renders("partner:detail")
def detail_parts(page: Page) -> tuple[list[Part], list[int]]:
    pk = page.kwargs.get("pk")
    if pk not in page.changed:
        return [], []
    inst = (
        selectors.installations_for_partner(page.request.user.partner_profile.partner_id)
        .filter(pk=pk)
        .first()
    )
    if inst is None:
        return [], []
    ctx = {
        "installation": inst,
        "actions": partner_views._actions(inst, page.request.user),
        "history": history_text.record_history(inst),
        "photos": inst.photos.all(),
        "time_on_site": duration_text(inst.time_on_site),
        "next_url": page.path,
    }
    return [
        Part(
            name,
            render_to_string(f"installations/detail.html#{name}", ctx, request=page.request),
            inst,
        )
        for name in DETAIL_PARTS
    ], []


# --- The handyman's page ----------------------------------------------------------------------


def _where(job: Installation | None, handyman_id: int) -> str:
    """Which list of his page a job belongs in: "today", one of the next days (its ISO date),
    "later" (behind the link: never a card on the page, so a change there re-renders the lists
    and their count), "finished" or "" (not on his page)."""
    if job is None or job.handyman_id != handyman_id:
        return ""
    if job.status in handyman_views.ACTIVE_STATUSES:
        today = timezone.localdate()
        if handyman_views._is_today(job, today):
            return "today"
        if job.scheduled_date > today + timedelta(days=handyman_views.NEXT_DAYS):
            return "later"
        return job.scheduled_date.isoformat()
    recent = timezone.now() - timedelta(days=handyman_views.FINISHED_DAYS)
    return "finished" if job.completed_at and job.completed_at >= recent else ""


def _left_cards(page: Page, wheres: dict[int, str], handyman_id: int) -> dict[int, Part]:
    """The cards his page shows that just left its lists (to another handyman, cancelled,
    moved behind "Later"), each with the sentence that says why. Only a job whose change was
    recorded for him (`page.changed`) is read, so he learns no more than that it left him, and
    never who has it now: that is the office's to tell."""
    gone = [
        pk
        for pk, where in wheres.items()
        if where in ("", "later") and page.on_page.get(pk) not in (None, "", "later")
    ]
    if not gone:
        return {}
    today = timezone.localdate()
    return {
        job.pk: Part("", "", job, say=_left_sentence(job, handyman_id, today), kind="warning")
        for job in Installation.objects.filter(pk__in=gone).select_related("customer")
    }


def _left_sentence(job: Installation, handyman_id: int, today: date) -> str:
    name = f"#{job.pk} {job.customer.name}"
    if job.status == Status.CANCELLED:
        return f"{name} was cancelled: it is off your list."
    if gone := no_longer_yours(job, handyman_id):
        return f"{name} {gone}."
    if job.status in handyman_views.ACTIVE_STATUSES:  # still his, beyond the next days
        day = handyman_views._day(job.scheduled_date, today)
        return f"{name} was moved to {day}: it is under “Later” now."
    return f"{name} is off your list: it is now “{job.get_status_display()}”."


@renders("handyman:jobs")
def handyman_parts(page: Page) -> tuple[list[Part], list[int]]:
    """A changed card that stays where it is is swapped alone; a job that arrived, left or moved
    to another day's list re-renders his lists (bounded: jobs_context reads through LIMITs)."""
    handyman = page.request.user.handyman
    jobs = {
        job.pk: job
        for job in handyman_views._jobs(handyman).filter(pk__in=page.changed)  # 1 query
    }
    wheres = {pk: _where(jobs.get(pk), handyman.pk) for pk in page.changed}
    # The finished list has no card partial: a change there re-renders the lists too.
    moved = any(
        where != page.on_page.get(pk, "") or where == "finished" for pk, where in wheres.items()
    )
    changed = [jobs[pk] for pk in page.changed if pk in jobs]
    if moved:
        ctx = handyman_views.jobs_context(handyman, page.request.user)
        html = render_to_string(
            f"{handyman_views.JOBS_TEMPLATE}#job-lists", ctx, request=page.request
        )
        left = _left_cards(page, wheres, handyman.pk)
        # The lists as one swap; each changed job still highlighted and announced, and a card
        # that left says why (he may be about to drive there).
        announced = [left.pop(job.pk, None) or Part("", "", job) for job in changed]
        return [Part("job-lists", html), *announced, *left.values()], []
    return [
        Part(
            f"job-{job.pk}",
            render_to_string(
                f"{handyman_views.JOBS_TEMPLATE}#job-card",
                {"card": handyman_views._card(job, page.request.user)},
                request=page.request,
            ),
            job,
        )
        for job in changed
    ], []


# --- The dispatch board -----------------------------------------------------------------------
# A week holds hundreds of cards: too many to list in every question, so the board's feed
# element says `data-live-locate` and sends no rows; when something changed, the renderer asks
# where the changed cards sit (Locate) and live.js asks again at once with just those.


class Locate(Exception):  # noqa: N818 (a question back to the page, not an error)
    """The page must say where these records sit (`rows`, with `located=1`) before its swaps
    can be drawn."""

    def __init__(self, pks: list[int]) -> None:
        super().__init__(pks)
        self.pks = pks


@renders("board:week")
def board_parts(page: Page) -> tuple[list[Part], list[int]]:
    if page.request.GET.get("located") != "1":
        raise Locate(page.changed)
    changes = board_changes(
        page.request, page.owner_id, page.query, page.changed, page.on_page, page.path
    )
    parts = [Part(s.target, s.html, s.installation, s.pks) for s in changes.swaps]
    swapped = {s.installation.pk for s in changes.swaps if s.installation is not None}
    # The others (they moved: another cell, row, day, or off the page) are announced with where
    # they are now and highlighted once their cells are in. A card redrawn in its place is not.
    parts += [
        Part("", "", inst, where=where_now(inst))
        for inst in changes.shown
        if inst.pk not in swapped
    ]
    return parts, changes.entered
