"""Prometheus (or any PromQL-compatible store) as the metrics source.

prometheus-api-client is synchronous, so every query runs on a thread of our own pool under
a deadline, all signals at once, and the UI loop never waits on it. Its defaults are unsafe
for a console: no timeout (a query can hang forever) and three retries of 503, which is
what Prometheus answers on a query timeout. We pass an explicit timeout and no retries; the
poller decides when to ask again.
"""

from __future__ import annotations

import ast
import asyncio
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from console.config import PrometheusMetricsConfig, SignalConfig, bearer_headers
from console.signal_state import Labels, SignalState
from console.signals import aggregate
from console.sources.http import SourceError

POINTS_PER_RANGE = 240  # far under Prometheus' 11,000 points per series, plenty for trends

# One series: its labels and its (time, value) points.
Series = tuple[Labels, list[tuple[float, float]]]


class QueryRejected(Exception):
    """Prometheus answered and refused this query (bad PromQL, unknown function...).
    Only the signal it belongs to is affected."""


def _rejection(exc: PrometheusApiClientException) -> Exception:
    """The client packs the status and the raw body into its message; unpack both."""
    match = re.match(r"HTTP Status Code (\d+) \((b['\"].*['\"])\)$", str(exc), re.S)
    if not match:
        return SourceError(str(exc)[:200])
    status = int(match.group(1))
    try:
        body = json.loads(ast.literal_eval(match.group(2)))
        detail = f"{body.get('errorType', 'error')}: {body.get('error', '')}".strip()
    except (ValueError, SyntaxError, AttributeError):
        detail = ""
    if status in (400, 422):
        return QueryRejected(detail or f"HTTP {status}")
    return SourceError(f"HTTP {status}" + (f" {detail}" if detail else ""))


def _connection_reason(exc: requests.RequestException, timeout_s: float) -> str:
    text = str(exc)
    # With retries off, urllib3 wraps a read timeout in MaxRetryError and requests turns
    # that into a ConnectionError: only the text still says what happened.
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return f"timed out after {timeout_s:g}s"
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "Temporary failure in name resolution" in text:
        return "cannot resolve host"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect"
    return type(exc).__name__


def _number(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _labels(metric: Any) -> Labels:
    if not isinstance(metric, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in metric.items() if k != "__name__"))


def parse_instant(result: Any) -> list[Series]:
    """A vector (several series) or a scalar, as series of one point each."""
    if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
        result = [{"metric": {}, "value": result}]  # scalar: [time, "value"]
    if not isinstance(result, list):
        raise SourceError("unexpected query result")
    series = []
    for item in result:
        try:
            at, raw = item["value"]
            value = _number(raw)
            series.append((_labels(item.get("metric")), [] if value is None else [(float(at), value)]))
        except (KeyError, TypeError, ValueError):
            raise SourceError("unexpected query result") from None
    return series


def parse_range(result: Any) -> list[Series]:
    if not isinstance(result, list):
        raise SourceError("unexpected range result")
    series = []
    for item in result:
        try:
            points = [(float(at), v) for at, raw in item["values"] if (v := _number(raw)) is not None]
        except (KeyError, TypeError, ValueError):
            raise SourceError("unexpected range result") from None
        series.append((_labels(item.get("metric")), points))
    return series


def combine(series: Iterable[Series], how: str) -> list[tuple[float, float]]:
    """Several series into one, time by time, the way the tile aggregates them."""
    by_time: dict[float, list[float]] = {}
    for _, points in series:
        for at, value in points:
            by_time.setdefault(at, []).append(value)
    return [(at, aggregate(values, how) or 0.0) for at, values in sorted(by_time.items())]


def range_step_s(window_s: float) -> int:
    return max(1, math.ceil(window_s / POINTS_PER_RANGE))


