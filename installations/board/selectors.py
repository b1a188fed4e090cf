"""The dispatch board's reads: one partner's handymen, a page at a time, and the jobs of a period.

Each function is one query whatever the number of rows, and each reads an index written for the
list (see Installation.Meta.indexes): the page's handymen's jobs read `inst_partner_handyman`
(partner, handyman, date…), the Unassigned lane and the overdue count `inst_partner_status`
(partner, status, date…). tests/board/test_selectors.py asks the planner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber

from ..live.models import LiveCounter
from ..live.services import partner_scope
from ..models import Customer, Handyman, Installation, Partner
from ..rawsql import row_reader
from ..statuses import Status, StatusGroup, group_of

HANDYMEN_PER_PAGE = 25
# Cards per day in the Unassigned lane; the rest are counted and linked to the list. A big
# partner has ~200 new jobs a day: drawing them all would make the board unreadable and slow.
LANE_PER_DAY = 8
LANE_PER_DAY_DAY_VIEW = 40

# Not booked time: the job will not happen.
NOT_BOOKED = (Status.CANCELLED, Status.REJECTED)


# A card needs eleven columns, not a model: a big partner's week is hundreds of jobs, and
# building Installation, Customer, Handyman and User instances for each was most of its time.
JOB_FIELDS = (
    "pk",
    "partner_id",
    "version",
    "status",
    "kind",
    "scheduled_date",
    "window_start",
    "window_end",
    "handyman_id",
    "site_address",
    "customer__name",
)


@dataclass(frozen=True, slots=True)
class Job:
    """What a board card shows of an installation (read with `jobs`, never saved)."""

    pk: int
    partner_id: int
    version: int
    status: str
    kind: str
    scheduled_date: date
    window_start: time
    window_end: time
    handyman_id: int | None
    site_address: str
    customer_name: str

    @property
    def group(self) -> StatusGroup:
        return group_of(self.status)

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    @property
    def is_follow_up(self) -> bool:
        return self.kind == Installation.Kind.FOLLOW_UP


def jobs(queryset: QuerySet[Installation]) -> list[Job]:
    """The queryset's rows as Jobs (its filters and order kept): one query, no model objects."""
    return [Job(*row) for row in queryset.values_list(*JOB_FIELDS)]


@dataclass(frozen=True)
class HandymenPage:
    handymen: list[Handyman]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def first(self) -> int:
        return (self.number - 1) * HANDYMEN_PER_PAGE + 1

    @property
    def last(self) -> int:
        return self.first + len(self.handymen) - 1


def board_handymen(partner: Partner | int, *, page: int) -> HandymenPage:
    """The handymen who serve the partner, by name, 25 at a time. One query: one row more than
    a page tells whether there is a next page without a COUNT."""
    partner_id = partner if isinstance(partner, int) else partner.pk
    start = (page - 1) * HANDYMEN_PER_PAGE
    rows = list(
        Handyman.objects.filter(partners=partner_id)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username", "pk")[
            start : start + HANDYMEN_PER_PAGE + 1
        ]
    )
    return HandymenPage(rows[:HANDYMEN_PER_PAGE], page, len(rows) > HANDYMEN_PER_PAGE)


def handymen_jobs(
    queryset: QuerySet[Installation], *, handyman_ids: Iterable[int], start: date, end: date
) -> list[Job]:
    """The jobs (already filtered by the board's filters) of these handymen in the period, in the
    order of the (partner, handyman, date, window, id) index."""
    mine = queryset.filter(handyman_id__in=list(handyman_ids), scheduled_date__range=(start, end))
    return jobs(mine.order_by("handyman_id", "scheduled_date", "window_start", "id"))


@dataclass(frozen=True)
class Booked:
    jobs: int
    minutes: int

    @property
    def hours(self) -> str:
        hours, minutes = divmod(self.minutes, 60)
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"


def booked(
    partner: Partner | int, *, handyman_ids: Iterable[int], start: date, end: date
) -> dict[int, Booked]:
    """Each handyman's jobs and arrival-window hours in the period, whatever the board's filters
    show (cancelled and rejected jobs are not booked time). One query of three small columns."""
    rows = (
        Installation.objects.filter(
            partner=partner, handyman_id__in=list(handyman_ids), scheduled_date__range=(start, end)
        )
        .exclude(status__in=NOT_BOOKED)
        .values_list("handyman_id", "window_start", "window_end")
    )
    return _booked(rows)


def booked_from(jobs: Iterable[Job]) -> dict[int, Booked]:
    """The same totals from the handymen's jobs already read, when the board shows every job of
    the period (no search, group or hiding): no query."""
    return _booked(
        (job.handyman_id, job.window_start, job.window_end)
        for job in jobs
        if job.status not in NOT_BOOKED and job.handyman_id is not None
    )


