"""Signal math: picking series, counter rates, threshold levels. Pure functions over readings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from console.models import Level

SeriesKey = frozenset[tuple[str, str]]
Series = dict[SeriesKey, float]


def matching_series(
    samples: Mapping[str, list[tuple[dict[str, str], float]]], metric: str, labels: Mapping[str, str]
) -> Series:
    """The series of `metric` whose labels include all of `labels`, keyed by their label set."""
    found: Series = {}
    for series_labels, value in samples.get(metric, ()):
        if all(series_labels.get(k) == v for k, v in labels.items()):
            found[frozenset(series_labels.items())] = value
    return found


def aggregate(values: Iterable[float], how: str) -> float | None:
    """None when there is nothing: an absent series is "no data", never a reassuring 0."""
    values = [v for v in values if v == v]  # drop NaN
    if not values:
        return None
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    return sum(values)


def counter_rates(previous: Series, current: Series, elapsed_s: float) -> Series:
    """Per-second rate of each counter series present in both scrapes.

    A counter that went down was reset (process restart): its increase since the reset is
    its current value, as Prometheus' rate() assumes. A series seen once has no rate yet.
    """
    if elapsed_s <= 0:
        return {}
    rates: Series = {}
    for key, now in current.items():
        before = previous.get(key)
        if before is None:
            continue
        increase = now - before if now >= before else now
        rates[key] = increase / elapsed_s
    return rates


def level_of(value: float | None, warn: float | None, crit: float | None, bad: str) -> Level:
    if value is None:
        return Level.NODATA

    def breached(threshold: float | None) -> bool:
        if threshold is None:
            return False
        return value >= threshold if bad == "high" else value <= threshold

    if breached(crit):
        return Level.CRIT
    if breached(warn):
        return Level.WARN
    return Level.OK


def growth(history: Iterable[tuple[float, float]], now: float, window_s: float) -> tuple[float, float] | None:
    """(change, seconds covered) of a (time, value) history over the last `window_s`.

    Covers less than the window when the console has not been watching that long.
    """
    points = [(t, v) for t, v in history if t >= now - window_s]
    if len(points) < 2:
        return None
    (t0, v0), (t1, v1) = points[0], points[-1]
    return v1 - v0, t1 - t0
