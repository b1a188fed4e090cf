"""Reads of the dashboard: everything a page shows comes from the rollups, in a fixed number of
queries whose size follows the period (weeks × statuses, weeks × buckets, handymen), never the
number of the partner's installations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet, Sum
from django.template.defaultfilters import pluralize
from django.utils import timezone

from ..models import Handyman, Installation, Partner, PartnerStatusCount
from ..rawsql import row_reader
from ..statuses import GROUPS, NON_TERMINAL_STATUSES, Status, StatusGroup
from .models import (
    DashboardJob,
    DashboardReasonWeek,
    DashboardStatusDay,
    DashboardStepHandymanWeek,
    DashboardStepWeek,
    DashboardThresholds,
    Step,
)
from .rollups import BOOKED_DAY_LEAD, BOOKED_DAY_ONLY, monday, percentile

PERIODS = (4, 12, 52)
DEFAULT_WEEKS = 12
STUCK_LIMIT = 10  # per status: the oldest first; the list page has the rest
# How far the stuck jobs of a status are counted: the page says "of 1000 or more" beyond it, so
# that a count reads at most this many index entries per status, whatever the partner's size.
STUCK_COUNT_CAP = 1000
TOP_REASONS = 5

# How long a job may wait in each open status before the page calls it stuck, in hours. The wait
# of a job waiting for its booked day counts from that day (rollups.waiting_since).
DEFAULT_THRESHOLDS: dict[str, int] = {
    Status.SCHEDULED: 72,  # no handyman four days before the day (counted from a week before)
    Status.INSTALLER_ASSIGNED: 24,  # a day past its window's start and nobody has set off
    Status.EN_ROUTE: 3,
    Status.INSTALLATION_IN_PROGRESS: 10,
    Status.INSTALLATION_COMPLETED: 24,  # the contract should go out the same day
    Status.CONTRACT_SENT: 72,
    Status.CONTRACT_SIGNED: 48,
}
# The measured steps, in the order of the job's life.
DURATION_STEPS = (
    Step.CREATED_ASSIGNED,
    Step.ASSIGNED_ARRIVED,
    Step.ON_SITE,
    Step.COMPLETED_SIGNED,
    Step.SIGNED_APPROVED,
)
ARRIVAL_STEPS = (Step.ARRIVED_BEFORE, Step.ARRIVED_INSIDE, Step.ARRIVED_AFTER)
OPEN_GROUPS = ("scheduled", "en_route", "in_progress")
OUTCOMES = (
    (Status.CUSTOMER_APPROVED, "Approved"),
    (Status.CANCELLED, "Cancelled"),
    (Status.REJECTED, "Rejected"),
)


def weeks_from(raw: str | None) -> int:
    """The period from the URL: one of PERIODS, anything else the default."""
    try:
        weeks = int(raw or "")
    except ValueError:
        return DEFAULT_WEEKS
    return weeks if weeks in PERIODS else DEFAULT_WEEKS


@dataclass(frozen=True)
class Period:
    weeks: int
    today: date
    mondays: tuple[date, ...]

    @property
    def first(self) -> date:
        return self.mondays[0]


def period_of(weeks: int, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    this = monday(today)
    return Period(weeks, today, tuple(this - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)))


def _scoped(qs: QuerySet, partner: Partner | None) -> QuerySet:
    return qs if partner is None else qs.filter(partner=partner)


# --- Pipeline and outcomes ----------------------------------------------------------------


@dataclass
class WeekPipeline:
    week: date
    groups: dict[str, int]  # open groups at the week's end; approved/rejected entered that week
    outcomes: dict[str, int]  # approved, cancelled, rejected entered that week


def pipeline(partner: Partner | None, period: Period) -> list[WeekPipeline]:
    """Per week: the open jobs of each open group at the week's end (today's counters minus the
    net entries since), and the jobs that reached approved or rejected/cancelled that week."""
    counts: dict[str, int] = defaultdict(int)
    for status, n in _scoped(PartnerStatusCount.objects.all(), partner).values_list(
        "status", "count"
    ):
        counts[status] += n
    net: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    entered: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    days = _scoped(DashboardStatusDay.objects.filter(day__gte=period.first), partner)
    for day, status, e, lf in days.values_list("day", "status", "entered", "left"):
        net[day][status] += e - lf
        entered[monday(day)][status] += e
    weeks = []
    # Net entries after each week's end, summed from today backwards once.
    after: dict[date, dict[str, int]] = {}
    running: dict[str, int] = defaultdict(int)
    for week in reversed(period.mondays):
        after[week] = dict(running)
        for offset in range(7):
            for status, n in net.get(week + timedelta(days=offset), {}).items():
                running[status] += n
    for week in period.mondays:
        later = after[week]
        stock = {s: max(counts[s] - later.get(s, 0), 0) for s in Status}
        got = entered[week]
        groups = {g.slug: sum(stock[s] for s in g.statuses) for g in GROUPS}
        groups["approved"] = got[Status.CUSTOMER_APPROVED]
        groups["rejected"] = got[Status.CANCELLED] + got[Status.REJECTED]
        weeks.append(
            WeekPipeline(
                week,
                groups,
                {
                    "approved": got[Status.CUSTOMER_APPROVED],
                    "cancelled": got[Status.CANCELLED],
                    "rejected": got[Status.REJECTED],
                },
            )
        )
    return weeks


@dataclass(frozen=True)
class Reason:
    text: str
    count: int


def top_reasons(partner: Partner | None, period: Period) -> dict[str, list[Reason]]:
    rows = (
        _scoped(DashboardReasonWeek.objects.filter(week__gte=period.first), partner)
        .values("outcome", "reason")
        .annotate(n=Sum("count"))
        .filter(n__gt=0)
        .order_by("-n", "reason")
    )
    out: dict[str, list[Reason]] = {"cancelled": [], "rejected": []}
    for row in rows:
        bucket = out[row["outcome"]]
        if len(bucket) < TOP_REASONS:
            bucket.append(Reason(row["reason"], row["n"]))
    return out


# --- Flow times ---------------------------------------------------------------------------


@dataclass
class Measure:
    """Median and 90th percentile of one step, in seconds; n values counted."""

    n: int = 0
    median: float | None = None
    p90: float | None = None


def _measure(histogram: dict[int, int]) -> Measure:
    n = sum(c for c in histogram.values() if c > 0)
    return Measure(n, percentile(histogram, 0.5), percentile(histogram, 0.9))


@dataclass
class Arrival:
    before: int = 0
    inside: int = 0
    after: int = 0

    @property
    def total(self) -> int:
        return self.before + self.inside + self.after

    def share(self, part: int) -> int | None:
        return round(100 * part / self.total) if self.total else None


def _arrival(counts: dict[str, int]) -> Arrival:
    return Arrival(
        counts.get(Step.ARRIVED_BEFORE, 0),
        counts.get(Step.ARRIVED_INSIDE, 0),
        counts.get(Step.ARRIVED_AFTER, 0),
    )


@dataclass
class FlowRow:
    """One week, one handyman or the whole period: a Measure per step and the arrivals."""

    label: str
    measures: dict[str, Measure]
    arrival: Arrival
    week: date | None = None


@dataclass
class FlowTimes:
    weeks: list[FlowRow]
    total: FlowRow
    handymen: list[FlowRow] = field(default_factory=list)


def _rows(histograms: dict, label: str, week: date | None = None) -> FlowRow:
    return FlowRow(
        label,
        {str(s): _measure(histograms.get(str(s), {})) for s in DURATION_STEPS},
        _arrival({s: sum(h.values()) for s, h in histograms.items() if s in ARRIVAL_STEPS}),
        week,
    )


def flow_times(partner: Partner | None, period: Period) -> FlowTimes:
    per_week: dict[date, dict[str, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    whole: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    weekly = (
        _scoped(DashboardStepWeek.objects.filter(week__gte=period.first), partner)
        .values("week", "step", "bucket")
        .annotate(n=Sum("count"))
        .filter(n__gt=0)
        .order_by()
    )
    for row in weekly:
        per_week[row["week"]][row["step"]][row["bucket"]] += row["n"]
        whole[row["step"]][row["bucket"]] += row["n"]
    handymen = handyman_flow_times(partner, period)
    return FlowTimes(
        [_rows(per_week.get(week, {}), week.isoformat(), week) for week in period.mondays],
        _rows(whole, "Whole period"),
        handymen,
    )


HANDYMEN_CACHE_SECONDS = 300


def handyman_flow_times(partner: Partner | None, period: Period) -> list[FlowRow]:
    """The per-handyman table, from the per-handyman weekly histograms, kept for five minutes.

    Unlike every other figure on the page its size is weeks × handymen × buckets: a partner
    with 150 busy handymen has ~7,000 such rows a week (~100 ms for 12 weeks on SQLite). Read
    at most once per five minutes per process (the page says so); everything else is live."""
    key = f"dashboard:handymen:{partner.pk if partner else 'all'}:{period.weeks}:{period.first}"
    rows = cache.get(key)
    if rows is None:
        rows = _handyman_flow_times(partner, period)
        cache.set(key, rows, HANDYMEN_CACHE_SECONDS)
    return rows


def _handyman_flow_times(partner: Partner | None, period: Period) -> list[FlowRow]:
    by_handyman: dict[int, dict[str, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    rows = (
        _scoped(DashboardStepHandymanWeek.objects.filter(week__gte=period.first), partner)
        .values_list("handyman_id", "step", "bucket")
        .annotate(n=Sum("count"))
        .filter(n__gt=0)
        .order_by()
    )
    for handyman, step, bucket, n in rows:
        by_handyman[handyman][step][bucket] += n
    names = {
        h.pk: h.display_name
        for h in Handyman.objects.filter(pk__in=[k for k in by_handyman if k]).select_related(
            "user"
        )
    }
    labelled = [
        (_rows(hist, names.get(pk, "No handyman" if not pk else f"Handyman #{pk}")), pk or 0)
        for pk, hist in by_handyman.items()
    ]
    # By name, then by id: two handymen of one name otherwise kept the order the grouping
    # handed their rows over in, which a hash aggregate does not fix (their rows swapped).
    labelled.sort(key=lambda row_and_pk: (row_and_pk[0].label.casefold(), row_and_pk[1]))
    return [row for row, _ in labelled]


# --- Stuck jobs ---------------------------------------------------------------------------


def thresholds_for(partner: Partner | None) -> dict[str, int]:
    hours = dict(DEFAULT_THRESHOLDS)
    if partner is not None:
        row = DashboardThresholds.objects.filter(partner=partner).first()
        if row is not None:
            hours.update({s: h for s, h in row.hours.items() if s in DEFAULT_THRESHOLDS})
    return hours


@dataclass(frozen=True)
class StuckJob:
    pk: int
    customer: str
    partner: str
    since: datetime
    status: str
    day: date
    window_start: time
    window_end: time
    # The moment the list was read: the waits it says are counted to it (Django's timesince
    # would read the system clock on its own, a moment later and past any clock set by a test).
    now: datetime

    @property
    def booked(self) -> datetime:
        """The window's start, in the local zone."""
        return timezone.make_aware(datetime.combine(self.day, self.window_start))

    @property
    def shows_its_day(self) -> bool:
        """Its clock starts before its window whenever the job was created, perhaps before the
        job existed: the page says its booked day, never "waiting since" that moment."""
        return self.status in BOOKED_DAY_ONLY

    @property
    def has_no_handyman(self) -> bool:
        return self.status == Status.SCHEDULED

    @property
    def booked_is_past(self) -> bool:
        return self.booked <= self.now


