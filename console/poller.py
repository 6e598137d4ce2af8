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
from functools import partial
from typing import Any

import httpx

from console.config import ApiConfig, Config, PrometheusMetricsConfig, read_token
from console.format import duration
from console.models import Snapshot, SourceState
from console.rules import exit_criteria, severity_hints
from console.signal_state import SignalState
from console.signals import growth
from console.sources import ops_api
from console.sources.alertmanager import fetch_alerts
from console.sources.http import SourceError, http_client
from console.sources.json_signals import SERIES_SHOWN, JsonSignalFeed
from console.sources.metrics_scrape import ScrapeFeed

DEAD_LETTER_GROWTH_WINDOW_S = 300.0

Fetcher = Callable[[], Awaitable[tuple[Any, datetime | None]]]

# Source names, in the order panels appear.
HEALTH, METRICS, WORKERS, LEASES, DEAD_LETTERS, ALERTS = "health", "metrics", "workers", "leases", "dead_letters", "alerts"
STATS = "stats"  # the API's JSON read by `json` signals (queue counters, stats pages)
JOBS = "jobs"
# The lists a config may leave out ([api.workers] ...): no table, no fetch, no panel.
LISTS = {WORKERS: ops_api.fetch_workers, LEASES: ops_api.fetch_leases, JOBS: ops_api.fetch_jobs, DEAD_LETTERS: ops_api.fetch_dead_letters}


def dashboard_lists(api: ApiConfig) -> list[str]:
    """The lists with a panel on the dashboard, so the ones polled: every configured one,
    except that recent jobs take the leases' place only in an API without leases (with
    leases, a job in trouble shows there, and jobs are read by evidence bundles)."""
    shown = [name for name in LISTS if getattr(api, name) is not None]
    return [name for name in shown if not (name == JOBS and LEASES in shown)]


def health_source(service: str) -> str:
    """The source name of one [[api.health]] service ("health:pdf-worker")."""
    return f"{HEALTH}:{service}"


class Poller:
    def __init__(self, config: Config, client: httpx.AsyncClient | None = None, clock: Callable[[], float] = time.time):
        self.config = config
        self._clock = clock
        self._client = client or http_client(read_token(config.api))
        api = config.api
        metrics = config.metrics
        top = metrics.top_series if isinstance(metrics, PrometheusMetricsConfig) else 3
        self.signals = [SignalState(signal, metrics, top if signal.json_value is None else SERIES_SHOWN) for signal in config.signals]
        from_metrics = [state for state in self.signals if state.signal.json_value is None]
        if isinstance(metrics, PrometheusMetricsConfig):
            # Imported only when used: prometheus-api-client brings requests (~60 ms at start).
            from console.sources.prometheus import PrometheusFeed

            self.feed: ScrapeFeed | PrometheusFeed = PrometheusFeed(metrics, from_metrics, clock)
        else:
            self.feed = ScrapeFeed(self._client, config.metrics_url, api.timeout_s, from_metrics, clock)
        # One source per health service, so one down or unreachable service is marked on
        # its own and the others stay current; then only the lists this API offers.
        self._fetchers: dict[str, Fetcher] = {
            health_source(check.name): partial(ops_api.fetch_health, self._client, api, check) for check in api.health
        }
        if from_metrics:  # a config whose signals all read the API's JSON scrapes nothing
            self._fetchers[METRICS] = self.feed.refresh
        for name in dashboard_lists(api):
            self._fetchers[name] = partial(LISTS[name], self._client, api)
        from_json = [state for state in self.signals if state.signal.json_value is not None]
        if from_json:
            self._fetchers[STATS] = JsonSignalFeed(self._client, api, from_json, clock).refresh
        self._timeouts = {name: api.timeout_s for name in self._fetchers}
        self._alerts_client: httpx.AsyncClient | None = None
        if config.alertmanager is not None:
            alertmanager = config.alertmanager
            # Its own client: the ops API's token is not Alertmanager's to see.
            self._alerts_client = http_client(read_token(alertmanager, "alertmanager"))
            self._fetchers[ALERTS] = lambda: fetch_alerts(self._alerts_client, alertmanager)
            self._timeouts[ALERTS] = alertmanager.timeout_s
        if isinstance(metrics, PrometheusMetricsConfig):
            self._timeouts[METRICS] = metrics.timeout_s
        self._states = {name: SourceState(name) for name in self._fetchers}
        self._dead_letter_totals: deque[tuple[float, float]] = deque(maxlen=1000)
        self._retry_after: dict[str, tuple[float, str]] = {}  # source → (not before, why)

    async def aclose(self) -> None:
        self.feed.close()
        await self._client.aclose()
        if self._alerts_client is not None:
            await self._alerts_client.aclose()

    async def _run(self, name: str) -> None:
        fetcher = self._fetchers[name]
        deadline = self._timeouts[name]
        if self._backing_off(name):
            return
        try:
            # httpx's timeout is per read; a server that trickles bytes needs a total deadline.
            data, server_now = await asyncio.wait_for(fetcher(), timeout=deadline + 1.0)
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
        if name == DEAD_LETTERS and data.total is not None:
            # Growth is measured on the backend's clock when it tells us one: "+40 in 5m"
            # must mean the backend's five minutes, whatever our polling jitter.
            at = server_now.timestamp() if server_now is not None else now
            self._dead_letter_totals.append((at, float(data.total)))

    async def poll(self) -> Snapshot:
        await asyncio.gather(*(self._run(name) for name in self._fetchers))
        now = self._clock()
        latest = self._dead_letter_totals[-1][0] if self._dead_letter_totals else now
        change = growth(self._dead_letter_totals, latest, DEAD_LETTER_GROWTH_WINDOW_S)
        histories = {state.signal.name: state.history() for state in self.signals}
        return Snapshot(
            taken_at=now,
            sources=dict(self._states),
            signals=tuple(state.reading(histories[state.signal.name]) for state in self.signals),
            dead_letter_growth=None if change is None else int(change[0]),
            dead_letter_growth_window_s=0.0 if change is None else change[1],
            severity_hints=severity_hints(self.config.severity_hints, histories),
            exit_criteria=exit_criteria(self.config.exit_criteria, histories),
        )
