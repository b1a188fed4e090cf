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
from html import escape
from typing import TYPE_CHECKING

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .selectors import Job

if TYPE_CHECKING:
    from ..models import Handyman
    from .views import Card, Cell

BADGE = '<span class="badge badge-{}"><span class="visually-hidden">Status: </span>{}</span>'

ACTION = (
    '<form method="get" action="{url}" hx-get="{url}" hx-target="#action-dialog-body" '
    'hx-swap="innerHTML" data-opens-dialog data-action="{name}">'
    '<input type="hidden" name="version" value="{version}">'
    '<input type="hidden" name="next" value="{next}">'
    '<button type="submit" class="button button-small" aria-describedby="job-{pk}">{label}'
    "</button></form>"
)

CARD = (
    '<li id="card-{pk}" class="{classes}" data-pk="{pk}" data-version="{version}" '
    'data-status="{status}" data-day="{day}" data-window-start="{start}" '
    'data-window-end="{end}" data-handyman="{handyman}"{draggable}{live}>'
    '<p class="job-when">{start}–{end}</p>'
    '<p class="job-who"><a id="job-{pk}" href="{link}">{customer} '
    '<span class="job-number">#{pk}</span></a></p>'
    '<p class="job-where">{town}</p>'
    '<p class="job-status">{badge}{follow_up}{finished}</p>'
    "{flag}{actions}</li>"
)


def badge(job: Job) -> SafeString:
    return format_html(BADGE, job.group.colour, job.status_label)


def _e(value: object) -> str:
    # The standard library's escape: what Django's escape() does, without its lazy-string
    # wrapper around every call (a week's cards make about twenty thousand of them).
    return escape(str(value), quote=True)


def render_card(card: Card, next_url: str, where: str = "") -> SafeString:
    """One card. `next_url` is already escaped (render_cards escapes it once). `where` is its
    cell (`Cell.where`): live.js tells the feed where a changed card sits on the page."""
    job = card.job
    classes = f"job job-{job.group.colour}"
    if card.finished:
        classes += " is-finished"
    if card.day_off:
        classes += " is-flagged"
    actions = "".join(
        ACTION.format(
            url=_e(a.url),
            name=a.name,
            version=job.version,
            next=next_url,
            pk=job.pk,
            label=_e(a.label),
        )
        for a in card.actions
    )
    html = CARD.format(
        pk=job.pk,
        classes=classes,
        version=job.version,
        status=job.status,
        day=job.scheduled_date.isoformat(),
        start=job.window_start.strftime("%H:%M"),
        end=job.window_end.strftime("%H:%M"),
        handyman=job.handyman_id or "",
        draggable=" data-draggable" if card.draggable else "",
        link=_e(card.link),
        customer=_e(job.customer_name),
        town=_e(card.town),
        badge=BADGE.format(job.group.colour, _e(job.status_label)),
        follow_up=' <span class="tag">Follow-up</span>' if job.is_follow_up else "",
        finished=' <span class="visually-hidden">(finished)</span>' if card.finished else "",
        flag='<p class="job-flag">Day off: move or reassign this job</p>' if card.day_off else "",
        actions=f'<div class="job-actions">{actions}</div>' if actions else "",
        live=f' data-live-pk="{job.pk}" data-live-where="{_e(where)}"' if where else "",
    )
    return mark_safe(html)  # noqa: S308 (every value above is escaped or our own)


def render_cards(cards: Iterable[Card], next_url: str, where: str = "") -> SafeString:
    """The cards' HTML, each `<li id="card-<pk>" data-version=…>` as the board draws it: for the
    board's cells and for anything that redraws cards later (a live feed)."""
    escaped = _e(next_url)  # once, not in every card's every form
    return mark_safe("".join(render_card(card, escaped, where) for card in cards))  # noqa: S308


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
