"""Numbers, ages and sparklines as short strings for narrow panels (no UI imports)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from console.models import SourceState

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


def staleness(state: SourceState, now: float) -> str:
    """The marker a panel carries when its source failed: "stale 12s: connection refused"."""
    if not state.error:
        return ""
    age = state.age(now)
    if age is None:
        return f"no data: {state.error}"
    return f"stale {duration(age)}: {state.error}"
