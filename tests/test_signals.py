"""/metrics parsing, counter-rate math, thresholds and formatting."""

from __future__ import annotations

import pytest

from console.format import duration, number, sparkline, staleness
from console.models import Level, SourceState
from console.signals import aggregate, counter_rates, growth, level_of, matching_series
from console.sources.http import SourceError
from console.sources.metrics_scrape import parse_exposition
from console.text import plain

EXPOSITION = """\
# HELP oris_runtime_queue_depth Jobs waiting.
# TYPE oris_runtime_queue_depth gauge
oris_runtime_queue_depth 42
# HELP oris_runtime_backpressure_total Refused claims.
# TYPE oris_runtime_backpressure_total counter
oris_runtime_backpressure_total{reason="worker_limit"} 10
oris_runtime_backpressure_total{reason="tenant_limit"} 5
# TYPE oris_runtime_dlq_entries gauge
oris_runtime_dlq_entries{error_class="ProviderUnavailable"} 7
oris_runtime_dlq_entries{error_class="StorageWriteError"} 3
"""


def test_parse_keeps_counter_total_suffix_and_labels():
    samples = parse_exposition(EXPOSITION)
    assert samples["oris_runtime_queue_depth"] == [({}, 42.0)]
    assert ({"reason": "tenant_limit"}, 5.0) in samples["oris_runtime_backpressure_total"]


@pytest.mark.parametrize(
    "text",
    [
        "oris_runtime_queue_depth 42\nbroken{ 1\n",
        "# TYPE x gauge\nx not-a-number\n",
        'x{a="unterminated} 1\n',
    ],
)
def test_malformed_exposition_raises_source_error_not_value_error(text: str):
    with pytest.raises(SourceError, match="malformed metrics"):
        parse_exposition(text)


def test_series_selection_and_aggregation():
    samples = parse_exposition(EXPOSITION)
    both = matching_series(samples, "oris_runtime_backpressure_total", {})
    assert aggregate(both.values(), "sum") == 15
    tenant = matching_series(samples, "oris_runtime_backpressure_total", {"reason": "tenant_limit"})
    assert list(tenant.values()) == [5.0]
    assert aggregate(matching_series(samples, "oris_runtime_dlq_entries", {}).values(), "max") == 7
    # An absent series is no data, never zero.
    assert aggregate(matching_series(samples, "absent_metric", {}).values(), "sum") is None


def _series(**values: float):
    return {frozenset({("reason", k)}): v for k, v in values.items()}


def test_counter_rate_per_series():
    rates = counter_rates(_series(a=10, b=5), _series(a=40, b=5), elapsed_s=10)
    assert sorted(rates.values()) == [0.0, 3.0]


def test_counter_reset_counts_increase_since_reset():
    # The process restarted: 100 → 4 means 4 new events, not -96.
    rates = counter_rates(_series(a=100), _series(a=4), elapsed_s=2)
    assert list(rates.values()) == [2.0]


def test_counter_rate_needs_two_samples_of_a_series():
    assert counter_rates({}, _series(a=4), elapsed_s=2) == {}
    assert counter_rates(_series(a=1), _series(b=4), elapsed_s=2) == {}
    assert counter_rates(_series(a=1), _series(a=4), elapsed_s=0) == {}


@pytest.mark.parametrize(
    ("value", "bad", "expected"),
    [
        (None, "high", Level.NODATA),
        (99, "high", Level.OK),
        (100, "high", Level.WARN),
        (500, "high", Level.CRIT),
        (0.95, "low", Level.OK),
        (0.8, "low", Level.WARN),
        (0.5, "low", Level.CRIT),
    ],
)
def test_levels(value, bad, expected):
    warn, crit = (100, 500) if bad == "high" else (0.8, 0.6)
    assert level_of(value, warn, crit, bad) is expected


def test_growth_over_window():
    history = [(0, 10), (100, 12), (200, 20), (300, 30)]
    assert growth(history, now=300, window_s=150) == (10, 100)
    assert growth(history, now=300, window_s=1000) == (20, 300)
    assert growth([(0, 1)], now=0, window_s=10) is None


def test_formatting():
    assert [duration(s) for s in (0, 59.9, 99, 100, 605, 5999, 6000, 90000, 200000, -12)] == [
        "0s", "59s", "99s", "1m", "10m", "99m", "1h", "25h", "2d", "-12s"
    ]
    assert duration(None) == "?"
    assert [number(v) for v in (None, 0, 7, 0.4234, 12.34, 1234, 250_000, 3_400_000)] == [
        "—", "0", "7", "0.42", "12.3", "1,234", "250k", "3.4M"
    ]
    assert sparkline([0, 5, 10], 10) == "▁▅█"
    assert sparkline([1, 2, 3, 4], 2) == "▁█"
    assert sparkline([0, 0], 5) == "▁▁" and sparkline([7, 7], 5) == "▄▄"


def test_staleness_marker():
    fresh = SourceState("workers", data=(), ok_at=100.0)
    assert staleness(fresh, 112) == ""
    failed = SourceState("workers", data=(), ok_at=100.0, error="connection refused")
    assert staleness(failed, 112) == "stale 12s: connection refused"
    never = SourceState("workers", error="timed out after 3s")
    assert staleness(never, 112) == "no data: timed out after 3s"


def test_plain_makes_control_characters_visible():
    hostile = "boom\x1b[2J\x1b]52;c;ZXZpbA==\x07 [bold]x[/] \u202edesrever\u200b"
    shown = plain(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown and "\u200b" not in shown
    assert shown.startswith("boom␛[2J␛]52;c;ZXZpbA==␇ [bold]x[/] <U+202E>desrever<U+200B>")
    assert plain("x" * 50, limit=10) == "x" * 9 + "…"
