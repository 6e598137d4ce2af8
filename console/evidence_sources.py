"""What an evidence bundle asks the backends for: every source at once, each under its own
deadline, kept as the bytes it sent with its HTTP status, or with the reason it failed.

A source that is down, slow, failing or garbled yields its error (and whatever body it
sent); it never holds up or spoils the others.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from console.config import Config, FieldMap, PrometheusMetricsConfig, read_token
from console.signals import aggregate, level_of, matching_series
from console.sources.alertmanager import ALERTS_PATH
from console.sources.http import SourceError, fetch, http_client, http_error, parse_json
from console.sources.json_signals import read_json_value
from console.sources.metrics_scrape import parse_exposition

DEADLINE_GRACE_S = 0.5  # httpx's timeout is per read; this caps a trickling answer as a whole


@dataclass(frozen=True)
class Request:
    name: str
    """File name without its suffix; also how warnings name the source."""
    what: str
    url: str
    service: str
    """Whose client (and token) asks: api, prometheus or alertmanager."""
    timeout_s: float
    suffix: str = ".json"
    """.json (must parse), .txt (the /metrics exposition) or .body (a health answer the HTTP status alone judges)."""
    errors_answer: bool = False
    """A health endpoint's 5xx is an answer (unhealthy), not a failed fetch."""


@dataclass(frozen=True)
class Answer:
    request: Request
    fetched_at: float
    status: int | None
    """HTTP status, None when nothing came back."""
    body: bytes
    error: str
    """Why the answer is not usable ("" when it is)."""
    data: Any = None
    """The parsed answer, for the console's own view of the signals."""


def _lists(config: Config) -> list[tuple[str, str, str, FieldMap | None]]:
    """(file name, what it holds, config key, its mapping) of every list an API may offer."""
    api = config.api
    return [
        ("jobs", "recent jobs", "jobs", api.jobs),
        ("workers", "workers and their heartbeats", "workers", api.workers),
        ("leases", "leases held", "leases", api.leases),
        ("dead-letters", "dead letters: the first page, as the API returns it", "dead_letters", api.dead_letters),
        ("backend-audit", "the backend's own audit log", "audit_logs", api.audit_logs),
    ]


def not_configured(config: Config) -> dict[str, str]:
    """The lists this API does not offer, for the manifest: skipped, not failed."""
    return {name: f"not configured: no [api.{key}] in the config" for name, _, key, mapping in _lists(config) if mapping is None}


def health_file_names(config: Config) -> list[str]:
    """One file name (without suffix) per [[api.health]] service: health-<name>."""
    names: list[str] = []
    for check in config.api.health:
        stem = "health-" + (re.sub(r"[^A-Za-z0-9._-]", "_", check.name) or "service")
        names.append(stem if stem not in names else f"{stem}-{len(names) + 1}")
    return names


def requests_for(config: Config) -> list[Request]:
    api = config.api
    base, timeout = api.base_url, api.timeout_s
    wanted = [
        Request(name, f"health of service {check.name} ({check.path})", base + check.path, "api", timeout,
                ".json" if check.status or check.checks or check.details else ".body", errors_answer=True)
        for name, check in zip(health_file_names(config), api.health)
    ]
    wanted += [Request(name, what, base + mapping.path, "api", timeout) for name, what, _, mapping in _lists(config) if mapping is not None]
    for path, name in json_files(config).items():
        readers = ", ".join(s.name for s in config.signals if s.json_value and s.json_value.path == path)
        wanted.append(Request(name, f"{path}: the API's JSON read by signals {readers}", base + path, "api", timeout))
    metrics = config.metrics
    if isinstance(metrics, PrometheusMetricsConfig):
        for signal in config.signals:
            if signal.json_value is not None:
                continue
            url = f"{metrics.url}/api/v1/query?{urlencode({'query': signal.query})}"
            what = f"Prometheus instant query of signal {signal.name}: {signal.query}"
            wanted.append(Request(f"metrics-{signal.name}", what, url, "prometheus", metrics.timeout_s))
    else:
        wanted.append(Request("metrics", "the /metrics exposition (Prometheus text format)", config.metrics_url, "api", timeout, ".txt"))
    if config.alertmanager is not None:
        am = config.alertmanager
        wanted.append(Request("alerts", "alerts from Alertmanager (firing, silenced, inhibited)", am.url + ALERTS_PATH, "alertmanager", am.timeout_s))
    return wanted


