"""The dashboard's numbers as charts and tables: shared by the partner page and the admin's."""

from __future__ import annotations

from html import escape
from typing import Any

from django.utils.safestring import SafeString

from .charts import Chart, Series, duration, lines, stacked_bars, unit_for, week_label
from .models import Step
from .selectors import DEFAULT_WEEKS, DURATION_STEPS, PERIODS, STUCK_LIMIT, Dashboard

PIPELINE_SERIES = [
    Series("scheduled", "Scheduled (open at the week's end)", "blue", "solid"),
    Series("en_route", "En route (open at the week's end)", "amber", "stripes"),
    Series("in_progress", "In progress (open at the week's end)", "purple", "dots"),
    Series("approved", "Approved (during the week)", "green", "cross"),
    Series("rejected", "Rejected or cancelled (during the week)", "red", "hlines"),
]
OUTCOME_SERIES = [
    Series("approved", "Approved", "green", "solid"),
    Series("cancelled", "Cancelled", "amber", "stripes"),
    Series("rejected", "Rejected", "red", "cross"),
]
ARRIVAL_SERIES = [
    Series("before", "Before the window", "blue", "stripes"),
    Series("inside", "Inside the window", "green", "solid"),
    Series("after", "After the window", "red", "cross"),
]
LINE_SERIES = [
    Series("median", "Median", "blue", marker="circle"),
    Series("p90", "90th percentile", "purple", marker="square", dashed=True),
]


# What each chart says, in words, when it has nothing to draw for the period.
NOTHING_MEASURED = {
    "created_assigned": "No job was assigned in these weeks.",
    "assigned_arrived": "No handyman arrived at a job in these weeks.",
    "on_site": "No job was finished on site in these weeks.",
    "completed_signed": "No contract was signed after a job was finished in these weeks.",
    "signed_approved": "No job was approved in these weeks.",
}
NO_PIPELINE = "No jobs in these weeks: none open at a week’s end, approved, rejected or cancelled."
NO_ARRIVALS = "No handyman arrived at a job in these weeks."
NO_OUTCOMES = "No job was approved, cancelled or rejected in these weeks."


def _flow_chart(dash: Dashboard, step: str) -> tuple[Chart, list[dict[str, Any]]]:
    rows = [(r.week, r.measures[step]) for r in dash.flow.weeks]
    unit, size = unit_for([v for _, m in rows for v in (m.median, m.p90) if v is not None])
    values = [
        {
            "median": None if m.median is None else m.median / size,
            "p90": None if m.p90 is None else m.p90 / size,
        }
        for _, m in rows
    ]
    text = {
        "median": [duration(m.median) for _, m in rows],
        "p90": [duration(m.p90) for _, m in rows],
    }
    label = Step(step).label
    chart = lines(
        f"flow-{step}",
        label,
        f"Median and 90th percentile of {label.lower()} per week, in {unit}.",
        LINE_SERIES,
        [w for w, _ in rows],
        values,
        unit,
        text,
        empty_text=NOTHING_MEASURED[step],
    )
    table = SafeString(
        "".join(
            f'<tr><th scope="row">{week_label(w)}</th><td>{duration(m.median) or "–"}</td>'
            f"<td>{duration(m.p90) or '–'}</td><td>{m.n}</td></tr>"
            for w, m in rows
        )
    )
    return chart, table


def arrival_shares(arrival) -> list[str]:
    """Before, inside and after as whole percentages that add up to 100 (each rounded on its
    own, 1, 1 and 1 read 33% three times): the largest remainders get the missing points, a
    tie going to the smaller count (equal counts read equal where they can), then the earlier."""
    counts = [getattr(arrival, part) for part in ARRIVAL_PARTS]
    total = sum(counts)
    if not total:
        return ["–"] * len(counts)
    floors = [100 * n // total for n in counts]
    order = sorted(range(len(counts)), key=lambda i: (-(100 * counts[i] % total), counts[i], i))
    for i in order[: 100 - sum(floors)]:
        floors[i] += 1
    return [f"{share}%" for share in floors]


def _cell(measure) -> str:
    if not measure.n:
        return "–"
    median, p90 = duration(measure.median), duration(measure.p90)
    return f'{median} / {p90} <span class="muted">({measure.n})</span>'


ARRIVAL_PARTS = ("before", "inside", "after")


def period_links(base: str, current: int) -> list[dict[str, Any]]:
    """`base` ends with "?" or "&": the page's own query before the period. The default period
    is the page's own address, without `weeks`: from it, clicking "Last 12 weeks" lands on the
    address already shown (one history entry, not a second copy of the same page)."""
    return [
        {
            "weeks": n,
            "url": base[:-1] if n == DEFAULT_WEEKS else f"{base}weeks={n}",
            "current": n == current,
        }
        for n in PERIODS
    ]


def page_context(dash: Dashboard, base_url: str) -> dict[str, Any]:
    weeks = list(dash.period.mondays)
    pipeline = stacked_bars(
        "pipeline",
        "Pipeline per week",
        "Open jobs in each status group at the end of each week, and the jobs approved and "
        "rejected or cancelled during it.",
        PIPELINE_SERIES,
        weeks,
        [w.groups for w in dash.weeks],
        empty_text=NO_PIPELINE,
    )
    outcomes = stacked_bars(
        "outcomes",
        "Outcomes per week",
        "Jobs approved, cancelled and rejected in each week.",
        OUTCOME_SERIES,
        weeks,
        [w.outcomes for w in dash.weeks],
        empty_text=NO_OUTCOMES,
    )
    arrivals = stacked_bars(
        "arrivals",
        "Arrivals against the window per week",
        "How many handymen arrived before, inside and after the arrival window, per week.",
        ARRIVAL_SERIES,
        weeks,
        [
            {"before": r.arrival.before, "inside": r.arrival.inside, "after": r.arrival.after}
            for r in dash.flow.weeks
        ],
        empty_text=NO_ARRIVALS,
    )
    arrival_rows = SafeString(
        "".join(
            f'<tr><th scope="row">{week_label(r.week)}</th>'
            + "".join(f"<td>{share}</td>" for share in arrival_shares(r.arrival))
            + f"<td>{r.arrival.total}</td></tr>"
            for r in dash.flow.weeks
        )
    )
    flows = [_flow_chart(dash, str(step)) for step in DURATION_STEPS]
    steps = [(str(s), Step(s).label) for s in DURATION_STEPS]

    def summary(row) -> str:
        # Built here, not looped in the template: a partner may have 150 handymen. Only the
        # name is text from people; the rest are numbers and our own words.
        cells = "".join(f"<td>{_cell(row.measures[s])}</td>" for s, _ in steps)
        arrival = row.arrival
        inside = f"{arrival.inside} of {arrival.total}" if arrival.total else "–"
        return f'<tr><th scope="row">{escape(row.label)}</th>{cells}<td>{inside}</td></tr>'

    return {
        "dash": dash,
        "weeks": dash.period.weeks,
        "period_links": period_links(base_url, dash.period.weeks),
        "pipeline_chart": pipeline,
        "outcome_chart": outcomes,
        "arrival_chart": arrivals,
        "arrival_rows": arrival_rows,
        "flow_charts": flows,
        "steps": steps,
        "handyman_rows": SafeString("".join(summary(r) for r in dash.flow.handymen)),
        "total_row": SafeString(summary(dash.flow.total)),
        "reason_lists": [
            ("cancelled", "cancellation", dash.reasons["cancelled"]),
            ("rejected", "rejection", dash.reasons["rejected"]),
        ],
        "stuck_limit": STUCK_LIMIT,
    }
