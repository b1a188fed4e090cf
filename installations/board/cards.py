"""A board card's HTML, written in Python.

A week of a big partner holds hundreds of cards; through the template engine (a partial, the
badge include, two forms) each cost about half a millisecond, most of the page's time (the
same finding as widgets.FastSelect, docs/benchmarks.md). These write the markup with str.format
and the standard library's escape; `render_cards` is the one step the board and a later live
feed share.
The badge is the `_status_badge.html` partial's markup (tests/board/test_cards.py compares them).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from html import escape
from operator import methodcaller
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString, mark_safe

from ..models import Installation
from ..refusals import refusal_sentence
from ..statuses import Status, group_of
from .selectors import Job

if TYPE_CHECKING:
    from ..models import Handyman
    from .views import Card, CardActions, Cell, Row

BADGE = '<span class="badge badge-{}"><span class="visually-hidden">Status: </span>{}</span>'

ACTION = (
    '<form method="get" action="{url}" hx-get="{url}" hx-target="#action-dialog-body" '
    'hx-swap="innerHTML" data-opens-dialog data-action="{name}">'
    '<input type="hidden" name="version" value="{version}">'
    '<input type="hidden" name="next" value="{next}">'
    '<button type="submit" class="button button-small" aria-describedby="job-{pk}">{label}'
    "</button></form>"
)


def badge(job: Job) -> SafeString:
    return mark_safe(_status_bits(job.status)[1])  # noqa: S308 (escaped in _status_bits)


def _e(value: object) -> str:
    # The standard library's escape: what Django's escape() does, without its lazy-string
    # wrapper around every call (a week's cards make about twenty thousand of them).
    return escape(str(value), quote=True)


def _braced(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@lru_cache(maxsize=256)
def actions_html(actions: CardActions, next_url: str) -> str:
    """The forms of the cards that share `actions` (all cards of one status), with `{pk}` and
    `{version}` left to fill: written once per status and page, not once per card."""
    if not actions:
        return ""
    forms = "".join(
        ACTION.format(
            url=f"{_braced(_e(a.head))}{{pk}}{_braced(_e(a.tail))}",
            name=a.name,
            version="{version}",
            next=_braced(next_url),
            pk="{pk}",
            label=_braced(_e(a.label)),
        )
        for a in actions
    )
    return f'<div class="job-actions">{forms}</div>'


@lru_cache(maxsize=64)
def _status_bits(status: str) -> tuple[str, str]:
    """What every card of one status shares: its colour class and its badge."""
    group = group_of(status)
    return f"job job-{group.colour}", BADGE.format(group.colour, _e(Status(status).label))


_hhmm = lru_cache(maxsize=512)(methodcaller("strftime", "%H:%M"))  # a week has a few windows


def _drop_refusals(card: Card) -> str:
    """What board.js says when a drop asks a card for an action it does not offer (an En route
    job dragged to another day): the sentence the server would answer with, written here so
    that the board never words a refusal itself."""
    job = card.job
    offered = {a.name for a in card.actions}
    give = "assign" if job.status == Status.SCHEDULED else "reassign"
    return "".join(
        f' data-refused-{name}="{_e(refusal_sentence(job, name))}"'
        for name in ("reschedule", give)
        if name not in offered
    )


def _card(card: Card, next_url: str, where: str) -> str:
    job = card.job
    pk, version = job.pk, job.version
    classes, badge_html = _status_bits(job.status)
    finished = card.finished
    if finished:
        classes += " is-finished"
    if card.day_off:
        classes += " is-flagged"
    start, end = _hhmm(job.window_start), _hhmm(job.window_end)
    # `where` is our own "<handyman id or u>-<digits>": nothing in it to escape.
    live = f' data-live-pk="{pk}" data-live-where="{where}"' if where else ""
    draggable = f" data-draggable{_drop_refusals(card)}" if card.actions and not finished else ""
    return (
        f'<li id="card-{pk}" class="{classes}" data-pk="{pk}" data-version="{version}" '
        f'data-status="{job.status}" data-day="{job.scheduled_date.isoformat()}" '
        f'data-window-start="{start}" data-window-end="{end}" '
        f'data-handyman="{job.handyman_id or ""}"'
        f"{draggable}{live}>"
        f'<p class="job-when">{start}–{end}</p>'
        f'<p class="job-who"><a id="job-{pk}" href="{_e(card.link)}">{_e(job.customer_name)} '
        f'<span class="job-number">#{pk}</span></a></p>'
        f'<p class="job-where">{_e(card.town)}</p>'
        f'<p class="job-status">{badge_html}'
        f"{FOLLOW_UP if job.kind == Installation.Kind.FOLLOW_UP else ''}"
        f"{FINISHED if finished else ''}</p>"
        f"{DAY_OFF if card.day_off else ''}"
        f"{actions_html(card.actions, next_url).format(pk=pk, version=version)}</li>"
    )


FOLLOW_UP = ' <span class="tag">Follow-up</span>'
FINISHED = ' <span class="visually-hidden">(finished)</span>'
DAY_OFF = '<p class="job-flag">Day off: move or reassign this job</p>'


def render_card(card: Card, next_url: str, where: str = "") -> SafeString:
    """One card. `next_url` is already escaped (render_cards escapes it once). `where` is its
    cell (`Cell.where`): live.js tells the feed where a changed card sits on the page."""
    return mark_safe(_card(card, next_url, where))  # noqa: S308 (every value is escaped or ours)


def render_cards(cards: Iterable[Card], next_url: str, where: str = "") -> SafeString:
    """The cards' HTML, each `<li id="card-<pk>" data-version=…>` as the board draws it: for the
    board's cells and for anything that redraws cards later (a live feed)."""
    escaped = _e(next_url)  # once, not in every card's every form
    return mark_safe("".join([_card(card, escaped, where) for card in cards]))  # noqa: S308