class PrometheusClient:
    """Blocking queries, one client per pool thread (a requests.Session is not thread-safe)."""

    def __init__(self, config: PrometheusMetricsConfig, workers: int):
        self.config = config
        self._headers = bearer_headers(config, "metrics")
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prometheus")

    def _connection(self) -> PrometheusConnect:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = PrometheusConnect(
                url=self.config.url, headers=self._headers or None, retry=Retry(total=0), timeout=self.config.timeout_s
            )
            self._local.connection = connection
        return connection

    def _call(self, query: Callable[[PrometheusConnect], Any]) -> Any:
        try:
            return query(self._connection())
        except PrometheusApiClientException as exc:
            raise _rejection(exc) from None
        except requests.RequestException as exc:
            raise SourceError(_connection_reason(exc, self.config.timeout_s)) from None
        except ValueError:  # the body was not JSON
            raise SourceError("malformed JSON from Prometheus") from None
        except (KeyError, TypeError):
            raise SourceError("unexpected response from Prometheus") from None

    def instant_sync(self, query: str) -> list[Series]:
        return parse_instant(self._call(lambda c: c.custom_query(query)))

    def range_sync(self, query: str, window_s: float, end: float) -> list[Series]:
        start = datetime.fromtimestamp(end - window_s, timezone.utc)
        stop = datetime.fromtimestamp(end, timezone.utc)
        step = str(range_step_s(window_s))
        return parse_range(self._call(lambda c: c.custom_query_range(query, start, stop, step)))

    async def _off_loop(self, call: Callable[[], list[Series]]) -> list[Series]:
        future = asyncio.get_running_loop().run_in_executor(self._pool, call)
        deadline = self.config.timeout_s
        try:
            # requests' timeout is per socket operation; a trickling answer needs a total deadline.
            return await asyncio.wait_for(future, timeout=deadline + 0.5)
        except asyncio.TimeoutError:
            raise SourceError(f"timed out after {deadline:g}s") from None

    async def instant(self, query: str) -> list[Series]:
        return await self._off_loop(lambda: self.instant_sync(query))

    async def range(self, query: str, window_s: float, end: float) -> list[Series]:
        return await self._off_loop(lambda: self.range_sync(query, window_s, end))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class PrometheusFeed:
    """Refreshes every signal's state from PromQL: an instant query each poll, and the
    history from a range query every `range_refresh_s`."""

    def __init__(self, config: PrometheusMetricsConfig, states: list[SignalState], clock: Callable[[], float] = time.time):
        self.config = config
        self.states = states
        self._clock = clock
        self.client = PrometheusClient(config, workers=max(2, min(32, 2 * len(states))))
        self._range_at: dict[str, float] = {}

    async def refresh(self) -> tuple[int, None]:
        """Queries all signals at once. Raises SourceError only when Prometheus answered none
        of them: then the source is down, not one query wrong."""
        now = self._clock()
        outcomes = await asyncio.gather(*(self._refresh_one(state, now) for state in self.states))
        answered = [outcome for outcome in outcomes if outcome is None]
        if self.states and not answered:
            raise SourceError(outcomes[0] or "no answer")
        return len(answered), None

    async def _refresh_one(self, state: SignalState, now: float) -> str | None:
        """None when Prometheus answered (even with a rejection), else why it did not."""
        signal: SignalConfig = state.signal
        due = now - self._range_at.get(signal.name, -math.inf) >= self.config.range_refresh_s
        try:
            if due:
                instant, history = await asyncio.gather(
                    self.client.instant(signal.query), self.client.range(signal.query, state.window_s, now)
                )
                state.replace_history(combine(history, signal.aggregate))
                self._range_at[signal.name] = now
            else:
                instant = await self.client.instant(signal.query)
        except QueryRejected as exc:
            state.failed(f"query rejected: {exc}")
            return None
        except SourceError as exc:
            state.failed(str(exc))
            return str(exc)
        latest = {labels: points[-1][1] for labels, points in instant if points}
        at = max((points[-1][0] for _, points in instant if points), default=now)
        value = aggregate(latest.values(), signal.aggregate)
        state.observe(value, at, latest, note="no data" if value is None else "")
        return None

    def close(self) -> None:
        self.client.close()
