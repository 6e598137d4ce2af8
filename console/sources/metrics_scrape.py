"""A Prometheus text-format endpoint (/metrics) read directly, without a Prometheus server."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from console.signal_state import SignalState
from console.signals import Series, aggregate, counter_rates, matching_series
from console.sources.http import SourceError, get_bytes

# sample name → [(labels, value)]; counters keep their _total suffix here.
Samples = dict[str, list[tuple[dict[str, str], float]]]


def parse_exposition(text: str) -> Samples:
    """Every sample in an exposition. Raises SourceError if any part is malformed.

    The prometheus_client parser is lazy: it raises ValueError midway through iteration,
    so the whole loop is guarded, not just the call.
    """
    samples: Samples = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise SourceError(f"malformed metrics: {exc}") from None
    return samples


async def scrape(client: httpx.AsyncClient, url: str, timeout_s: float) -> Samples:
    body = await get_bytes(client, url, timeout_s)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError("malformed metrics: not UTF-8") from None
    return parse_exposition(text)


class ScrapeFeed:
    """Refreshes every signal's state from one scrape. A counter becomes a rate between two
    scrapes (on our clock: the exposition carries no timestamps)."""

    def __init__(self, client: httpx.AsyncClient, url: str, timeout_s: float, states: list[SignalState], clock: Callable[[], float]):
        self._client = client
        self._url = url
        self._timeout_s = timeout_s
        self.states = states
        self._clock = clock
        self._counters: dict[str, tuple[float, Series]] = {}

    async def refresh(self) -> tuple[int, None]:
        samples = await scrape(self._client, self._url, self._timeout_s)
        now = self._clock()
        for state in self.states:
            self._observe(state, matching_series(samples, state.signal.metric, state.signal.labels), now)
        return len(samples), None

    def _observe(self, state: SignalState, series: Series, now: float) -> None:
        signal = state.signal
        if signal.kind == "counter":
            previous = self._counters.get(signal.name)
            self._counters[signal.name] = (now, series)
            if previous is None and series:
                state.observe(None, now, note="collecting")  # a rate needs two scrapes
                return
            series = counter_rates(previous[1], series, now - previous[0]) if previous else {}
            per = 60.0 if signal.rate_per == "min" else 1.0
            series = {key: rate * per for key, rate in series.items()}
        value = aggregate(series.values(), signal.aggregate)
        labelled = {tuple(sorted(key)): v for key, v in series.items()}
        state.observe(value, now, labelled, note="no data" if value is None else "")

    def close(self) -> None:
        pass
