"""Signals read from the ops API's JSON (queue counters, stats pages) instead of /metrics.

Each poll asks every distinct `json.path` once, all at once, with the API's client and
timeout, and feeds the signals reading it exactly as a scrape does: a gauge's value, a
counter's rate between two readings, one series per list item. A path that fails marks only
its own signals (their last value stays, marked); a number that is missing or not a number
is "no data" with the reason, never a zero.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from console.config import ApiConfig, JsonValueConfig, SignalConfig
from console.format import duration
from console.signal_state import SignalState
from console.signals import Series, SeriesKey, aggregate, counter_rates
from console.sources.http import SourceError, get_json
from console.sources.json_mapping import dig

DEADLINE_GRACE_S = 0.5  # httpx's timeout is per read; this caps a trickling answer as a whole
SERIES_SHOWN = 20  # per-item series kept for the signals screen (shards, queues)

_ABSENT = object()


@dataclass(frozen=True)
class JsonReading:
    """One signal's numbers from one answer: its series, or why there are none."""

    series: Series
    missing: str = ""
    """Why there is no number ("" when there is one)."""


def _number(raw: Any) -> float | None:
    """A JSON number, or a numeric string (Redis-backed stats often send them); never a bool."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _labels(where: Any, labels: dict[str, str]) -> dict[str, str]:
    found = {}
    for label, dotted in labels.items():
        raw = dig(where, dotted, _ABSENT)
        if raw is not _ABSENT and raw is not None and not isinstance(raw, (dict, list)):
            found[label] = str(raw)
    return found


def _one(where: Any, spec: JsonValueConfig, label: str = "") -> tuple[float | None, str]:
    raw = dig(where, spec.value, _ABSENT)
    if raw is _ABSENT:
        return None, f"{spec.value!r} missing{label}"
    value = _number(raw)
    if value is None:
        shown = "null" if raw is None else type(raw).__name__ if isinstance(raw, (dict, list)) else repr(raw)[:40]
        return None, f"{spec.value!r} is not a number{label}: {shown}"
    return value, ""


def read_json_value(body: Any, spec: JsonValueConfig) -> JsonReading:
    """The series `spec` points at in `body`. With `items`, one series per item; an item
    without a number makes the whole signal "no data": the worst shard may be the one that
    is missing."""
    if not spec.items:
        value, missing = _one(body, spec)
        if value is None:
            return JsonReading({}, missing)
        return JsonReading({frozenset(_labels(body, spec.labels).items()): value})
    items = dig(body, spec.items, _ABSENT)
    if not isinstance(items, list):
        return JsonReading({}, f"{spec.items!r} missing" if items is _ABSENT else f"{spec.items!r} is not a list")
    if not items:
        return JsonReading({}, f"{spec.items!r} is empty")
    series: Series = {}
    for index, item in enumerate(items):
        labels = _labels(item, spec.labels)
        value, missing = _one(item, spec, f" in {spec.items}[{index}]")
        if value is None:
            return JsonReading({}, missing)
        key: SeriesKey = frozenset(labels.items())
        if key in series:  # items the labels do not tell apart stay apart
            key = frozenset({**labels, "item": str(index)}.items())
        series[key] = value
    return JsonReading(series)


class JsonSignalFeed:
    """Refreshes the json signals' states: each distinct path fetched once per poll."""

    def __init__(self, client: httpx.AsyncClient, api: ApiConfig, states: list[SignalState], clock: Callable[[], float] = time.time):
        self._client = client
        self._api = api
        self.states = states
        self._clock = clock
        self.paths = sorted({state.signal.json_value.path for state in states if state.signal.json_value})
        self._counters: dict[str, tuple[float, Series]] = {}  # signal → (when, its last totals)
        self._retry_after: dict[str, tuple[float, str]] = {}  # path → (not before, why)

    async def refresh(self) -> tuple[int, None]:
        """Raises SourceError naming the failing paths when any failed, after every signal
        whose path answered has been fed: the source is stale, its other tiles are not."""
        failures = [f for f in await asyncio.gather(*(self._refresh_path(path) for path in self.paths)) if f]
        if failures:
            head = failures[0] if len(failures) == 1 else f"{len(failures)} of {len(self.paths)} paths failing: {failures[0]}"
            raise SourceError(head)
        return len(self.paths), None

    async def _refresh_path(self, path: str) -> str:
        """"" when `path` answered, else "path: why" (its signals are marked failing)."""
        states = [state for state in self.states if state.signal.json_value and state.signal.json_value.path == path]
        try:
            body = await self._fetch(path)
        except SourceError as exc:
            if exc.retry_after_s:
                self._retry_after[path] = (self._clock() + exc.retry_after_s, str(exc))
            reason = self._retry_note(path) + str(exc)
            for state in states:
                state.failed(reason)
            return f"{path}: {reason}"
        now = self._clock()
        for state in states:
            self._observe(state, read_json_value(body, state.signal.json_value), now)
        return ""

    async def _fetch(self, path: str) -> Any:
        until, reason = self._retry_after.get(path, (0.0, ""))
        if until > self._clock():  # the API asked for a pause on this path (429/503 Retry-After)
            raise SourceError(reason)
        self._retry_after.pop(path, None)
        timeout = self._api.timeout_s
        try:
            # One path that trickles fails alone, before the poller's deadline for all of them.
            async with asyncio.timeout(timeout + DEADLINE_GRACE_S):
                return await get_json(self._client, self._api.base_url + path, timeout)
        except TimeoutError:
            raise SourceError(f"timed out after {timeout:g}s") from None

    def _retry_note(self, path: str) -> str:
        left = self._retry_after.get(path, (0.0, ""))[0] - self._clock()
        return f"retry in {duration(math.ceil(left))}: " if left > 0 else ""

    def _observe(self, state: SignalState, reading: JsonReading, now: float) -> None:
        signal: SignalConfig = state.signal
        series = reading.series
        if signal.kind == "counter" and series:
            previous = self._counters.get(signal.name)
            self._counters[signal.name] = (now, series)
            if previous is None:
                state.observe(None, now, note="collecting")  # a rate needs two readings
                return
            per = 60.0 if signal.rate_per == "min" else 1.0
            series = {key: rate * per for key, rate in counter_rates(previous[1], series, now - previous[0]).items()}
        value = aggregate(series.values(), signal.aggregate)
        labelled = {tuple(sorted(key)): v for key, v in series.items()}
        note = "" if value is not None else f"no data: {reading.missing}" if reading.missing else "no data"
        state.observe(value, now, labelled, note=note)
