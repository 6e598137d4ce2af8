"""The operations HTTP API: health, jobs, workers, leases and dead letters.

Each `fetch_*` returns (records, server clock) or raises `SourceError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from console.config import ApiConfig, DeadLetterMap, FieldMap
from console.models import DeadLetter, DeadLetterSummary, Health, Job, Lease, Worker
from console.sources.http import SourceError, fetch, get_json, parse_json
from console.sources.json_mapping import Records, as_int, as_text, dig, parse_time

Fetched = tuple[Any, datetime | None]
# The backend's own audit log (not in the config: the audit screen and evidence bundles read it).
AUDIT_LOGS_PATH = "/v1/audit/logs?limit=50"


async def fetch_health(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    """A 5xx from /healthz is an answer (unhealthy), not a failed fetch; a garbled 200 is
    a failed fetch (it must not pass for an answer)."""
    status, body = await fetch(client, api.base_url + api.health[0].path, api.timeout_s, accept_errors=True)
    try:
        data = parse_json(body) if body.strip() else {}
    except SourceError:
        if status < 400:
            raise
        data = {"status": body[:200].decode("utf-8", "replace")}
    if not isinstance(data, dict):
        data = {"status": data}
    checks = data.get("checks") if isinstance(data.get("checks"), dict) else {}
    status_text = as_text(data.get("status", "")) or ("ok" if status < 400 else "failing")
    healthy = status < 400 and status_text.lower() in ("ok", "healthy", "pass", "up")
    health = Health(
        ok=healthy,
        status_code=status,
        status=status_text,
        checks=tuple((as_text(k), as_text(v)) for k, v in checks.items()),
    )
    return health, parse_time(data.get("now"))


Get = Callable[[str], Any]


async def _records(client: httpx.AsyncClient, api: ApiConfig, mapping: FieldMap) -> Records:
    return Records(await get_json(client, api.base_url + mapping.path, api.timeout_s), mapping)


def _job(get: Get) -> Job:
    return Job(
        id=as_text(get("id")),
        state=as_text(get("state")),
        stage=as_text(get("stage")),
        attempts=as_int(get("attempts")),
        worker=as_text(get("worker")),
        updated_at=parse_time(get("updated_at")),
        error=as_text(get("error")),
    )


def _worker(get: Get) -> Worker:
    return Worker(
        id=as_text(get("id")),
        state=as_text(get("state")),
        last_heartbeat=parse_time(get("last_heartbeat")),
        current_job=as_text(get("current_job")),
        leases_held=as_int(get("leases_held")),
    )


def _lease(get: Get) -> Lease:
    return Lease(
        id=as_text(get("id")),
        job=as_text(get("job")),
        worker=as_text(get("worker")),
        acquired_at=parse_time(get("acquired_at")),
        expires_at=parse_time(get("expires_at")),
    )


def dead_letter_from(get: Get) -> DeadLetter:
    return DeadLetter(
        id=as_text(get("id")),
        job=as_text(get("job")),
        error_class=as_text(get("error_class")),
        message=as_text(get("message")),
        attempts=as_int(get("attempts")),
        first_failed_at=parse_time(get("first_failed_at")),
        last_failed_at=parse_time(get("last_failed_at")),
        payload=get("payload"),
    )


async def fetch_jobs(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = await _records(client, api, api.jobs)
    return tuple(map(_job, records.rows())), records.server_now


async def fetch_workers(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = await _records(client, api, api.workers)
    return tuple(map(_worker, records.rows())), records.server_now


async def fetch_leases(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = await _records(client, api, api.leases)
    return tuple(map(_lease, records.rows())), records.server_now


def class_counts(raw: Any) -> list[tuple[str, int]] | None:
    """{error class: count} as (class, count) pairs, largest first; None when not a mapping."""
    if not isinstance(raw, dict):
        return None
    counts = [(as_text(k), n) for k, v in raw.items() if (n := as_int(v)) is not None]
    return sorted(counts, key=lambda kv: (-kv[1], kv[0]))


def read_dead_letters(records: Records) -> tuple[tuple[DeadLetter, ...], int, list[tuple[str, int]] | None]:
    """(entries, size of the whole queue, error classes over it) from one dead-letter
    answer; the size falls back to the page, the classes to None, when the API omits them."""
    mapping = records.mapping
    assert isinstance(mapping, DeadLetterMap)
    items = tuple(map(dead_letter_from, records.rows()))
    total = as_int(dig(records.body, mapping.total, None)) if mapping.total else None
    classes = class_counts(dig(records.body, mapping.error_classes, None)) if mapping.error_classes else None
    return items, total if total is not None else len(items), classes


async def fetch_dead_letters(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = await _records(client, api, api.dead_letters)
    newest, total, classes = read_dead_letters(records)
    whole_queue = classes is not None
    if classes is None:  # the API does not count them: count the page we have
        classes = class_counts(Counter(letter.error_class for letter in newest))
    summary = DeadLetterSummary(
        total=total,
        error_classes=tuple(classes),
        classes_cover_whole_queue=whole_queue,
        newest=newest,
    )
    return summary, records.server_now