def _booked(rows: Iterable[tuple[int, time, time]]) -> dict[int, Booked]:
    jobs: dict[int, int] = {}
    minutes: dict[int, int] = {}
    for handyman_id, window_start, window_end in rows:
        length = datetime.combine(date.min, window_end) - datetime.combine(date.min, window_start)
        jobs[handyman_id] = jobs.get(handyman_id, 0) + 1
        minutes[handyman_id] = minutes.get(handyman_id, 0) + int(length.total_seconds()) // 60
    return {pk: Booked(jobs[pk], minutes[pk]) for pk in jobs}


@dataclass(frozen=True)
class Lane:
    jobs: list[Job]
    # How many SCHEDULED jobs each day has in all (the lane shows the first few).
    totals: dict[date, int]


def unassigned_lane(
    queryset: QuerySet[Installation], *, start: date, end: date, per_day: int
) -> Lane:
    """The SCHEDULED jobs of the period (the board's filters applied): the first `per_day` of
    each day by window, and each day's total, in one query (window functions).

    The window functions read only the (partner, status, date, window, id) index; the job's
    other columns and the customer's name are joined AFTER they kept the first few of each day.
    As the ORM writes it, every SCHEDULED job of the week (hundreds) is read from the table and
    looked up in the customers' to keep a few dozen (on SQLite, a new connection per request
    reads each of those pages from the operating system again)."""
    day = [F("scheduled_date")]
    first = (
        queryset.filter(status=Status.SCHEDULED, scheduled_date__range=(start, end))
        .annotate(
            position=Window(
                RowNumber(), partition_by=day, order_by=[F("window_start").asc(), F("id").asc()]
            ),
            day_total=Window(Count("id"), partition_by=day),
        )
        .filter(position__lte=per_day)
        .values_list("pk", "day_total")
    )
    try:
        sql, params = first.query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing (an unusable one gives .none())
        return Lane([], {})
    qn = connection.ops.quote_name
    columns = ", ".join(f"i.{qn(column)}" for column in LANE_COLUMNS)
    installations = qn(Installation._meta.db_table)
    customers = qn(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, c.{qn('name')}, lane.{qn('day_total')} FROM ({sql}) lane "
            f"INNER JOIN {installations} i ON i.{qn('id')} = lane.{qn('pk')} "
            f"INNER JOIN {customers} c ON c.{qn('id')} = i.{qn('customer_id')} "
            f"ORDER BY i.{qn('scheduled_date')}, i.{qn('window_start')}, i.{qn('id')}",
            params,
        )
        rows = cursor.fetchall()
    found: list[Job] = []
    totals: dict[date, int] = {}
    read = row_reader(LANE_READ)
    for row in rows:
        *fields, day_total = read(row)
        job = Job(*fields)
        found.append(job)
        totals[job.scheduled_date] = day_total
    return Lane(found, totals)


# The lane's columns before the customer's name (JOB_FIELDS' order), and the fields a row holds
# (its last column, the day's total, is a plain number).
LANE_FIELDS = [Installation._meta.pk, *(Installation._meta.get_field(f) for f in JOB_FIELDS[1:-1])]
LANE_COLUMNS = [field.column for field in LANE_FIELDS]
LANE_READ = [*LANE_FIELDS, Customer._meta.get_field("name"), None]


def overdue_unassigned(partner: Partner | int, *, today: date) -> int:
    """Jobs of earlier days that were never assigned (still SCHEDULED): an index range count."""
    return Installation.objects.filter(
        partner=partner, status=Status.SCHEDULED, scheduled_date__lt=today
    ).count()


def stamp_and_overdue(partner_id: int, *, today: date) -> tuple[int, int]:
    """The live feed's stamp and the overdue count in ONE query, read before the board's rows
    (a change committed in between is then delivered again, never missed: live.selectors.stamp).
    The full page would otherwise pay a ninth query for the stamp alone.

    Its count is `overdue_unassigned`'s, written in SQL a second time: composed by the ORM it
    cost half a millisecond more on every board (tests/board/test_selectors.py compares them)."""
    counters = connection.ops.quote_name(LiveCounter._meta.db_table)
    installations = connection.ops.quote_name(Installation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT seq FROM {counters} WHERE scope = %s), "
            f"(SELECT COUNT(*) FROM {installations} "
            "WHERE partner_id = %s AND status = %s AND scheduled_date < %s)",
            [
                partner_scope(partner_id),
                partner_id,
                Status.SCHEDULED.value,
                connection.ops.adapt_datefield_value(today),
            ],
        )
        seq, overdue = cursor.fetchone()
    return seq or 0, overdue