def json_files(config: Config) -> dict[str, str]:
    """Each distinct `json` path of the signals → its file name in the bundle (json-api-jobs-metrics)."""
    names: dict[str, str] = {}
    for path in sorted({s.json_value.path for s in config.signals if s.json_value is not None}):
        name = "json-" + (re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "root")
        names[path] = name if name not in names.values() else f"{name}-{len(names)}"
    return names


def _usable(request: Request, body: bytes) -> Any:
    """The parsed body; SourceError when it is not what the source should send."""
    if request.suffix == ".body":
        return None  # any body: the status code is the answer
    if request.suffix == ".txt":
        try:
            return parse_exposition(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise SourceError("malformed metrics: not UTF-8") from None
    data = parse_json(body) if body.strip() or not request.errors_answer else {}  # an empty health answer: ok
    if request.service == "prometheus" and not (isinstance(data, dict) and data.get("status") == "success"):
        raise SourceError("Prometheus did not answer success")
    return data


async def _ask(client: httpx.AsyncClient, request: Request, clock: Callable[[], float]) -> Answer:
    fetched_at = clock()
    status, body = None, b""
    try:
        async with asyncio.timeout(request.timeout_s + DEADLINE_GRACE_S):
            status, body = await fetch(client, request.url, request.timeout_s, accept_errors=True)
        if status >= 400 and not request.errors_answer:
            raise http_error(status, httpx.Headers(), body)
        data = _usable(request, body) if status < 400 else None  # an unhealthy health endpoint may answer in any shape
        return Answer(request, fetched_at, status, body, "", data)
    except TimeoutError:
        return Answer(request, fetched_at, status, body, f"timed out after {request.timeout_s:g}s")
    except SourceError as exc:
        return Answer(request, fetched_at, status, body, str(exc))


async def fetch_all(config: Config, clock: Callable[[], float] = time.time, environ: dict[str, str] | None = None) -> list[Answer]:
    """Every source at once; each service gets a client carrying only its own token."""
    requests = requests_for(config)
    # service → (its token source, the config table a token-file error names)
    sources: dict[str, tuple[Any, str]] = {
        "api": (config.api, "api"), "prometheus": (config.metrics, "metrics"), "alertmanager": (config.alertmanager, "alertmanager")
    }
    clients = {service: http_client(read_token(*sources[service], environ)) for service in {r.service for r in requests}}
    try:
        return list(await asyncio.gather(*(_ask(clients[r.service], r, clock) for r in requests)))
    finally:
        for client in clients.values():
            await client.aclose()


def signal_view(config: Config, answers: list[Answer]) -> list[dict[str, Any]]:
    """Each signal's value as the console reads it from this one snapshot. A counter's rate
    needs two scrapes, so a scraped counter gives its total."""
    by_name = {answer.request.name: answer for answer in answers}
    files = json_files(config)
    view = []
    for signal in config.signals:
        entry: dict[str, Any] = {"name": signal.name, "title": signal.title, "unit": signal.unit}
        if signal.json_value is not None:
            answer = by_name[files[signal.json_value.path]]
            entry["json"] = signal.json_value.model_dump()
            reading = read_json_value(answer.data, signal.json_value) if not answer.error else None
            values = list(reading.series.values()) if reading else []
            if reading and reading.missing:
                entry["missing"] = reading.missing
        elif isinstance(config.metrics, PrometheusMetricsConfig):
            answer = by_name[f"metrics-{signal.name}"]
            entry["query"] = signal.query
            values = [] if answer.error else _instant_values(answer.data)
        else:
            answer = by_name["metrics"]
            entry["metric"], entry["labels"] = signal.metric, signal.labels
            values = [] if answer.error else list(matching_series(answer.data, signal.metric, signal.labels).values())
        if answer.error:
            entry["error"] = answer.error
        value = aggregate(values, signal.aggregate)
        entry["series"] = len(values)
        if signal.kind == "counter":
            entry["counter_total"] = value
            entry["note"] = "a counter: the console shows its rate, which needs two readings"
        else:
            scaled = None if value is None else value * signal.scale
            entry["value"] = scaled
            entry["level"] = level_of(scaled, signal.warn, signal.crit, signal.bad).value
        view.append(entry)
    return view


def _instant_values(data: Any) -> list[float]:
    from console.sources.prometheus import parse_instant  # brings requests: only for this source

    try:
        series = parse_instant(data["data"]["result"])
    except (KeyError, TypeError, SourceError):
        return []
    return [points[-1][1] for _, points in series if points]
