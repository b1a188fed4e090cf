"""Percentiles, buckets, periods and the pipeline's arithmetic on known data."""

from __future__ import annotations

import itertools
import math
import random
from datetime import date, timedelta

import pytest

from installations.dashboard.charts import duration, nice_max, unit_for
from installations.dashboard.rollups import (
    BUCKETS_PER_DOUBLING,
    bucket_of,
    bucket_value,
    percentile,
    tidy_reason,
)
from installations.dashboard.selectors import period_of, weeks_from


def _histogram(values: list[float]) -> dict[int, int]:
    out: dict[int, int] = {}
    for v in values:
        out[bucket_of(v)] = out.get(bucket_of(v), 0) + 1
    return out


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def test_median_and_p90_of_values_at_bucket_middles_are_exact():
    middles = [bucket_value(b) for b in (40, 60, 80, 100, 120)]
    values = [middles[0]] * 5 + [middles[1]] * 3 + [middles[2]] + [middles[4]]
    hist = _histogram(values)
    assert percentile(hist, 0.5) == middles[0]  # 5 of 10 at the smallest
    assert percentile(hist, 0.6) == middles[1]
    assert percentile(hist, 0.9) == middles[2]  # the 9th of 10
    assert percentile(hist, 1.0) == middles[4]


def test_percentiles_of_random_durations_are_within_the_buckets_resolution():
    rnd = random.Random(15)
    values = [rnd.lognormvariate(9, 1.5) for _ in range(2000)]  # ~2 h, long tail
    hist = _histogram(values)
    error = 2 ** (0.5 / BUCKETS_PER_DOUBLING)  # half a bucket either way: ±4.4%
    for q in (0.5, 0.9):
        estimate, truth = percentile(hist, q), _exact(values, q)
        assert truth / error <= estimate <= truth * error, (q, estimate, truth)


def test_a_single_value_is_its_own_median_and_p90_within_a_bucket():
    hist = _histogram([3600])
    assert 3600 / 1.05 < percentile(hist, 0.5) == percentile(hist, 0.9) < 3600 * 1.05


def test_zero_and_negative_durations_count_as_zero():
    assert bucket_of(0) == bucket_of(0.4) == -1
    assert percentile({-1: 3}, 0.5) == 0.0


def test_nothing_counted_has_no_percentile():
    assert percentile({}, 0.5) is None
    assert percentile({10: 0}, 0.9) is None


def test_a_count_taken_back_to_zero_is_ignored():
    assert percentile({10: 0, 20: 2}, 0.5) == bucket_value(20)


def test_buckets_grow_by_one_eighth_of_a_doubling():
    assert bucket_of(1) == 0
    assert bucket_of(2) == BUCKETS_PER_DOUBLING
    assert bucket_of(3600) == math.floor(8 * math.log2(3600))


@pytest.mark.parametrize(
    ("raw", "weeks"), [("4", 4), ("12", 12), ("52", 52), ("5", 12), (None, 12), ("x", 12)]
)
def test_only_the_offered_periods_are_taken_from_the_url(raw, weeks):
    assert weeks_from(raw) == weeks


def test_a_period_is_whole_weeks_from_monday_ending_with_this_one():
    period = period_of(4, today=date(2026, 12, 2))  # a Wednesday
    assert period.mondays == (
        date(2026, 11, 9),
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
    )
    assert all(m.weekday() == 0 for m in period_of(52, today=date(2026, 1, 1)).mondays)
    assert period_of(52).mondays[-1] + timedelta(days=7) > period_of(52).today


def test_reasons_are_tidied_not_rewritten():
    assert tidy_reason("  Customer \n moved  ") == "Customer moved"
    assert tidy_reason("   ") == "(no reason given)"
    assert len(tidy_reason("x" * 500)) == 200


def test_axis_tops_and_units_read_well():
    assert [nice_max(v) for v in (0, 1, 3, 7, 12, 180, 2600)] == [1, 1, 5, 10, 20, 200, 5000]
    assert unit_for([600])[0] == "minutes"
    assert unit_for([5 * 3600])[0] == "hours"
    assert unit_for([5 * 86400])[0] == "days"
    assert [duration(v) for v in (None, 30, 600, 100 * 60, 5 * 3600, 4 * 86400)] == [
        "",
        "under 1 min",
        "10 min",
        "1.7 h",
        "5.0 h",
        "4.0 days",
    ]


def test_a_chart_of_job_counts_marks_whole_jobs_only():
    """A partner with one job read an axis of 0, 0.25, 0.5, 0.75 and 1 jobs (and 2.5, 7.5 with
    a few): the count charts' axis now steps by whole jobs, its top close above the tallest."""
    from datetime import date

    from installations.dashboard.charts import Series, stacked_bars

    for most in range(0, 501):
        chart = stacked_bars(
            "c", "Jobs", "", [Series("a", "A", "blue")], [date(2026, 11, 30)], [{"a": most}]
        )
        labels = [tick.label for tick in chart.ticks]
        assert all(label.isdigit() for label in labels), (most, labels)
        assert most <= int(labels[-1]) <= max(4, 2 * most), (most, labels)


@pytest.mark.parametrize(
    ("before", "inside", "after", "shown"),
    [
        (1, 1, 1, ["34%", "33%", "33%"]),  # was 33 + 33 + 33 = 99
        (1, 1, 4, ["17%", "17%", "66%"]),  # was 17 + 17 + 67 = 101; equal counts read equal
        (0, 3, 0, ["0%", "100%", "0%"]),
        (1, 2, 5, ["13%", "25%", "62%"]),
        (0, 0, 0, ["–", "–", "–"]),
    ],
)
def test_the_arrival_shares_of_a_week_add_up_to_a_hundred(before, inside, after, shown):
    from installations.dashboard.presenters import arrival_shares
    from installations.dashboard.selectors import Arrival

    assert arrival_shares(Arrival(before, inside, after)) == shown


def test_the_arrival_shares_add_up_to_a_hundred_whatever_the_counts():
    from installations.dashboard.presenters import arrival_shares
    from installations.dashboard.selectors import Arrival

    for counts in itertools.product(range(8), repeat=3):
        if sum(counts):
            shares = [int(s.rstrip("%")) for s in arrival_shares(Arrival(*counts))]
            assert sum(shares) == 100, counts
            for n, share in zip(counts, shares, strict=True):
                assert abs(share - 100 * n / sum(counts)) < 1, counts  # each within a point
