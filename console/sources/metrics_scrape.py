"""A Prometheus text-format endpoint (/metrics) read directly, without a Prometheus server."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

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