# When the wait starts, for the statuses whose jobs wait for a booked day (the others: on
# entering the status). Said on the page under the status.
COUNTED_FROM = {
    Status.SCHEDULED: "Counted from a week before its window, even for a job created after that",
    Status.INSTALLER_ASSIGNED: "Counted from its assignment, or from its window's start if later.",
}


def _hours_text(hours: int) -> str:
    days, rest = divmod(hours, 24)
    parts = [f"{days} day{pluralize(days)}"] if days else []
    if rest or not days:
        parts.append(f"{rest} hour{pluralize(rest)}")
    return ", ".join(parts)


def _listed_from(status: str, hours: int) -> str:
    """When a job of a status counted from its booked day shows up, under these hours."""
    lead = BOOKED_DAY_LEAD.get(status)
    if lead is None or status not in BOOKED_DAY_ONLY:
        return ""
    ahead = int(lead.total_seconds() // 3600) - hours
    if ahead > 0:
        return f"from {_hours_text(ahead)} before its window opens"
    if ahead == 0:
        return "once its window opens"
    return f"{_hours_text(-ahead)} after its window opened"


@dataclass
class StuckStatus:
    status: str
    label: str
    hours: int
    jobs: list[StuckJob]
    count: int = 0  # all the status's stuck jobs, counted up to STUCK_COUNT_CAP

    @property
    def by_day(self) -> bool:
        """Its jobs count from their booked day alone: oldest `since` first is soonest day first,
        not the longest wait (a job created an hour ago for tomorrow comes before older ones)."""
        return self.status in BOOKED_DAY_ONLY

    @property
    def counted_from(self) -> str:
        text = COUNTED_FROM.get(self.status, "")
        listed = _listed_from(self.status, self.hours)
        return f"{text}: with this threshold, listed {listed}." if listed else text

    @property
    def more_than_shown(self) -> bool:
        return self.count > len(self.jobs)

    @property
    def count_capped(self) -> bool:
        return self.count >= STUCK_COUNT_CAP


# The stuck list's statement depends only on the database and on whether one partner is asked
# about: compiled once per process with stand-ins for the partner and each status's cutoff, whose
# values are put in at each view (compiling its fourteen querysets took about 7 ms a view, as
# long as running the statement).
_STATEMENTS: dict[tuple, tuple[str, list]] = {}
_STAND_IN_PARTNER = -7_700_007
_STAND_IN_CUTOFF = datetime(1901, 1, 1, tzinfo=UTC)


def _stuck_statement(all_partners: bool) -> tuple[str, list]:
    key = (connection.vendor, all_partners, STUCK_LIMIT, STUCK_COUNT_CAP)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = _compile_stuck_statement(all_partners)
    return _STATEMENTS[key]


def _compile_stuck_statement(all_partners: bool) -> tuple[str, list]:
    branches, params = [], []
    for i, status in enumerate(NON_TERMINAL_STATUSES):
        jobs = DashboardJob.objects.all()
        if not all_partners:
            jobs = jobs.filter(partner_id=_STAND_IN_PARTNER)
        stuck = jobs.filter(status=status, since__lt=_STAND_IN_CUTOFF + timedelta(minutes=i))
        count_sql, count_params = (
            stuck.order_by().values("pk")[:STUCK_COUNT_CAP].query.sql_with_params()
        )
        rows = (
            # The installation's id breaks a tie (jobs that reached the status at one moment):
            # the list is the same ten every time, not "any ten" of them.
            stuck.order_by("since", "pk")
            # A few columns, not three whole rows: this list is read on every page view. The
            # booked day and window come from the row already joined for the customer's name.
            .values_list(
                "installation_id",
                "installation__customer__name",
                "installation__partner__name",
                "since",
                "status",
                "installation__scheduled_date",
                "installation__window_start",
                "installation__window_end",
            )[:STUCK_LIMIT]
        )
        sql, branch_params = rows.query.sql_with_params()
        # Wrapped: SQLite allows no ORDER BY or LIMIT in a compound statement's own branches.
        n = len(branches)
        branches.append(
            f"SELECT stuck{n}.*, (SELECT COUNT(*) FROM ({count_sql}) counted{n}) "
            f"FROM ({sql}) stuck{n}"
        )
        params.extend(count_params)
        params.extend(branch_params)
    return " UNION ALL ".join(branches), params


def stuck_jobs(
    partner: Partner | None, thresholds: dict[str, int], now: datetime | None = None
) -> list[StuckStatus]:
    """Per open status, the jobs whose wait in it (from `since`: rollups.waiting_since) is
    longer than its threshold, longest first (without a handyman: the soonest day first):
    one index range per status on (partner, status, since), at most STUCK_LIMIT rows each, all
    in ONE query (the ranges joined by UNION ALL: the page's other reads already take seven).
    Each row also carries how many of its status are stuck: the same range counted in the
    index alone, up to STUCK_COUNT_CAP (a status with none stuck returns no row and counts 0)."""
    now = now or timezone.now()
    sql, template = _stuck_statement(partner is None)
    adapt = connection.ops.adapt_datetimefield_value
    cutoffs = {
        adapt(_STAND_IN_CUTOFF + timedelta(minutes=i)): adapt(now - timedelta(hours=thresholds[s]))
        for i, s in enumerate(NON_TERMINAL_STATUSES)
    }
    params = [
        partner.pk if value == _STAND_IN_PARTNER else cutoffs.get(value, value)
        for value in template
    ]
    found: dict[str, list[StuckJob]] = defaultdict(list)
    counts: dict[str, int] = {}
    of_installation = Installation._meta.get_field
    read = row_reader(
        [
            None,
            None,
            None,
            DashboardJob._meta.get_field("since"),
            None,
            of_installation("scheduled_date"),
            of_installation("window_start"),
            of_installation("window_end"),
            None,
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            pk, customer, partner_name, since, status, day, start, end, count = read(row)
            found[status].append(
                StuckJob(pk, customer, partner_name, since, status, day, start, end, now)
            )
            counts[status] = count
    for jobs in found.values():
        jobs.sort(key=lambda job: (job.since, job.pk))
    return [
        StuckStatus(
            str(status),
            Status(status).label,
            thresholds[status],
            found[str(status)],
            counts.get(str(status), 0),
        )
        for status in NON_TERMINAL_STATUSES
    ]


@dataclass
class Dashboard:
    partner: Partner | None
    period: Period
    weeks: list[WeekPipeline]
    reasons: dict[str, list[Reason]]
    flow: FlowTimes
    thresholds: dict[str, int]
    stuck: list[StuckStatus]
    groups: tuple[StatusGroup, ...] = GROUPS


def dashboard(*, partner: Partner | None, weeks: int) -> Dashboard:
    """Everything the page shows for one partner (None: all partners, for staff)."""
    period = period_of(weeks)
    thresholds = thresholds_for(partner)
    return Dashboard(
        partner,
        period,
        pipeline(partner, period),
        top_reasons(partner, period),
        flow_times(partner, period),
        thresholds,
        stuck_jobs(partner, thresholds),
    )
