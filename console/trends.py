"""Trends over a signal's history: rising, falling or flat, for how long, and when a backlog
drains. Pure functions over (time, value) points; no I/O.

A point's direction is the least-squares slope of the values in the trend window that ends
at it, so one noisy sample does not flip "rising" to "falling". The change that slope
predicts over the window is compared with a tolerance: below it, the signal is flat.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence

from console.models import Direction, Trend

Point = tuple[float, float]
RELATIVE_FLAT = 0.02  # a change under 2 % of the level (or of the warn line) over the window is flat
MIN_POINTS = 3


class History:
    """Points with prefix sums, so each point's windowed slope costs O(log n)."""

    def __init__(self, points: Sequence[Point], window_s: float, flat_within: float | None = None, warn: float | None = None):
        self.points = points
        self.window_s = window_s
        self.flat_within = flat_within
        self.warn = warn
        self._times = [t for t, _ in points]
        origin = self._times[0] if points else 0.0
        # Times relative to the first point: squares of Unix times lose the slope to rounding.
        self._st, self._sv, self._stt, self._stv = [0.0], [0.0], [0.0], [0.0]
        for t, v in points:
            t -= origin
            self._st.append(self._st[-1] + t)
            self._sv.append(self._sv[-1] + v)
            self._stt.append(self._stt[-1] + t * t)
            self._stv.append(self._stv[-1] + t * v)
        self._directions: dict[int, Direction | None] = {}

    def __len__(self) -> int:
        return len(self.points)

    def slope(self, i: int) -> tuple[float, float] | None:
        """(slope per second, mean value) over the window ending at point i; None when the
        window holds too few points or covers less than half its length."""
        j = bisect_left(self._times, self._times[i] - self.window_s)
        n = i - j + 1
        if n < MIN_POINTS or self._times[i] - self._times[j] < self.window_s / 2:
            return None
        st = self._st[i + 1] - self._st[j]
        sv = self._sv[i + 1] - self._sv[j]
        stt = self._stt[i + 1] - self._stt[j]
        stv = self._stv[i + 1] - self._stv[j]
        denominator = n * stt - st * st
        if denominator <= 0:
            return None
        return (n * stv - st * sv) / denominator, sv / n

    def direction(self, i: int) -> Direction | None:
        if i not in self._directions:
            self._directions[i] = self._direction(i)
        return self._directions[i]

    def _direction(self, i: int) -> Direction | None:
        fitted = self.slope(i)
        if fitted is None:
            return None
        slope, mean = fitted
        if self.flat_within is not None:
            tolerance = self.flat_within
        else:
            tolerance = RELATIVE_FLAT * max(abs(mean), abs(self.warn or 0.0))
        change = slope * self.window_s
        if abs(change) <= max(tolerance, 1e-9):
            return Direction.FLAT
        return Direction.RISING if change > 0 else Direction.FALLING

    def held(self, holds: Callable[[int], bool | None]) -> tuple[float, bool] | None:
        """How long `holds` has been true up to the newest point, and whether it was true as
        far back as can be judged. None when it does not hold at the newest point.

        `holds` returns None where a point cannot be judged (too early in the history)."""
        last = len(self.points) - 1
        if last < 0 or not holds(last):
            return None
        first = last
        while first > 0:
            verdict = holds(first - 1)
            if not verdict:
                return self._times[last] - self._times[first], verdict is None
            first -= 1
        return self._times[last] - self._times[first], True

    def covered_s(self) -> float:
        return self._times[-1] - self._times[0] if self.points else 0.0


def trend_of(history: History, drain: bool = False) -> Trend | None:
    """The newest point's direction and how long it has held; None until the history covers
    half a trend window."""
    if not len(history):
        return None
    last = len(history) - 1
    direction = history.direction(last)
    fitted = history.slope(last)
    if direction is None or fitted is None:
        return None
    held = history.held(lambda i: None if history.direction(i) is None else history.direction(i) is direction)
    held_s, since_start = held if held is not None else (0.0, False)
    slope = fitted[0]
    drain_s = None
    if drain and direction is Direction.FALLING and slope < 0:
        drain_s = max(0.0, history.points[last][1] / -slope)
    return Trend(direction, held_s, since_start, slope, drain_s)