# A cell of the grid: the `lane-cell` and `handyman-cell` partials of board.html print these. A
# week holds 182 cells; through the template engine they cost more than all their cards.
LANE_CELL = (
    '<td id="cell-{where}"><ul class="cell-jobs" data-lane data-day="{day}"{window} '
    'aria-label="Unassigned, {label}">{cards}</ul>{more}</td>'
)
HANDYMAN_CELL = (
    '<td id="cell-{where}"{td_class}>{note}<ul class="cell-jobs" data-handyman="{pk}" '
    'data-handyman-name="{name}" data-day="{day}"{window}{day_off} '
    'aria-label="{name}, {label}{off_label}">{cards}</ul></td>'
)


def _window(cell: Cell) -> str:
    column = cell.column
    if not column.window:
        return ""
    return f' data-window-start="{column.start}" data-window-end="{column.end}"'


def lane_cell(cell: Cell) -> SafeString:
    more = ""
    if cell.more > 0:
        more = f'<a class="lane-more" href="{_e(cell.more_url)}">{cell.more} more on this day</a>'
    html = LANE_CELL.format(
        where=_e(cell.where),
        day=cell.column.iso,
        window=_window(cell),
        label=_e(cell.column.label),
        cards=cell.html,
        more=more,
    )
    return mark_safe(html)  # noqa: S308 (every value above is escaped or our own)


def handyman_head(row: Row, day_view: bool) -> SafeString:
    """A row's heading: the handyman, his phone, his jobs and hours of the period."""
    handyman = row.handyman
    phone = ""
    if handyman.phone:
        number = _e(handyman.phone)
        phone = f'<a class="handyman-phone" href="tel:{number.replace(" ", "")}">{number}</a>'
    booked = row.booked
    if booked:
        plural = "" if booked.jobs == 1 else "s"
        text = f"{booked.jobs} job{plural}, {booked.hours}"
    else:
        text = "No jobs"
    html = (
        f'<th scope="row" id="handyman-{handyman.pk}">'
        f'<span class="handyman-name">{_e(handyman.display_name)}</span> {phone} '
        f'<span class="handyman-booked">{text} {"this day" if day_view else "this week"}</span>'
        "</th>"
    )
    return mark_safe(html)  # noqa: S308 (every value above is escaped or our own)


def handyman_cell(cell: Cell, handyman: Handyman) -> SafeString:
    name = _e(handyman.display_name)
    html = HANDYMAN_CELL.format(
        where=_e(cell.where),
        td_class=' class="is-day-off"' if cell.day_off else "",
        note='<p class="day-off-note">Day off</p>' if cell.day_off else "",
        pk=handyman.pk,
        name=name,
        day=cell.column.iso,
        window=_window(cell),
        day_off=" data-day-off" if cell.day_off else "",
        label=_e(cell.column.label),
        off_label=", day off" if cell.day_off else "",
        cards=cell.html,
    )
    return mark_safe(html)  # noqa: S308 (every value above is escaped or our own)
