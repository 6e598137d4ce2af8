"""`check-config --online`: ask the configured servers whether the config works with them.

Prometheus evaluates every signal's query, and the ones it rejects are named by signal; a
scrape source is read once to find metrics it does not expose; Alertmanager and the ops
API are asked whether they answer; each JSON path of the `json` signals is read once to
find numbers it does not hold. Nothing here changes anything on those servers.
"""

from __future__ import annotations

import asyncio

import httpx

from console.config import Config, PrometheusMetricsConfig, SignalConfig, read_token
from console.sources.alertmanager import fetch_alerts
from console.sources.http import SourceError, get_bytes, get_json, http_client
from console.sources.json_signals import read_json_value
from console.sources.metrics_scrape import parse_exposition
from console.sources.prometheus import PrometheusClient, QueryRejected


def _prometheus(config: Config, metrics: PrometheusMetricsConfig) -> tuple[list[str], list[str]]:
    client = PrometheusClient(metrics, workers=1)
    try:
        rejected = []
        queried = [signal for signal in config.signals if signal.json_value is None]
        for signal in queried:
            try:
                client.instant_sync(signal.query)
            except QueryRejected as exc:
                rejected.append(f"signals {signal.name}: query rejected: {exc}")
            except SourceError as exc:
                return [], [f"metrics.url = {metrics.url!r}: Prometheus did not answer: {exc}"]
    finally:
        client.close()
    accepted = len(queried) - len(rejected)
    return [f"Prometheus at {metrics.url}: {accepted} quer{'y' if accepted == 1 else 'ies'} accepted"], rejected


async def _http_checks(config: Config) -> tuple[list[str], list[str]]:
    ok, problems = [], []
    async with http_client(read_token(config.api)) as client:
        try:
            await get_bytes(client, config.api.base_url + config.api.health[0].path, config.api.timeout_s)
            ok.append(f"ops API at {config.api.base_url}: health answers")
        except SourceError as exc:
            problems.append(f"api.base_url = {config.api.base_url!r}: {config.api.health[0].path} did not answer: {exc}")
        if not isinstance(config.metrics, PrometheusMetricsConfig):
            try:
                samples = parse_exposition((await get_bytes(client, config.metrics_url, config.api.timeout_s)).decode("utf-8", "replace"))
            except SourceError as exc:
                problems.append(f"metrics: {config.metrics_url} did not answer: {exc}")
            else:
                scraped = [s for s in config.signals if s.json_value is None]
                missing = [s.name for s in scraped if s.metric not in samples]
                problems += [f"signals {name}: metric not exposed by {config.metrics_url}" for name in missing]
                ok.append(f"metrics at {config.metrics_url}: {len(scraped) - len(missing)} signals found")
        await _json_paths(config, client, ok, problems)
    if config.alertmanager is not None:
        alertmanager = config.alertmanager
        async with http_client(read_token(alertmanager, "alertmanager")) as client:
            try:
                alerts, _ = await fetch_alerts(client, alertmanager)
                ok.append(f"Alertmanager at {alertmanager.url}: {len(alerts)} alerts")
            except SourceError as exc:
                problems.append(f"alertmanager.url = {alertmanager.url!r}: did not answer: {exc}")
    return ok, problems


async def _json_paths(config: Config, client: httpx.AsyncClient, ok: list[str], problems: list[str]) -> None:
    """Each path the `json` signals read, once; a signal whose number is not there is named."""
    by_path: dict[str, list[SignalConfig]] = {}
    for signal in config.signals:
        if signal.json_value is not None:
            by_path.setdefault(signal.json_value.path, []).append(signal)
    for path, signals in by_path.items():
        try:
            body = await get_json(client, config.api.base_url + path, config.api.timeout_s)
        except SourceError as exc:
            problems.append(f"signals {', '.join(s.name for s in signals)}: {path} did not answer: {exc}")
            continue
        missing = [(s.name, reading.missing) for s in signals if (reading := read_json_value(body, s.json_value)).missing]
        problems += [f"signals {name}: {path}: {why}" for name, why in missing]
        ok.append(f"{path}: {len(signals) - len(missing)} of {len(signals)} signals found")


def check_online(config: Config) -> tuple[list[str], list[str]]:
    """(what answered, what is wrong), each a line for the operator."""
    ok, problems = asyncio.run(_http_checks(config))
    if isinstance(config.metrics, PrometheusMetricsConfig):
        answered, rejected = _prometheus(config, config.metrics)
        ok += answered
        problems += rejected
    return ok, problems
