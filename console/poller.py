"""One poll: fetch every source concurrently, each under its own deadline, into one Snapshot.

A failing or hung source keeps its last good data and gains an error; it never delays or
blanks the others. The poller is the only place that keeps state between polls (last good
data, counter samples, signal history), so the UI only ever renders snapshots.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from console.config import Config, read_token
from console.format import duration
from console.models import SignalReading, Snapshot, SourceState
from console.signals import Series, aggregate, counter_rates, growth, level_of, matching_series
from console.sources import ops_api
from console.sources.http import SourceError
from console.sources.metrics_scrape import Samples, scrape

HISTORY_POINTS = 60  # sparkline length: two minutes at the default refresh
DEAD_LETTER_GROWTH_WINDOW_S = 300.0

Fetcher = Callable[[], Awaitable[tuple[Any, datetime | None]]]

# Source names, in the order panels appear.
HEALTH, METRICS, WORKERS, LEASES, DEAD_LETTERS = "health", "metrics", "workers", "leases", "dead_letters"


class Poller:
    def __init__(self, config: Config, client: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time):
        self.config = config
        self._clock = clock
        token = read_token(config.api)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = client or httpx.AsyncClient(headers=headers, follow_redirects=False)
        api = config.api
        self._fetchers: dict[str, Fetcher] = {
            HEALTH: lambda: ops_api.fetch_health(self._client, api),
            METRICS: self._fetch_metrics,
            WORKERS: lambda: ops_api.fetch_workers(self._client, api),
            LEASES: lambda: ops_api.fetch_leases(self._client, api),
            DEAD_LETTERS: lambda: ops_api.fetch_dead_letters(self._client, api),
        }
        self._states = {name: SourceState(name) for name in self._fetchers}
        self._counter_series: dict[str, tuple[float, Series]] = {}
        self._latest: dict[str, tuple[float | None, str]] = {}
        self._history: dict[str, deque[float]] = {s.name: deque(maxlen=HISTORY_POINTS) for s in config.signals}
        self._dead_letter_totals: deque[tuple[float, float]] = deque(maxlen=1000)
        self._retry_after: dict[str, tuple[float, str]] = {}  # source → (not before, why)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _fetch_metrics(self) -> tuple[Samples, None]:
        return await scrape(self._client, self.config.metrics_url, self.config.api.timeout_s), None

    async def _run(self, name: str) -> None:
        fetcher = self._fetchers[name]
        deadline = self.config.api.timeout_s
        if self._backing_off(name):
            return
        try:
            # httpx's timeout is per read; a server that trickles bytes needs a total deadline.
            data, server_now = await asyncio.wait_for(fetcher(), timeout=deadline + 0.5)
        except SourceError as exc:
            if exc.retry_after_s:
                self._retry_after[name] = (self._clock() + exc.retry_after_s, str(exc))
            self._failed(name, self._next_try(name) + str(exc))
        except asyncio.TimeoutError:
            self._failed(name, f"timed out after {deadline:g}s")
        except Exception as exc:  # a source bug must not take the console down
            self._failed(name, f"{type(exc).__name__}: {exc}")
        else:
            self._succeeded(name, data, server_now)

    # -- Retry-After: a source that asked for a pause is not asked again before it ends ------

    def _backing_off(self, name: str) -> bool:
        until, reason = self._retry_after.get(name, (0.0, ""))
        if until <= self._clock():
            self._retry_after.pop(name, None)
            return False
        self._failed(name, self._next_try(name) + reason)
        return True

    def _next_try(self, name: str) -> str:
        until = self._retry_after.get(name, (0.0, ""))[0]
        left = until - self._clock()
        return f"retry in {duration(math.ceil(left))}: " if left > 0 else ""

    def _failed(self, name: str, reason: str) -> None:
        old = self._states[name]
        self._states[name] = SourceState(name, old.data, old.ok_at, reason, old.server_now)

    def _succeeded(self, name: str, data: Any, server_now: datetime | None) -> None:
        now = self._clock()
        self._states[name] = SourceState(name, data, now, "", server_now)
        if name == METRICS:
            self._update_signals(data, now)
        elif name == DEAD_LETTERS:
            # Growth is measured on the backend's clock when it tells us one: "+40 in 5m"
            # must mean the backend's five minutes, whatever our polling jitter.
            at = server_now.timestamp() if server_now is not None else now
            self._dead_letter_totals.append((at, float(data.total)))

    def _update_signals(self, samples: Samples, now: float) -> None:
        for signal in self.config.signals:
            series = matching_series(samples, signal.metric, signal.labels)
            note = "no data" if not series else ""
            if signal.kind == "counter":
                previous = self._counter_series.get(signal.name)
                self._counter_series[signal.name] = (now, series)
                if previous is None and series:
                    value, note = None, "collecting"  # a rate needs two scrapes
                else:
                    rates = counter_rates(previous[1], series, now - previous[0]) if previous else {}
                    value = aggregate(rates.values(), signal.aggregate)
                    if value is not None:
                        value *= 60.0 if signal.rate_per == "min" else 1.0
            else:
                value = aggregate(series.values(), signal.aggregate)
            if value is not None:
                value *= signal.scale
                self._history[signal.name].append(value)
            self._latest[signal.name] = (value, note)

    def _readings(self) -> tuple[SignalReading, ...]:
        readings = []
        for signal in self.config.signals:
            value, note = self._latest.get(signal.name, (None, "waiting for metrics"))
            readings.append(
                SignalReading(
                    name=signal.name,
                    title=signal.title,
                    unit=signal.unit,
                    value=value,
                    level=level_of(value, signal.warn, signal.crit, signal.bad),
                    history=tuple(self._history[signal.name]),
                    note=note,
                )
            )
        return tuple(readings)

    async def poll(self) -> Snapshot:
        await asyncio.gather(*(self._run(name) for name in self._fetchers))
        now = self._clock()
        latest = self._dead_letter_totals[-1][0] if self._dead_letter_totals else now
        change = growth(self._dead_letter_totals, latest, DEAD_LETTER_GROWTH_WINDOW_S)
        return Snapshot(
            taken_at=now,
            sources=dict(self._states),
            signals=self._readings(),
            dead_letter_growth=None if change is None else int(change[0]),
            dead_letter_growth_window_s=0.0 if change is None else change[1],
        )
