"""Trends, drain estimates, severity hints and exit criteria over (time, value) histories."""

from __future__ import annotations

import random

import pytest

from console.config import ExitCriterionConfig, SeverityHintConfig
from console.format import drain_text, resample, trend_long, trend_short
from console.models import Direction
from console.rules import exit_criteria, judge, severity_hints, strongest_hint
from console.trends import History, trend_of

WINDOW = 300.0  # the trend window: 5 min


def series(values, step=10.0, start=1_700_000_000.0):
    return [(start + i * step, float(v)) for i, v in enumerate(values)]


def test_rising_queue_says_rising_for_how_long_and_no_drain():
    points = series([100 + 3 * i for i in range(121)])  # 20 min, +18/min
    trend = trend_of(History(points, WINDOW), drain=True)
    assert trend.direction is Direction.RISING
    # Judged from the first point with half a window behind it (150 s) to the newest.
    assert trend.held_s == pytest.approx(1200 - 150)
    assert trend.since_start
    assert trend.slope_per_s == pytest.approx(0.3)
    assert trend.drain_s is None
    assert drain_text(trend, points[-1][1]) == "no drain"
    assert trend_short(trend) == "↑≥17m"


def test_falling_queue_drains_at_the_current_slope():
    # Rose for 10 min, then falls 6 jobs a minute from 600.
    points = series([540 + i for i in range(61)] + [600 - i for i in range(1, 61)])
    trend = trend_of(History(points, WINDOW), drain=True)
    assert trend.direction is Direction.FALLING
    assert not trend.since_start  # it turned: the fall is dated from the turn
    assert 6 * 60 <= trend.held_s <= 10 * 60
    assert trend.drain_s == pytest.approx(540 / 0.1, rel=0.01)
    assert drain_text(trend, 540) == "drains in ~90m"
    assert trend_long(trend).startswith("falling for ")


def test_noise_around_a_level_is_flat():
    rng = random.Random(3)
    points = series([1000 + rng.uniform(-5, 5) for _ in range(90)])
    trend = trend_of(History(points, WINDOW))
    assert trend.direction is Direction.FLAT


def test_flat_within_overrides_the_relative_tolerance():
    points = series([10 + 0.01 * i for i in range(60)])  # +0.3 over the window: 3 %
    assert trend_of(History(points, WINDOW)).direction is Direction.RISING
    assert trend_of(History(points, WINDOW, flat_within=0.5)).direction is Direction.FLAT


def test_no_trend_until_half_a_window_of_history():
    assert trend_of(History(series([1, 2, 3, 4]), WINDOW)) is None
    assert trend_of(History([], WINDOW)) is None
    assert trend_long(None) == "trend: measuring"


def test_empty_queue_says_empty_not_no_drain():
    trend = trend_of(History(series([0] * 40), WINDOW), drain=True)
    assert drain_text(trend, 0) == "empty"


def test_unix_times_do_not_lose_the_slope_to_rounding():
    points = series([5.0 + 1e-3 * i for i in range(60)], step=1.0, start=1.9e9)
    slope, _ = History(points, 60).slope(59)
    assert slope == pytest.approx(1e-3, rel=1e-6)


def hint(**fields) -> SeverityHintConfig:
    return SeverityHintConfig(severity="SEV-1", reason="queue rising, no drain", signal="queue", **fields)


def test_hint_is_met_only_after_holding_for_its_time():
    rising = series([10 * i for i in range(121)], step=10)  # 20 min of rise
    state = judge(hint(trend=["rising"], for_min=15), History(rising, WINDOW), "queue rising")
    assert state.met and state.held_s >= 15 * 60
    short = History(rising[:60], WINDOW)  # 10 min
    state = judge(hint(trend=["rising"], for_min=15), short, "queue rising")
    assert not state.met
    assert state.waiting == "history covers 9m of 15m"


def test_threshold_hint_counts_from_the_last_crossing():
    values = [90] * 30 + [95] * 30 + [50] + [95] * 100  # a dip 100 samples ago
    history = History(series(values, step=10), WINDOW)
    state = judge(hint(above=80, for_min=15), history, "x")
    assert state.held_s == pytest.approx(99 * 10)
    assert state.met
    state = judge(hint(above=80, for_min=20), history, "x")
    assert not state.met and state.held_s == pytest.approx(990) and state.waiting == ""


def test_condition_false_now_is_not_met_and_has_no_hold():
    history = History(series([600] * 60 + [10]), WINDOW)
    state = judge(hint(above=500, for_min=1), history, "x")
    assert not state.met and state.held_s is None


def test_trend_condition_waits_while_the_trend_is_unknown():
    state = judge(hint(trend=["rising"], for_min=1), History(series([1, 2, 3]), WINDOW), "x")
    assert not state.met and state.waiting == "measuring the trend"
    assert judge(hint(above=0, for_min=1), None, "x").waiting == "no data for queue"


def test_strongest_met_hint_wins_and_exit_criteria_report_each():
    rising = History(series([10 * i for i in range(121)]), WINDOW)
    rules = [
        SeverityHintConfig(severity="SEV-2", reason="high", signal="queue", above=100, for_min=5),
        SeverityHintConfig(severity="SEV-1", reason="rising", signal="queue", trend=["rising"], for_min=15),
        SeverityHintConfig(severity="SEV-1", reason="never", signal="queue", below=0, for_min=1),
    ]
    states = severity_hints(rules, {"queue": rising})
    assert [s.met for s in states] == [True, True, False]
    assert strongest_hint(states).title == "rising"
    assert strongest_hint(states[2:]) is None
    criteria = exit_criteria(
        [ExitCriterionConfig(title="falling", signal="queue", trend=["falling", "flat"], for_min=30)], {"queue": rising}
    )
    assert not criteria[0].met and criteria[0].held_s is None


def test_resample_spreads_the_window_over_the_width():
    points = series(range(100), step=1)
    assert resample(points, 10) == [9, 19, 29, 39, 49, 59, 69, 79, 89, 99]
    assert resample(points[:5], 10) == [0, 1, 2, 3, 4]
    assert resample(points, 0) == [] and resample([], 5) == []


def test_a_trend_that_just_turned_shows_no_duration():
    from console.models import Trend

    turned = Trend(Direction.RISING, 0.0, False, 0.5)
    assert trend_short(turned) == "↑"
    assert trend_long(turned) == "rising, just turned"
