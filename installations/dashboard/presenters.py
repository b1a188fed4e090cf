"""The dashboard's numbers as charts and tables: shared by the partner page and the admin's."""

from __future__ import annotations

from typing import Any

from .charts import Chart, Series, duration, lines, stacked_bars, unit_for, week_label
from .models import Step
from .selectors import DURATION_STEPS, PERIODS, STUCK_LIMIT, Dashboard

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
    )
    table = [
        {"week": week_label(w), "median": duration(m.median), "p90": duration(m.p90), "n": m.n}
        for w, m in rows
    ]
    return chart, table


def period_links(base: str, current: int) -> list[dict[str, Any]]:
    """`base` ends with "?" or "&": the page's own query before the period."""
    return [{"weeks": n, "url": f"{base}weeks={n}", "current": n == current} for n in PERIODS]


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
    )
    outcomes = stacked_bars(
        "outcomes",
        "Outcomes per week",
        "Jobs approved, cancelled and rejected in each week.",
        OUTCOME_SERIES,
        weeks,
        [w.outcomes for w in dash.weeks],
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
    )
    arrival_rows = [
        {
            "label": week_label(r.week),
            "before": r.arrival.share(r.arrival.before),
            "inside": r.arrival.share(r.arrival.inside),
            "after": r.arrival.share(r.arrival.after),
            "n": r.arrival.total,
        }
        for r in dash.flow.weeks
    ]
    flows = [_flow_chart(dash, str(step)) for step in DURATION_STEPS]
    steps = [(str(s), Step(s).label) for s in DURATION_STEPS]

    def summary(row) -> dict[str, Any]:
        return {
            "label": row.label,
            "cells": [
                (duration(row.measures[s].median), duration(row.measures[s].p90), row.measures[s].n)
                for s, _ in steps
            ],
            "arrival": row.arrival,
        }

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
        "handyman_rows": [summary(r) for r in dash.flow.handymen],
        "total_row": summary(dash.flow.total),
        "reason_lists": [
            ("cancelled", "cancellation", dash.reasons["cancelled"]),
            ("rejected", "rejection", dash.reasons["rejected"]),
        ],
        "stuck_limit": STUCK_LIMIT,
    }
