"""Numbers, ages and sparklines as short strings for narrow panels (no UI imports)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from console.models import Direction, Level, SignalReading, SourceState, Trend
from console.text import plain

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def duration(seconds: float | None) -> str:
    """64s, 12m, 5h, 3d: at most four characters, for narrow columns; "?" when unknown."""
    if seconds is None or math.isnan(seconds):
        return "?"
    sign = "-" if seconds < 0 else ""
    s = int(abs(seconds))
    if s < 100:
        return f"{sign}{s}s"
    if s < 100 * 60:
        return f"{sign}{s // 60}m"
    if s < 48 * 3600:
        return f"{sign}{s // 3600}h"
    return f"{sign}{s // 86400}d"


def coarse_age(seconds: float | None, step: int = 10) -> str:
    """`duration`, but under 100 s floored to `step` seconds: "<10s", "20s", "-30s", "3m".

    For live ages (lease age, time to expiry, heartbeat age): an exact age changes at
    every refresh, and every change is a redraw sent down the operator's SSH link. The
    panels show exact ages where they matter: late workers, stale leases."""
    if seconds is None or math.isnan(seconds) or abs(seconds) >= 100:
        return duration(seconds)
    sign = "-" if seconds < 0 else ""
    floored = int(abs(seconds)) // step * step
    return f"{sign}{floored}s" if floored else f"{sign}<{step}s"


def number(value: float | None) -> str:
    """1,234 / 12.5 / 0.42 / 3.1k: at most ~6 characters for tiles."""
    if value is None or math.isnan(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if magnitude >= 100_000:
        return f"{value / 1000:.0f}k"
    if magnitude >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def value_words(reading: SignalReading) -> tuple[str, str, str]:
    """("412", " jobs", " CRIT"): the value, its unit and, at warn or crit, the level word
    (for monochrome terminals). The tiles style each part; a status update joins them."""
    level = f" {reading.level.value.upper()}" if reading.level in (Level.WARN, Level.CRIT) else ""
    unit = f" {plain(reading.unit)}" if reading.unit else ""
    return number(reading.value), unit, level


def sparkline(values: Sequence[float], width: int) -> str:
    """The last `width` values as block characters, scaled between their min and max."""
    points = [v for v in values if not math.isnan(v)][-width:] if width > 0 else []
    if not points:
        return ""
    low, high = min(points), max(points)
    span = high - low
    if span == 0:
        # Flat: draw it at the bottom if it is zero, mid-height otherwise, so 0 and 500 differ.
        return SPARK_BLOCKS[0 if high == 0 else 3] * len(points)
    top = len(SPARK_BLOCKS) - 1
    return "".join(SPARK_BLOCKS[round((v - low) / span * top)] for v in points)


def resample(points: Sequence[tuple[float, float]], width: int) -> list[float]:
    """At most `width` values spread evenly over the time the points cover (the last value
    of each slice), so a sparkline shows the whole window however many points it has."""
    if width <= 0 or not points:
        return []
    if len(points) <= width:
        return [v for _, v in points]
    start, span = points[0][0], points[-1][0] - points[0][0]
    if span <= 0:
        return [points[-1][1]]
    buckets: list[float | None] = [None] * width
    for t, v in points:
        buckets[min(width - 1, int((t - start) / span * width))] = v
    filled, last = [], points[0][1]
    for value in buckets:
        last = last if value is None else value
        filled.append(last)
    return filled


ARROWS = {Direction.RISING: "↑", Direction.FALLING: "↓", Direction.FLAT: "→"}


def trend_short(trend: Trend | None) -> str:
    """"↑17m" for a tile: the direction and how long it has held ("≥" when as long as the history)."""
    if trend is None:
        return ""
    if trend.held_s < 1:
        return ARROWS[trend.direction]  # it just turned: "0s" would read as a value
    return f"{ARROWS[trend.direction]}{'≥' if trend.since_start else ''}{duration(trend.held_s)}"


def trend_long(trend: Trend | None) -> str:
    """"rising for 17m", "falling for at least 4m"."""
    if trend is None:
        return "trend: measuring"
    if trend.held_s < 1:
        return f"{trend.direction.value}, just turned"
    at_least = "at least " if trend.since_start else ""
    return f"{trend.direction.value} for {at_least}{duration(trend.held_s)}"


def drain_text(trend: Trend | None, value: float | None) -> str:
    """For a backlog: "empty", "drains in ~7m", or "no drain" (rising or flat while not empty)."""
    if value is None or trend is None:
        return ""
    if value <= 0:
        return "empty"
    if trend.drain_s is not None:
        return f"drains in ~{duration(trend.drain_s)}"
    return "no drain"


def staleness(state: SourceState, now: float) -> str:
    """The marker a panel carries when its source failed: "stale 12s: connection refused"."""
    if not state.error:
        return ""
    age = state.age(now)
    if age is None:
        return f"no data: {state.error}"
    return f"stale {duration(age)}: {state.error}"
