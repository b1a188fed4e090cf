"""Geometry for the dashboard's server-rendered SVG charts (templates draw it): stacked bars and
lines, with a pattern and a marker shape per series so that colour never carries meaning alone.
No library: two chart types of ~100 lines cost less than a dependency and keep the CSP strict."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from html import escape

from django.utils.safestring import SafeString

WIDTH, HEIGHT = 640, 272
# The unit is written above the plot. Below it, room for the weeks' words under the "0" beside
# the axis in a font with tall line boxes (Noto Sans, a Linux desktop's and many phones' face):
# 40 units were enough for DejaVu's, and the boxes of "0" and the first week met in Noto's.
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 26, 52
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
# One fill pattern per position in a chart's series: solid, stripes, dots, cross-hatch, lines.
PATTERNS = ("solid", "stripes", "dots", "cross", "hlines")
MARKERS = ("circle", "square", "diamond")
NOTHING_TO_SHOW = "Nothing to show in these weeks."


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str  # a CSS class suffix (the portal's palette)
    pattern: str = "solid"
    marker: str = "circle"
    dashed: bool = False


@dataclass
class Segment:
    series: Series
    value: float
    x: float
    y: float
    w: float
    h: float


@dataclass
class Bar:
    label: str
    total: float
    segments: list[Segment]


@dataclass
class Tick:
    y: float
    label: str

    @property
    def label_y(self) -> float:
        return round(self.y + 4, 1)


@dataclass
class XLabel:
    x: float
    label: str


@dataclass
class Point:
    x: float
    y: float
    text: str

    @property
    def corner_x(self) -> float:  # a square marker's corner
        return round(self.x - 4, 1)

    @property
    def corner_y(self) -> float:
        return round(self.y - 4, 1)


@dataclass
class Line:
    series: Series
    paths: list[str]  # one polyline per run of weeks with data (a gap is a gap, not a zero)
    points: list[Point]


@dataclass
class Chart:
    id: str
    title: str
    description: str
    series: list[Series]
    ticks: list[Tick]
    xlabels: list[XLabel]
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    unit: str = ""
    # Said in place of the drawing when there is nothing to draw: empty axes say nothing.
    empty_text: str = NOTHING_TO_SHOW
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = TOP + PLOT_H

    @property
    def is_empty(self) -> bool:
        return not any(bar.total for bar in self.bars) and not any(
            line.points for line in self.lines
        )

    @property
    def right(self) -> int:
        return self.width - RIGHT

    @property
    def tick_x(self) -> int:
        return self.left - 6

    @property
    def xlabel_y(self) -> int:
        # Low enough to clear the "0" beside the axis when a narrow chart writes them larger.
        return self.height - 4

    # The repeated marks are joined here rather than looped in the template, with f-strings and
    # html.escape rather than format_html: a 52-week page has hundreds of them and each costs
    # ~10x more through either (see the bench). Numbers need no escaping; every text is escaped.

    def axes_svg(self) -> SafeString:
        grid = "".join(
            f'<line x1="{self.left}" x2="{self.right}" y1="{t.y}" y2="{t.y}" class="grid"/>'
            f'<text x="{self.tick_x}" y="{t.label_y}" text-anchor="end" class="tick">'
            f"{_e(t.label)}</text>"
            for t in self.ticks
        )
        xs = "".join(
            f'<text x="{x.x}" y="{self.xlabel_y}" text-anchor="middle" class="tick">'
            f"{_e(x.label)}</text>"
            for x in self.xlabels
        )
        return SafeString(grid + xs)

    def bars_svg(self) -> SafeString:
        return SafeString(
            "".join(
                f'<rect x="{seg.x}" y="{seg.y}" width="{seg.w}" height="{seg.h}" '
                f'fill="url(#{_e(self.id)}-{_e(seg.series.key)})" class="segment">'
                f"<title>Week of {_e(bar.label)}, {_e(seg.series.label)}: "
                f"{_number(seg.value)}</title></rect>"
                for bar in self.bars
                for seg in bar.segments
                if seg.h
            )
        )

    def bar_rows(self) -> SafeString:
        return SafeString(
            "".join(
                f'<tr><th scope="row">{_e(bar.label)}</th>'
                + "".join(f"<td>{_number(seg.value)}</td>" for seg in bar.segments)
                + f"<td>{_number(bar.total)}</td></tr>"
                for bar in self.bars
            )
        )

    def lines_svg(self) -> SafeString:
        parts = []
        for line in self.lines:
            s = line.series
            colour, label = _e(s.colour), _e(s.label)
            dash = ' stroke-dasharray="6 4"' if s.dashed else ""
            parts.extend(
                f'<polyline points="{path}" fill="none" class="stroke-{colour}" '
                f'stroke-width="2"{dash}/>'
                for path in line.paths
            )
            for p in line.points:
                title = f"<title>{label}: {_e(p.text)}</title>"
                if s.marker == "square":
                    parts.append(
                        f'<rect x="{p.corner_x}" y="{p.corner_y}" width="8" height="8" '
                        f'class="fill-{colour}">{title}</rect>'
                    )
                else:
                    parts.append(
                        f'<circle cx="{p.x}" cy="{p.y}" r="4" class="fill-{colour}">'
                        f"{title}</circle>"
                    )
        return SafeString("".join(parts))


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def nice_max(value: float) -> float:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten, at least the value (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover


# Whole steps an axis of job counts may take, times a power of ten: four of them reach the top.
COUNT_STEPS = (1, 2, 3, 4, 5, 6, 8)


def count_max(value: float) -> int:
    """The axis top of a chart of job counts: four equal whole steps (0, 1, 2, 3, 4 or 0, 30,
    60, 90, 120 …), at least the value; never a quarter of a job."""
    need = max(value, 1) / 4
    power = 1
    while True:
        for step in COUNT_STEPS:
            if step * power >= need:
                return 4 * step * power
        power *= 10


def _number(value: float) -> str:
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


def _ticks(top: float) -> list[Tick]:
    return [Tick(TOP + PLOT_H - PLOT_H * k / 4, _number(top * k / 4)) for k in range(5)]


def week_label(week: date) -> str:
    return f"{week.day} {week:%b}"


# How far apart two week labels are, in the chart's units: "28 Sep" at the phone's 24-unit type
# (dashboard.css: a narrow chart writes its words larger, so that they stay 11 px) is ~86 wide.
XLABEL_GAP = 96


def _xlabels(weeks: list[date], slot: float) -> list[XLabel]:
    every = max(1, math.ceil(XLABEL_GAP / slot))
    return [
        XLabel(LEFT + slot * (i + 0.5), week_label(week))
        for i, week in enumerate(weeks)
        if i % every == 0
    ]


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    series: list[Series],
    weeks: list[date],
    values: list[dict[str, float]],
    *,
    empty_text: str = NOTHING_TO_SHOW,
) -> Chart:
    totals = [sum(v.get(s.key, 0) for s in series) for v in values]
    top = count_max(max(totals, default=0))  # every bar chart counts jobs
    slot = PLOT_W / max(len(weeks), 1)
    width = slot * 0.7
    bars = []
    for i, (week, by_key, total) in enumerate(zip(weeks, values, totals, strict=True)):
        x = LEFT + slot * i + (slot - width) / 2
        y = TOP + PLOT_H
        segments = []
        for s in series:
            value = by_key.get(s.key, 0)
            h = PLOT_H * value / top
            y -= h
            segments.append(
                Segment(s, value, round(x, 1), round(y, 1), round(width, 1), round(h, 1))
            )
        bars.append(Bar(week_label(week), total, segments))
    return Chart(
        chart_id,
        title,
        description,
        series,
        _ticks(top),
        _xlabels(weeks, slot),
        bars=bars,
        empty_text=empty_text,
    )


def lines(
    chart_id: str,
    title: str,
    description: str,
    series: list[Series],
    weeks: list[date],
    values: list[dict[str, float | None]],
    unit: str,
    text: dict[str, list[str]],
    *,
    empty_text: str = NOTHING_TO_SHOW,
) -> Chart:
    found = [v for by_key in values for v in by_key.values() if v is not None]
    top = nice_max(max(found, default=0))
    slot = PLOT_W / max(len(weeks), 1)
    drawn = []
    for s in series:
        paths: list[str] = []
        run: list[str] = []
        points = []
        for i, by_key in enumerate(values):
            value = by_key.get(s.key)
            if value is None:
                if run:
                    paths.append(" ".join(run))
                run = []
                continue
            x = round(LEFT + slot * (i + 0.5), 1)
            y = round(TOP + PLOT_H - PLOT_H * value / top, 1)
            run.append(f"{x},{y}")
            points.append(Point(x, y, text[s.key][i]))
        if run:
            paths.append(" ".join(run))
        drawn.append(Line(s, paths, points))
    return Chart(
        chart_id,
        title,
        description,
        series,
        _ticks(top),
        _xlabels(weeks, slot),
        lines=drawn,
        unit=unit,
        empty_text=empty_text,
    )


# --- Durations for people ------------------------------------------------------------------

UNITS = (("minutes", 60), ("hours", 3600), ("days", 86400))


def unit_for(seconds: list[float]) -> tuple[str, int]:
    """The axis unit that keeps the numbers readable: minutes under 3 hours, hours under 3 days."""
    top = max(seconds, default=0)
    if top < 3 * 3600:
        return UNITS[0]
    if top < 3 * 86400:
        return UNITS[1]
    return UNITS[2]


def duration(seconds: float | None) -> str:
    """ "12 min", "3.5 h", "4.2 days"; an empty string when nothing was measured."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "under 1 min"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
