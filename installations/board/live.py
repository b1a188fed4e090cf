"""What the dispatch board redraws when jobs change (the live feed, issue 13).

The page says where each changed card sits (`Cell.where`, asked for by the feed: see
live.views.Locate); the board's query says which week or day, handymen page and filters it shows.
A changed job that stays in its cell is redrawn alone; one that moved redraws the cell it left
and the cell it joined (a lane cell also redraws its "N more" link and its next card); the
handymen whose cells it touched get their totals again, and the overdue count follows. Every
read is scoped to the page's partner, and the number of queries does not grow with the changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone

from .. import selectors as core_selectors
from ..filters import InstallationFilter
from ..models import Installation
from ..scheduling.selectors import days_off
from ..scheduling.text import slot_text
from ..statuses import TERMINAL_STATUSES, Status
from . import selectors
from .cards import handyman_cell, handyman_head, lane_cell, render_cards
from .views import (
    STANDARD_WINDOWS,
    TEMPLATE,
    BoardForm,
    Cell,
    Column,
    Row,
    _list_url,
    _param,
    build_cards,
    card_actions_for,
    cell_where,
    partner_link,
    period_of,
)

Place = tuple[int | None, str]  # (handyman id, or None for the Unassigned lane; column code)


@dataclass
class Swap:
    """One element of the page to replace, and the changed jobs that touch it."""

    target: str
    html: str
    pks: tuple[int, ...] = ()
    installation: Installation | None = None  # a card swapped alone: the job it shows


@dataclass
class BoardChanges:
    swaps: list[Swap] = field(default_factory=list)
    # The changed jobs that are or were on this board (announced and highlighted).
    shown: list[Installation] = field(default_factory=list)
    # Jobs now on this day whose arrival window the page has no column for: "reload to see".
    entered: list[int] = field(default_factory=list)


def parse_where(where: str) -> Place | None:
    """`17-20261203` → (17, "20261203"); `u-09001100` → (None, "09001100"); junk → None."""
    row, _, code = where.partition("-")
    if not (code.isascii() and code.isdigit() and len(code) == 8):
        return None
    if row == "u":
        return None, code
    if row.isascii() and row.isdigit():
        return int(row), code
    return None


def _column(code: str, day_view: Any) -> Column | None:
    """The Column a code names: a day of the week shown, or a window of the day shown."""
    try:
        if day_view is not None:
            start = time(int(code[:2]), int(code[2:4]))
            end = time(int(code[4:6]), int(code[6:]))
            return Column((start, end), day_view, (start, end))
        day = datetime.strptime(code, "%Y%m%d").date()
    except ValueError:
        return None
    return Column(day, day)


def board_changes(
    request: HttpRequest,
    partner_id: int,
    query: QueryDict,
    changed: list[int],
    on_page: dict[int, str],
    next_url: str,
) -> BoardChanges:
    """The board's swaps for `changed` (ids already in the partner's scope). Queries: the changed
    jobs, which of them match the filters, the handymen page, and, when touched, the handymen's
    jobs, the lane, booked hours, days off; and the overdue count."""
    partner = request.user.partner_profile.partner
    assert partner.pk == partner_id  # the feed's scope is the session user's partner
    form = BoardForm(query)
    form.is_valid()
    period = period_of(form, timezone.localdate())
    day_view = period.day
    hide_finished = bool(_param(form, "hide_finished"))
    wanted = QueryDict(mutable=True)
    for name in ("q", "group"):
        if name in query:
            wanted[name] = query[name]
    mine = core_selectors.installations_for_partner(partner_id)
    filterset = InstallationFilter(wanted, queryset=mine, partner=partner, window=False)
    jobs_qs = filterset.qs if filterset.is_valid() else mine.none()
    if hide_finished:
        jobs_qs = jobs_qs.exclude(status__in=TERMINAL_STATUSES)

    found = {inst.pk: inst for inst in mine.filter(pk__in=changed)}
    visible = set(jobs_qs.filter(pk__in=changed).order_by().values_list("pk", flat=True))
    handymen = {
        h.pk: h
        for h in selectors.board_handymen(partner_id, page=_param(form, "page") or 1).handymen
    }
    # The columns the page has: a week's days; a day's standard windows and any other window
    # a card on the page sits in (a new odd window has no column yet: counted, not placed).
    if day_view is None:
        columns = {f"{d:%Y%m%d}" for d in period.days}
    else:
        columns = {f"{s:%H%M}{e:%H%M}" for s, e in STANDARD_WINDOWS}
        columns |= {place[1] for w in on_page.values() if (place := parse_where(w))}

    result = BoardChanges()
    before: dict[int, Place] = {}
    after: dict[int, list[Place]] = {}
    for pk in changed:
        place = parse_where(on_page.get(pk, ""))
        if place is not None and place[1] in columns and (place[0] is None or place[0] in handymen):
            before[pk] = place
        inst = found.get(pk)
        if inst is None or pk not in visible:
            continue
        if not period.start <= inst.scheduled_date <= period.end:
            continue
        code = (
            f"{inst.scheduled_date:%Y%m%d}"
            if day_view is None
            else f"{inst.window_start:%H%M}{inst.window_end:%H%M}"
        )
        places: list[Place] = []
        if inst.handyman_id in handymen:
            places.append((inst.handyman_id, code))
        if inst.status == Status.SCHEDULED:
            places.append((None, code))
        if places and code not in columns:
            result.entered.append(pk)
            continue
        after[pk] = places

    touched = [pk for pk in changed if pk in before or after.get(pk)]
    result.shown = [found[pk] for pk in touched if pk in found]
    # A job that stays in the one cell it was in is redrawn alone; any other redraws cells.
    alone = {pk for pk in touched if after.get(pk) == [before.get(pk)]}
    cells: dict[Place, set[int]] = {}
    for pk in touched:
        if pk in alone:
            continue
        for place in [before[pk]] if pk in before else []:
            cells.setdefault(place, set()).add(pk)
        for place in after.get(pk, []):
            cells.setdefault(place, set()).add(pk)
    rows: dict[int, set[int]] = {}
    for (handyman_id, _), pks in cells.items():
        if handyman_id is not None:
            rows.setdefault(handyman_id, set()).update(pks)
    for pk in alone:
        if before[pk][0] is not None:
            rows.setdefault(before[pk][0], set()).add(pk)  # status and hours may have changed

    ids = sorted(rows)
    actions = card_actions_for(request.user)
    link = partner_link()
    blocked = days_off(ids, period.start, period.end) if ids else set()

    # The cards that stay in their cell.
    for pk in touched:
        if pk in alone:
            job = selectors.Job(*(_job_values(found[pk])))
            card = build_cards([job], actions=actions, link=link, days_off=blocked)
            where = f"{before[pk][0] or 'u'}-{before[pk][1]}"
            html = render_cards(card, next_url, where=where)
            result.swaps.append(Swap(f"card-{pk}", html, (pk,), found[pk]))

    # The cells jobs left or joined, drawn as the board draws them.
    assigned: dict[Place, list[selectors.Job]] = {}
    handyman_cells = [p for p in cells if p[0] is not None]
    if handyman_cells:
        wanted_ids = sorted({p[0] for p in handyman_cells})  # type: ignore[misc]
        for job in selectors.handymen_jobs(
            jobs_qs, handyman_ids=wanted_ids, start=period.start, end=period.end
        ):
            assigned.setdefault((job.handyman_id, _code(job, day_view)), []).append(job)
    lane_cells = [p for p in cells if p[0] is None]
    lane = None
    if lane_cells:
        per_day = selectors.LANE_PER_DAY if day_view is None else selectors.LANE_PER_DAY_DAY_VIEW
        lane = selectors.unassigned_lane(
            jobs_qs, start=period.start, end=period.end, per_day=per_day
        )
        for job in lane.jobs:
            assigned.setdefault((None, _code(job, day_view)), []).append(job)
    booked = (
        selectors.booked(partner_id, handyman_ids=ids, start=period.start, end=period.end)
        if ids
        else {}
    )

    for place, pks in cells.items():
        handyman_id, code = place
        column = _column(code, day_view)
        if column is None:
            continue
        cell = Cell(column, where=cell_where(handyman_id, column))
        cell.cards = build_cards(
            assigned.get(place, []),
            actions=actions,
            link=link,
            days_off=blocked if handyman_id is not None else frozenset(),
        )
        cell.html = render_cards(cell.cards, next_url, where=cell.where)
        if handyman_id is None:
            if day_view is None and lane is not None:
                cell.more = lane.totals.get(column.day, 0) - len(cell.cards)
                day = column.day.isoformat()
                cell.more_url = _list_url(status=Status.SCHEDULED, date_from=day, date_to=day)
            html = lane_cell(cell)
        else:
            cell.day_off = (handyman_id, column.day) in blocked
            html = handyman_cell(cell, handymen[handyman_id])
        result.swaps.append(Swap(f"cell-{cell.where}", html, tuple(sorted(pks))))

    # The handymen's totals, for the rows the changes touched.
    for handyman_id in ids:
        row = Row(handymen[handyman_id], booked.get(handyman_id), [])
        html = handyman_head(row, day_view=period.day is not None)
        result.swaps.append(Swap(f"handyman-{handyman_id}", html, tuple(sorted(rows[handyman_id]))))

    # The overdue count: one index range count (a job of an earlier week may have been assigned).
    if changed:
        today = timezone.localdate()
        yesterday = (today - timedelta(days=1)).isoformat()
        ctx = {
            "overdue": selectors.overdue_unassigned(partner_id, today=today),
            "overdue_url": _list_url(status=Status.SCHEDULED, date_to=yesterday, sort="date"),
        }
        result.swaps.append(
            Swap("board-overdue", render_to_string(f"{TEMPLATE}#overdue", ctx, request=request))
        )
    return result


def where_now(inst: Installation) -> str:
    """Who has a moved job and when, as the board's live region says it after the change:
    "with Hank Shaw on Sat 5 Dec 09:00–11:00", "unassigned on …"."""
    who = f"with {inst.handyman.display_name}" if inst.handyman_id else "unassigned"
    return f"{who} on {slot_text(inst.scheduled_date, inst.window_start, inst.window_end)}"


def _code(job: selectors.Job, day_view: Any) -> str:
    if day_view is None:
        return f"{job.scheduled_date:%Y%m%d}"
    return f"{job.window_start:%H%M}{job.window_end:%H%M}"


def _job_values(inst: Installation) -> list[Any]:
    """An installation (read with its customer) as the board's Job fields."""
    return [
        inst.customer.name if name == "customer__name" else getattr(inst, name)
        for name in selectors.JOB_FIELDS
    ]
