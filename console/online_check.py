"""`check-config --online`: ask the configured servers whether the config works with them.

Prometheus evaluates every signal's query, and the ones it rejects are named by signal; a
scrape source is read once to find metrics it does not expose; Alertmanager is asked
whether it answers; each JSON path of the `json` signals is read once to find numbers it
does not hold. Every [[api.health]] service must answer, and every configured list
must be where `items` says with the fields its map names (a typo in a dotted path is
found here, not at 03:00 as a column of "?"). Nothing here changes anything on those servers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from console.config import ApiConfig, Config, DeadLetterMap, FieldMap, HealthCheckConfig, PrometheusMetricsConfig, SignalConfig, read_token
from console.sources import ops_api
from console.sources.alertmanager import fetch_alerts
from console.sources.http import SourceError, fetch, get_bytes, get_json, http_client, http_error, parse_json
from console.sources.json_mapping import Records, dig
from console.text import plain
from console.sources.json_signals import read_json_value
from console.sources.metrics_scrape import parse_exposition
from console.sources.prometheus import PrometheusClient, QueryRejected

_ABSENT = object()


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


def _missing(body: Any, key: str, dotted: str, where: str, default: bool = False) -> list[str]:
    """A problem line when a configured dotted path is not in an answer."""
    if not dotted or dig(body, dotted, _ABSENT) is not _ABSENT:
        return []
    return [f"{key} = {dotted!r}{' (the default)' if default else ''}: not in {where}"]


async def _health(client: httpx.AsyncClient, api: ApiConfig, index: int, check: HealthCheckConfig) -> tuple[list[str], list[str]]:
    """Every service must answer, with the fields its entry names."""
    key = f"api.health[{index}] ({check.name})"
    try:
        status, body = await fetch(client, api.base_url + check.path, api.timeout_s, accept_errors=True)
        if status >= 400:
            raise http_error(status, httpx.Headers(), body)
        health = ops_api.health_from(check, status, body)
    except SourceError as exc:
        return [], [f"{key}: {check.path} did not answer: {exc}"]
    try:
        data = parse_json(body)
    except SourceError:
        data = None  # a plain "OK": only paths written in the config are missed
    # The default paths are optional (no status word: the HTTP status decides); paths
    # written in the config are claims about the API.
    problems = []
    for name in ("status", "checks"):
        if name in check.model_fields_set:
            problems += _missing(data, f"{key}.{name}", getattr(check, name), "its answer")
    for label, path in check.details.items():
        problems += _missing(data, f"{key}.details.{label}", path, "its answer")
    verdict = "ok" if health.ok else f"answers but is not healthy ({plain(health.status, 30) or 'HTTP ' + str(status)})"
    return [f"health {check.name} at {check.path}: {verdict}"], problems


async def _list(client: httpx.AsyncClient, api: ApiConfig, key: str, mapping: FieldMap) -> tuple[list[str], list[str]]:
    """The list is where `items` says, and its first item has every field the map names."""
    where = f"api.{key}"
    try:
        records = Records(await get_json(client, api.base_url + mapping.path, api.timeout_s), mapping)
    except SourceError as exc:
        return [], [f"{where}: {mapping.path}: {exc}"]
    # Defaults count here: without the clock ages show "?", without the total the page passes for the queue.
    given = mapping.model_fields_set
    problems = _missing(records.body, f"{where}.now", mapping.now, 'the answer (now = "" when the API gives no clock)', "now" not in given)
    if isinstance(mapping, DeadLetterMap):
        problems += _missing(records.body, f"{where}.total", mapping.total, 'the answer (total = "" when it gives none)', "total" not in given)
        problems += _missing(records.body, f"{where}.error_classes", mapping.error_classes, "the answer")
    if not records.items:
        return [f"{key} at {mapping.path}: an empty list (fields not checked)"], problems
    for attribute, path in mapping.fields.items():
        problems += _missing(records.items[0], f"{where}.fields.{attribute}", path, "the first item")
    return [f"{key} at {mapping.path}: {len(records.items)} items"], problems


async def _http_checks(config: Config) -> tuple[list[str], list[str]]:
    ok, problems = [], []
    api = config.api
    async with http_client(read_token(api)) as client:
        lists = [(key, mapping) for key in ("jobs", "workers", "leases", "dead_letters") if (mapping := getattr(api, key)) is not None]
        results = await asyncio.gather(
            *(_health(client, api, index, check) for index, check in enumerate(api.health)),
            *(_list(client, api, key, mapping) for key, mapping in lists),
        )
        for answered, wrong in results:
            ok += answered
            problems += wrong
        if not isinstance(config.metrics, PrometheusMetricsConfig):
            try:
                samples = parse_exposition((await get_bytes(client, config.metrics_url, api.timeout_s)).decode("utf-8", "replace"))
            except SourceError as exc:
                problems.append(f"metrics: {config.metrics_url} did not answer: {exc}")
            else:
                scraped = [s for s in config.signals if s.metric]
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
