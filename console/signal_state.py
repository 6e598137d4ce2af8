"""What the poller remembers about one signal between polls, and the reading it yields.

Every feed (a /metrics scrape, Prometheus, the API's JSON) fills the same state: the latest
value with the series behind it, and (time, value) points over the configured window. The
reading adds the level, the trend and, for a backlog, the drain estimate.
"""

from __future__ import annotations

from collections import deque

from console.config import HistoryConfig, SignalConfig
from console.models import SeriesValue, SignalReading
from console.signals import level_of
from console.trends import History, Point, trend_of

Labels = tuple[tuple[str, str], ...]


class SignalState:
    def __init__(self, signal: SignalConfig, history: HistoryConfig, top_series: int = 3):
        self.signal = signal
        self.window_s = history.window_min * 60
        self.trend_window_s = history.trend_window_min * 60
        self.top_series = top_series
        self.points: deque[Point] = deque()
        self.value: float | None = None
        self.note = "waiting for metrics"
        self.error = ""
        self.series: tuple[SeriesValue, ...] = ()
        self.series_count = 0
        self.labels: Labels = ()

    def observe(self, value: float | None, at: float, series: dict[Labels, float] | None = None, note: str = "") -> None:
        """A fresh answer, before `scale`; `value` None means the series is absent: no data."""
        if value is not None:
            value *= self.signal.scale
        self.value = value
        self.note = note if value is None else ""
        self.error = ""
        if value is not None and (not self.points or at > self.points[-1][0]):
            self.points.append((at, value))
        self._prune(at)
        # Worst first: the largest when high is bad, the smallest when low is (stage success).
        ranked = sorted((series or {}).items(), key=lambda item: item[1], reverse=self.signal.bad == "high")
        self.series_count = len(ranked)
        shown = ranked[: self.top_series] if len(ranked) > 1 else []
        self.series = tuple(SeriesValue(labels, v * self.signal.scale) for labels, v in shown)
        # A json signal's labels are chosen in the config to say what its one number is
        # about (the model version); a scrape's one series only repeats the query's labels.
        self.labels = ranked[0][0] if len(ranked) == 1 and self.signal.json_value is not None else ()

    def replace_history(self, points: list[Point]) -> None:
        """A range query's answer (before `scale`) replaces what was collected point by point."""
        self.points = deque((t, v * self.signal.scale) for t, v in points)
        if self.points:
            self._prune(self.points[-1][0])

    def failed(self, reason: str) -> None:
        """This signal's query failed; the last value stays, marked by the error."""
        self.error = reason

    def _prune(self, now: float) -> None:
        while self.points and self.points[0][0] < now - self.window_s:
            self.points.popleft()

    def history(self) -> History:
        return History(tuple(self.points), self.trend_window_s, self.signal.flat_within, self.signal.warn)

    def reading(self, history: History) -> SignalReading:
        signal = self.signal
        return SignalReading(
            name=signal.name,
            title=signal.title,
            unit=signal.unit,
            value=self.value,
            level=level_of(self.value, signal.warn, signal.crit, signal.bad),
            history=history.points,
            note=self.note,
            error=self.error,
            trend=trend_of(history, signal.drain),
            series=self.series,
            series_count=self.series_count,
            labels=self.labels,
            drain=signal.drain,
        )
